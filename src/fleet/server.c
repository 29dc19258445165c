/* otakit fleet serve: hawkBit DDI v1 for devices, /rest/v1 for operators, artifacts
 * with ranges and ETags (tools/http_file.c), state in SQLite or PostgreSQL (db.h).
 *
 * libmicrohttpd runs a thread per connection; the one database connection is shared
 * under a mutex (a request does a handful of short statements). Several servers may
 * share one PostgreSQL database: every state change is a conditional update, and a
 * rollout's row is locked while its groups are re-evaluated (store.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>
#include <openssl/evp.h>

#include "cmd.h"
#include "dashboard.h"
#include "db.h"
#include "ddi.h"
#include "http_file.h"
#include "otakit/image.h"
#include "otakit/sigblock.h"
#include "sbv2.h"
#include "server.h"
#include "store.h"

#define REST_BODY_MAX (64 * 1024)
#define ID_LEN_MAX 64

void fleet_opts_default(fleet_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->data_dir = "fleet-data";
    o->bind_addr = "127.0.0.1";
    o->port = 8080;
    o->tenant = "DEFAULT";
    o->poll_seconds = 300;
    o->max_upload = 16u * 1024 * 1024;
}

struct server {
    const fleet_opts_t *o;
    fleet_db_t *db;
    pthread_mutex_t db_lock;
    char admin_token[256];
    char gateway_token[256];
    char artifacts_dir[2048];
    uint8_t trusted[1][OTAKIT_SIG_KEY_DIGEST_LEN];
    bool have_key;
};

struct request {
    char method[16];
    bool started;
    bool responded;
    size_t limit;
    bool too_big;
    char *body;
    size_t len, cap;
};

/* ---------------------------------------------------------------- responses */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body)
{
    size_t len = body != NULL ? strlen(body) : 0;
    struct MHD_Response *resp =
        body != NULL ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                     : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    if (type != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Takes j. */
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, cJSON *j)
{
    char *text = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (text == NULL) {
        return MHD_NO;
    }
    /* cJSON's allocator is malloc (the default hooks), so MUST_FREE may free it. */
    return reply(c, status, "application/json", text);
}

static enum MHD_Result reply_empty(struct MHD_Connection *c, unsigned status)
{
    return reply(c, status, NULL, NULL);
}

/* hawkBit's error body: {"errorCode": "...", "message": "..."}. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *code,
                                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *code,
                                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    if (j == NULL) {
        return MHD_NO;
    }
    cJSON_AddStringToObject(j, "errorCode", code);
    cJSON_AddStringToObject(j, "message", msg);
    return reply_json(c, status, j);
}

#define E_NOTFOUND "hawkbit.server.error.repo.entitiyNotFound"
#define E_BODY "hawkbit.server.error.rest.body.notReadable"
#define E_PARAM "hawkbit.server.error.rest.param.invalid"
#define E_AUTH "hawkbit.server.error.unauthorized"
#define E_GONE "hawkbit.server.error.action.notActive"
#define E_DB "otakit.fleet.error.database"
#define E_SIZE "otakit.fleet.error.tooLarge"
#define E_IMAGE "otakit.fleet.error.notAnAppImage"
#define E_STATE "otakit.fleet.error.state"

static enum MHD_Result reply_db_error(struct server *s, struct MHD_Connection *c)
{
    fprintf(stderr, "otakit: fleet: database: %s\n", fleet_db_error(s->db));
    return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, E_DB, "database error");
}

/* ---------------------------------------------------------------- helpers */

static long long now_s(void)
{
    return (long long)time(NULL);
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ID_LEN_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == ':')) {
            return false;
        }
    }
    return true;
}

/* A positive decimal id of at most 18 digits. */
static bool parse_id(const char *s, long long *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 18) {
        return false;
    }
    long long v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return v > 0;
}

/* The base of the links: --public-url, else http://Host. */
static void base_url(struct server *s, struct MHD_Connection *c, char *out, size_t cap)
{
    if (s->o->public_url != NULL) {
        snprintf(out, cap, "%s", s->o->public_url);
    } else {
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        bool ok = host != NULL && *host != '\0' && strlen(host) < 200;
        for (const char *p = host; ok && *p != '\0'; p++) {
            ok = (unsigned char)*p > 0x20 && *p != '/' && *p != '"' && *p != '\\' && *p < 0x7f;
        }
        snprintf(out, cap, "http://%s", ok ? host : "127.0.0.1");
    }
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/') {
        out[--n] = '\0';
    }
}

static cJSON *href(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *href(const char *fmt, ...)
{
    char url[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(url, sizeof(url), fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "href", url);
    }
    return o;
}

static bool token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
}

/* "Scheme token" from the Authorization header. */
static bool auth_header(struct MHD_Connection *c, const char *scheme, char *tok, size_t cap)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t n = strlen(scheme);
    if (h == NULL || strncasecmp(h, scheme, n) != 0 || h[n] != ' ') {
        return false;
    }
    h += n;
    while (*h == ' ') {
        h++;
    }
    if (*h == '\0' || strlen(h) >= cap) {
        return false;
    }
    snprintf(tok, cap, "%s", h);
    return true;
}

/* ---------------------------------------------------------------- DDI */

struct ddi_ctx {
    struct server *s;
    struct MHD_Connection *c;
    const char *cid;
    long long device_id;
    char dev_id[24];
    char base[512]; /* .../{tenant}/controller/v1/{controllerId} */
};

enum auth_result { AUTH_OK, AUTH_UNAUTHORIZED, AUTH_UNKNOWN, AUTH_DB };

/* Who is asking: a device with its own token, or a gateway for it. register_ok: an
 * unknown device is registered (the first poll, with --auto-register). */
static enum auth_result ddi_auth(struct ddi_ctx *x, bool register_ok)
{
    struct server *s = x->s;
    char tok[200];
    bool gateway = false;
    if (auth_header(x->c, "GatewayToken", tok, sizeof(tok))) {
        if (s->gateway_token[0] == '\0' || !token_eq(tok, s->gateway_token)) {
            return AUTH_UNAUTHORIZED;
        }
        gateway = true;
    } else if (!auth_header(x->c, "TargetToken", tok, sizeof(tok))) {
        return AUTH_UNAUTHORIZED;
    }
    fleet_rows_t *r = fleet_db_query(s->db, "SELECT id, token FROM device WHERE controller_id = $1",
                                     FLEET_P(x->cid));
    if (r == NULL) {
        return AUTH_DB;
    }
    if (r->rows == 1) {
        bool ok = gateway || token_eq(tok, fleet_rows_get(r, 0, 1));
        x->device_id = fleet_rows_int(r, 0, 0);
        fleet_rows_free(r);
        fleet_i64(x->dev_id, x->device_id);
        return ok ? AUTH_OK : AUTH_UNAUTHORIZED;
    }
    fleet_rows_free(r);
    if (!register_ok || !s->o->auto_register) {
        /* hawkBit: a target token names a known target (401); a gateway asks for one
         * that does not exist (404). */
        return gateway ? AUTH_UNKNOWN : AUTH_UNAUTHORIZED;
    }
    /* Registered on its first poll; a target token becomes the device's token. */
    char fresh[33], t[24];
    if (gateway && fleet_random_token(fresh) != 0) {
        return AUTH_DB;
    }
    r = fleet_db_query(s->db,
                       "INSERT INTO device (controller_id, token, created) VALUES ($1, $2, $3)"
                       " ON CONFLICT (controller_id) DO NOTHING RETURNING id",
                       FLEET_P(x->cid, gateway ? fresh : tok, fleet_i64(t, now_s())));
    if (r == NULL) {
        return AUTH_DB;
    }
    if (r->rows != 1) { /* another server registered it first: authenticate again */
        fleet_rows_free(r);
        return ddi_auth(x, false);
    }
    x->device_id = fleet_rows_int(r, 0, 0);
    fleet_rows_free(r);
    fleet_i64(x->dev_id, x->device_id);
    return AUTH_OK;
}

