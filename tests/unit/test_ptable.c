#include "harness.h"
#include "otakit/hash.h"
#include "otakit/ptable.h"

static otakit_part_t mk(const char *label, uint8_t type, uint8_t subtype, uint32_t offset,
                        uint32_t size, uint32_t flags)
{
    otakit_part_t p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.subtype = subtype;
    p.offset = offset;
    p.size = size;
    p.flags = flags;
    snprintf(p.label, sizeof(p.label), "%s", label);
    return p;
}

/* pt/partitions_two_ota.csv as resolved in spec §2.5 */
static size_t two_ota(otakit_part_t *p)
{
    p[0] = mk("nvs", 1, 2, 0x9000, 0x4000, 0);
    p[1] = mk("otadata", 1, 0, 0xD000, 0x2000, 0);
    p[2] = mk("phy_init", 1, 1, 0xF000, 0x1000, 0);
    p[3] = mk("factory", 0, 0, 0x10000, 0x100000, 0);
    p[4] = mk("ota_0", 0, 0x10, 0x110000, 0x100000, 0);
    p[5] = mk("ota_1", 0, 0x11, 0x210000, 0x100000, 0);
    return 6;
}

static void md5_hex(const uint8_t *buf, size_t len, char out[33])
{
    uint8_t d[16];
    otakit_hash_buf(OTAKIT_HASH_MD5, buf, len, d);
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static void rec(uint8_t *r, uint8_t type, uint8_t subtype, uint32_t off, uint32_t size,
                const char *label)
{
    memset(r, 0, 32);
    r[0] = 0xAA, r[1] = 0x50, r[2] = type, r[3] = subtype;
    for (int i = 0; i < 4; i++) {
        r[4 + i] = (uint8_t)(off >> (8 * i));
        r[8 + i] = (uint8_t)(size >> (8 * i));
    }
    memcpy(r + 12, label, strlen(label));
}

/* spec §2.5: the two_ota table, byte by byte */
static void test_two_ota_worked_example(void)
{
    otakit_part_t p[8];
    size_t n = two_ota(p);
    uint8_t out[OTAKIT_PTABLE_MAX_LEN], want[OTAKIT_PTABLE_MAX_LEN];
    CHECK_EQ(otakit_ptable_encode(p, n, true, out), OTAKIT_OK);

    memset(want, 0xFF, sizeof(want));
    rec(want + 0x00, 0x01, 0x02, 0x9000, 0x4000, "nvs");
    rec(want + 0x20, 0x01, 0x00, 0xD000, 0x2000, "otadata");
    rec(want + 0x40, 0x01, 0x01, 0xF000, 0x1000, "phy_init");
    rec(want + 0x60, 0x00, 0x00, 0x10000, 0x100000, "factory");
    rec(want + 0x80, 0x00, 0x10, 0x110000, 0x100000, "ota_0");
    rec(want + 0xA0, 0x00, 0x11, 0x210000, 0x100000, "ota_1");
    want[0xC0] = 0xEB, want[0xC1] = 0xEB;
    static const uint8_t digest[16] = {0xBF, 0x25, 0x82, 0x2C, 0x0F, 0xA6, 0xD8, 0x64,
                                       0x1B, 0xD9, 0x30, 0x25, 0x1E, 0x06, 0xB4, 0xC4};
    memcpy(want + 0xD0, digest, 16);
    for (size_t i = 0; i < sizeof(want); i++) {
        if (out[i] != want[i]) {
            fprintf(stderr, "byte 0x%zx: 0x%02x != 0x%02x\n", i, out[i], want[i]);
            CHECK(0);
            break;
        }
    }
    /* the spec's literal first row */
    static const uint8_t nvs_row[16] = {0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00,
                                        0x00, 0x40, 0x00, 0x00, 0x6E, 0x76, 0x73, 0x00};
    CHECK_MEM(out, nvs_row, 16);
    char hex[33];
    md5_hex(out, sizeof(out), hex);
    CHECK_STR(hex, "9f94bf1e89f37d80f4310d5af19a6e59");

    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    CHECK_EQ(otakit_ptable_parse(&t, out, sizeof(out), 0x400000, true, &diag), OTAKIT_OK);
    CHECK(diag.msg == NULL);
    CHECK_EQ(t.count, 6);
    CHECK(t.has_md5);
    for (size_t i = 0; i < n; i++) {
        CHECK_STR(t.parts[i].label, p[i].label);
        CHECK_EQ(t.parts[i].type, p[i].type);
        CHECK_EQ(t.parts[i].subtype, p[i].subtype);
        CHECK_EQ(t.parts[i].offset, p[i].offset);
        CHECK_EQ(t.parts[i].size, p[i].size);
        CHECK_EQ(t.parts[i].flags, 0);
    }
}

static void test_singleapp(void)
{
    otakit_part_t p[3] = {mk("nvs", 1, 2, 0x9000, 0x6000, 0),
                          mk("phy_init", 1, 1, 0xF000, 0x1000, 0),
                          mk("factory", 0, 0, 0x10000, 0x100000, 0)};
    uint8_t out[OTAKIT_PTABLE_MAX_LEN];
    CHECK_EQ(otakit_ptable_encode(p, 3, true, out), OTAKIT_OK);
    static const uint8_t nvs[16] = {0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00,
                                    0x00, 0x60, 0x00, 0x00, 'n',  'v',  's',  0};
    CHECK_MEM(out, nvs, 16);
    static const uint8_t digest[16] = {0xF4, 0xAD, 0x4F, 0x45, 0x38, 0x56, 0x4B, 0x5D,
                                       0x74, 0x35, 0xB6, 0x2C, 0x75, 0xB6, 0x95, 0x24};
    CHECK_EQ(out[0x60], 0xEB);
    CHECK_EQ(out[0x61], 0xEB);
    for (int i = 0x62; i < 0x70; i++) {
        CHECK_EQ(out[i], 0xFF);
    }
    CHECK_MEM(out + 0x70, digest, 16);
    for (size_t i = 0x80; i < sizeof(out); i++) {
        CHECK_EQ(out[i], 0xFF);
    }
    char hex[33];
    md5_hex(out, sizeof(out), hex);
    CHECK_STR(hex, "5d61d196adc3dba01928f264eb169be7");
}

/* spec §2.5 single entries */
static void test_entry_layout(void)
{
    uint8_t r[32];
    otakit_part_t f = mk("factory", 0, 0, 0x10000, 0x100000, 0);
    otakit_ptable_encode_entry(&f, r);
    static const uint8_t want[32] = {
        0xAA, 0x50, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 'f', 'a', 'c', 't',
        'o',  'r',  'y',  0,    0,    0,    0,    0,    0,    0,    0,    0,    0,   0,   0,   0};
    CHECK_MEM(r, want, 32);

    otakit_part_t k = mk("nvs_key", 1, 4, 0x310000, 0x1000, OTAKIT_PART_FLAG_ENCRYPTED);
    otakit_ptable_encode_entry(&k, r);
    CHECK_EQ(r[28], 0x01);
    CHECK_EQ(r[29], 0);
    CHECK_EQ(r[30], 0);
    CHECK_EQ(r[31], 0);

    /* a 16-byte label has no terminator in the record, and decodes back whole */
    otakit_part_t l =
        mk("verylongpartitio", 1, 0x81, 0x20000, 0x1000, OTAKIT_PART_FLAG_READONLY | 0x100);
    otakit_ptable_encode_entry(&l, r);
    CHECK_MEM(r + 12, "verylongpartitio", 16);
    CHECK_EQ(r[28], 0x02);
    CHECK_EQ(r[29], 0x01);
    otakit_part_t d;
    otakit_ptable_decode_entry(&d, r);
    CHECK_STR(d.label, "verylongpartitio");
    CHECK_EQ(d.flags, 0x102);
    CHECK_EQ(d.type, 1);
    CHECK_EQ(d.subtype, 0x81);
    CHECK_EQ(d.offset, 0x20000);
    CHECK_EQ(d.size, 0x1000);
}

static void build_two_ota(uint8_t out[OTAKIT_PTABLE_MAX_LEN])
{
    otakit_part_t p[8];
    size_t n = two_ota(p);
    otakit_ptable_encode(p, n, true, out);
}

static void test_bad_md5(void)
{
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};

    build_two_ota(b);
    b[0xDF] ^= 1; /* digest */
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0xC0);
    CHECK(diag.msg != NULL && strstr(diag.msg, "MD5") != NULL);

    build_two_ota(b);
    b[0x08] ^= 0x10; /* a covered byte: nvs size */
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0xC0);

    /* bytes 2..15 of the MD5 record are not checked (as the bootloader does) */
    build_two_ota(b);
    b[0xC5] = 0x00;
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_OK);
}

