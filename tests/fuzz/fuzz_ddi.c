/* Fuzz target: the DDI request bodies a device sends to otakit fleet serve (action
 * feedback and configData, src/fleet/ddi.c). Both parsers see every input; what they
 * accept must be within their documented bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "ddi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ddi_config_t cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    ddi_feedback_t f;
    if (ddi_feedback_parse((const char *)data, size, &f, &why) == 0) {
        cJSON *d = cJSON_Parse(f.details_json);
        if (!cJSON_IsArray(d) || cJSON_GetArraySize(d) > DDI_DETAILS_MAX ||
            (unsigned)f.execution > DDI_EXEC_DOWNLOAD ||
            (unsigned)f.finished > DDI_RESULT_FAILURE ||
            (f.has_progress && (f.progress_cnt < 0 || f.progress_of < 0))) {
            __builtin_trap();
        }
        cJSON_Delete(d);
        ddi_feedback_free(&f);
    } else if (why == NULL) {
        __builtin_trap();
    }
    why = NULL;
    if (ddi_config_parse((const char *)data, size, &cfg, &why) == 0) {
        if (cfg.n > DDI_ATTR_MAX || (unsigned)cfg.mode > DDI_MODE_REMOVE) {
            __builtin_trap();
        }
        for (size_t i = 0; i < cfg.n; i++) {
            size_t kl = strlen(cfg.key[i]);
            if (kl == 0 || kl > DDI_ATTR_KEY_MAX || strlen(cfg.value[i]) > DDI_ATTR_VALUE_MAX) {
                __builtin_trap();
            }
        }
    } else if (why == NULL) {
        __builtin_trap();
    }
    return 0;
}
