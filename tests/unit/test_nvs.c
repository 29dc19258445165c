/* The NVS engine (src/core/nvs.c) on an in-memory NOR: every type, strings, blobs that
 * span pages, erase, namespaces, a full partition, no free pages, page reclaim, stats,
 * and the bytes it writes being ESP-IDF's (the generator's image of the same keys). */
#include "harness.h"
#include "nor.h"
#include "nvs_gen.h"
#include "otakit/nvs.h"

#define MAXP 32

typedef struct {
    otakit_nor_t *nor;
    otakit_nvs_t nvs;
    otakit_nvs_page_t pages[MAXP];
    uint32_t size;
} ndev_t;

static ndev_t *dev_new(uint32_t pages)
{
    ndev_t *d = calloc(1, sizeof(*d));
    d->size = pages * OTAKIT_NVS_PAGE_SIZE;
    if (otakit_nor_open_mem(&d->nor, d->size, OTAKIT_NOR_STRICT) != OTAKIT_OK) {
        abort();
    }
    return d;
}

static otakit_err_t dev_init(ndev_t *d)
{
    return otakit_nvs_init(&d->nvs, otakit_nor_flash(d->nor), 0, d->size, d->pages, MAXP, false);
}

/* A fresh partition of `pages` pages, initialised, with one namespace created. */
static ndev_t *dev_with_ns(uint32_t pages, const char *name, uint8_t *ns)
{
    ndev_t *d = dev_new(pages);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, name, true, ns), OTAKIT_OK);
    return d;
}

static void dev_free(ndev_t *d)
{
    otakit_nor_close(d->nor);
    free(d);
}

static void test_error_values(void)
{
    CHECK_EQ(OTAKIT_ERR_NVS_NOT_INITIALIZED, 0x1101);
    CHECK_EQ(OTAKIT_ERR_NVS_NOT_FOUND, 0x1102);
    CHECK_EQ(OTAKIT_ERR_NVS_TYPE_MISMATCH, 0x1103);
    CHECK_EQ(OTAKIT_ERR_NVS_READ_ONLY, 0x1104);
    CHECK_EQ(OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE, 0x1105);
    CHECK_EQ(OTAKIT_ERR_NVS_INVALID_NAME, 0x1106);
    CHECK_EQ(OTAKIT_ERR_NVS_INVALID_HANDLE, 0x1107);
    CHECK_EQ(OTAKIT_ERR_NVS_REMOVE_FAILED, 0x1108);
    CHECK_EQ(OTAKIT_ERR_NVS_KEY_TOO_LONG, 0x1109);
    CHECK_EQ(OTAKIT_ERR_NVS_PAGE_FULL, 0x110a);
    CHECK_EQ(OTAKIT_ERR_NVS_INVALID_STATE, 0x110b);
    CHECK_EQ(OTAKIT_ERR_NVS_INVALID_LENGTH, 0x110c);
    CHECK_EQ(OTAKIT_ERR_NVS_NO_FREE_PAGES, 0x110d);
    CHECK_EQ(OTAKIT_ERR_NVS_VALUE_TOO_LONG, 0x110e);
    CHECK_EQ(OTAKIT_ERR_NVS_PART_NOT_FOUND, 0x110f);
    CHECK_EQ(OTAKIT_ERR_NVS_NEW_VERSION_FOUND, 0x1110);
    CHECK_EQ(OTAKIT_ERR_NVS_XTS_ENCR_FAILED, 0x1111);
    CHECK_EQ(OTAKIT_ERR_NVS_XTS_DECR_FAILED, 0x1112);
    CHECK_EQ(OTAKIT_ERR_NVS_XTS_CFG_FAILED, 0x1113);
    CHECK_EQ(OTAKIT_ERR_NVS_XTS_CFG_NOT_FOUND, 0x1114);
    CHECK_EQ(OTAKIT_ERR_NVS_ENCR_NOT_SUPPORTED, 0x1115);
    CHECK_EQ(OTAKIT_ERR_NVS_KEYS_NOT_INITIALIZED, 0x1116);
    CHECK_EQ(OTAKIT_ERR_NVS_CORRUPT_KEY_PART, 0x1117);
    CHECK_EQ(OTAKIT_ERR_NVS_CONTENT_DIFFERS, 0x1118);
    CHECK_EQ(OTAKIT_ERR_NVS_WRONG_ENCRYPTION, 0x1119);
    CHECK_STR(otakit_err_name(OTAKIT_ERR_NVS_NOT_FOUND), "ESP_ERR_NVS_NOT_FOUND");
    CHECK_STR(otakit_err_name(OTAKIT_ERR_NVS_NO_FREE_PAGES), "ESP_ERR_NVS_NO_FREE_PAGES");
    CHECK_STR(otakit_err_name(OTAKIT_ERR_NVS_NEW_VERSION_FOUND), "ESP_ERR_NVS_NEW_VERSION_FOUND");
    /* the ROM's esp_rom_crc32_le(0xFFFFFFFF, ...), which is zlib.crc32(b"123456789", 0xFFFFFFFF) */
    CHECK_EQ(otakit_nvs_crc32(0xFFFFFFFFu, "123456789", 9), 0xD202D277u);
}

