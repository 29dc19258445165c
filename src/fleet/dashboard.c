/* otakit fleet serve's dashboard (dashboard.h): the page's files, and the summary it
 * polls. Every count is one SQL over the database, the same rows /rest/v1/rollouts/{id}
 * counts, so the page and the API cannot disagree. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard.h"

/* The page's files, as embed.cmake writes them. */
extern const unsigned char fleet_dash_index_html[];
extern const size_t fleet_dash_index_html_len;
extern const unsigned char fleet_dash_css[];
extern const size_t fleet_dash_css_len;
extern const unsigned char fleet_dash_js[];
extern const size_t fleet_dash_js_len;

struct MHD_Response *fleet_dash_page(const char *url)
{
    static const struct {
        const char *url, *type;
        const unsigned char *data;
        const size_t *len;
    } FILES[] = {
        {"/", "text/html; charset=utf-8", fleet_dash_index_html, &fleet_dash_index_html_len},
        {"/dashboard.css", "text/css; charset=utf-8", fleet_dash_css, &fleet_dash_css_len},
        {"/dashboard.js", "text/javascript; charset=utf-8", fleet_dash_js, &fleet_dash_js_len},
    };
    for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
        if (strcmp(url, FILES[i].url) != 0) {
            continue;
        }
        struct MHD_Response *r = MHD_create_response_from_buffer(
            *FILES[i].len, (void *)FILES[i].data, MHD_RESPMEM_PERSISTENT);
        if (r == NULL) {
            return NULL;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, FILES[i].type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        /* Nothing from elsewhere, no inline script, no framing. */
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self';"
                                " connect-src 'self'; img-src 'self' data:; base-uri 'none';"
                                " form-action 'none'; frame-ancestors 'none'");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        return r;
    }
    return NULL;
}

/* A device's state from its action a (NULL: none), as the page names it. "installed":
 * the device has reported the step before its result (progress of-1 of of: otakit's
 * devices report 2 of 3 once the image is written, before they boot it); "rolledBack":
 * a failure whose last feedback says "rolled back", as otakit's devices report one. */
#define STATE_SQL                                                                                  \
    "CASE WHEN a.id IS NULL THEN 'idle'"                                                           \
    " WHEN a.status IN ('scheduled','pending') THEN 'waiting'"                                     \
    " WHEN a.status = 'running' AND a.progress_of > 1 AND a.progress_cnt >= a.progress_of - 1"     \
    " THEN 'installed'"                                                                            \
    " WHEN a.status = 'running' THEN 'downloading'"                                                \
    " WHEN a.status = 'canceling' THEN 'canceling'"                                                \
    " WHEN a.status = 'finished' THEN 'upToDate'"                                                  \
    " WHEN a.status = 'canceled' THEN 'canceled'"                                                  \
    " WHEN " ROLLED_BACK_SQL " THEN 'rolledBack'"                                                  \
    " ELSE 'failed' END"
#define ROLLED_BACK_SQL                                                                            \
    "(SELECT LOWER(s.details) FROM action_status s WHERE s.action_id = a.id ORDER BY s.id DESC"    \
    " LIMIT 1) LIKE '%rolled back%'"

/* Every device with its latest action's state and its reported version. */
#define DEVICES_SQL                                                                                \
    "SELECT d.controller_id, d.grp, d.tags, d.last_poll, v.value AS version, a.id AS action,"      \
    " a.rollout_id, a.updated, " STATE_SQL " AS st FROM device d"                                  \
    " LEFT JOIN action a ON a.id = (SELECT MAX(x.id) FROM action x WHERE x.device_id = d.id)"      \
    " LEFT JOIN device_attr v ON v.device_id = d.id AND v.key = 'version'"

static const char *const STATES[] = {"idle",   "waiting",    "downloading", "installed", "upToDate",
                                     "failed", "rolledBack", "canceling",   "canceled"};
#define NSTATES (sizeof(STATES) / sizeof(STATES[0]))

