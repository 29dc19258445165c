/* Fuzz target: NVS partitions from arbitrary bytes. Opens the image read-only and
 * read-write (with ESP-IDF's recovery), lists and reads every item, then writes, erases
 * and opens it again: nothing may crash, read out of bounds or loop forever. (A value
 * just written need not read back from arbitrary bytes: as on ESP-IDF, a duplicate left
 * in an older full page, or garbage past the last entry, is trusted.) */
#include <stdint.h>
#include <string.h>

#include "otakit/nvs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAGES 6
static uint8_t mem[MAX_PAGES * OTAKIT_NVS_PAGE_SIZE];

static otakit_err_t f_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    memcpy(dst, mem + addr, len);
    return OTAKIT_OK;
}

static otakit_err_t f_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < len; i++) {
        mem[addr + i] &= s[i]; /* NOR: clears bits only */
    }
    return OTAKIT_OK;
}

static otakit_err_t f_erase(void *ctx, uint32_t addr, size_t len)
{
    memset(mem + addr, 0xFF, len);
    return OTAKIT_OK;
}

static void read_all(otakit_nvs_t *nvs)
{
    static uint8_t buf[MAX_PAGES * OTAKIT_NVS_PAGE_SIZE];
    otakit_nvs_iter_t it = {0, 0};
    otakit_nvs_item_t item;
    unsigned guard = 0;
    while (otakit_nvs_next(nvs, &it, &item) == OTAKIT_OK) {
        if (++guard > MAX_PAGES * OTAKIT_NVS_ENTRY_COUNT) {
            __builtin_trap(); /* the iterator must advance */
        }
        if (item.page >= MAX_PAGES || item.entry >= OTAKIT_NVS_ENTRY_COUNT ||
            item.key[15] != '\0') {
            __builtin_trap();
        }
        char name[OTAKIT_NVS_KEY_SIZE];
        (void)otakit_nvs_ns_name(nvs, item.ns, name);
        if (item.type == 0x21 || item.type == 0x42 || item.type == 0x41) {
            if (item.size > OTAKIT_NVS_CHUNK_MAX) {
                __builtin_trap();
            }
            (void)otakit_nvs_read_item_data(nvs, &item, buf, item.size);
        }
        otakit_nvs_type_t t;
        if (item.ns != 0 && otakit_nvs_find_key(nvs, item.ns, item.key, &t) == OTAKIT_OK) {
            size_t len = otakit_nvs_int_size(t);
            if (len == 0 && otakit_nvs_get_size(nvs, item.ns, item.key, t, &len) != OTAKIT_OK) {
                continue;
            }
            if (len > sizeof(buf)) {
                __builtin_trap();
            }
            (void)otakit_nvs_get(nvs, item.ns, item.key, t, buf, len);
        }
    }
    otakit_nvs_stats_t st;
    (void)otakit_nvs_stats(nvs, &st);
    size_t used;
    (void)otakit_nvs_ns_entries(nvs, 1, &used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input is the partition (1..6 pages, the rest erased). */
    size_t pages = (size + OTAKIT_NVS_PAGE_SIZE - 1) / OTAKIT_NVS_PAGE_SIZE;
    pages = pages < 1 ? 1 : pages > MAX_PAGES ? MAX_PAGES : pages;
    size_t len = pages * OTAKIT_NVS_PAGE_SIZE;
    memset(mem, 0xFF, sizeof(mem));
    memcpy(mem, data, size < len ? size : len);
    otakit_flash_t flash = {.read = f_read,
                            .write = f_write,
                            .erase = f_erase,
                            .size = (uint32_t)sizeof(mem),
                            .sector_size = OTAKIT_SECTOR_SIZE,
                            .write_align = 1};
    static otakit_nvs_page_t slots[MAX_PAGES];
    static otakit_nvs_t nvs;

    if (otakit_nvs_init(&nvs, &flash, 0, (uint32_t)len, slots, MAX_PAGES, true) == OTAKIT_OK) {
        read_all(&nvs);
    }
    if (otakit_nvs_init(&nvs, &flash, 0, (uint32_t)len, slots, MAX_PAGES, false) != OTAKIT_OK) {
        return 0;
    }
    read_all(&nvs);
    uint8_t ns;
    if (otakit_nvs_ns_open(&nvs, "fuzz", true, &ns) != OTAKIT_OK) {
        return 0;
    }
    uint32_t v = 0xA5A5A5A5u, back = 0;
    if (otakit_nvs_set(&nvs, ns, "fz_u32", OTAKIT_NVS_U32, &v, 4) == OTAKIT_OK) {
        (void)otakit_nvs_get(&nvs, ns, "fz_u32", OTAKIT_NVS_U32, &back, 4);
    }
    static uint8_t blob[5000];
    memset(blob, 0x5A, sizeof(blob));
    (void)otakit_nvs_set(&nvs, ns, "fz_blob", OTAKIT_NVS_BLOB, blob,
                         pages > 2 ? sizeof(blob) : 100);
    (void)otakit_nvs_set(&nvs, ns, "fz_str", OTAKIT_NVS_STR, "fuzz", 5);
    (void)otakit_nvs_erase_key(&nvs, ns, "fz_str");
    if (size > 0) {
        (void)otakit_nvs_erase_ns(&nvs, (uint8_t)(data[0] | 1u));
    }
    if (otakit_nvs_init(&nvs, &flash, 0, (uint32_t)len, slots, MAX_PAGES, false) == OTAKIT_OK) {
        read_all(&nvs);
    }
    return 0;
}
