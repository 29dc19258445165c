/* otakit fleet: DDI request bodies (ddi.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "ddi.h"

static const char *const EXEC_NAMES[] = {"closed",   "proceeding", "canceled",   "scheduled",
                                         "rejected", "resumed",    "downloaded", "download"};
static const char *const RESULT_NAMES[] = {"none", "success", "failure"};

const char *ddi_exec_name(ddi_exec_t e)
{
    return (size_t)e < sizeof(EXEC_NAMES) / sizeof(EXEC_NAMES[0]) ? EXEC_NAMES[e] : "?";
}

const char *ddi_result_name(ddi_result_t r)
{
    return (size_t)r < sizeof(RESULT_NAMES) / sizeof(RESULT_NAMES[0]) ? RESULT_NAMES[r] : "?";
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

/* A JSON number that is a whole number in [0, 2^53]. */
static bool whole(const cJSON *j, long long *out)
{
    if (!cJSON_IsNumber(j)) {
        return false;
    }
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d) {
        return false;
    }
    *out = (long long)d;
    return true;
}

static cJSON *parse_object(const char *buf, size_t len, const char **why)
{
    if (buf == NULL || len == 0) {
        *why = "empty body (a JSON object is expected)";
        return NULL;
    }
    if (len > DDI_BODY_MAX) {
        *why = "body too large";
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (root == NULL) {
        *why = "malformed JSON";
        return NULL;
    }
    /* Only white space may follow the object. */
    for (const char *p = end; p != NULL && p < buf + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
            cJSON_Delete(root);
            *why = "malformed JSON (text after the object)";
            return NULL;
        }
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *why = "the body is not a JSON object";
        return NULL;
    }
    return root;
}

int ddi_feedback_parse(const char *buf, size_t len, ddi_feedback_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = parse_object(buf, len, why);
    if (root == NULL) {
        return -1;
    }
    int rc = -1;
    cJSON *details = NULL;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsObject(status)) {
        *why = "status: missing or not an object";
        goto out;
    }
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(status, "execution");
    int e = cJSON_IsString(exec)
                ? lookup(exec->valuestring, EXEC_NAMES, sizeof(EXEC_NAMES) / sizeof(EXEC_NAMES[0]))
                : -1;
    if (e < 0) {
        *why = "status.execution: missing or not one of closed, proceeding, canceled, "
               "scheduled, rejected, resumed, downloaded, download";
        goto out;
    }
    out->execution = (ddi_exec_t)e;
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(status, "result");
    if (!cJSON_IsObject(result)) {
        *why = "status.result: missing or not an object";
        goto out;
    }
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(result, "finished");
    int f = cJSON_IsString(fin) ? lookup(fin->valuestring, RESULT_NAMES,
                                         sizeof(RESULT_NAMES) / sizeof(RESULT_NAMES[0]))
                                : -1;
    if (f < 0) {
        *why = "status.result.finished: missing or not one of success, failure, none";
        goto out;
    }
    out->finished = (ddi_result_t)f;
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(result, "progress");
    if (prog != NULL && !cJSON_IsNull(prog)) {
        const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(prog, "cnt");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(prog, "of");
        if (!cJSON_IsObject(prog) || !whole(cnt, &out->progress_cnt) ||
            !whole(of, &out->progress_of)) {
            *why = "status.result.progress: cnt and of must be whole numbers";
            goto out;
        }
        out->has_progress = true;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(status, "code");
    if (code != NULL && !cJSON_IsNull(code)) {
        if (!cJSON_IsNumber(code) || floor(code->valuedouble) != code->valuedouble ||
            fabs(code->valuedouble) > 2147483647.0) {
            *why = "status.code: not an integer";
            goto out;
        }
        out->has_code = true;
        out->code = (long long)code->valuedouble;
    }
    details = cJSON_CreateArray();
    if (details == NULL) {
        *why = "out of memory";
        goto out;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(status, "details");
    if (d != NULL && !cJSON_IsNull(d)) {
        if (!cJSON_IsArray(d)) {
            *why = "status.details: not an array of strings";
            goto out;
        }
        size_t n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, d)
        {
            if (!cJSON_IsString(it)) {
                *why = "status.details: not an array of strings";
                goto out;
            }
            if (++n > DDI_DETAILS_MAX) {
                *why = "status.details: more than 32 entries";
                goto out;
            }
            if (strlen(it->valuestring) > DDI_DETAIL_LEN_MAX) {
                *why = "status.details: an entry longer than 512 characters";
                goto out;
            }
            cJSON_AddItemToArray(details, cJSON_CreateString(it->valuestring));
        }
    }
    out->details_json = cJSON_PrintUnformatted(details);
    if (out->details_json == NULL) {
        *why = "out of memory";
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(details);
    cJSON_Delete(root);
    return rc;
}

void ddi_feedback_free(ddi_feedback_t *f)
{
    cJSON_free(f->details_json);
    f->details_json = NULL;
}

int ddi_config_parse(const char *buf, size_t len, ddi_config_t *out, const char **why)
{
    out->mode = DDI_MODE_MERGE;
    out->n = 0;
    cJSON *root = parse_object(buf, len, why);
    if (root == NULL) {
        return -1;
    }
    int rc = -1;
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(root, "mode");
    if (mode != NULL && !cJSON_IsNull(mode)) {
        static const char *const MODES[] = {"merge", "replace", "remove"};
        int m = cJSON_IsString(mode) ? lookup(mode->valuestring, MODES, 3) : -1;
        if (m < 0) {
            *why = "mode: not one of merge, replace, remove";
            goto out;
        }
        out->mode = (ddi_mode_t)m;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsObject(data)) {
        *why = "data: missing or not an object";
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, data)
    {
        if (out->n == DDI_ATTR_MAX) {
            *why = "data: more than 64 attributes";
            goto out;
        }
        if (!cJSON_IsString(it)) {
            *why = "data: every value must be a string";
            goto out;
        }
        size_t kl = strlen(it->string), vl = strlen(it->valuestring);
        if (kl == 0 || kl > DDI_ATTR_KEY_MAX) {
            *why = "data: a key is empty or longer than 128 characters";
            goto out;
        }
        if (vl > DDI_ATTR_VALUE_MAX) {
            *why = "data: a value longer than 128 characters";
            goto out;
        }
        for (size_t i = 0; i < out->n; i++) {
            if (strcmp(out->key[i], it->string) == 0) {
                *why = "data: a key appears twice";
                goto out;
            }
        }
        memcpy(out->key[out->n], it->string, kl + 1);
        memcpy(out->value[out->n], it->valuestring, vl + 1);
        out->n++;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
