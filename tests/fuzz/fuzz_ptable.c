/* Fuzz target: the binary partition table parser (the bootloader's checks), then
 * everything a caller does with a table it accepted. */
#include <stdint.h>
#include <string.h>

#include "otakit/flash.h"
#include "otakit/ptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same bytes on a flash (0xFF after them): otakit_ptable_read, which reads the table
 * a few records at a time, must decide as otakit_ptable_parse does on the whole 0xC00
 * bytes. */
static uint8_t flash_mem[0x9000 + OTAKIT_PTABLE_MAX_LEN];
static otakit_err_t flash_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    (void)ctx;
    memcpy(dst, flash_mem + addr, len);
    return OTAKIT_OK;
}

static void same_from_flash(const uint8_t *buf, size_t len, uint32_t flash_size, otakit_err_t want,
                            const otakit_ptable_t *t)
{
    static otakit_ptable_t ft;
    static uint8_t whole[OTAKIT_PTABLE_MAX_LEN];
    size_t n = len < sizeof(whole) ? len : sizeof(whole);
    memset(whole, 0xFF, sizeof(whole));
    memcpy(whole, buf, n);
    memcpy(flash_mem + 0x9000, whole, sizeof(whole));
    static otakit_ptable_t wt;
    otakit_err_t w = otakit_ptable_parse(&wt, whole, sizeof(whole), flash_size, false, NULL);
    otakit_flash_t f = {NULL, flash_read, NULL, NULL, sizeof(flash_mem), 0x1000, 1, NULL};
    otakit_diag_t diag = {0, NULL};
    otakit_err_t e = otakit_ptable_read(&ft, &f, 0x9000, flash_size, &diag);
    if (e != w || (e == OTAKIT_OK && (ft.count != wt.count || ft.has_md5 != wt.has_md5))) {
        __builtin_trap();
    }
    for (size_t i = 0; e == OTAKIT_OK && i < ft.count; i++) {
        const otakit_part_t *a = &ft.parts[i], *b = &wt.parts[i];
        if (a->type != b->type || a->subtype != b->subtype || a->offset != b->offset ||
            a->size != b->size || a->flags != b->flags || strcmp(a->label, b->label) != 0) {
            __builtin_trap();
        }
    }
    if (e != OTAKIT_OK && (diag.msg == NULL || diag.offset < 0x9000)) {
        __builtin_trap();
    }
    /* A table the buffer parser accepted without MD5 requirement reads the same. */
    if (want == OTAKIT_OK && len <= sizeof(whole) && e == OTAKIT_OK && ft.count != t->count) {
        __builtin_trap();
    }
}

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
    same_from_flash(buf, len, flash_size, require_md5 ? OTAKIT_FAIL : e, &t);
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
