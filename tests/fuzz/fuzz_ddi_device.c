/* Fuzz target: the device side of hawkBit DDI v1 JSON (src/fleet/ddi_device). The input
 * is fed to every parser; whatever they accept is checked for its invariants, and a
 * feedback that parses renders and parses back to the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddi_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_ddi_device: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    otakit_ddi_error_t err;
    static otakit_ddi_base_t base;
    if (otakit_ddi_parse_base(json, size, &base, &err) == 0) {
        check(!base.has_deployment || strlen(base.deployment_href) < OTAKIT_DDI_HREF_MAX,
              "deploymentBase href unterminated");
        uint64_t a;
        check(!base.has_deployment || (otakit_ddi_href_action(base.deployment_href, &a) == 0 &&
                                       a == base.deployment_action),
              "deploymentBase action differs from its href");
    }
    static otakit_ddi_deployment_t dep;
    if (otakit_ddi_parse_deployment(json, size, &dep, &err) == 0) {
        check(dep.chunk_count <= OTAKIT_DDI_MAX_CHUNKS, "too many chunks");
        for (size_t c = 0; c < dep.chunk_count; c++) {
            check(dep.chunks[c].artifact_count <= OTAKIT_DDI_MAX_ARTIFACTS, "too many artifacts");
            for (size_t i = 0; i < dep.chunks[c].artifact_count; i++) {
                check(dep.chunks[c].artifacts[i].href[0] != '\0', "artifact without a link");
            }
        }
    }
    static otakit_ddi_feedback_t fb, back;
    if (otakit_ddi_parse_feedback(json, size, &fb, &err) == 0) {
        static char out[8192];
        int n = otakit_ddi_feedback_json(&fb, out, sizeof(out));
        check(n > 0, "an accepted feedback does not render");
        check(otakit_ddi_parse_feedback(out, (size_t)n, &back, &err) == 0,
              "a rendered feedback does not parse");
        check(back.execution == fb.execution && back.finished == fb.finished &&
                  back.has_progress == fb.has_progress && back.progress_cnt == fb.progress_cnt &&
                  back.detail_count == fb.detail_count && strcmp(back.id, fb.id) == 0,
              "feedback round trip differs");
    }
    uint64_t stop;
    (void)otakit_ddi_parse_cancel(json, size, &stop, &err);
    char text[64];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    uint32_t sec;
    (void)otakit_ddi_parse_sleep(text, &sec);
    (void)otakit_ddi_href_action(text, &stop);
    return 0;
}