static void test_integers(void)
{
    ndev_t *d = dev_new(4);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    uint8_t ns;
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "ints", false, &ns), OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "ints", true, &ns), OTAKIT_OK);
    CHECK_EQ(ns, 1);
    static const struct {
        otakit_nvs_type_t t;
        const char *key;
        uint64_t v;
    } V[] = {{OTAKIT_NVS_U8, "u8", 0xFF},
             {OTAKIT_NVS_I8, "i8", 0x80},
             {OTAKIT_NVS_U16, "u16", 0xBEEF},
             {OTAKIT_NVS_I16, "i16", 0x8001},
             {OTAKIT_NVS_U32, "u32", 0xDEADBEEF},
             {OTAKIT_NVS_I32, "i32", 0x80000000u},
             {OTAKIT_NVS_U64, "u64", 0xFFFFFFFFFFFFFFFFull},
             {OTAKIT_NVS_I64, "i64", 0x8000000000000001ull}};
    for (size_t i = 0; i < sizeof(V) / sizeof(V[0]); i++) {
        uint8_t b[8];
        for (int k = 0; k < 8; k++) {
            b[k] = (uint8_t)(V[i].v >> (8 * k));
        }
        CHECK_EQ(otakit_nvs_set(&d->nvs, ns, V[i].key, V[i].t, b, otakit_nvs_int_size(V[i].t)),
                 OTAKIT_OK);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof(V) / sizeof(V[0]); i++) {
            uint8_t b[8] = {0};
            size_t n = otakit_nvs_int_size(V[i].t);
            CHECK_EQ(otakit_nvs_get(&d->nvs, ns, V[i].key, V[i].t, b, n), OTAKIT_OK);
            uint64_t v = 0;
            for (size_t k = 0; k < n; k++) {
                v |= (uint64_t)b[k] << (8 * k);
            }
            CHECK_EQ(v, V[i].v);
            otakit_nvs_type_t t;
            CHECK_EQ(otakit_nvs_find_key(&d->nvs, ns, V[i].key, &t), OTAKIT_OK);
            CHECK_EQ(t, V[i].t);
        }
        CHECK_EQ(dev_init(d), OTAKIT_OK); /* and again after a reboot */
    }
    /* another type reads as not found (ESP-IDF's rule); a wrong size is refused */
    uint32_t v32;
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "u8", OTAKIT_NVS_U32, &v32, 4), OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "u8", OTAKIT_NVS_U32, &v32, 2), OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "nope", OTAKIT_NVS_U8, &v32, 1), OTAKIT_ERR_NVS_NOT_FOUND);
    /* a key changes type: the old one goes */
    v32 = 7;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "u8", OTAKIT_NVS_U32, &v32, 4), OTAKIT_OK);
    uint8_t v8;
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "u8", OTAKIT_NVS_U8, &v8, 1), OTAKIT_ERR_NVS_NOT_FOUND);
    v32 = 0;
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "u8", OTAKIT_NVS_U32, &v32, 4), OTAKIT_OK);
    CHECK_EQ(v32, 7);
    /* keys: 15 characters at most */
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "0123456789abcde", OTAKIT_NVS_U8, &v8, 1), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "0123456789abcdef", OTAKIT_NVS_U8, &v8, 1),
             OTAKIT_ERR_NVS_KEY_TOO_LONG);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, NULL, OTAKIT_NVS_U8, &v8, 1), OTAKIT_ERR_NVS_INVALID_NAME);
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "0123456789abcdef", true, &ns),
             OTAKIT_ERR_NVS_KEY_TOO_LONG);
    dev_free(d);
}