static void test_two_md5_records(void)
{
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    build_two_ota(b);
    memcpy(b + 0xE0, b + 0xC0, 32); /* a second MD5 record */
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0xE0);
    CHECK(diag.msg != NULL && strstr(diag.msg, "only one MD5") != NULL);

    /* a partition after the MD5 record is accepted; the digest covered what preceded it */
    build_two_ota(b);
    otakit_part_t x = mk("extra", 1, 0x81, 0x400000, 0x1000, 0);
    otakit_ptable_encode_entry(&x, b + 0xE0);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_OK);
    CHECK_EQ(t.count, 7);
    CHECK_STR(t.parts[6].label, "extra");
}

static void test_missing_end_marker(void)
{
    static uint8_t b[0x1000];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    otakit_part_t p = mk("x", 1, 0x81, 0x9000, 0x1000, 0);

    /* 96 partition records: no room for a terminator, even with 0xFF after 0xC00 */
    memset(b, 0xFF, sizeof(b));
    for (size_t i = 0; i < 96; i++) {
        otakit_ptable_encode_entry(&p, b + 32 * i);
    }
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK(diag.msg != NULL && strstr(diag.msg, "terminat") != NULL);

    /* 95 partitions + MD5 = 96 records, no terminator */
    otakit_part_t many[95];
    for (size_t i = 0; i < 95; i++) {
        many[i] = p;
    }
    memset(b, 0xFF, sizeof(b));
    CHECK_EQ(otakit_ptable_encode(many, 95, false, b), OTAKIT_OK);
    b[95 * 32] = 0xEB, b[95 * 32 + 1] = 0xEB;
    uint8_t d[16];
    otakit_hash_buf(OTAKIT_HASH_MD5, b, 95 * 32, d);
    memcpy(b + 95 * 32 + 16, d, 16);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, OTAKIT_PTABLE_MAX_LEN);

    /* a buffer that ends (on a record boundary) before any terminator */
    build_two_ota(b);
    CHECK_EQ(otakit_ptable_parse(&t, b, 0xE0, 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0xE0);
}