static enum MHD_Result ddi_poll(struct ddi_ctx *x)
{
    struct server *s = x->s;
    char t[24];
    fleet_rows_t *d =
        fleet_db_query(s->db, "UPDATE device SET last_poll = $2 WHERE id = $1 RETURNING want_attrs",
                       FLEET_P(x->dev_id, fleet_i64(t, now_s())));
    fleet_rows_t *a = d == NULL || d->rows != 1
                          ? NULL
                          : fleet_db_query(s->db,
                                           "SELECT id, status, updated FROM action WHERE"
                                           " device_id = $1 AND status IN " FLEET_ACTION_ACTIVE
                                           " ORDER BY id LIMIT 1",
                                           FLEET_P(x->dev_id));
    if (a == NULL || d == NULL) {
        fleet_rows_free(a);
        fleet_rows_free(d);
        return reply_db_error(s, x->c);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *poll = cJSON_AddObjectToObject(cJSON_AddObjectToObject(j, "config"), "polling");
    char sleep[16];
    unsigned p = s->o->poll_seconds;
    snprintf(sleep, sizeof(sleep), "%02u:%02u:%02u", p / 3600, p / 60 % 60, p % 60);
    cJSON_AddStringToObject(poll, "sleep", sleep);
    cJSON *links = cJSON_AddObjectToObject(j, "_links");
    if (a->rows == 1) {
        const char *id = fleet_rows_get(a, 0, 0);
        if (strcmp(fleet_rows_get(a, 0, 1), "canceling") == 0) {
            cJSON_AddItemToObject(links, "cancelAction", href("%s/cancelAction/%s", x->base, id));
        } else {
            /* c= changes when the action does, as hawkBit's does. */
            unsigned h = 2166136261u;
            for (const char *q = fleet_rows_get(a, 0, 2); *q != '\0'; q++) {
                h = (h ^ (unsigned char)*q) * 16777619u;
            }
            cJSON_AddItemToObject(links, "deploymentBase",
                                  href("%s/deploymentBase/%s?c=%d", x->base, id, (int)h));
        }
    }
    if (fleet_rows_int(d, 0, 0) != 0) {
        cJSON_AddItemToObject(links, "configData", href("%s/configData", x->base));
    }
    fleet_rows_free(a);
    fleet_rows_free(d);
    return reply_json(x->c, MHD_HTTP_OK, j);
}

/* The device's action aid: its status, artifact and rollout (NULL rows when not its). */
static fleet_rows_t *device_action(struct ddi_ctx *x, const char *aid)
{
    return fleet_db_query(x->s->db,
                          "SELECT a.status, a.rollout_id, f.id, f.filename, f.project, f.version,"
                          " f.size, f.sha1, f.md5, f.sha256 FROM action a JOIN artifact f ON"
                          " f.id = a.artifact_id WHERE a.id = $1 AND a.device_id = $2",
                          FLEET_P(aid, x->dev_id));
}

static void artifact_links(struct server *s, const struct ddi_ctx *x, cJSON *links,
                           const char *art_id, const char *filename, const char *sha256)
{
    if (s->o->artifact_base_url != NULL) {
        cJSON_AddItemToObject(links, "download-http",
                              href("%s/%s.bin", s->o->artifact_base_url, sha256));
    } else {
        cJSON_AddItemToObject(
            links, "download-http",
            href("%s/softwaremodules/%s/artifacts/%s", x->base, art_id, filename));
    }
    cJSON_AddItemToObject(
        links, "md5sum-http",
        href("%s/softwaremodules/%s/artifacts/%s.MD5SUM", x->base, art_id, filename));
}

static enum MHD_Result ddi_deployment(struct ddi_ctx *x, const char *aid)
{
    struct server *s = x->s;
    fleet_rows_t *r = device_action(x, aid);
    if (r == NULL) {
        return reply_db_error(s, x->c);
    }
    const char *st = fleet_rows_get(r, 0, 0);
    if (r->rows != 1 || strcmp(st, "scheduled") == 0) {
        fleet_rows_free(r);
        return reply_error(x->c, MHD_HTTP_NOT_FOUND, E_NOTFOUND,
                           "action %s is not an action of device %s", aid, x->cid);
    }
    char t[24];
    if (strcmp(st, "pending") == 0 &&
        fleet_db_exec(s->db,
                      "UPDATE action SET status = 'running', updated = $2 WHERE id = $1 AND"
                      " status = 'pending'",
                      FLEET_P(aid, fleet_i64(t, now_s()))) < 0) {
        fleet_rows_free(r);
        return reply_db_error(s, x->c);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", aid);
    cJSON *dep = cJSON_AddObjectToObject(j, "deployment");
    cJSON_AddStringToObject(dep, "download", "forced");
    cJSON_AddStringToObject(dep, "update", "forced");
    cJSON *chunk = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(dep, "chunks"), chunk);
    cJSON_AddStringToObject(chunk, "part", "os");
    cJSON_AddStringToObject(chunk, "version", fleet_rows_get(r, 0, 5));
    cJSON_AddStringToObject(chunk, "name", fleet_rows_get(r, 0, 4));
    cJSON *art = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(chunk, "artifacts"), art);
    cJSON_AddStringToObject(art, "filename", fleet_rows_get(r, 0, 3));
    cJSON *hashes = cJSON_AddObjectToObject(art, "hashes");
    cJSON_AddStringToObject(hashes, "sha1", fleet_rows_get(r, 0, 7));
    cJSON_AddStringToObject(hashes, "md5", fleet_rows_get(r, 0, 8));
    cJSON_AddStringToObject(hashes, "sha256", fleet_rows_get(r, 0, 9));
    cJSON_AddNumberToObject(art, "size", (double)fleet_rows_int(r, 0, 6));
    artifact_links(s, x, cJSON_AddObjectToObject(art, "_links"), fleet_rows_get(r, 0, 2),
                   fleet_rows_get(r, 0, 3), fleet_rows_get(r, 0, 9));
    cJSON *hist = cJSON_AddObjectToObject(j, "actionHistory");
    cJSON_AddStringToObject(hist, "status", strcmp(st, "pending") == 0 ? "running" : st);
    fleet_rows_free(r);
    return reply_json(x->c, MHD_HTTP_OK, j);
}

static bool is_active(const char *st)
{
    return strcmp(st, "pending") == 0 || strcmp(st, "running") == 0 || strcmp(st, "canceling") == 0;
}

/* The state an action moves to on a feedback (cancel: on the cancelAction channel). */
static const char *next_state(const char *cur, const ddi_feedback_t *f, bool cancel)
{
    if (cancel) {
        switch (f->execution) {
        case DDI_EXEC_CANCELED:
            return "canceled";
        case DDI_EXEC_CLOSED:
            return f->finished == DDI_RESULT_FAILURE ? "running" : "canceled";
        case DDI_EXEC_REJECTED:
            return "running"; /* the device goes on with the update */
        default:
            return cur;
        }
    }
    switch (f->execution) {
    case DDI_EXEC_CLOSED:
        return f->finished == DDI_RESULT_FAILURE ? "error" : "finished";
    case DDI_EXEC_CANCELED:
        return "canceled";
    case DDI_EXEC_REJECTED:
        return cur;
    default:
        return strcmp(cur, "pending") == 0 ? "running" : cur;
    }
}