static int state_index(const char *s)
{
    for (size_t i = 0; s != NULL && i < NSTATES; i++) {
        if (strcmp(s, STATES[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* {"idle": n, ...} with every state, from counts[NSTATES]; all but idle when !with_idle. */
static cJSON *states_json(const long long *counts, bool with_idle)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = with_idle ? 0 : 1; i < NSTATES; i++) {
        cJSON_AddNumberToObject(o, STATES[i], (double)counts[i]);
    }
    return o;
}

/* ---------------------------------------------------------------- query parameters */

struct params {
    const char *const *known;
    const char *unknown;
};

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct params *p = cls;
    (void)kind;
    (void)value;
    for (const char *const *k = p->known; *k != NULL; k++) {
        if (strcmp(key, *k) == 0) {
            return MHD_YES;
        }
    }
    p->unknown = key;
    return MHD_NO;
}

/* Only the known parameters. */
static bool params_known(struct MHD_Connection *c, const char *const *known, char *why, size_t cap)
{
    struct params p = {known, NULL};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_param, &p);
    if (p.unknown != NULL) {
        snprintf(why, cap, "unknown query parameter '%.64s'", p.unknown);
        return false;
    }
    return true;
}

/* A whole number in [lo, hi] from parameter key (absent: def). */
static bool param_int(struct MHD_Connection *c, const char *key, long long lo, long long hi,
                      long long def, long long *out, char *why, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    *out = def;
    if (v == NULL) {
        return true;
    }
    long long n = 0;
    bool ok = *v != '\0' && strlen(v) <= 9;
    for (const char *p = v; ok && *p != '\0'; p++) {
        ok = *p >= '0' && *p <= '9';
        n = n * 10 + (*p - '0');
    }
    if (!ok || n < lo || n > hi) {
        snprintf(why, cap, "%s: a whole number from %lld to %lld", key, lo, hi);
        return false;
    }
    *out = n;
    return true;
}

/* ---------------------------------------------------------------- the summary */

static cJSON *num(long long v)
{
    return cJSON_CreateNumber((double)v);
}

static cJSON *str_or_null(const char *v)
{
    return v != NULL ? cJSON_CreateString(v) : cJSON_CreateNull();
}

static cJSON *int_or_null(const fleet_rows_t *r, size_t row, size_t col)
{
    return fleet_rows_get(r, row, col) != NULL ? num(fleet_rows_int(r, row, col))
                                               : cJSON_CreateNull();
}

/* Rollout rid's groups, each with the counts of /rest/v1/rollouts/{id} and by state;
 * the rollout's totals by state into total[NSTATES]. */
static cJSON *rollout_groups(fleet_db_t *db, const char *rid, long long *total)
{
    fleet_rows_t *r = fleet_db_query(
        db,
        "SELECT idx, gstatus, st, COUNT(*) FROM (SELECT g.idx, g.status AS gstatus, " STATE_SQL
        " AS st FROM rollout_group g JOIN action a ON a.group_id = g.id WHERE g.rollout_id ="
        " $1) t GROUP BY idx, gstatus, st ORDER BY idx",
        FLEET_P(rid));
    if (r == NULL) {
        return NULL;
    }
    cJSON *groups = cJSON_CreateArray();
    for (size_t i = 0; i < r->rows;) {
        long long idx = fleet_rows_int(r, i, 0), counts[NSTATES] = {0}, devices = 0;
        const char *status = fleet_rows_get(r, i, 1);
        for (; i < r->rows && fleet_rows_int(r, i, 0) == idx; i++) {
            int k = state_index(fleet_rows_get(r, i, 2));
            long long n = fleet_rows_int(r, i, 3);
            counts[k >= 0 ? k : 0] += n;
            total[k >= 0 ? k : 0] += n;
            devices += n;
        }
        cJSON *g = cJSON_CreateObject();
        cJSON_AddItemToObject(g, "index", num(idx));
        cJSON_AddStringToObject(g, "status", status);
        cJSON_AddItemToObject(g, "devices", num(devices));
        cJSON_AddItemToObject(g, "finished", num(counts[state_index("upToDate")]));
        cJSON_AddItemToObject(
            g, "error", num(counts[state_index("failed")] + counts[state_index("rolledBack")]));
        cJSON_AddItemToObject(g, "canceled", num(counts[state_index("canceled")]));
        cJSON_AddItemToObject(
            g, "open",
            num(counts[state_index("waiting")] + counts[state_index("downloading")] +
                counts[state_index("installed")] + counts[state_index("canceling")]));
        cJSON_AddItemToObject(g, "states", states_json(counts, false));
        cJSON_AddItemToArray(groups, g);
    }
    fleet_rows_free(r);
    return groups;
}

static cJSON *rollouts_json(fleet_db_t *db, long long max)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT r.id, r.name, r.status, r.artifact_id, f.project, f.version,"
             " r.success_threshold, r.error_threshold, r.created FROM rollout r JOIN artifact f"
             " ON f.id = r.artifact_id ORDER BY r.id DESC LIMIT %lld",
             max);
    fleet_rows_t *r = fleet_db_query(db, sql, 0, NULL);
    if (r == NULL) {
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->rows; i++) {
        long long total[NSTATES] = {0}, devices = 0;
        cJSON *groups = rollout_groups(db, fleet_rows_get(r, i, 0), total);
        if (groups == NULL) {
            cJSON_Delete(arr);
            fleet_rows_free(r);
            return NULL;
        }
        for (size_t k = 0; k < NSTATES; k++) {
            devices += total[k];
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "id", num(fleet_rows_int(r, i, 0)));
        cJSON_AddStringToObject(o, "name", fleet_rows_get(r, i, 1));
        cJSON_AddStringToObject(o, "status", fleet_rows_get(r, i, 2));
        cJSON_AddItemToObject(o, "artifact", num(fleet_rows_int(r, i, 3)));
        cJSON_AddStringToObject(o, "project", fleet_rows_get(r, i, 4));
        cJSON_AddStringToObject(o, "version", fleet_rows_get(r, i, 5));
        cJSON_AddItemToObject(o, "successThreshold", num(fleet_rows_int(r, i, 6)));
        cJSON_AddItemToObject(o, "errorThreshold", num(fleet_rows_int(r, i, 7)));
        cJSON_AddItemToObject(o, "created", num(fleet_rows_int(r, i, 8)));
        cJSON_AddItemToObject(o, "devices", num(devices));
        cJSON_AddItemToObject(o, "states", states_json(total, false));
        cJSON_AddItemToObject(o, "groups", groups);
        cJSON_AddItemToArray(arr, o);
    }
    fleet_rows_free(r);
    return arr;
}

