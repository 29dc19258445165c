/* otakit fleet: DDI request bodies (ddi.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "ddi.h"

/* The last problem of this thread's parse: the server answers it before its next one. */
static _Thread_local otakit_ddi_error_t last_error;

static int refuse(const char **why, const char *text)
{
    snprintf(last_error.what, sizeof(last_error.what), "%s", text);
    *why = last_error.what;
    return -1;
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

static cJSON *parse_body(const char *buf, size_t len, const char **why)
{
    if (len > DDI_BODY_MAX) {
        refuse(why, "body too large");
        return NULL;
    }
    cJSON *root = otakit_ddi_parse_object(buf, len, &last_error);
    if (root == NULL) {
        *why = last_error.what;
    }
    return root;
}

/* The server's bounds on status.details: all of them, whole, as a JSON array. */
static int collect_detail(void *ctx, size_t index, const char *text, otakit_ddi_error_t *err)
{
    if (index >= DDI_DETAILS_MAX) {
        snprintf(err->what, sizeof(err->what), "status.details: more than %d entries",
                 DDI_DETAILS_MAX);
        return -1;
    }
    if (strlen(text) > DDI_DETAIL_LEN_MAX) {
        snprintf(err->what, sizeof(err->what), "status.details: an entry longer than %d characters",
                 DDI_DETAIL_LEN_MAX);
        return -1;
    }
    cJSON *item = cJSON_CreateString(text);
    if (item == NULL || !cJSON_AddItemToArray(ctx, item)) {
        cJSON_Delete(item);
        snprintf(err->what, sizeof(err->what), "out of memory");
        return -1;
    }
    return 0;
}

int ddi_feedback_parse(const char *buf, size_t len, ddi_feedback_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (len > DDI_BODY_MAX) {
        return refuse(why, "body too large");
    }
    /* The details in the order given, kept whole (the parser checks each is a string). */
    cJSON *details = cJSON_CreateArray();
    if (details == NULL) {
        return refuse(why, "out of memory");
    }
    otakit_ddi_feedback_t f;
    int rc = otakit_ddi_parse_feedback_each(buf, len, &f, collect_detail, details, &last_error);
    if (rc == 0) {
        out->execution = f.execution;
        out->finished = f.finished;
        out->has_progress = f.has_progress;
        out->progress_cnt = f.progress_cnt;
        out->progress_of = f.progress_of;
        out->has_code = f.has_code;
        out->code = f.code;
        out->details_json = cJSON_PrintUnformatted(details);
        if (out->details_json == NULL) {
            rc = refuse(why, "out of memory");
        }
    } else {
        *why = last_error.what;
    }
    cJSON_Delete(details);
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
    cJSON *root = parse_body(buf, len, why);
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