/* Every truncation of the two_ota table: fine once the end marker is whole. */
static void test_truncated_every_length(void)
{
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    build_two_ota(b);
    int ok = 0;
    for (size_t len = 0; len <= sizeof(b); len++) {
        otakit_ptable_t t;
        otakit_diag_t diag = {0, NULL};
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b, len);
        otakit_err_t e = otakit_ptable_parse(&t, copy, len, 0, false, &diag);
        free(copy);
        if (len >= 0x100) {
            CHECK_EQ(e, OTAKIT_OK);
            CHECK_EQ(t.count, 6);
            ok++;
        } else if (len % 32 == 0) {
            CHECK_EQ(e, OTAKIT_ERR_INVALID_STATE);
            CHECK_EQ(diag.offset, len);
        } else {
            CHECK_EQ(e, OTAKIT_ERR_INVALID_SIZE);
            CHECK_EQ(diag.offset, len - len % 32);
        }
    }
    CHECK_EQ(ok, sizeof(b) - 0x100 + 1);
}

static void test_bad_magic(void)
{
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    build_two_ota(b);
    b[0x40] = 0x12;
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0x40);
    CHECK_STR(diag.msg, "invalid magic number");

    /* FF FF magic with a type that is not 0xFF is not an end marker */
    build_two_ota(b);
    b[0xE2] = 0x00;
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0xE0);

    /* magic FFFF, type FF, subtype FF ends the table whatever follows */
    build_two_ota(b);
    b[0xE4] = 0x00;
    b[0xF0] = 0x12;
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_OK);
}