/* The newest failed actions with their device's last feedback. */
static cJSON *failures_json(fleet_db_t *db, long long max)
{
    char sql[1024];
    /* The SQL holds '%': it goes in as an argument, never as the format. */
    snprintf(sql, sizeof(sql), "%s LIMIT %lld",
             "SELECT d.controller_id, a.id, a.rollout_id, a.updated, s.code, s.details,"
             " CASE WHEN " ROLLED_BACK_SQL " THEN 1 ELSE 0 END FROM action a JOIN device d ON"
             " d.id = a.device_id LEFT JOIN action_status s ON s.id = (SELECT MAX(x.id) FROM"
             " action_status x WHERE x.action_id = a.id) WHERE a.status = 'error'"
             " ORDER BY a.updated DESC, a.id DESC",
             max);
    fleet_rows_t *r = fleet_db_query(db, sql, 0, NULL);
    fleet_rows_t *n =
        fleet_db_query(db, "SELECT COUNT(*) FROM action WHERE status = 'error'", 0, NULL);
    if (r == NULL || n == NULL) {
        fleet_rows_free(r);
        fleet_rows_free(n);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "total", num(fleet_rows_int(n, 0, 0)));
    cJSON *arr = cJSON_AddArrayToObject(o, "recent");
    for (size_t i = 0; i < r->rows; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "controllerId", fleet_rows_get(r, i, 0));
        cJSON_AddItemToObject(f, "action", num(fleet_rows_int(r, i, 1)));
        cJSON_AddItemToObject(f, "rollout", int_or_null(r, i, 2));
        cJSON_AddItemToObject(f, "time", num(fleet_rows_int(r, i, 3)));
        cJSON_AddStringToObject(f, "state", fleet_rows_int(r, i, 6) ? "rolledBack" : "failed");
        cJSON_AddItemToObject(f, "code", int_or_null(r, i, 4));
        const char *det = fleet_rows_get(r, i, 5);
        cJSON *parsed = det != NULL ? cJSON_Parse(det) : NULL;
        cJSON_AddItemToObject(f, "details", parsed != NULL ? parsed : cJSON_CreateArray());
        cJSON_AddItemToArray(arr, f);
    }
    fleet_rows_free(r);
    fleet_rows_free(n);
    return o;
}

static enum fleet_dash_result summary(fleet_db_t *db, struct MHD_Connection *c, cJSON **out,
                                      char *why, size_t cap)
{
    static const char *const KNOWN[] = {"rollouts", "failures", NULL};
    long long nr, nf;
    if (!params_known(c, KNOWN, why, cap) || !param_int(c, "rollouts", 0, 100, 10, &nr, why, cap) ||
        !param_int(c, "failures", 0, 200, 20, &nf, why, cap)) {
        return FLEET_DASH_BAD;
    }
    fleet_rows_t *st =
        fleet_db_query(db, "SELECT st, COUNT(*) FROM (" DEVICES_SQL ") t GROUP BY st", 0, NULL);
    if (st == NULL) {
        return FLEET_DASH_DB;
    }
    long long counts[NSTATES] = {0}, total = 0;
    for (size_t i = 0; i < st->rows; i++) {
        int k = state_index(fleet_rows_get(st, i, 0));
        counts[k >= 0 ? k : 0] += fleet_rows_int(st, i, 1);
        total += fleet_rows_int(st, i, 1);
    }
    fleet_rows_free(st);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "time", num((long long)time(NULL)));
    cJSON *dev = cJSON_AddObjectToObject(o, "devices");
    cJSON_AddItemToObject(dev, "total", num(total));
    cJSON_AddItemToObject(dev, "states", states_json(counts, true));
    cJSON *rollouts = rollouts_json(db, nr);
    cJSON *failures = rollouts != NULL ? failures_json(db, nf) : NULL;
    if (failures == NULL) {
        cJSON_Delete(rollouts);
        cJSON_Delete(o);
        return FLEET_DASH_DB;
    }
    cJSON_AddItemToObject(o, "rollouts", rollouts);
    cJSON_AddItemToObject(o, "failures", failures);
    *out = o;
    return FLEET_DASH_OK;
}

