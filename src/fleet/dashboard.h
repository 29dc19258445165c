/* otakit fleet serve's dashboard: the page at GET / (its files in src/fleet/dashboard/,
 * built into the program) and the counts it shows (GET /rest/v1/summary and
 * /rest/v1/summary/devices), computed from the database. docs/fleet.md describes both. */
#ifndef OTAKIT_FLEET_DASHBOARD_H
#define OTAKIT_FLEET_DASHBOARD_H

#include <stddef.h>

#include <cJSON.h>
#include <microhttpd.h>

#include "db.h"

/** The page's file at url ("/", "/dashboard.js", "/dashboard.css") as a response with
 * its type and a strict Content-Security-Policy; NULL when url is none of them. */
struct MHD_Response *fleet_dash_page(const char *url);

enum fleet_dash_result {
    FLEET_DASH_OK,
    FLEET_DASH_BAD,      /**< a bad query parameter: 400, the reason in why */
    FLEET_DASH_NOTFOUND, /**< no such resource: 404 */
    FLEET_DASH_DB,       /**< a database error: 500 */
};

/**
 * GET /rest/v1/summary (sub NULL) or /rest/v1/summary/{sub}: the answer in *out (the
 * caller frees it), or a failure with the reason in why. c gives the query parameters.
 */
enum fleet_dash_result fleet_dash_rest(fleet_db_t *db, struct MHD_Connection *c, const char *sub,
                                       cJSON **out, char *why, size_t cap);

#endif