static void test_strings(void)
{
    uint8_t ns;
    ndev_t *d = dev_with_ns(4, "s", &ns);
    const char *hello = "hello, world";
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "greet", OTAKIT_NVS_STR, hello, strlen(hello) + 1),
             OTAKIT_OK);
    size_t len = 0;
    CHECK_EQ(otakit_nvs_get_size(&d->nvs, ns, "greet", OTAKIT_NVS_STR, &len), OTAKIT_OK);
    CHECK_EQ(len, strlen(hello) + 1);
    char buf[4001];
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "greet", OTAKIT_NVS_STR, buf, 5),
             OTAKIT_ERR_NVS_INVALID_LENGTH);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "greet", OTAKIT_NVS_STR, buf, sizeof(buf)), OTAKIT_OK);
    CHECK_STR(buf, hello);
    /* the longest string fills a whole page (125 data entries) */
    char big[4000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "big", OTAKIT_NVS_STR, big, sizeof(big)), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "big", OTAKIT_NVS_STR, buf, sizeof(buf)), OTAKIT_OK);
    CHECK(memcmp(buf, big, sizeof(big)) == 0);
    char over[4001];
    memset(over, 'y', sizeof(over));
    over[4000] = 0;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "over", OTAKIT_NVS_STR, over, sizeof(over)),
             OTAKIT_ERR_NVS_VALUE_TOO_LONG);
    /* an equal value writes nothing */
    otakit_nor_stats_t a, b;
    otakit_nor_get_stats(d->nor, &a);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "greet", OTAKIT_NVS_STR, hello, strlen(hello) + 1),
             OTAKIT_OK);
    otakit_nor_get_stats(d->nor, &b);
    CHECK_EQ(b.writes, a.writes);
    CHECK_EQ(b.erases, a.erases);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "greet", OTAKIT_NVS_STR, buf, sizeof(buf)), OTAKIT_OK);
    CHECK_STR(buf, hello);
    dev_free(d);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
    }
}