static enum MHD_Result ddi_feedback(struct ddi_ctx *x, const char *aid, const struct request *rq,
                                    bool cancel)
{
    struct server *s = x->s;
    ddi_feedback_t f;
    const char *why = NULL;
    fleet_rows_t *r = device_action(x, aid);
    if (r == NULL) {
        return reply_db_error(s, x->c);
    }
    if (r->rows != 1 || strcmp(fleet_rows_get(r, 0, 0), "scheduled") == 0) {
        fleet_rows_free(r);
        return reply_error(x->c, MHD_HTTP_NOT_FOUND, E_NOTFOUND,
                           "action %s is not an action of device %s", aid, x->cid);
    }
    long long rollout = fleet_rows_int(r, 0, 1);
    fleet_rows_free(r);
    if (ddi_feedback_parse(rq->body, rq->len, &f, &why) != 0) {
        return reply_error(x->c, MHD_HTTP_BAD_REQUEST, E_BODY, "feedback: %s", why);
    }
    enum MHD_Result ret;
    char t[24], pc[24], po[24], code[24], rid[24];
    fleet_i64(t, now_s());
    /* Only a feedback that may close the action changes a rollout's counts; the others
     * (progress) neither lock the rollout nor re-evaluate it. */
    bool closing = f.execution == DDI_EXEC_CLOSED || f.execution == DDI_EXEC_CANCELED;
    if (fleet_db_script(s->db, "BEGIN") != 0) {
        ddi_feedback_free(&f);
        return reply_db_error(s, x->c);
    }
    /* The rollout's row first, as every writer of a rollout takes it (store.c). */
    if (closing && rollout > 0 && fleet_db_is_pg(s->db)) {
        fleet_rows_free(fleet_db_query(s->db, "SELECT id FROM rollout WHERE id = $1 FOR UPDATE",
                                       FLEET_P(fleet_i64(rid, rollout))));
    }
    r = fleet_db_query(s->db, "SELECT status FROM action WHERE id = $1", FLEET_P(aid));
    if (r == NULL || r->rows != 1) {
        goto db_error;
    }
    char cur[16]; /* the rows are freed below; next may be cur */
    snprintf(cur, sizeof(cur), "%s", fleet_rows_get(r, 0, 0));
    if (!is_active(cur) || (cancel && strcmp(cur, "canceling") != 0)) {
        ret = reply_error(x->c, MHD_HTTP_GONE, E_GONE, "action %s is %s: no feedback taken", aid,
                          strcmp(cur, "running") == 0 ? "not being canceled" : cur);
        fleet_rows_free(r);
        fleet_db_script(s->db, "ROLLBACK");
        ddi_feedback_free(&f);
        return ret;
    }
    const char *next = next_state(cur, &f, cancel);
    char details[64 + DDI_DETAILS_MAX * (DDI_DETAIL_LEN_MAX + 8)];
    snprintf(details, sizeof(details), "%s", f.details_json);
    long long changed = fleet_db_exec(
        s->db,
        "UPDATE action SET status = $2, updated = $3, progress_cnt = COALESCE($5, progress_cnt),"
        " progress_of = COALESCE($6, progress_of) WHERE id = $1 AND status = $4",
        FLEET_P(aid, next, t, cur, f.has_progress ? fleet_i64(pc, f.progress_cnt) : NULL,
                f.has_progress ? fleet_i64(po, f.progress_of) : NULL));
    fleet_rows_free(r);
    r = NULL;
    if (changed == 0) {
        /* Another server changed the action (a cancel) between the read and the update. */
        fleet_db_script(s->db, "ROLLBACK");
        ddi_feedback_free(&f);
        return reply_error(x->c, MHD_HTTP_CONFLICT, E_STATE,
                           "action %s changed meanwhile: send the feedback again", aid);
    }
    if (changed != 1 ||
        fleet_db_exec(s->db,
                      "INSERT INTO action_status (action_id, time, execution, result, code,"
                      " details) VALUES ($1, $2, $3, $4, $5, $6)",
                      FLEET_P(aid, t, ddi_exec_name(f.execution), ddi_result_name(f.finished),
                              f.has_code ? fleet_i64(code, f.code) : NULL, details)) != 1) {
        goto db_error;
    }
    if (!is_active(next) && fleet_group_count_closed(s->db, aid, next) != 0) {
        goto db_error;
    }
    if (strcmp(next, "finished") == 0 &&
        fleet_db_exec(s->db, "UPDATE device SET want_attrs = 1 WHERE id = $1", FLEET_P(x->dev_id)) <
            0) {
        goto db_error;
    }
    if (closing && rollout > 0 && !is_active(next) && fleet_rollout_evaluate(s->db, rollout) != 0) {
        goto db_error;
    }
    if (fleet_db_script(s->db, "COMMIT") != 0) {
        goto db_error;
    }
    ddi_feedback_free(&f);
    return reply_empty(x->c, MHD_HTTP_OK);
db_error:
    fleet_rows_free(r);
    ret = reply_db_error(s, x->c);
    fleet_db_script(s->db, "ROLLBACK");
    ddi_feedback_free(&f);
    return ret;
}

static enum MHD_Result ddi_config(struct ddi_ctx *x, const struct request *rq)
{
    struct server *s = x->s;
    static __thread ddi_config_t cfg; /* ~17 KiB: not on a connection thread's stack */
    const char *why = NULL;
    if (ddi_config_parse(rq->body, rq->len, &cfg, &why) != 0) {
        return reply_error(x->c, MHD_HTTP_BAD_REQUEST, E_BODY, "configData: %s", why);
    }
    if (fleet_db_script(s->db, "BEGIN") != 0) {
        return reply_db_error(s, x->c);
    }
    bool ok = true;
    if (cfg.mode == DDI_MODE_REPLACE) {
        ok = fleet_db_exec(s->db, "DELETE FROM device_attr WHERE device_id = $1",
                           FLEET_P(x->dev_id)) >= 0;
    }
    for (size_t i = 0; ok && i < cfg.n; i++) {
        if (cfg.mode == DDI_MODE_REMOVE) {
            ok = fleet_db_exec(s->db, "DELETE FROM device_attr WHERE device_id = $1 AND key = $2",
                               FLEET_P(x->dev_id, cfg.key[i])) >= 0;
        } else {
            ok = fleet_db_exec(s->db,
                               "INSERT INTO device_attr (device_id, key, value) VALUES ($1, $2,"
                               " $3) ON CONFLICT (device_id, key) DO UPDATE SET value ="
                               " excluded.value",
                               FLEET_P(x->dev_id, cfg.key[i], cfg.value[i])) == 1;
        }
    }
    ok = ok &&
         fleet_db_exec(s->db, "UPDATE device SET want_attrs = 0 WHERE id = $1",
                       FLEET_P(x->dev_id)) >= 0 &&
         fleet_db_script(s->db, "COMMIT") == 0;
    if (!ok) {
        enum MHD_Result ret = reply_db_error(s, x->c);
        fleet_db_script(s->db, "ROLLBACK");
        return ret;
    }
    return reply_empty(x->c, MHD_HTTP_OK);
}

