/* hawkBit DDI v1 JSON (ddi_device.h): parsing with cJSON into fixed-size structs, and the two
 * bodies a device sends, rendered with snprintf. */
#include "ddi_device.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cJSON.h"

static int fail(otakit_ddi_error_t *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int fail(otakit_ddi_error_t *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->what, sizeof(err->what), fmt, ap);
        va_end(ap);
    }
    return -1;
}

int otakit_ddi_parse_sleep(const char *s, uint32_t *seconds)
{
    uint64_t part[3] = {0, 0, 0};
    int n = 0;
    const char *p = s;
    if (s == NULL) {
        return -1;
    }
    for (n = 0; n < 3; n++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            part[n] = part[n] * 10u + (uint64_t)(*p - '0');
            if (part[n] > 1000000u) {
                return -1;
            }
            p++;
            digits++;
        }
        if (digits == 0 || (n > 0 && digits != 2)) {
            return -1;
        }
        if (n < 2 && *p++ != ':') {
            return -1;
        }
    }
    if (*p != '\0' || part[1] > 59u || part[2] > 59u) {
        return -1;
    }
    uint64_t total = part[0] * 3600u + part[1] * 60u + part[2];
    if (total > UINT32_MAX) {
        return -1;
    }
    *seconds = (uint32_t)total;
    return 0;
}

int otakit_ddi_href_action(const char *href, uint64_t *action)
{
    static const char *const KEYS[] = {"/deploymentBase/", "/cancelAction/"};
    for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++) {
        const char *p = strstr(href, KEYS[k]);
        if (p == NULL) {
            continue;
        }
        p += strlen(KEYS[k]);
        uint64_t v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 19) {
            v = v * 10u + (uint64_t)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || (*p != '\0' && *p != '?' && *p != '/' && *p != '#')) {
            return -1;
        }
        *action = v;
        return 0;
    }
    return -1;
}

/* Copy a string member into a field; absent is an error only when required. */
static int get_str(const cJSON *obj, const char *key, char *dst, size_t cap, bool required,
                   const char *where, otakit_ddi_error_t *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (it == NULL) {
        dst[0] = '\0';
        return required ? fail(err, "%s%s: missing", where, key) : 0;
    }
    if (!cJSON_IsString(it) || it->valuestring == NULL) {
        return fail(err, "%s%s: not a string", where, key);
    }
    size_t n = strlen(it->valuestring);
    if (n >= cap) {
        return fail(err, "%s%s: longer than %zu bytes", where, key, cap - 1);
    }
    memcpy(dst, it->valuestring, n + 1);
    return 0;
}

/* _links.<name>.href into dst; *present tells whether the link is there. */
static int get_link(const cJSON *links, const char *prefix, const char *name, char *dst,
                    bool *present, otakit_ddi_error_t *err)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(links, name);
    *present = false;
    dst[0] = '\0';
    if (l == NULL) {
        return 0;
    }
    if (!cJSON_IsObject(l)) {
        return fail(err, "%s_links.%s: not an object", prefix, name);
    }
    char where[160];
    snprintf(where, sizeof(where), "%s_links.%s.", prefix, name);
    if (get_str(l, "href", dst, OTAKIT_DDI_HREF_MAX, true, where, err) != 0) {
        return -1;
    }
    *present = true;
    return 0;
}

cJSON *otakit_ddi_parse_object(const char *json, size_t len, otakit_ddi_error_t *err)
{
    if (json == NULL || len == 0) {
        fail(err, "empty body (a JSON object is expected)");
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (root == NULL) {
        fail(err, "malformed JSON");
        return NULL;
    }
    /* Only white space (or the NUL of a C string) may follow the object. */
    for (const char *p = end; p != NULL && p < json + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
            cJSON_Delete(root);
            fail(err, "malformed JSON (text after the object)");
            return NULL;
        }
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        fail(err, "the body is not a JSON object");
        return NULL;
    }
    return root;
}

/* An optional member: NULL when absent or JSON null. */
static const cJSON *optional(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(it) ? NULL : it;
}