static void test_blobs(void)
{
    uint8_t ns;
    ndev_t *d = dev_with_ns(8, "b", &ns);
    static uint8_t in[12000], out[12000];
    fill(in, sizeof(in), 1);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, in, 10000), OTAKIT_OK);
    size_t len = 0;
    CHECK_EQ(otakit_nvs_get_size(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, &len), OTAKIT_OK);
    CHECK_EQ(len, 10000);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, out, 9999),
             OTAKIT_ERR_NVS_INVALID_LENGTH);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, out, sizeof(out)), OTAKIT_OK);
    CHECK(memcmp(in, out, 10000) == 0);
    /* it spans pages: chunks on three pages */
    int chunks = 0;
    otakit_nvs_iter_t it = {0, 0};
    otakit_nvs_item_t item;
    uint32_t pages_seen = 0;
    while (otakit_nvs_next(&d->nvs, &it, &item) == OTAKIT_OK) {
        if (item.type == OTAKIT_NVS_TYPE_BLOB_DATA) {
            chunks++;
            pages_seen |= 1u << item.page;
        }
    }
    CHECK(chunks >= 3);
    CHECK(__builtin_popcount(pages_seen) == chunks);
    otakit_nvs_type_t t;
    CHECK_EQ(otakit_nvs_find_key(&d->nvs, ns, "big", &t), OTAKIT_OK);
    CHECK_EQ(t, OTAKIT_NVS_BLOB);
    /* update (the other chunk version), reboot, read */
    fill(in, sizeof(in), 2);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, in, 9000), OTAKIT_OK);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get_size(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, &len), OTAKIT_OK);
    CHECK_EQ(len, 9000);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, out, len), OTAKIT_OK);
    CHECK(memcmp(in, out, 9000) == 0);
    /* empty blob */
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "empty", OTAKIT_NVS_BLOB, NULL, 0), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get_size(&d->nvs, ns, "empty", OTAKIT_NVS_BLOB, &len), OTAKIT_OK);
    CHECK_EQ(len, 0);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "empty", OTAKIT_NVS_BLOB, NULL, 0), OTAKIT_OK);
    /* too long for the partition (7 usable pages of 4000 bytes) */
    static uint8_t huge[7 * 4000 + 1];
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "huge", OTAKIT_NVS_BLOB, huge, sizeof(huge)),
             OTAKIT_ERR_NVS_VALUE_TOO_LONG);
    /* erase: every chunk goes */
    CHECK_EQ(otakit_nvs_erase_key(&d->nvs, ns, "big"), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get_size(&d->nvs, ns, "big", OTAKIT_NVS_BLOB, &len),
             OTAKIT_ERR_NVS_NOT_FOUND);
    it.page = it.entry = 0;
    chunks = 0;
    while (otakit_nvs_next(&d->nvs, &it, &item) == OTAKIT_OK) {
        chunks += item.type == OTAKIT_NVS_TYPE_BLOB_DATA && strcmp(item.key, "big") == 0;
    }
    CHECK_EQ(chunks, 0);
    dev_free(d);
}

