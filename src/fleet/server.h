/* otakit fleet serve: a rollout server that speaks hawkBit's Direct Device Integration
 * API v1 to devices and a JSON management API (/rest/v1) to operators, with its state in
 * SQLite or PostgreSQL. docs/fleet.md describes both APIs. */
#ifndef OTAKIT_FLEET_SERVER_H
#define OTAKIT_FLEET_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fleet_opts {
    const char *data_dir;           /**< artifacts/, fleet.db (SQLite), admin-token */
    const char *db;                 /**< NULL: SQLite in data_dir; else db.h's spec */
    const char *bind_addr;          /**< numeric address (default 127.0.0.1) */
    unsigned port;                  /**< 0 = any free port (printed at start) */
    const char *tenant;             /**< the one DDI tenant served (default "DEFAULT") */
    const char *admin_token_file;   /**< NULL: $OTAKIT_FLEET_TOKEN or data_dir/admin-token */
    const char *gateway_token_file; /**< NULL: GatewayToken is refused */
    bool auto_register;             /**< unknown devices are registered on their first poll */
    bool anonymous_download;        /**< artifact downloads need no token */
    const char *artifact_base_url;  /**< downloads from here (+ "/<sha256>.bin") */
    const char *public_url;         /**< base of the links; NULL: from the Host header */
    unsigned poll_seconds;          /**< config.polling.sleep */
    size_t max_upload;              /**< bytes of an uploaded artifact */
    const char *keyfile;            /**< Secure Boot V2 key: uploads must carry its signature */
} fleet_opts_t;

void fleet_opts_default(fleet_opts_t *o);

/** Serve until SIGINT or SIGTERM. @return 0 after a stop, 2 when it could not start. */
int fleet_serve(const fleet_opts_t *o);

#endif