static enum MHD_Result ddi_cancel(struct ddi_ctx *x, const char *aid)
{
    fleet_rows_t *r = device_action(x, aid);
    if (r == NULL) {
        return reply_db_error(x->s, x->c);
    }
    bool ok = r->rows == 1 && strcmp(fleet_rows_get(r, 0, 0), "canceling") == 0;
    fleet_rows_free(r);
    if (!ok) {
        return reply_error(x->c, MHD_HTTP_NOT_FOUND, E_NOTFOUND,
                           "device %s has no cancelation of action %s", x->cid, aid);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", aid);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "cancelAction"), "stopId", aid);
    return reply_json(x->c, MHD_HTTP_OK, j);
}

/* Open an artifact's bytes in the data directory. */
static int open_artifact(struct server *s, const char *sha256, struct stat *st)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s.bin", s->artifacts_dir, sha256);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static enum MHD_Result ddi_download(struct ddi_ctx *x, const char *art, const char *name,
                                    bool is_head)
{
    struct server *s = x->s;
    long long id;
    if (!parse_id(art, &id)) {
        return reply_error(x->c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no software module %s", art);
    }
    fleet_rows_t *r = fleet_db_query(
        s->db, "SELECT filename, sha256, md5 FROM artifact WHERE id = $1", FLEET_P(art));
    if (r == NULL) {
        return reply_db_error(s, x->c);
    }
    size_t nl = strlen(name);
    bool md5sum = nl > 7 && strcmp(name + nl - 7, ".MD5SUM") == 0;
    const char *fn = fleet_rows_get(r, 0, 0);
    if (r->rows != 1 || strncmp(fn, name, md5sum ? nl - 7 : nl) != 0 ||
        strlen(fn) != (md5sum ? nl - 7 : nl)) {
        fleet_rows_free(r);
        return reply_error(x->c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no artifact %s in module %s",
                           name, art);
    }
    if (md5sum) { /* hawkBit's MD5SUM file: "<md5>  <filename>" */
        char *body = NULL;
        if (asprintf(&body, "%s  %s\n", fleet_rows_get(r, 0, 2), fn) < 0) {
            body = NULL;
        }
        fleet_rows_free(r);
        return body != NULL ? reply(x->c, MHD_HTTP_OK, "text/plain; charset=utf-8", body) : MHD_NO;
    }
    struct stat st;
    int fd = open_artifact(s, fleet_rows_get(r, 0, 1), &st);
    fleet_rows_free(r);
    if (fd < 0) {
        return reply_error(x->c, MHD_HTTP_NOT_FOUND, E_NOTFOUND,
                           "artifact %s: its bytes are missing from this server's data directory",
                           art);
    }
    unsigned status;
    uint64_t body_len;
    struct MHD_Response *resp =
        http_file_response(x->c, fd, &st, "application/octet-stream", is_head, &status, &body_len);
    if (resp == NULL) {
        return MHD_NO;
    }
    char disp[256];
    snprintf(disp, sizeof(disp), "attachment;filename=%s", name);
    MHD_add_response_header(resp, "Content-Disposition", disp);
    enum MHD_Result ret = MHD_queue_response(x->c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* /{tenant}/controller/v1/{controllerId}[/...]: seg[0..n) after the tenant. */
static enum MHD_Result ddi_route(struct server *s, struct MHD_Connection *c, const char *method,
                                 char **seg, size_t n, const struct request *rq)
{
    if (n < 3 || strcmp(seg[0], "controller") != 0 || strcmp(seg[1], "v1") != 0) {
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no such resource");
    }
    if (!valid_id(seg[2])) {
        return reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM,
                           "controllerId: 1 to 64 of A-Z a-z 0-9 . _ - :");
    }
    struct ddi_ctx x = {.s = s, .c = c, .cid = seg[2]};
    char base[256];
    base_url(s, c, base, sizeof(base));
    snprintf(x.base, sizeof(x.base), "%s/%s/controller/v1/%s", base, s->o->tenant, x.cid);
    bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0, put = strcmp(method, "PUT") == 0;
    bool download = n == 7 && strcmp(seg[3], "softwaremodules") == 0 &&
                    strcmp(seg[5], "artifacts") == 0 && (get || head);
    enum auth_result a = AUTH_OK;
    if (!(download && s->o->anonymous_download)) {
        a = ddi_auth(&x, n == 3 && get);
    }
    switch (a) {
    case AUTH_OK:
        break;
    case AUTH_UNAUTHORIZED:
        return reply_error(c, MHD_HTTP_UNAUTHORIZED, E_AUTH,
                           "device %s: missing or wrong TargetToken / GatewayToken", x.cid);
    case AUTH_UNKNOWN:
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no device %s", x.cid);
    case AUTH_DB:
        return reply_db_error(s, c);
    }
    if (n == 3 && get) {
        return ddi_poll(&x);
    }
    if (n == 4 && put && strcmp(seg[3], "configData") == 0) {
        return ddi_config(&x, rq);
    }
    if (download) {
        return ddi_download(&x, seg[4], seg[6], head);
    }
    long long id;
    if ((n == 5 || n == 6) && !parse_id(seg[4], &id)) {
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no action %s", seg[4]);
    }
    bool dep = n >= 5 && strcmp(seg[3], "deploymentBase") == 0;
    bool can = n >= 5 && strcmp(seg[3], "cancelAction") == 0;
    if (n == 5 && get && dep) {
        return ddi_deployment(&x, seg[4]);
    }
    if (n == 5 && get && can) {
        return ddi_cancel(&x, seg[4]);
    }
    if (n == 6 && post && (dep || can) && strcmp(seg[5], "feedback") == 0) {
        return ddi_feedback(&x, seg[4], rq, can);
    }
    return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no such resource");
}

/* ---------------------------------------------------------------- management API */

static cJSON *parse_body(const struct request *rq, struct MHD_Connection *c, enum MHD_Result *ret)
{
    cJSON *j = rq->len > 0 ? cJSON_ParseWithLength(rq->body, rq->len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        *ret = reply_error(c, MHD_HTTP_BAD_REQUEST, E_BODY,
                           rq->len == 0 ? "empty body (a JSON object is expected)"
                                        : "malformed JSON or not an object");
        return NULL;
    }
    return j;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A whole-number field in [lo, hi]; absent: def. -1 if present and bad. */
static int json_int(const cJSON *o, const char *key, long long lo, long long hi, long long def,
                    long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble ||
        v->valuedouble < (double)lo || v->valuedouble > (double)hi) {
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

/* Rows as an array of objects with the given keys ("#name" = a number); columns past
 * the nkeys keys are left out. */
static cJSON *rows_json(const fleet_rows_t *r, const char *const *keys, size_t nkeys)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->rows; i++) {
        cJSON *o = cJSON_CreateObject();
        for (size_t k = 0; k < r->cols && k < nkeys; k++) {
            const char *v = fleet_rows_get(r, i, k);
            const char *key = keys[k];
            if (v == NULL) {
                cJSON_AddNullToObject(o, key[0] == '#' ? key + 1 : key);
            } else if (key[0] == '#') {
                cJSON_AddNumberToObject(o, key + 1, strtod(v, NULL));
            } else {
                cJSON_AddStringToObject(o, key, v);
            }
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

#define NKEYS(keys) (sizeof(keys) / sizeof((keys)[0]))

/* Row 0 of r as an object with the given keys (rows_json_n's). */
static cJSON *row_object(const fleet_rows_t *r, const char *const *keys, size_t nkeys)
{
    cJSON *arr = rows_json(r, keys, nkeys);
    cJSON *one = cJSON_DetachItemFromArray(arr, 0);
    cJSON_Delete(arr);
    return one;
}

static const char *const ARTIFACT_KEYS[] = {
    "#id",   "filename", "project", "version", "#secureVersion", "chip",
    "#size", "sha256",   "sha1",    "md5",     "#signed",        "#created"};
#define ARTIFACT_COLS                                                                              \
    "id, filename, project, version, secure_version, chip, size, sha256, sha1, md5, signed,"       \
    " created"

static bool valid_filename(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || s[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.')) {
            return false;
        }
    }
    return true;
}

static void hexdigest(const char *alg, const void *buf, size_t len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (EVP_Digest(buf, len, md, &n, EVP_get_digestbyname(alg), NULL) == 1) {
        tool_hex(out, md, n);
    }
}

static enum MHD_Result rest_upload(struct server *s, struct MHD_Connection *c,
                                   const struct request *rq)
{
    static __thread otakit_image_info_t info;
    otakit_diag_t diag = {0, NULL};
    otakit_image_opts_t opts = {.chip_id = OTAKIT_CHIP_ANY, .max_size = 0, .skip_hash = false};
    const uint8_t *buf = (const uint8_t *)rq->body;
    if (rq->len == 0) {
        return reply_error(c, MHD_HTTP_BAD_REQUEST, E_IMAGE,
                           "empty upload: an app image is expected");
    }
    if (otakit_image_verify_buf(buf, rq->len, &opts, &info, &diag) != OTAKIT_OK) {
        return reply_error(c, MHD_HTTP_UNPROCESSABLE_CONTENT, E_IMAGE,
                           "not a valid app image: offset 0x%x: %s", (unsigned)diag.offset,
                           diag.msg != NULL ? diag.msg : "invalid");
    }
    if (!info.has_desc) {
        return reply_error(c, MHD_HTTP_UNPROCESSABLE_CONTENT, E_IMAGE,
                           "not an app image (no app description: a bootloader?)");
    }
    bool is_signed = false;
    if (s->have_key) {
        otakit_sig_result_t res;
        uint32_t off = otakit_sig_sector_offset(info.image_len);
        is_signed = otakit_sig_verify(buf, rq->len, off,
                                      (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN])s->trusted, 1,
                                      &otakit_sbv2_crypto, &res, &diag) == OTAKIT_OK;
        if (!is_signed) {
            return reply_error(c, MHD_HTTP_UNPROCESSABLE_CONTENT, E_IMAGE,
                               "the image is not signed with the server's key: %s",
                               diag.msg != NULL ? diag.msg : "no valid signature");
        }
    }
    const char *given = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename");
    char filename[160];
    if (given != NULL) {
        if (!valid_filename(given)) {
            return reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM,
                               "filename: 1 to 128 of A-Z a-z 0-9 . _ - (not starting with .)");
        }
        snprintf(filename, sizeof(filename), "%s", given);
    } else {
        snprintf(filename, sizeof(filename), "%s-%s.bin", info.desc.project_name,
                 info.desc.version);
        for (char *p = filename; *p != '\0'; p++) {
            if (!valid_filename((char[]){*p, '\0'}) && *p != '.') {
                *p = '_';
            }
        }
    }
    char sha256[65], sha1[41], md5[33];
    hexdigest("SHA256", buf, rq->len, sha256);
    hexdigest("SHA1", buf, rq->len, sha1);
    hexdigest("MD5", buf, rq->len, md5);
    /* The bytes first (content-addressed, so a second upload of them changes nothing),
     * then the row. */
    char path[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s.bin", s->artifacts_dir, sha256);
    snprintf(tmp, sizeof(tmp), "%s/.upload-XXXXXX", s->artifacts_dir);
    int fd = mkstemp(tmp);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < rq->len;) {
        ssize_t w = write(fd, buf + done, rq->len - done);
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0) {
        close(fd);
    }
    ok = ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0;
    if (!ok) {
        int e = errno;
        unlink(tmp);
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, E_DB, "cannot store the artifact: %s",
                           strerror(e));
    }
    const char *chip = otakit_image_chip_name(info.header.chip_id);
    char size[24], sv[24], t[24];
    fleet_rows_t *r = fleet_db_query(
        s->db,
        "INSERT INTO artifact (filename, project, version, secure_version, chip, size, sha256,"
        " sha1, md5, signed, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (sha256) DO NOTHING RETURNING id",
        FLEET_P(filename, info.desc.project_name, info.desc.version,
                fleet_i64(sv, info.desc.secure_version), chip != NULL ? chip : "unknown",
                fleet_i64(size, (long long)rq->len), sha256, sha1, md5, is_signed ? "1" : "0",
                fleet_i64(t, now_s())));
    if (r == NULL) {
        return reply_db_error(s, c);
    }
    unsigned status = r->rows == 1 ? MHD_HTTP_CREATED : MHD_HTTP_OK;
    fleet_rows_free(r);
    r = fleet_db_query(s->db, "SELECT " ARTIFACT_COLS " FROM artifact WHERE sha256 = $1",
                       FLEET_P(sha256));
    if (r == NULL || r->rows != 1) {
        fleet_rows_free(r);
        return reply_db_error(s, c);
    }
    cJSON *one = row_object(r, ARTIFACT_KEYS, NKEYS(ARTIFACT_KEYS));
    fleet_rows_free(r);
    return reply_json(c, status, one);
}

static enum MHD_Result rest_list(struct server *s, struct MHD_Connection *c, const char *sql,
                                 const char *const *keys, size_t nkeys)
{
    fleet_rows_t *r = fleet_db_query(s->db, sql, 0, NULL);
    if (r == NULL) {
        return reply_db_error(s, c);
    }
    cJSON *arr = rows_json(r, keys, nkeys);
    fleet_rows_free(r);
    return reply_json(c, MHD_HTTP_OK, arr);
}

static const char *const DEVICE_KEYS[] = {"controllerId", "group", "tags", "#created", "#lastPoll"};
#define DEVICE_COLS "controller_id, grp, tags, created, last_poll"

/* tags: an array of strings, each a valid id, joined with ','. */
static int tags_text(const cJSON *tags, char *out, size_t cap)
{
    out[0] = '\0';
    if (tags == NULL || cJSON_IsNull(tags)) {
        return 0;
    }
    if (!cJSON_IsArray(tags)) {
        return -1;
    }
    const cJSON *t;
    size_t n = 0;
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsString(t) || !valid_id(t->valuestring)) {
            return -1;
        }
        int w = snprintf(out + n, cap - n, "%s%s", n > 0 ? "," : "", t->valuestring);
        if (w < 0 || (size_t)w >= cap - n) {
            return -1;
        }
        n += (size_t)w;
    }
    return 0;
}