static void test_erase_and_namespaces(void)
{
    ndev_t *d = dev_new(4);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    uint8_t a, b;
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "alpha", true, &a), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "beta", true, &b), OTAKIT_OK);
    CHECK(a != b);
    uint32_t v = 1, w = 2, r;
    CHECK_EQ(otakit_nvs_set(&d->nvs, a, "k", OTAKIT_NVS_U32, &v, 4), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, b, "k", OTAKIT_NVS_U32, &w, 4), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, a, "s", OTAKIT_NVS_STR, "text", 5), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, a, "bl", OTAKIT_NVS_BLOB, "\1\2\3", 3), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get(&d->nvs, a, "k", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
    CHECK_EQ(r, 1);
    CHECK_EQ(otakit_nvs_get(&d->nvs, b, "k", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
    CHECK_EQ(r, 2);
    size_t used = 0;
    CHECK_EQ(otakit_nvs_ns_entries(&d->nvs, a, &used), OTAKIT_OK);
    CHECK_EQ(used, 1 + 2 + 2 + 1); /* u32, string (header + data), blob chunk (2) + index */
    CHECK_EQ(otakit_nvs_erase_key(&d->nvs, a, "k"), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_erase_key(&d->nvs, a, "k"), OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_get(&d->nvs, a, "k", OTAKIT_NVS_U32, &r, 4), OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_erase_ns(&d->nvs, a), OTAKIT_OK);
    char s[8];
    CHECK_EQ(otakit_nvs_get(&d->nvs, a, "s", OTAKIT_NVS_STR, s, sizeof(s)),
             OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_get(&d->nvs, a, "bl", OTAKIT_NVS_BLOB, s, sizeof(s)),
             OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_get(&d->nvs, b, "k", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    uint8_t a2;
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "alpha", false, &a2), OTAKIT_OK); /* the namespace stays */
    CHECK_EQ(a2, a);
    char name[16];
    CHECK_EQ(otakit_nvs_ns_name(&d->nvs, b, name), OTAKIT_OK);
    CHECK_STR(name, "beta");
    otakit_nvs_stats_t st;
    CHECK_EQ(otakit_nvs_stats(&d->nvs, &st), OTAKIT_OK);
    CHECK_EQ(st.namespace_count, 2);
    CHECK_EQ(st.total_entries, 4 * 126);
    CHECK_EQ(st.used_entries, 3); /* two namespace records and beta's k */
    CHECK_EQ(st.free_entries, 4 * 126 - 3);
    CHECK_EQ(st.available_entries, 3 * 126 - 3);
    dev_free(d);
}

/* Overwriting one key far more often than the partition has entries: pages fill, get
 * reclaimed, the value is always the last one, a reboot agrees. */
static void test_gc(void)
{
    uint8_t ns;
    ndev_t *d = dev_with_ns(3, "gc", &ns);
    uint32_t keep = 0xC0FFEE;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "keep", OTAKIT_NVS_U32, &keep, 4), OTAKIT_OK);
    char str[100];
    for (uint32_t i = 0; i < 2000; i++) {
        CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "n", OTAKIT_NVS_U32, &i, 4), OTAKIT_OK);
        snprintf(str, sizeof(str), "value %u with some padding to use a few entries", i);
        CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "s", OTAKIT_NVS_STR, str, strlen(str) + 1), OTAKIT_OK);
    }
    otakit_nor_stats_t st;
    otakit_nor_get_stats(d->nor, &st);
    CHECK(st.erases > 10); /* pages were reclaimed */
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    uint32_t r;
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "n", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
    CHECK_EQ(r, 1999);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "keep", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
    CHECK_EQ(r, 0xC0FFEE);
    char got[100];
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "s", OTAKIT_NVS_STR, got, sizeof(got)), OTAKIT_OK);
    CHECK_STR(got, str);
    otakit_nvs_stats_t s;
    CHECK_EQ(otakit_nvs_stats(&d->nvs, &s), OTAKIT_OK);
    CHECK_EQ(s.used_entries, 1 + 1 + 1 + 3); /* ns record, keep, n, s */
    /* one page is always kept free */
    int free_pages = 0;
    for (int p = 0; p < 3; p++) {
        free_pages += otakit_nor_data(d->nor)[p * 4096] == 0xFF;
    }
    CHECK(free_pages >= 1);
    dev_free(d);
}

/* Distinct keys until no room: ESP_ERR_NVS_NOT_ENOUGH_SPACE, everything written before
 * still reads, init still works (a free page was kept). */
static void test_full(void)
{
    uint8_t ns;
    ndev_t *d = dev_with_ns(3, "full", &ns);
    char key[16];
    uint32_t n = 0;
    otakit_err_t err;
    for (;;) {
        snprintf(key, sizeof(key), "k%u", n);
        err = otakit_nvs_set(&d->nvs, ns, key, OTAKIT_NVS_U32, &n, 4);
        if (err != OTAKIT_OK) {
            break;
        }
        n++;
    }
    CHECK_EQ(err, OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE);
    CHECK_EQ(n, 2 * 126 - 1); /* two pages of entries, less the namespace record */
    static uint8_t blob[200];
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "blob", OTAKIT_NVS_BLOB, blob, sizeof(blob)),
             OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "str", OTAKIT_NVS_STR, "x", 2),
             OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = ~0u;
        snprintf(key, sizeof(key), "k%u", i);
        CHECK_EQ(otakit_nvs_get(&d->nvs, ns, key, OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
        CHECK_EQ(r, i);
    }
    /* erasing one makes room again (after a reclaim) */
    CHECK_EQ(otakit_nvs_erase_key(&d->nvs, ns, "k0"), OTAKIT_OK);
    uint32_t v = 5;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "new", OTAKIT_NVS_U32, &v, 4), OTAKIT_OK);
    dev_free(d);
}