static void test_exceeds_flash_size(void)
{
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    build_two_ota(b);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0x200000, false, &diag),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(diag.offset, 0x80); /* ota_0 ends at 0x210000 */
    CHECK(diag.msg != NULL && strstr(diag.msg, "exceeds flash chip size") != NULL);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0x310000, false, &diag),
             OTAKIT_OK); /* exact fit */
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0x30F000, false, &diag),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(diag.offset, 0xA0);

    /* offset past the chip, and a size that would wrap around 32 bits */
    otakit_part_t p[2] = {mk("a", 1, 0x81, 0x500000, 0x1000, 0),
                          mk("b", 1, 0x81, 0x9000, 0xFFFFF000, 0)};
    CHECK_EQ(otakit_ptable_encode(p, 1, true, b), OTAKIT_OK);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0x400000, false, &diag),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_ptable_encode(p + 1, 1, true, b), OTAKIT_OK);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0x400000, false, &diag),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_OK); /* 0: no check */
}

static void test_end_marker_first(void)
{
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    memset(b, 0xFF, sizeof(b));
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0);
    CHECK(diag.msg != NULL);
}

static void test_require_md5(void)
{
    otakit_part_t p[8];
    size_t n = two_ota(p);
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    CHECK_EQ(otakit_ptable_encode(p, n, false, b), OTAKIT_OK);
    CHECK_EQ(b[0xC0], 0xFF);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, &diag), OTAKIT_OK);
    CHECK(!t.has_md5);
    CHECK_EQ(t.count, 6);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, true, &diag), OTAKIT_ERR_NOT_FOUND);
    CHECK_EQ(diag.offset, 0xC0);
    CHECK_EQ(OTAKIT_ERR_NOT_FOUND, 0x105);
    CHECK_EQ(OTAKIT_ERR_INVALID_STATE, 0x103);
    CHECK_EQ(OTAKIT_ERR_INVALID_SIZE, 0x104);
}

/* 94 with MD5 / 95 without fit below 0xC00; one more does not. */
static void test_entry_limits(void)
{
    static otakit_part_t p[96];
    uint8_t b[OTAKIT_PTABLE_MAX_LEN];
    otakit_ptable_t t;
    for (size_t i = 0; i < 96; i++) {
        char name[17];
        snprintf(name, sizeof(name), "p%zu", i);
        p[i] = mk(name, 1, 0x81, (uint32_t)(0x10000 + 0x1000 * i), 0x1000, 0);
    }
    CHECK_EQ(otakit_ptable_encode(p, 94, true, b), OTAKIT_OK);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, true, NULL), OTAKIT_OK);
    CHECK_EQ(t.count, 94);
    CHECK_EQ(otakit_ptable_encode(p, 95, true, b), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_ptable_encode(p, 95, false, b), OTAKIT_OK);
    CHECK_EQ(otakit_ptable_parse(&t, b, sizeof(b), 0, false, NULL), OTAKIT_OK);
    CHECK_EQ(t.count, 95);
    CHECK_STR(t.parts[94].label, "p94");
    CHECK_EQ(otakit_ptable_encode(p, 96, false, b), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_ptable_encode(p, 0, true, b), OTAKIT_OK);
    CHECK_EQ(b[0], 0xEB);
}