/* ---------------------------------------------------------------- the device list */

/* One page of the devices whose id, group or tags hold q (any case), in state st. */
static enum fleet_dash_result devices(fleet_db_t *db, struct MHD_Connection *c, cJSON **out,
                                      char *why, size_t cap)
{
    static const char *const KNOWN[] = {"q", "state", "limit", "offset", NULL};
    long long limit, offset;
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    const char *st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
    if (!params_known(c, KNOWN, why, cap) ||
        !param_int(c, "limit", 1, 500, 100, &limit, why, cap) ||
        !param_int(c, "offset", 0, 100000000, 0, &offset, why, cap)) {
        return FLEET_DASH_BAD;
    }
    if (st != NULL && *st != '\0' && state_index(st) < 0) {
        snprintf(why, cap,
                 "state: one of idle waiting downloading installed upToDate failed rolledBack"
                 " canceling canceled");
        return FLEET_DASH_BAD;
    }
    /* The names' characters (controllerId, group, tag); '_' is escaped for LIKE. */
    char pattern[2 * 64 + 3];
    size_t n = 0;
    pattern[n++] = '%';
    const char *qs = q != NULL ? q : "";
    for (const char *p = qs; *p != '\0'; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == ':';
        if (!ok || p - qs >= 64) {
            snprintf(why, cap, "q: up to 64 of A-Z a-z 0-9 . _ - :");
            return FLEET_DASH_BAD;
        }
        if (ch == '_') {
            pattern[n++] = '!';
        }
        pattern[n++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    pattern[n++] = '%';
    pattern[n] = '\0';
#define MATCH_SQL                                                                                  \
    " FROM (" DEVICES_SQL ") t WHERE (LOWER(controller_id) LIKE $1 ESCAPE '!' OR LOWER(grp) LIKE"  \
    " $1 ESCAPE '!' OR LOWER(tags) LIKE $1 ESCAPE '!') AND ($2 = '' OR st = $2)"
    char sql[4096];
    snprintf(sql, sizeof(sql), "%s LIMIT %lld OFFSET %lld",
             "SELECT controller_id, grp, tags, last_poll, version, action, rollout_id, updated,"
             " st" MATCH_SQL " ORDER BY controller_id",
             limit, offset);
    const char *state = st != NULL ? st : "";
    fleet_rows_t *r = fleet_db_query(db, sql, FLEET_P(pattern, state));
    fleet_rows_t *t = fleet_db_query(db, "SELECT COUNT(*)" MATCH_SQL, FLEET_P(pattern, state));
#undef MATCH_SQL
    if (r == NULL || t == NULL) {
        fleet_rows_free(r);
        fleet_rows_free(t);
        return FLEET_DASH_DB;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "total", num(fleet_rows_int(t, 0, 0)));
    cJSON_AddItemToObject(o, "offset", num(offset));
    cJSON *arr = cJSON_AddArrayToObject(o, "devices");
    for (size_t i = 0; i < r->rows; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "controllerId", fleet_rows_get(r, i, 0));
        cJSON_AddStringToObject(d, "group", fleet_rows_get(r, i, 1));
        cJSON_AddStringToObject(d, "tags", fleet_rows_get(r, i, 2));
        cJSON_AddItemToObject(d, "lastPoll", int_or_null(r, i, 3));
        cJSON_AddItemToObject(d, "version", str_or_null(fleet_rows_get(r, i, 4)));
        cJSON_AddItemToObject(d, "action", int_or_null(r, i, 5));
        cJSON_AddItemToObject(d, "rollout", int_or_null(r, i, 6));
        cJSON_AddItemToObject(d, "updated", int_or_null(r, i, 7));
        cJSON_AddStringToObject(d, "state", fleet_rows_get(r, i, 8));
        cJSON_AddItemToArray(arr, d);
    }
    fleet_rows_free(r);
    fleet_rows_free(t);
    *out = o;
    return FLEET_DASH_OK;
}

enum fleet_dash_result fleet_dash_rest(fleet_db_t *db, struct MHD_Connection *c, const char *sub,
                                       cJSON **out, char *why, size_t cap)
{
    *out = NULL;
    if (sub == NULL) {
        return summary(db, c, out, why, cap);
    }
    if (strcmp(sub, "devices") == 0) {
        return devices(db, c, out, why, cap);
    }
    snprintf(why, cap, "no such resource");
    return FLEET_DASH_NOTFOUND;
}