static void test_no_free_pages(void)
{
    ndev_t *d = dev_new(3);
    uint8_t *m = otakit_nor_data(d->nor);
    for (uint32_t p = 0; p < 3; p++) {
        otakit_nvs_encode_header(m + p * 4096, OTAKIT_NVS_PAGE_FULL, p, OTAKIT_NVS_VERSION);
    }
    CHECK_EQ(dev_init(d), OTAKIT_ERR_NVS_NO_FREE_PAGES);
    /* read-only inspection still opens it */
    CHECK_EQ(otakit_nvs_init(&d->nvs, otakit_nor_flash(d->nor), 0, d->size, d->pages, MAXP, true),
             OTAKIT_OK);
    uint8_t ns;
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "x", true, &ns), OTAKIT_ERR_NVS_READ_ONLY);
    /* a page of a newer format */
    memset(m, 0xFF, 3 * 4096);
    otakit_nvs_encode_header(m, OTAKIT_NVS_PAGE_ACTIVE, 0, 0xFD);
    CHECK_EQ(dev_init(d), OTAKIT_ERR_NVS_NEW_VERSION_FOUND);
    /* bad geometry */
    CHECK_EQ(otakit_nvs_init(&d->nvs, otakit_nor_flash(d->nor), 0, 0x1800, d->pages, MAXP, false),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_nvs_init(&d->nvs, otakit_nor_flash(d->nor), 0, 3 * 4096, d->pages, 2, false),
             OTAKIT_ERR_INVALID_ARG);
    uint32_t v;
    CHECK_EQ(otakit_nvs_get(&d->nvs, 1, "k", OTAKIT_NVS_U32, &v, 4),
             OTAKIT_ERR_NVS_NOT_INITIALIZED);
    dev_free(d);
}

/* Corruption is survived: a page with a bad header CRC, an item with a bad CRC. */
static void test_corruption(void)
{
    uint8_t ns;
    ndev_t *d = dev_with_ns(4, "c", &ns);
    uint32_t v = 1;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "a", OTAKIT_NVS_U32, &v, 4), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "b", OTAKIT_NVS_U32, &v, 4), OTAKIT_OK);
    uint8_t *m = otakit_nor_data(d->nor);
    m[64 + 2 * 32 + 24] ^= 0x01; /* flip a data bit of "b" (entry 2): CRC fails */
    otakit_nor_set_strict(d->nor, false);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    uint32_t r;
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "a", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "b", OTAKIT_NVS_U32, &r, 4), OTAKIT_ERR_NVS_NOT_FOUND);
    m[4] ^= 0x10; /* the page's sequence number: the header CRC fails, the page is lost */
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "c", false, &ns), OTAKIT_ERR_NVS_NOT_FOUND);
    CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "c", true, &ns), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "a", OTAKIT_NVS_U32, &v, 4), OTAKIT_OK);
    dev_free(d);
}

/* The engine writes what ESP-IDF writes: the same keys set through the API, in the
 * CSV's order, give the generator's image byte for byte. */
static void test_bytes_match_generator(void)
{
    static const char csv[] =
        "key,type,encoding,value\n"
        "app,namespace,,\n"
        "count,data,u32,42\n"
        "neg,data,i16,-2\n"
        "name,data,string,otakit\n"
        "cfg,data,hex2bin,00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n";
    uint8_t *img;
    size_t len;
    char err[200];
    CHECK_EQ(otakit_nvs_gen(csv, sizeof(csv) - 1, 0x4000, &img, &len, err, sizeof(err)), 0);
    uint8_t ns;
    ndev_t *d = dev_with_ns(4, "app", &ns);
    uint32_t c = 42;
    int16_t n = -2;
    uint8_t cfg[33];
    for (int i = 0; i < 32; i++) {
        cfg[i] = (uint8_t)((i % 16) * 0x11);
    }
    cfg[32] = 0;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "count", OTAKIT_NVS_U32, &c, 4), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "neg", OTAKIT_NVS_I16, &n, 2), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "name", OTAKIT_NVS_STR, "otakit", 7), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "cfg", OTAKIT_NVS_BLOB, cfg, sizeof(cfg)), OTAKIT_OK);
    CHECK_EQ(len, 0x4000);
    CHECK(memcmp(otakit_nor_data(d->nor), img, 0x4000) == 0);
    free(img);
    dev_free(d);
}