int otakit_ddi_parse_base(const char *json, size_t len, otakit_ddi_base_t *out,
                          otakit_ddi_error_t *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = otakit_ddi_parse_object(json, len, err);
    if (root == NULL) {
        return -1;
    }
    int rc = -1;
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *polling = cJSON_GetObjectItemCaseSensitive(config, "polling");
    const cJSON *sleep = cJSON_GetObjectItemCaseSensitive(polling, "sleep");
    if (!cJSON_IsObject(config) || !cJSON_IsObject(polling)) {
        fail(err, "config.polling: missing");
        goto out;
    }
    if (!cJSON_IsString(sleep) || otakit_ddi_parse_sleep(sleep->valuestring, &out->sleep_s) != 0) {
        fail(err, "config.polling.sleep: not \"HH:MM:SS\"");
        goto out;
    }
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(root, "_links");
    if (links != NULL) {
        if (!cJSON_IsObject(links)) {
            fail(err, "_links: not an object");
            goto out;
        }
        if (get_link(links, "", "deploymentBase", out->deployment_href, &out->has_deployment,
                     err) != 0 ||
            get_link(links, "", "cancelAction", out->cancel_href, &out->has_cancel, err) != 0 ||
            get_link(links, "", "configData", out->config_data_href, &out->has_config_data, err) !=
                0) {
            goto out;
        }
        if (out->has_deployment &&
            otakit_ddi_href_action(out->deployment_href, &out->deployment_action) != 0) {
            fail(err, "_links.deploymentBase.href: no action id after /deploymentBase/");
            goto out;
        }
        if (out->has_cancel && otakit_ddi_href_action(out->cancel_href, &out->cancel_action) != 0) {
            fail(err, "_links.cancelAction.href: no action id after /cancelAction/");
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* A hex digest of exactly 2*n digits: decoded into bin (if not NULL) and lower-cased
 * into hex (if not NULL, 2n+1 bytes). */
static int get_hex(const cJSON *hashes, const char *key, size_t n, uint8_t *bin, char *hex,
                   bool *present, const char *where, otakit_ddi_error_t *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(hashes, key);
    *present = false;
    if (it == NULL) {
        return 0;
    }
    const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
    if (s == NULL || strlen(s) != 2 * n) {
        return fail(err, "%shashes.%s: not %zu hex digits", where, key, 2 * n);
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return fail(err, "%shashes.%s: not %zu hex digits", where, key, 2 * n);
        }
        if (bin != NULL) {
            bin[i] = (uint8_t)(hi << 4 | lo);
        }
        if (hex != NULL) {
            static const char DIGITS[] = "0123456789abcdef";
            hex[2 * i] = DIGITS[hi];
            hex[2 * i + 1] = DIGITS[lo];
        }
    }
    if (hex != NULL) {
        hex[2 * n] = '\0';
    }
    *present = true;
    return 0;
}

static int parse_artifact(const cJSON *a, otakit_ddi_artifact_t *out, const char *where,
                          otakit_ddi_error_t *err)
{
    if (!cJSON_IsObject(a)) {
        return fail(err, "%s: not an object", where);
    }
    char w[128];
    snprintf(w, sizeof(w), "%s.", where);
    if (get_str(a, "filename", out->filename, sizeof(out->filename), true, w, err) != 0) {
        return -1;
    }
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(a, "size");
    if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 9.0e15 ||
        size->valuedouble != (double)(uint64_t)size->valuedouble) {
        return fail(err, "%ssize: not a byte count", w);
    }
    out->size = (uint64_t)size->valuedouble;
    const cJSON *hashes = cJSON_GetObjectItemCaseSensitive(a, "hashes");
    if (hashes != NULL) {
        if (!cJSON_IsObject(hashes)) {
            return fail(err, "%shashes: not an object", w);
        }
        if (get_hex(hashes, "sha256", 32, out->sha256, NULL, &out->has_sha256, w, err) != 0 ||
            get_hex(hashes, "sha1", 20, NULL, out->sha1, &out->has_sha1, w, err) != 0 ||
            get_hex(hashes, "md5", 16, NULL, out->md5, &out->has_md5, w, err) != 0) {
            return -1;
        }
    }
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(a, "_links");
    if (!cJSON_IsObject(links)) {
        return fail(err, "%s_links: missing", w);
    }
    bool http = false, https = false;
    char tmp[OTAKIT_DDI_HREF_MAX];
    /* download-http (plain HTTP) is what a device without TLS takes; "download" is the
     * HTTPS link. */
    if (get_link(links, w, "download-http", out->href, &http, err) != 0 ||
        get_link(links, w, "download", tmp, &https, err) != 0) {
        return -1;
    }
    if (!http) {
        if (!https) {
            return fail(err, "%s_links: neither download-http nor download", w);
        }
        memcpy(out->href, tmp, sizeof(tmp));
    }
    return 0;
}

static int parse_handling(const cJSON *dep, const char *key, otakit_ddi_handling_t *h,
                          otakit_ddi_error_t *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(dep, key);
    *h = OTAKIT_DDI_HANDLING_FORCED;
    if (it == NULL) {
        return 0;
    }
    const char *s = cJSON_IsString(it) ? it->valuestring : "";
    if (strcmp(s, "forced") == 0) {
        *h = OTAKIT_DDI_HANDLING_FORCED;
    } else if (strcmp(s, "attempt") == 0) {
        *h = OTAKIT_DDI_HANDLING_ATTEMPT;
    } else if (strcmp(s, "skip") == 0) {
        *h = OTAKIT_DDI_HANDLING_SKIP;
    } else {
        return fail(err, "deployment.%s: not forced, attempt or skip", key);
    }
    return 0;
}

static int parse_u64_string(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9' && digits < 19; s++, digits++) {
        x = x * 10u + (uint64_t)(*s - '0');
    }
    if (digits == 0 || *s != '\0') {
        return -1;
    }
    *v = x;
    return 0;
}