static enum MHD_Result rest_device_add(struct server *s, struct MHD_Connection *c,
                                       const struct request *rq)
{
    enum MHD_Result ret;
    cJSON *j = parse_body(rq, c, &ret);
    if (j == NULL) {
        return ret;
    }
    const char *cid = json_str(j, "controllerId");
    const char *token = json_str(j, "token");
    const char *grp = json_str(j, "group");
    char tags[1024], fresh[33], t[24];
    if (cid == NULL || !valid_id(cid)) {
        ret = reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM,
                          "controllerId: 1 to 64 of A-Z a-z 0-9 . _ - :");
    } else if (token != NULL && (strlen(token) < 8 || strlen(token) > 128)) {
        ret = reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "token: 8 to 128 characters");
    } else if (grp != NULL && *grp != '\0' && !valid_id(grp)) {
        ret =
            reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "group: 1 to 64 of A-Z a-z 0-9 . _ - :");
    } else if (tags_text(cJSON_GetObjectItemCaseSensitive(j, "tags"), tags, sizeof(tags)) != 0) {
        ret = reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "tags: an array of names");
    } else if (token == NULL && fleet_random_token(fresh) != 0) {
        ret = reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, E_DB, "no randomness");
    } else {
        fleet_rows_t *r = fleet_db_query(
            s->db,
            "INSERT INTO device (controller_id, token, grp, tags, created) VALUES ($1, $2, $3,"
            " $4, $5) ON CONFLICT (controller_id) DO NOTHING RETURNING id",
            FLEET_P(cid, token != NULL ? token : fresh, grp != NULL ? grp : "", tags,
                    fleet_i64(t, now_s())));
        if (r == NULL) {
            ret = reply_db_error(s, c);
        } else if (r->rows != 1) {
            ret = reply_error(c, MHD_HTTP_CONFLICT, E_STATE, "device %s exists already", cid);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "controllerId", cid);
            cJSON_AddStringToObject(o, "token", token != NULL ? token : fresh);
            ret = reply_json(c, MHD_HTTP_CREATED, o);
        }
        fleet_rows_free(r);
    }
    cJSON_Delete(j);
    return ret;
}

