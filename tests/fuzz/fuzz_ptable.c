/* Fuzz target: the binary partition table parser (the bootloader's checks), then
 * everything a caller does with a table it accepted. */
#include <stdint.h>
#include <string.h>

#include "otakit/ptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    /* The first byte picks the flash size check and the MD5 requirement; the rest is the table. */
    uint32_t flash_size = 0;
    bool require_md5 = false;
    if (size > 0) {
        flash_size = (data[0] & 0x7u) ? (0x100000u << (data[0] & 0x7u)) : 0;
        require_md5 = (data[0] & 0x8u) != 0;
    }
    const uint8_t *buf = size > 0 ? data + 1 : data;
    size_t len = size > 0 ? size - 1 : 0;
    otakit_err_t e = otakit_ptable_parse(&t, buf, len, flash_size, require_md5, &diag);
    if (e != OTAKIT_OK) {
        if (diag.msg == NULL || diag.offset > len + OTAKIT_PTABLE_MAX_LEN) {
            __builtin_trap();
        }
        return 0;
    }
    if (t.count > OTAKIT_PTABLE_MAX_ENTRIES) {
        __builtin_trap();
    }
    for (size_t i = 0; i < t.count; i++) {
        const otakit_part_t *p = &t.parts[i];
        if (strlen(p->label) > 16) {
            __builtin_trap();
        }
        (void)otakit_ptable_type_name(p->type);
        (void)otakit_ptable_subtype_name(p->type, p->subtype);
        (void)otakit_ptable_find_by_addr(&t, p->offset);
        if (otakit_ptable_find(&t, p->type, p->subtype, p->label) == NULL) {
            __builtin_trap();
        }
    }
    if (otakit_ptable_ota_count(&t) > otakit_ptable_ota_count_all(&t)) {
        __builtin_trap();
    }
    /* What parsed re-encodes and parses again to the same records. */
    static uint8_t out[OTAKIT_PTABLE_MAX_LEN];
    if (otakit_ptable_encode(t.parts, t.count, t.count < OTAKIT_PTABLE_MAX_ENTRIES, out) ==
        OTAKIT_OK) {
        static otakit_ptable_t t2;
        if (otakit_ptable_parse(&t2, out, sizeof(out), 0, false, NULL) != OTAKIT_OK ||
            t2.count != t.count) {
            __builtin_trap();
        }
    }
    return 0;
}