/* A flash write that fails while init repairs a page (here: erasing the older of two
 * copies of a key, what a cut between the two steps of an update leaves) must not give
 * a session in which the page's keys are missing: init reports the error, or every key
 * reads; the next init on a healthy flash finds them all. Every operation of init fails
 * once in turn. */
static void test_init_write_fails(void)
{
    uint8_t ns;
    ndev_t *d = dev_with_ns(3, "f", &ns);
    uint32_t v = 1;
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "a", OTAKIT_NVS_U32, &v, 4), OTAKIT_OK);
    CHECK_EQ(otakit_nvs_set(&d->nvs, ns, "b", OTAKIT_NVS_STR, "keep", 5), OTAKIT_OK);
    /* entry 0: the namespace, 1: "a" = 1, 2-3: "b"; entry 4: "a" = 2, the old not erased */
    uint8_t *m = otakit_nor_data(d->nor);
    memcpy(m + 64 + 4 * 32, m + 64 + 1 * 32, 32);
    m[64 + 4 * 32 + 24] = 2;
    otakit_nvs_entry_seal(m + 64 + 4 * 32);
    m[32 + 1] &= (uint8_t)~0x01u; /* entry 4 (bits 8-9 of bitmap word 0): written, 0b10 */
    static uint8_t img[3 * 4096];
    memcpy(img, m, sizeof(img));
    otakit_nor_stats_t st;
    otakit_nor_reset_stats(d->nor);
    CHECK_EQ(dev_init(d), OTAKIT_OK);
    otakit_nor_get_stats(d->nor, &st);
    CHECK(st.writes > 0); /* init repaired the page */
    for (uint64_t n = 1; n <= st.ops; n++) {
        memcpy(m, img, sizeof(img));
        otakit_nor_fail_at(d->nor, n);
        otakit_err_t err = dev_init(d);
        otakit_nor_fail_at(d->nor, 0);
        for (int pass = 0; pass < 2; pass++) {
            if (err == OTAKIT_OK) {
                uint32_t r = 0;
                char s[8] = "";
                CHECK_EQ(otakit_nvs_ns_open(&d->nvs, "f", false, &ns), OTAKIT_OK);
                CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "a", OTAKIT_NVS_U32, &r, 4), OTAKIT_OK);
                CHECK_EQ(r, 2);
                CHECK_EQ(otakit_nvs_get(&d->nvs, ns, "b", OTAKIT_NVS_STR, s, sizeof(s)), OTAKIT_OK);
                CHECK_STR(s, "keep");
            } else {
                CHECK(err == OTAKIT_ERR_FLASH_OP_FAIL || err == OTAKIT_ERR_NVS_INVALID_STATE);
            }
            err = dev_init(d); /* the flash works again */
            CHECK_EQ(err, OTAKIT_OK);
        }
    }
    dev_free(d);
}

/* Set one entry's state in a page image's bitmap. */
static void image_entry_state(uint8_t *page, unsigned i, unsigned state)
{
    uint8_t *b = page + 32 + (i * 2) / 8;
    unsigned sh = (i * 2) % 8;
    *b = (uint8_t)((*b & ~(3u << sh)) | (state << sh));
}

/* A blob written while only reclaimed pages are left gets one small chunk per page: its
 * chunk indexes must stay within their version's range (0..126 or 128..254), or the
 * next version's chunks collide with this one's. Pages 0..129: FULL, 124 u8 keys and
 * 2 erased entries each; 2 free pages. The blob needs 130 chunks (4000 bytes on a
 * fresh page, then 32 bytes per reclaimed page): refused, nothing lost. */