static enum MHD_Result rest_device_update(struct server *s, struct MHD_Connection *c,
                                          const char *cid, const struct request *rq)
{
    enum MHD_Result ret;
    cJSON *j = parse_body(rq, c, &ret);
    if (j == NULL) {
        return ret;
    }
    const char *grp = json_str(j, "group");
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(j, "tags");
    char tags[1024];
    if (grp != NULL && *grp != '\0' && !valid_id(grp)) {
        ret =
            reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "group: 1 to 64 of A-Z a-z 0-9 . _ - :");
    } else if (tags_text(tj, tags, sizeof(tags)) != 0) {
        ret = reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "tags: an array of names");
    } else {
        long long n = fleet_db_exec(
            s->db,
            "UPDATE device SET grp = COALESCE($2, grp), tags = COALESCE($3, tags) WHERE"
            " controller_id = $1",
            FLEET_P(cid, grp, tj != NULL ? tags : NULL));
        ret = n < 0    ? reply_db_error(s, c)
              : n == 0 ? reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no device %s", cid)
                       : reply_empty(c, MHD_HTTP_OK);
    }
    cJSON_Delete(j);
    return ret;
}

static enum MHD_Result rest_device_show(struct server *s, struct MHD_Connection *c, const char *cid)
{
    fleet_rows_t *d = fleet_db_query(s->db,
                                     "SELECT " DEVICE_COLS ", id FROM device WHERE"
                                     " controller_id = $1",
                                     FLEET_P(cid));
    if (d == NULL) {
        return reply_db_error(s, c);
    }
    if (d->rows != 1) {
        fleet_rows_free(d);
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no device %s", cid);
    }
    char id[24];
    snprintf(id, sizeof(id), "%s", fleet_rows_get(d, 0, 5));
    cJSON *o = row_object(d, DEVICE_KEYS, NKEYS(DEVICE_KEYS));
    fleet_rows_free(d);
    fleet_rows_t *at = fleet_db_query(
        s->db, "SELECT key, value FROM device_attr WHERE device_id = $1 ORDER BY key", FLEET_P(id));
    fleet_rows_t *ac = fleet_db_query(
        s->db,
        "SELECT id, artifact_id, rollout_id, status, created, updated, progress_cnt, progress_of"
        " FROM action WHERE device_id = $1 ORDER BY id",
        FLEET_P(id));
    if (at == NULL || ac == NULL) {
        fleet_rows_free(at);
        fleet_rows_free(ac);
        cJSON_Delete(o);
        return reply_db_error(s, c);
    }
    cJSON *attrs = cJSON_AddObjectToObject(o, "attributes");
    for (size_t i = 0; i < at->rows; i++) {
        cJSON_AddStringToObject(attrs, fleet_rows_get(at, i, 0), fleet_rows_get(at, i, 1));
    }
    static const char *const ACTION_KEYS[] = {"#id",          "#artifact",  "#rollout",
                                              "status",       "#created",   "#updated",
                                              "#progressCnt", "#progressOf"};
    cJSON *actions = rows_json(ac, ACTION_KEYS, NKEYS(ACTION_KEYS));
    cJSON_AddItemToObject(o, "actions", actions);
    /* Each action's feedback, oldest first. */
    for (size_t i = 0; i < ac->rows; i++) {
        fleet_rows_t *h = fleet_db_query(
            s->db,
            "SELECT time, execution, result, code, details FROM action_status WHERE action_id ="
            " $1 ORDER BY id",
            FLEET_P(fleet_rows_get(ac, i, 0)));
        if (h == NULL) {
            continue;
        }
        static const char *const H_KEYS[] = {"#time", "execution", "result", "#code", "details"};
        cJSON *hist = rows_json(h, H_KEYS, NKEYS(H_KEYS));
        cJSON *it;
        cJSON_ArrayForEach(it, hist)
        {
            cJSON *det = cJSON_GetObjectItemCaseSensitive(it, "details");
            cJSON *parsed = cJSON_IsString(det) ? cJSON_Parse(det->valuestring) : NULL;
            if (parsed != NULL) {
                cJSON_ReplaceItemInObjectCaseSensitive(it, "details", parsed);
            }
        }
        cJSON_AddItemToObject(cJSON_GetArrayItem(actions, (int)i), "history", hist);
        fleet_rows_free(h);
    }
    fleet_rows_free(at);
    fleet_rows_free(ac);
    return reply_json(c, MHD_HTTP_OK, o);
}

/* A deployment of one artifact to one device, outside any rollout. */
static enum MHD_Result rest_device_assign(struct server *s, struct MHD_Connection *c,
                                          const char *cid, const struct request *rq)
{
    enum MHD_Result ret;
    cJSON *j = parse_body(rq, c, &ret);
    if (j == NULL) {
        return ret;
    }
    long long art;
    char a[24], t[24];
    if (json_int(j, "artifact", 1, (1LL << 53), 0, &art) != 0 || art == 0) {
        cJSON_Delete(j);
        return reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "artifact: an artifact id");
    }
    cJSON_Delete(j);
    fleet_rows_t *r = fleet_db_query(
        s->db,
        "INSERT INTO action (device_id, artifact_id, status, created, updated) SELECT d.id, f.id,"
        " 'pending', $3, $3 FROM device d, artifact f WHERE d.controller_id = $1 AND f.id = $2"
        " AND NOT EXISTS (SELECT 1 FROM action x WHERE x.device_id = d.id AND x.status "
        "IN " FLEET_ACTION_ACTIVE ") RETURNING id",
        FLEET_P(cid, fleet_i64(a, art), fleet_i64(t, now_s())));
    if (r == NULL) {
        return reply_db_error(s, c);
    }
    if (r->rows != 1) {
        fleet_rows_free(r);
        return reply_error(c, MHD_HTTP_CONFLICT, E_STATE,
                           "no such device or artifact, or device %s has an open action", cid);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "action", (double)fleet_rows_int(r, 0, 0));
    fleet_rows_free(r);
    return reply_json(c, MHD_HTTP_CREATED, o);
}

