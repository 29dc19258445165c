/**
 * @file sim.h
 * @brief The fleet simulator: N virtual devices in one process, each with its own sparse
 * flash (sflash.h), the core's update engine, boot decision and NVS, talking to a
 * hawkBit DDI v1 server through one libcurl multi event loop.
 *
 * Time is virtual: every device has its own clock, events run in time order, an HTTP
 * exchange takes no virtual time and a download takes its bytes over the device's link
 * rate. The server's polling.sleep, the boot and self-test times and the retry back-off
 * are virtual seconds, so a day of a fleet's life runs as fast as the server answers.
 * With `realtime` the virtual clock is held to the wall clock instead.
 */
#ifndef OTAKIT_FLEET_SIM_H
#define OTAKIT_FLEET_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fleet_cfg {
    unsigned devices;
    const char *server; /**< http(s)://host:port[/prefix] */
    /** Several servers (instances of one service): device i talks to servers[i %
     * server_count]; server_count 0 = server alone. */
    const char *const *servers;
    size_t server_count;
    const char *tenant;    /**< "DEFAULT" */
    const char *id_prefix; /**< controller ids are <prefix><index, 5 digits> */
    /** "TargetToken" or "GatewayToken" tokens: one for all (token), or per controller
     * id (tokens, token_ids, token_count); NULL/0 = no Authorization header. */
    bool gateway;
    const char *token;
    const char *const *token_ids;
    const char *const *tokens;
    size_t token_count;
    double p_cut, p_link, p_selftest; /**< fault mix */
    /** An app of this version fails its self-test on every device (a bad release);
     * NULL: none. */
    const char *bad_version;
    double duration;           /**< virtual seconds to run at most */
    unsigned actions;          /**< a device stops after closing this many actions */
    double rate;               /**< median link rate, bytes per virtual second */
    double boot_s, selftest_s; /**< virtual seconds */
    double jitter;             /**< poll interval spread, fraction (0.2 = +-20 %) */
    double first_poll_s;       /**< first polls spread over [0, this) */
    unsigned concurrency;      /**< HTTP requests in flight at most */
    bool realtime;
    uint32_t seed;
    const uint8_t *factory_app; /**< the app in the factory slot (NULL: built in) */
    size_t factory_app_len;
    bool progress; /**< draw a progress bar on stderr */
    bool verbose;  /**< device logs on stderr */
} fleet_cfg_t;

/** Final state of a device. */
typedef enum {
    FLEET_PENDING = 0, /**< still working (or waiting for a deployment) at the end */
    FLEET_UPDATED,     /**< runs the new app, confirmed, success reported */
    FLEET_ROLLED_BACK, /**< the new app failed its self-test: old app runs, failure reported */
    FLEET_FAILED,      /**< the update failed (download, verification): failure reported */
    FLEET_CANCELED,    /**< the server canceled the action */
    FLEET_BRICKED,     /**< no app boots, or an app other than the old or the new one */
    FLEET_STATE_COUNT
} fleet_final_t;

typedef struct fleet_result {
    unsigned devices;
    unsigned by_state[FLEET_STATE_COUNT];
    double virtual_s; /**< virtual time at the end */
    double wall_s;    /**< wall-clock seconds */
    double cpu_user_s, cpu_sys_s;
    long max_rss_kib;
    uint64_t requests;        /**< HTTP requests completed */
    uint64_t http_errors;     /**< transport errors and unexpected statuses */
    uint64_t bytes_fetched;   /**< artifact bytes received */
    uint64_t bytes_refetched; /**< of which fetched before (resumes, restarts) */
    uint64_t power_cuts, link_drops, selftest_failures, boots, resumes;
    uint64_t feedback_resent;   /**< final feedbacks sent again: the server still offered
                                     an action the device had closed */
    unsigned updates_timed;     /**< devices that closed an action */
    double p50_s, p90_s, p99_s; /**< their update times (deployment seen to closed), virtual */
    uint64_t pool_sectors_peak; /**< distinct changed 4 KiB sectors held at most */
    char error[256];            /**< why the run could not start ("" = it ran) */
} fleet_result_t;

/** Defaults for everything but devices and server. */
void fleet_cfg_init(fleet_cfg_t *cfg);

/** Run the fleet. @return 0 when it ran (see res for what happened), -1 with res->error. */
int fleet_sim_run(const fleet_cfg_t *cfg, fleet_result_t *res);

/** "pending", "updated", "rolled_back", "failed", "canceled", "bricked". */
const char *fleet_final_name(fleet_final_t s);

/**
 * @brief Parse a fault mix "cut=0.01,link=0.02,selftest=0.01" (any subset, probabilities
 * in [0, 1]).
 * @return 0, or -1 with a message naming the bad item in err.
 */
int fleet_parse_faults(const char *spec, fleet_cfg_t *cfg, char *err, size_t err_len);

#endif