int otakit_ddi_parse_deployment(const char *json, size_t len, otakit_ddi_deployment_t *out,
                                otakit_ddi_error_t *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = otakit_ddi_parse_object(json, len, err);
    if (root == NULL) {
        return -1;
    }
    int rc = -1;
    if (get_str(root, "id", out->id, sizeof(out->id), true, "", err) != 0) {
        goto out;
    }
    if (parse_u64_string(out->id, &out->action) != 0) {
        fail(err, "id: not a decimal action id");
        goto out;
    }
    const cJSON *dep = cJSON_GetObjectItemCaseSensitive(root, "deployment");
    if (!cJSON_IsObject(dep)) {
        fail(err, "deployment: missing");
        goto out;
    }
    if (parse_handling(dep, "download", &out->download, err) != 0 ||
        parse_handling(dep, "update", &out->update, err) != 0) {
        goto out;
    }
    const cJSON *mw = cJSON_GetObjectItemCaseSensitive(dep, "maintenanceWindow");
    if (mw != NULL) {
        out->maintenance_window = true;
        out->maintenance_available =
            cJSON_IsString(mw) && strcmp(mw->valuestring, "available") == 0;
    }
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(dep, "chunks");
    if (!cJSON_IsArray(chunks)) {
        fail(err, "deployment.chunks: missing");
        goto out;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, chunks)
    {
        char where[64];
        snprintf(where, sizeof(where), "deployment.chunks[%zu]", out->chunk_count);
        if (out->chunk_count == OTAKIT_DDI_MAX_CHUNKS) {
            fail(err, "deployment.chunks: more than %d", OTAKIT_DDI_MAX_CHUNKS);
            goto out;
        }
        if (!cJSON_IsObject(c)) {
            fail(err, "%s: not an object", where);
            goto out;
        }
        otakit_ddi_chunk_t *ch = &out->chunks[out->chunk_count++];
        char w[72];
        snprintf(w, sizeof(w), "%s.", where);
        if (get_str(c, "part", ch->part, sizeof(ch->part), true, w, err) != 0 ||
            get_str(c, "version", ch->version, sizeof(ch->version), true, w, err) != 0 ||
            get_str(c, "name", ch->name, sizeof(ch->name), false, w, err) != 0) {
            goto out;
        }
        const cJSON *arts = cJSON_GetObjectItemCaseSensitive(c, "artifacts");
        if (arts == NULL) {
            continue; /* a module with nothing to download */
        }
        if (!cJSON_IsArray(arts)) {
            fail(err, "%s.artifacts: not an array", where);
            goto out;
        }
        const cJSON *a;
        cJSON_ArrayForEach(a, arts)
        {
            char aw[100];
            snprintf(aw, sizeof(aw), "%s.artifacts[%zu]", where, ch->artifact_count);
            if (ch->artifact_count == OTAKIT_DDI_MAX_ARTIFACTS) {
                fail(err, "%s.artifacts: more than %d", where, OTAKIT_DDI_MAX_ARTIFACTS);
                goto out;
            }
            if (parse_artifact(a, &ch->artifacts[ch->artifact_count++], aw, err) != 0) {
                goto out;
            }
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

static const char *const EXEC_NAMES[] = {"closed",   "proceeding", "canceled",   "scheduled",
                                         "rejected", "resumed",    "downloaded", "download"};
static const char *const FINISHED_NAMES[] = {"none", "success", "failure"};

const char *otakit_ddi_exec_name(otakit_ddi_exec_t e)
{
    return (size_t)e < sizeof(EXEC_NAMES) / sizeof(EXEC_NAMES[0]) ? EXEC_NAMES[e] : "?";
}

const char *otakit_ddi_finished_name(otakit_ddi_finished_t f)
{
    return (size_t)f < sizeof(FINISHED_NAMES) / sizeof(FINISHED_NAMES[0]) ? FINISHED_NAMES[f] : "?";
}

static int lookup(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int get_u32(const cJSON *obj, const char *key, uint32_t *v, const char *where,
                   otakit_ddi_error_t *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) ||
        !(it->valuedouble <= (double)UINT32_MAX) ||
        it->valuedouble != (double)(uint32_t)it->valuedouble) {
        return fail(err, "%s%s: not a count", where, key);
    }
    *v = (uint32_t)it->valuedouble;
    return 0;
}

int otakit_ddi_parse_feedback_each(const char *json, size_t len, otakit_ddi_feedback_t *out,
                                   otakit_ddi_detail_fn on_detail, void *ctx,
                                   otakit_ddi_error_t *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = otakit_ddi_parse_object(json, len, err);
    if (root == NULL) {
        return -1;
    }
    int rc = -1;
    const cJSON *id = optional(root, "id");
    if (cJSON_IsNumber(id)) { /* some clients send the id as a number */
        snprintf(out->id, sizeof(out->id), "%.0f", id->valuedouble);
    } else if (id != NULL && get_str(root, "id", out->id, sizeof(out->id), false, "", err) != 0) {
        goto out;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsObject(status)) {
        fail(err, "status: missing or not an object");
        goto out;
    }
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(status, "execution");
    int e = cJSON_IsString(exec) ? lookup(exec->valuestring, EXEC_NAMES, 8) : -1;
    if (e < 0) {
        fail(err, "status.execution: missing or not one of closed, proceeding, canceled, "
                  "scheduled, rejected, resumed, downloaded, download");
        goto out;
    }
    out->execution = (otakit_ddi_exec_t)e;
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(status, "result");
    if (!cJSON_IsObject(result)) {
        fail(err, "status.result: missing or not an object");
        goto out;
    }
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(result, "finished");
    int f = cJSON_IsString(fin) ? lookup(fin->valuestring, FINISHED_NAMES, 3) : -1;
    if (f < 0) {
        fail(err, "status.result.finished: missing or not one of none, success, failure");
        goto out;
    }
    out->finished = (otakit_ddi_finished_t)f;
    const cJSON *prog = optional(result, "progress");
    if (prog != NULL) {
        if (!cJSON_IsObject(prog)) {
            fail(err, "status.result.progress: not an object");
            goto out;
        }
        if (get_u32(prog, "cnt", &out->progress_cnt, "status.result.progress.", err) != 0 ||
            get_u32(prog, "of", &out->progress_of, "status.result.progress.", err) != 0) {
            goto out;
        }
        out->has_progress = true;
    }
    const cJSON *code = optional(status, "code");
    if (code != NULL) {
        /* Range first: converting an out-of-range double to int32_t is undefined. */
        if (!cJSON_IsNumber(code) || !(code->valuedouble >= -2147483648.0) ||
            !(code->valuedouble <= 2147483647.0) ||
            code->valuedouble != (double)(int32_t)code->valuedouble) {
            fail(err, "status.code: not a 32-bit integer");
            goto out;
        }
        out->has_code = true;
        out->code = (int32_t)code->valuedouble;
    }
    const cJSON *details = optional(status, "details");
    if (details != NULL) {
        if (!cJSON_IsArray(details)) {
            fail(err, "status.details: not an array of strings");
            goto out;
        }
        const cJSON *d;
        size_t i = 0;
        cJSON_ArrayForEach(d, details)
        {
            if (!cJSON_IsString(d)) {
                fail(err, "status.details[%zu]: not a string", i);
                goto out;
            }
            if (on_detail(ctx, i, d->valuestring, err) != 0) {
                goto out;
            }
            i++;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* The device's bounds: the first details, each cut; a long one is free text for people,
 * so it is kept cut rather than refused. */
static int keep_detail(void *ctx, size_t index, const char *text, otakit_ddi_error_t *err)
{
    otakit_ddi_feedback_t *out = ctx;
    (void)index;
    (void)err;
    if (out->detail_count < OTAKIT_DDI_MAX_DETAILS) {
        snprintf(out->details[out->detail_count++], OTAKIT_DDI_DETAIL_MAX, "%s", text);
    }
    return 0;
}

int otakit_ddi_parse_feedback(const char *json, size_t len, otakit_ddi_feedback_t *out,
                              otakit_ddi_error_t *err)
{
    /* keep_detail writes into out after the parse has cleared it. */
    return otakit_ddi_parse_feedback_each(json, len, out, keep_detail, out, err);
}

int otakit_ddi_parse_cancel(const char *json, size_t len, uint64_t *stop_action,
                            otakit_ddi_error_t *err)
{
    cJSON *root = otakit_ddi_parse_object(json, len, err);
    if (root == NULL) {
        return -1;
    }
    int rc = -1;
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(root, "cancelAction");
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(ca, "stopId");
    if (!cJSON_IsObject(ca)) {
        fail(err, "cancelAction: missing");
    } else if (cJSON_IsString(stop) && parse_u64_string(stop->valuestring, stop_action) == 0) {
        rc = 0;
    } else if (cJSON_IsNumber(stop) && stop->valuedouble >= 0 && stop->valuedouble < 9.0e15 &&
               stop->valuedouble == (double)(uint64_t)stop->valuedouble) {
        *stop_action = (uint64_t)stop->valuedouble;
        rc = 0;
    } else {
        fail(err, "cancelAction.stopId: not an action id");
    }
    cJSON_Delete(root);
    return rc;
}

/* Append to buf at *pos; false when it does not fit. */
static bool put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static bool put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
    if (*pos >= cap) {
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *pos) {
        return false;
    }
    *pos += (size_t)n;
    return true;
}

/* A JSON string literal, escaped. */
static bool put_str(char *buf, size_t cap, size_t *pos, const char *s)
{
    if (!put(buf, cap, pos, "\"")) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool ok;
        if (*p == '"' || *p == '\\') {
            ok = put(buf, cap, pos, "\\%c", *p);
        } else if (*p < 0x20) {
            ok = put(buf, cap, pos, "\\u%04x", *p);
        } else {
            ok = put(buf, cap, pos, "%c", *p);
        }
        if (!ok) {
            return false;
        }
    }
    return put(buf, cap, pos, "\"");
}

int otakit_ddi_feedback_json(const otakit_ddi_feedback_t *fb, char *buf, size_t cap)
{
    size_t pos = 0;
    bool ok = put(buf, cap, &pos, "{");
    if (ok && fb->id[0] != '\0') {
        ok = put(buf, cap, &pos, "\"id\":") && put_str(buf, cap, &pos, fb->id) &&
             put(buf, cap, &pos, ",");
    }
    ok = ok &&
         put(buf, cap, &pos, "\"status\":{\"execution\":\"%s\",\"result\":{\"finished\":\"%s\"",
             otakit_ddi_exec_name(fb->execution), otakit_ddi_finished_name(fb->finished));
    if (ok && fb->has_progress) {
        ok = put(buf, cap, &pos, ",\"progress\":{\"cnt\":%u,\"of\":%u}", (unsigned)fb->progress_cnt,
                 (unsigned)fb->progress_of);
    }
    ok = ok && put(buf, cap, &pos, "}");
    if (ok && fb->has_code) {
        ok = put(buf, cap, &pos, ",\"code\":%d", (int)fb->code);
    }
    ok = ok && put(buf, cap, &pos, ",\"details\":[");
    for (size_t i = 0; ok && i < fb->detail_count && i < OTAKIT_DDI_MAX_DETAILS; i++) {
        ok = (i == 0 || put(buf, cap, &pos, ",")) && put_str(buf, cap, &pos, fb->details[i]);
    }
    ok = ok && put(buf, cap, &pos, "]}}");
    return ok ? (int)pos : -1;
}

int otakit_ddi_config_json(const char *const *keys, const char *const *values, size_t n, char *buf,
                           size_t cap)
{
    size_t pos = 0;
    bool ok = put(buf, cap, &pos, "{\"mode\":\"merge\",\"data\":{");
    for (size_t i = 0; ok && i < n; i++) {
        ok = (i == 0 || put(buf, cap, &pos, ",")) && put_str(buf, cap, &pos, keys[i]) &&
             put(buf, cap, &pos, ":") && put_str(buf, cap, &pos, values[i]);
    }
    ok = ok && put(buf, cap, &pos, "}}");
    return ok ? (int)pos : -1;
}

const otakit_ddi_artifact_t *otakit_ddi_first_artifact(const otakit_ddi_deployment_t *d,
                                                       const otakit_ddi_chunk_t **chunk)
{
    for (size_t c = 0; c < d->chunk_count; c++) {
        if (d->chunks[c].artifact_count > 0) {
            if (chunk != NULL) {
                *chunk = &d->chunks[c];
            }
            return &d->chunks[c].artifacts[0];
        }
    }
    return NULL;
}