static enum MHD_Result rest_rollout_create(struct server *s, struct MHD_Connection *c,
                                           const struct request *rq)
{
    enum MHD_Result ret;
    cJSON *j = parse_body(rq, c, &ret);
    if (j == NULL) {
        return ret;
    }
    fleet_group_spec_t groups[64];
    fleet_rollout_spec_t spec = {.groups = groups};
    long long art, st, et;
    const char *why = NULL;
    const cJSON *filter = cJSON_GetObjectItemCaseSensitive(j, "filter");
    const cJSON *gs = cJSON_GetObjectItemCaseSensitive(j, "groups");
    spec.name = json_str(j, "name");
    char *filter_text = NULL;
    if (spec.name == NULL || strlen(spec.name) == 0 || strlen(spec.name) > 128) {
        why = "name: 1 to 128 characters";
    } else if (json_int(j, "artifact", 1, (1LL << 53), 0, &art) != 0 || art == 0) {
        why = "artifact: an artifact id";
    } else if (json_int(j, "successThreshold", 0, 100, 100, &st) != 0) {
        why = "successThreshold: a percentage, 0 to 100";
    } else if (json_int(j, "errorThreshold", 0, 100, 50, &et) != 0) {
        why = "errorThreshold: a percentage, 0 to 100";
    } else if (filter != NULL && !cJSON_IsObject(filter)) {
        why = "filter: an object {\"group\": ..., \"tag\": ...}";
    } else if (gs != NULL &&
               (!cJSON_IsArray(gs) || cJSON_GetArraySize(gs) < 1 || cJSON_GetArraySize(gs) > 64)) {
        why = "groups: an array of 1 to 64 {\"percent\": N} or {\"count\": N}";
    }
    if (why == NULL && gs != NULL) {
        const cJSON *g;
        cJSON_ArrayForEach(g, gs)
        {
            long long pct, cnt;
            fleet_group_spec_t *o = &groups[spec.ngroups++];
            if (!cJSON_IsObject(g) || json_int(g, "percent", 1, 100, 0, &pct) != 0 ||
                json_int(g, "count", 1, 1000000000, 0, &cnt) != 0 || (pct == 0) == (cnt == 0)) {
                why = "groups: each is {\"percent\": 1..100} or {\"count\": N}";
                break;
            }
            o->percent = (int)pct;
            o->count = cnt;
        }
    }
    if (why == NULL && gs == NULL) {
        groups[0] = (fleet_group_spec_t){100, 0};
        spec.ngroups = 1;
    }
    if (why == NULL && filter != NULL) {
        spec.filter_group = json_str(filter, "group");
        spec.filter_tag = json_str(filter, "tag");
        if ((spec.filter_group != NULL && !valid_id(spec.filter_group)) ||
            (spec.filter_tag != NULL && !valid_id(spec.filter_tag))) {
            why = "filter: group and tag are names";
        }
    }
    if (why != NULL) {
        cJSON_Delete(j);
        return reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "%s", why);
    }
    filter_text = filter != NULL ? cJSON_PrintUnformatted(filter) : NULL;
    spec.filter_json = filter_text != NULL ? filter_text : "{}";
    spec.artifact_id = art;
    spec.success_threshold = (int)st;
    spec.error_threshold = (int)et;
    long long id = 0;
    int rc = fleet_rollout_create(s->db, &spec, &id, &why);
    cJSON_free(filter_text);
    if (rc == -1) {
        ret = reply_error(c,
                          strncmp(why, "artifact", 8) == 0 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_CONFLICT,
                          E_STATE, "%s", why);
    } else if (rc != 0) {
        ret = reply_db_error(s, c);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)id);
        ret = reply_json(c, MHD_HTTP_CREATED, o);
    }
    cJSON_Delete(j);
    return ret;
}

static enum MHD_Result rest_rollout_show(struct server *s, struct MHD_Connection *c,
                                         const char *rid)
{
    static const char *const R_KEYS[] = {
        "#id",     "name", "#artifact", "filter", "status", "#successThreshold", "#errorThreshold",
        "#created"};
    fleet_rows_t *r = fleet_db_query(s->db,
                                     "SELECT id, name, artifact_id, filter, status,"
                                     " success_threshold, error_threshold, created FROM rollout"
                                     " WHERE id = $1",
                                     FLEET_P(rid));
    if (r == NULL) {
        return reply_db_error(s, c);
    }
    if (r->rows != 1) {
        fleet_rows_free(r);
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no rollout %s", rid);
    }
    cJSON *o = row_object(r, R_KEYS, NKEYS(R_KEYS));
    fleet_rows_free(r);
    cJSON *f = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(o, "filter")->valuestring);
    if (f != NULL) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, "filter", f);
    }
    static const char *const G_KEYS[] = {"#index", "status",    "#devices", "#finished",
                                         "#error", "#canceled", "#open"};
    fleet_rows_t *g = fleet_db_query(
        s->db,
        "SELECT g.idx, g.status, COUNT(a.id),"
        " SUM(CASE WHEN a.status = 'finished' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN a.status = 'error' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN a.status = 'canceled' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN a.status IN ('scheduled','pending','running','canceling') THEN 1 ELSE 0"
        " END) FROM rollout_group g JOIN action a ON a.group_id = g.id WHERE g.rollout_id = $1"
        " GROUP BY g.id, g.idx, g.status ORDER BY g.idx",
        FLEET_P(rid));
    if (g == NULL) {
        cJSON_Delete(o);
        return reply_db_error(s, c);
    }
    cJSON_AddItemToObject(o, "groups", rows_json(g, G_KEYS, NKEYS(G_KEYS)));
    fleet_rows_free(g);
    return reply_json(c, MHD_HTTP_OK, o);
}

/* The dashboard's counts (dashboard.c). */
static enum MHD_Result rest_summary(struct server *s, struct MHD_Connection *c, const char *sub)
{
    char why[256];
    cJSON *j = NULL;
    switch (fleet_dash_rest(s->db, c, sub, &j, why, sizeof(why))) {
    case FLEET_DASH_OK:
        return reply_json(c, MHD_HTTP_OK, j);
    case FLEET_DASH_BAD:
        return reply_error(c, MHD_HTTP_BAD_REQUEST, E_PARAM, "%s", why);
    case FLEET_DASH_NOTFOUND:
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "%s", why);
    default:
        return reply_db_error(s, c);
    }
}

static enum MHD_Result rest_route(struct server *s, struct MHD_Connection *c, const char *method,
                                  char **seg, size_t n, const struct request *rq)
{
    char tok[300];
    if (!auth_header(c, "Bearer", tok, sizeof(tok)) || !token_eq(tok, s->admin_token)) {
        return reply_error(c, MHD_HTTP_UNAUTHORIZED, E_AUTH,
                           "the management API needs 'Authorization: Bearer <admin token>'");
    }
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    bool put = strcmp(method, "PUT") == 0;
    const char *what = n >= 1 ? seg[0] : "";
    if (strcmp(what, "artifacts") == 0) {
        if (n == 1 && get) {
            return rest_list(s, c, "SELECT " ARTIFACT_COLS " FROM artifact ORDER BY id",
                             ARTIFACT_KEYS, NKEYS(ARTIFACT_KEYS));
        }
        if (n == 1 && post) {
            return rest_upload(s, c, rq);
        }
    } else if (strcmp(what, "devices") == 0) {
        if (n == 1 && get) {
            return rest_list(s, c, "SELECT " DEVICE_COLS " FROM device ORDER BY controller_id",
                             DEVICE_KEYS, NKEYS(DEVICE_KEYS));
        }
        if (n == 1 && post) {
            return rest_device_add(s, c, rq);
        }
        if (n == 2 && get) {
            return rest_device_show(s, c, seg[1]);
        }
        if (n == 2 && put) {
            return rest_device_update(s, c, seg[1], rq);
        }
        if (n == 3 && post && strcmp(seg[2], "assign") == 0) {
            return rest_device_assign(s, c, seg[1], rq);
        }
    } else if (strcmp(what, "summary") == 0 && get && n <= 2) {
        return rest_summary(s, c, n == 2 ? seg[1] : NULL);
    } else if (strcmp(what, "rollouts") == 0) {
        static const char *const RL_KEYS[] = {"#id", "name", "#artifact", "status", "#created"};
        long long id;
        if (n == 1 && get) {
            return rest_list(s, c,
                             "SELECT id, name, artifact_id, status, created FROM rollout ORDER BY"
                             " id",
                             RL_KEYS, NKEYS(RL_KEYS));
        }
        if (n == 1 && post) {
            return rest_rollout_create(s, c, rq);
        }
        if (n >= 2 && !parse_id(seg[1], &id)) {
            return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no rollout %s", seg[1]);
        }
        if (n == 2 && get) {
            return rest_rollout_show(s, c, seg[1]);
        }
        if (n == 3 && post) {
            const char *why = NULL;
            int notfound = 0;
            int rc = fleet_rollout_control(s->db, id, seg[2], &why, &notfound);
            if (rc == 0) {
                return rest_rollout_show(s, c, seg[1]);
            }
            if (rc == -1) {
                return reply_error(c, notfound ? MHD_HTTP_NOT_FOUND : MHD_HTTP_CONFLICT, E_STATE,
                                   "rollout %s: %s", seg[1], why);
            }
            return reply_db_error(s, c);
        }
    }
    return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no such resource");
}

/* ---------------------------------------------------------------- dispatch */