static void test_find(void)
{
    otakit_ptable_t t;
    memset(&t, 0, sizeof(t));
    t.count = two_ota(t.parts);
    const otakit_part_t *p =
        otakit_ptable_find(&t, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, NULL);
    CHECK(p != NULL && strcmp(p->label, "otadata") == 0);
    p = otakit_ptable_find(&t, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_ANY, NULL);
    CHECK(p != NULL && strcmp(p->label, "factory") == 0);
    p = otakit_ptable_find(&t, OTAKIT_PART_TYPE_ANY, OTAKIT_PART_SUBTYPE_ANY, "ota_1");
    CHECK(p == &t.parts[5]);
    CHECK(otakit_ptable_find(&t, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_ANY, "ota_1") == NULL);
    CHECK(otakit_ptable_find(&t, OTAKIT_PART_TYPE_DATA, 0x99, NULL) == NULL);
    CHECK(otakit_ptable_find(NULL, 0, 0, NULL) == NULL);

    CHECK(otakit_ptable_find_by_addr(&t, 0x9000) == &t.parts[0]);
    CHECK(otakit_ptable_find_by_addr(&t, 0xCFFF) == &t.parts[0]);
    CHECK(otakit_ptable_find_by_addr(&t, 0xD000) == &t.parts[1]);
    CHECK(otakit_ptable_find_by_addr(&t, 0x30FFFF) == &t.parts[5]);
    CHECK(otakit_ptable_find_by_addr(&t, 0x310000) == NULL);
    CHECK(otakit_ptable_find_by_addr(&t, 0x8FFF) == NULL);

    CHECK_EQ(otakit_ptable_ota_count(&t), 2);
    CHECK_EQ(otakit_ptable_ota_count_all(&t), 2);
    CHECK(otakit_ptable_ota_slot(&t, 0) == &t.parts[4]);
    CHECK(otakit_ptable_ota_slot(&t, 1) == &t.parts[5]);
    CHECK(otakit_ptable_ota_slot(&t, 2) == NULL);
    CHECK(otakit_ptable_ota_slot(&t, 16) == NULL);
}

static void fill_ota(otakit_ptable_t *t, const unsigned *slots, size_t n)
{
    memset(t, 0, sizeof(*t));
    t->parts[t->count++] = mk("otadata", 1, 0, 0xD000, 0x2000, 0);
    t->parts[t->count++] = mk("factory", 0, 0, 0x10000, 0x100000, 0);
    for (size_t i = 0; i < n; i++) {
        char name[17];
        snprintf(name, sizeof(name), "ota_%u", slots[i]);
        t->parts[t->count++] = mk(name, 0, (uint8_t)(0x10 + slots[i]),
                                  (uint32_t)(0x110000 + 0x100000 * i), 0x100000, 0);
    }
}

static void test_ota_counts(void)
{
    otakit_ptable_t t;
    static const unsigned three[] = {0, 1, 2};
    fill_ota(&t, three, 3);
    CHECK_EQ(otakit_ptable_ota_count(&t), 3);
    CHECK_EQ(otakit_ptable_ota_count_all(&t), 3);
    CHECK(otakit_ptable_ota_slot(&t, 2) != NULL &&
          strcmp(otakit_ptable_ota_slot(&t, 2)->label, "ota_2") == 0);

    unsigned sixteen[16];
    for (unsigned i = 0; i < 16; i++) {
        sixteen[15 - i] = i; /* table order does not matter */
    }
    fill_ota(&t, sixteen, 16);
    CHECK_EQ(otakit_ptable_ota_count(&t), 16);
    CHECK_EQ(otakit_ptable_ota_count_all(&t), 16);
    CHECK(otakit_ptable_ota_slot(&t, 15) == &t.parts[2]);
    CHECK(otakit_ptable_ota_slot(&t, 0) == &t.parts[17]);

    static const unsigned gap[] = {0, 2, 3};
    fill_ota(&t, gap, 3);
    CHECK_EQ(otakit_ptable_ota_count(&t), 1);     /* app side: stops at the missing ota_1 */
    CHECK_EQ(otakit_ptable_ota_count_all(&t), 3); /* bootloader side: every OTA subtype */
    CHECK(otakit_ptable_ota_slot(&t, 1) == NULL);
    CHECK(otakit_ptable_ota_slot(&t, 3) != NULL);

    static const unsigned none[] = {0};
    fill_ota(&t, none, 0);
    CHECK_EQ(otakit_ptable_ota_count(&t), 0);
    CHECK_EQ(otakit_ptable_ota_count_all(&t), 0);
    /* test and tee apps are not OTA slots */
    t.parts[t.count++] = mk("test", 0, 0x20, 0x400000, 0x10000, 0);
    t.parts[t.count++] = mk("tee", 0, 0x30, 0x410000, 0x10000, 0);
    CHECK_EQ(otakit_ptable_ota_count_all(&t), 0);
}

