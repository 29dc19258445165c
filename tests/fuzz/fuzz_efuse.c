/* Fuzz target: the virtual device's eFuse file parser (src/port/device/efuse.c). Whatever the
 * bytes, it returns, and what it accepts writes back and parses to the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "efuse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[1025];
    if (size >= sizeof(text)) {
        size = sizeof(text) - 1;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    otakit_efuse_state_t st;
    if (otakit_efuse_parse(text, &st) != NULL) {
        return 0;
    }
    /* Accepted: its fields are within range by construction of the struct; a revoked
     * block may have no digest (revocation bits are independent), and the counter is any
     * 32-bit value. Render it as the writer does and parse that back. */
    char again[1024];
    int n = snprintf(again, sizeof(again), "secure_version %u\n", (unsigned)st.secure_version);
    for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
        if (st.key_set[b]) {
            n += snprintf(again + n, sizeof(again) - (size_t)n, "key_digest%u ", b);
            for (unsigned i = 0; i < OTAKIT_EFUSE_DIGEST_LEN; i++) {
                n += snprintf(again + n, sizeof(again) - (size_t)n, "%02x", st.key_digest[b][i]);
            }
            n += snprintf(again + n, sizeof(again) - (size_t)n, "\n");
        }
        if (st.key_revoked[b]) {
            n += snprintf(again + n, sizeof(again) - (size_t)n, "key_revoke%u 1\n", b);
        }
    }
    otakit_efuse_state_t st2;
    if (otakit_efuse_parse(again, &st2) != NULL || memcmp(&st, &st2, sizeof(st)) != 0) {
        __builtin_trap();
    }
    return 0;
}