/* Split the path into at most cap segments (in place in buf). @return count, or -1. */
static int split(char *buf, char **seg, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
        if (n == cap) {
            return -1;
        }
        seg[n++] = t;
    }
    return (int)n;
}

/* The body limit of a request, known from its method and path. */
static size_t body_limit(const struct server *s, const char *url)
{
    if (strcmp(url, "/rest/v1/artifacts") == 0) {
        return s->o->max_upload;
    }
    return strncmp(url, "/rest/", 6) == 0 ? REST_BODY_MAX : DDI_BODY_MAX;
}

static enum MHD_Result dispatch(struct server *s, struct MHD_Connection *c, const char *url,
                                const char *method, struct request *rq)
{
    if (rq->too_big) {
        return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, E_SIZE,
                           "request body larger than %zu bytes", rq->limit);
    }
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        struct MHD_Response *page = fleet_dash_page(url);
        if (page != NULL) {
            enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_OK, page);
            MHD_destroy_response(page);
            return r;
        }
    }
    char path[1024];
    if (strlen(url) >= sizeof(path)) {
        return reply_error(c, MHD_HTTP_URI_TOO_LONG, E_PARAM, "path too long");
    }
    snprintf(path, sizeof(path), "%s", url);
    char *seg[12];
    int n = split(path, seg, 12);
    if (n <= 0) {
        return reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND,
                           "otakit fleet: devices use /%s/controller/v1/, operators /rest/v1/",
                           s->o->tenant);
    }
    enum MHD_Result ret;
    pthread_mutex_lock(&s->db_lock);
    if (strcmp(seg[0], "rest") == 0 && n >= 2 && strcmp(seg[1], "v1") == 0) {
        ret = rest_route(s, c, method, seg + 2, (size_t)n - 2, rq);
    } else if (strcmp(seg[0], s->o->tenant) == 0) {
        ret = ddi_route(s, c, method, seg + 1, (size_t)n - 1, rq);
    } else {
        ret = reply_error(c, MHD_HTTP_NOT_FOUND, E_NOTFOUND, "no tenant or resource '%s'", seg[0]);
    }
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct server *s = cls;
    (void)version;
    struct request *rq = *req_cls;
    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL) {
            return MHD_NO;
        }
        *req_cls = rq;
        snprintf(rq->method, sizeof(rq->method), "%s", method);
        rq->limit = body_limit(s, url);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > rq->limit) {
            /* Refused before the body is read (libmicrohttpd closes the connection). */
            rq->too_big = true;
            rq->responded = true;
            return dispatch(s, c, url, method, rq);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_big || rq->len + n > rq->limit) {
            rq->too_big = true;
            return MHD_YES;
        }
        if (rq->len + n + 1 > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            while (cap < rq->len + n + 1) {
                cap *= 2;
            }
            char *nb = realloc(rq->body, cap);
            if (nb == NULL) {
                return MHD_NO;
            }
            rq->body = nb;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        rq->body[rq->len] = '\0';
        return MHD_YES;
    }
    if (rq->responded) {
        return MHD_YES;
    }
    rq->responded = true;
    return dispatch(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct request *rq = *req_cls;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *req_cls = NULL;
    }
}

/* ---------------------------------------------------------------- startup */

/* A token from a file (first line), at least 16 characters. */
static int read_token(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        tool_error("fleet: %s: %s", path, strerror(errno));
        return -1;
    }
    bool ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    if (strlen(out) < 16) {
        tool_error("fleet: %s: a token of at least 16 characters is expected", path);
        return -1;
    }
    return 0;
}

static int admin_token(struct server *s)
{
    const fleet_opts_t *o = s->o;
    if (o->admin_token_file != NULL) {
        return read_token(o->admin_token_file, s->admin_token, sizeof(s->admin_token));
    }
    const char *env = getenv("OTAKIT_FLEET_TOKEN");
    if (env != NULL && *env != '\0') {
        if (strlen(env) < 16 || strlen(env) >= sizeof(s->admin_token)) {
            tool_error("fleet: OTAKIT_FLEET_TOKEN: 16 to 255 characters");
            return -1;
        }
        snprintf(s->admin_token, sizeof(s->admin_token), "%s", env);
        return 0;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/admin-token", o->data_dir);
    if (access(path, F_OK) == 0) {
        return read_token(path, s->admin_token, sizeof(s->admin_token));
    }
    char tok[33];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || fleet_random_token(tok) != 0 || dprintf(fd, "%s\n", tok) < 0) {
        tool_error("fleet: %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    close(fd);
    snprintf(s->admin_token, sizeof(s->admin_token), "%s", tok);
    fprintf(stderr, "otakit: fleet: new admin token in %s\n", path);
    return 0;
}

static int mkdir_p(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        tool_error("fleet: %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int fleet_serve(const fleet_opts_t *o)
{
    struct server *s = calloc(1, sizeof(*s));
    struct MHD_Daemon *d = NULL;
    int rc = EXIT_USAGE;
    if (s == NULL) {
        return EXIT_USAGE;
    }
    s->o = o;
    pthread_mutex_init(&s->db_lock, NULL);
    if (strlen(o->data_dir) > 1900) {
        tool_error("fleet: --data-dir: path too long");
        goto out;
    }
    snprintf(s->artifacts_dir, sizeof(s->artifacts_dir), "%s/artifacts", o->data_dir);
    if (mkdir_p(o->data_dir) != 0 || mkdir_p(s->artifacts_dir) != 0 || admin_token(s) != 0) {
        goto out;
    }
    if (o->gateway_token_file != NULL &&
        read_token(o->gateway_token_file, s->gateway_token, sizeof(s->gateway_token)) != 0) {
        goto out;
    }
    if (o->keyfile != NULL) {
        struct otakit_sbv2_key *key = NULL;
        if (tool_load_sbv2_key(o->keyfile, &key) != 0) {
            goto out;
        }
        bool ok = otakit_sbv2_key_digest(key, s->trusted[0]) == OTAKIT_OK;
        otakit_sbv2_key_free(key);
        if (!ok) {
            tool_error("fleet: %s: cannot compute the key digest", o->keyfile);
            goto out;
        }
        s->have_key = true;
    }
    char spec[PATH_MAX + 16], err[600];
    if (o->db != NULL) {
        snprintf(spec, sizeof(spec), "%s", o->db);
    } else {
        snprintf(spec, sizeof(spec), "sqlite:%s/fleet.db", o->data_dir);
    }
    if (fleet_db_open(spec, &s->db, err, sizeof(err)) != 0) {
        tool_error("fleet: database: %s", err);
        goto out;
    }
    if (fleet_schema_migrate(s->db, err, sizeof(err)) != 0) {
        tool_error("fleet: database: %s", err);
        goto out;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, o->bind_addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
    } else if (inet_pton(AF_INET6, o->bind_addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        flags |= MHD_USE_IPv6;
    } else {
        tool_error("fleet: --bind %s: not a numeric IPv4 or IPv6 address", o->bind_addr);
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                         &ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                         MHD_OPTION_END);
    if (d == NULL) {
        tool_error("fleet: cannot listen on %s port %u", o->bind_addr, o->port);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    bool v6 = strchr(o->bind_addr, ':') != NULL;
    printf("serving fleet on http://%s%s%s:%u/ (tenant %s, database %s)\n", v6 ? "[" : "",
           o->bind_addr, v6 ? "]" : "", di != NULL ? di->port : 0, o->tenant,
           fleet_db_is_pg(s->db) ? "PostgreSQL" : "SQLite");
    fflush(stdout);
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    fprintf(stderr, "otakit: fleet: %s: stopping\n", strsignal(sig));
    rc = EXIT_OK;
out:
    if (d != NULL) {
        MHD_stop_daemon(d);
    }
    fleet_db_close(s->db);
    pthread_mutex_destroy(&s->db_lock);
    free(s);
    return rc;
}