static void test_blob_chunk_limit(void)
{
    enum { FULLP = 130, NP = FULLP + 2 };
    otakit_nor_t *nor;
    CHECK_EQ(otakit_nor_open_mem(&nor, NP * 4096, OTAKIT_NOR_STRICT), OTAKIT_OK);
    uint8_t *m = otakit_nor_data(nor);
    for (unsigned p = 0; p < FULLP; p++) {
        uint8_t *pg = m + p * 4096;
        otakit_nvs_encode_header(pg, OTAKIT_NVS_PAGE_FULL, p, OTAKIT_NVS_VERSION);
        for (unsigned i = 0; i < OTAKIT_NVS_ENTRY_COUNT; i++) {
            image_entry_state(pg, i, i < 2 ? OTAKIT_NVS_ENTRY_ERASED : OTAKIT_NVS_ENTRY_WRITTEN);
            if (i < 2) {
                continue;
            }
            uint8_t *e = pg + 64 + i * 32;
            bool ns_record = p == 0 && i == 2;
            memset(e + 8, 0, 16);
            snprintf((char *)e + 8, 16, ns_record ? "big" : "k%u_%u", p, i);
            e[0] = ns_record ? 0 : 1;
            e[1] = OTAKIT_NVS_U8;
            e[2] = 1;
            e[3] = 0xFF;
            e[24] = ns_record ? 1 : (uint8_t)i;
            otakit_nvs_entry_seal(e);
        }
    }
    static otakit_nvs_page_t pages[NP];
    otakit_nvs_t nvs;
    CHECK_EQ(otakit_nvs_init(&nvs, otakit_nor_flash(nor), 0, NP * 4096, pages, NP, false),
             OTAKIT_OK);
    uint8_t ns;
    CHECK_EQ(otakit_nvs_ns_open(&nvs, "big", false, &ns), OTAKIT_OK);
    CHECK_EQ(ns, 1);
    static uint8_t blob[4000 + 129 * 32];
    fill(blob, sizeof(blob), 3);
    CHECK_EQ(otakit_nvs_set(&nvs, ns, "blob", OTAKIT_NVS_BLOB, blob, sizeof(blob)),
             OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE);
    for (int pass = 0; pass < 2; pass++) {
        size_t len;
        CHECK_EQ(otakit_nvs_get_size(&nvs, ns, "blob", OTAKIT_NVS_BLOB, &len),
                 OTAKIT_ERR_NVS_NOT_FOUND);
        unsigned keys = 0, chunks = 0;
        otakit_nvs_iter_t it = {0, 0};
        otakit_nvs_item_t item;
        while (otakit_nvs_next(&nvs, &it, &item) == OTAKIT_OK) {
            keys += item.ns == 1 && item.type == OTAKIT_NVS_U8;
            chunks += item.type == OTAKIT_NVS_TYPE_BLOB_DATA;
        }
        CHECK_EQ(keys, FULLP * 124 - 1);
        CHECK_EQ(chunks, 0);
        uint8_t r = 0;
        CHECK_EQ(otakit_nvs_get(&nvs, ns, "k129_125", OTAKIT_NVS_U8, &r, 1), OTAKIT_OK);
        CHECK_EQ(r, 125);
        CHECK_EQ(otakit_nvs_init(&nvs, otakit_nor_flash(nor), 0, NP * 4096, pages, NP, false),
                 OTAKIT_OK);
    }
    otakit_nor_close(nor);
}

int main(void)
{
    RUN(test_error_values);
    RUN(test_integers);
    RUN(test_strings);
    RUN(test_blobs);
    RUN(test_erase_and_namespaces);
    RUN(test_gc);
    RUN(test_full);
    RUN(test_no_free_pages);
    RUN(test_corruption);
    RUN(test_bytes_match_generator);
    RUN(test_init_write_fails);
    RUN(test_blob_chunk_limit);
    return harness_done();
}