static void test_names(void)
{
    CHECK_STR(otakit_ptable_type_name(0), "app");
    CHECK_STR(otakit_ptable_type_name(1), "data");
    CHECK_STR(otakit_ptable_type_name(2), "bootloader");
    CHECK_STR(otakit_ptable_type_name(3), "partition_table");
    CHECK(otakit_ptable_type_name(0x40) == NULL);
    CHECK(otakit_ptable_type_name(0xFF) == NULL);

    static const struct {
        uint8_t t, st;
        const char *name;
    } names[] = {
        {0, 0x00, "factory"}, {0, 0x10, "ota_0"},     {0, 0x1A, "ota_10"},   {0, 0x1F, "ota_15"},
        {0, 0x20, "test"},    {0, 0x30, "tee_0"},     {0, 0x31, "tee_1"},    {1, 0x00, "ota"},
        {1, 0x01, "phy"},     {1, 0x02, "nvs"},       {1, 0x03, "coredump"}, {1, 0x04, "nvs_keys"},
        {1, 0x05, "efuse"},   {1, 0x06, "undefined"}, {1, 0x80, "esphttpd"}, {1, 0x81, "fat"},
        {1, 0x82, "spiffs"},  {1, 0x83, "littlefs"},  {1, 0x90, "tee_ota"},  {2, 0x00, "primary"},
        {2, 0x01, "ota"},     {2, 0x02, "recovery"},  {3, 0x00, "primary"},  {3, 0x01, "ota"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK_STR(otakit_ptable_subtype_name(names[i].t, names[i].st), names[i].name);
    }
    CHECK(otakit_ptable_subtype_name(0, 0x21) == NULL);
    CHECK(otakit_ptable_subtype_name(0, 0x32) == NULL);
    CHECK(otakit_ptable_subtype_name(1, 0x07) == NULL);
    CHECK(otakit_ptable_subtype_name(2, 0x03) == NULL);
    CHECK(otakit_ptable_subtype_name(3, 0x02) == NULL);
    CHECK(otakit_ptable_subtype_name(0x40, 0x00) == NULL);
}

/* A flash device over a RAM buffer, for otakit_ptable_load. */
struct ram {
    uint8_t *mem;
};
static otakit_err_t ram_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    memcpy(dst, ((struct ram *)ctx)->mem + addr, len);
    return OTAKIT_OK;
}

static void test_load(void)
{
    static uint8_t mem[0x400000];
    memset(mem, 0xFF, sizeof(mem));
    build_two_ota(mem + 0x8000);
    struct ram r = {mem};
    otakit_flash_t f = {&r, ram_read, NULL, NULL, sizeof(mem), 0x1000, 1, NULL};
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    CHECK_EQ(otakit_ptable_load(&t, &f, 0x8000, &diag), OTAKIT_OK);
    CHECK_EQ(t.count, 6);
    CHECK(t.has_md5);

    mem[0x8040] = 0;
    CHECK_EQ(otakit_ptable_load(&t, &f, 0x8000, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0x8040); /* a flash address */

    /* the flash size bounds the partitions */
    build_two_ota(mem + 0x8000);
    f.size = 0x200000;
    CHECK_EQ(otakit_ptable_load(&t, &f, 0x8000, &diag), OTAKIT_ERR_INVALID_SIZE);
    /* a table that would run past the end of flash */
    CHECK(otakit_ptable_load(&t, &f, 0x200000 - 0x100, &diag) != OTAKIT_OK);
}

int main(void)
{
    RUN(test_two_ota_worked_example);
    RUN(test_singleapp);
    RUN(test_entry_layout);
    RUN(test_bad_md5);
    RUN(test_two_md5_records);
    RUN(test_missing_end_marker);
    RUN(test_truncated_every_length);
    RUN(test_bad_magic);
    RUN(test_exceeds_flash_size);
    RUN(test_end_marker_first);
    RUN(test_require_md5);
    RUN(test_entry_limits);
    RUN(test_find);
    RUN(test_ota_counts);
    RUN(test_names);
    RUN(test_load);
    return harness_done();
}
