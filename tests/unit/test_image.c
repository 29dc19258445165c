/* The image module: header and descriptor codecs, the streaming verifier (spec §4.1-4.3)
 * fed in every chunk size, truncations, bit flips, limits, the mapping rule, flash
 * verification, and the host-side image builder. */

#include "harness.h"
#include "image_build.h"
#include "otakit/hash.h"
#include "otakit/image.h"
#include "otakit/le.h"

/* ---- helpers ------------------------------------------------------------------ */

/* The spec §4.4 image: one DROM segment holding only a 256-byte descriptor
 * (version "1.0.0", project "demo", every other descriptor byte zero). 0x150 bytes. */
#define EX_LEN 0x150u
static void spec_example(uint8_t img[EX_LEN])
{
    static const uint8_t head[32] = {
        0xE9, 0x01, 0x02, 0x20, 0x00, 0x00, 0x08, 0x40, 0xEE, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x20, 0x00, 0x40, 0x3F, 0x00, 0x01, 0x00, 0x00,
    };
    memset(img, 0, EX_LEN);
    memcpy(img, head, sizeof(head));
    otakit_app_desc_t d;
    memset(&d, 0, sizeof(d));
    d.magic = OTAKIT_APP_DESC_MAGIC;
    strcpy(d.version, "1.0.0");
    strcpy(d.project_name, "demo");
    otakit_app_desc_encode(&d, img + 0x20);
    uint8_t ck = OTAKIT_IMAGE_CHECKSUM_SEED;
    for (unsigned i = 0x20; i < 0x120; i++) {
        ck ^= img[i];
    }
    img[0x12F] = ck;
    otakit_hash_buf(OTAKIT_HASH_SHA256, img, 0x130, img + 0x130);
}

/* Recompute checksum and hash of an image whose layout the verifier reported. */
static void reseal(uint8_t *img, const otakit_image_info_t *info)
{
    uint8_t ck = OTAKIT_IMAGE_CHECKSUM_SEED;
    for (unsigned s = 0; s < info->segments_parsed; s++) {
        for (uint32_t i = 0; i < info->segments[s].data_len; i++) {
            ck ^= img[info->segments[s].data_offset + i];
        }
    }
    uint32_t p = info->image_len - (info->header.hash_appended == 1 ? 32 : 0);
    img[p - 1] = ck;
    if (info->header.hash_appended == 1) {
        otakit_hash_buf(OTAKIT_HASH_SHA256, img, p, img + p);
    }
}

static const otakit_image_opts_t ESP32_OPTS = {OTAKIT_CHIP_ESP32, 0, false};
static const otakit_image_opts_t ANY_OPTS = {OTAKIT_CHIP_ANY, 0, false};

static otakit_err_t verify(const uint8_t *img, size_t len, const otakit_image_opts_t *o,
                           otakit_image_info_t *info, otakit_diag_t *diag)
{
    memset(info, 0xA5, sizeof(*info));
    memset(diag, 0xA5, sizeof(*diag));
    return otakit_image_verify_buf(img, len, o, info, diag);
}

/* Feed in chunks of `chunk` bytes; returns finish's result. */
static otakit_err_t verify_chunked(const uint8_t *img, size_t len, size_t chunk,
                                   const otakit_image_opts_t *o, otakit_image_info_t *info,
                                   otakit_diag_t *diag)
{
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, o);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        otakit_image_verifier_feed(&v, img + off, n);
    }
    return otakit_image_verifier_finish(&v, info, diag);
}

static int same_info(const otakit_image_info_t *a, const otakit_image_info_t *b)
{
    if (memcmp(&a->header, &b->header, sizeof(a->header)) != 0 ||
        a->segments_parsed != b->segments_parsed || a->has_desc != b->has_desc ||
        a->checksum_stored != b->checksum_stored || a->checksum_calc != b->checksum_calc ||
        a->checksum_ok != b->checksum_ok || a->hash_present != b->hash_present ||
        a->hash_ok != b->hash_ok || a->image_len != b->image_len ||
        memcmp(a->hash_stored, b->hash_stored, 32) != 0 ||
        memcmp(a->hash_calc, b->hash_calc, 32) != 0) {
        return 0;
    }
    for (unsigned i = 0; i < a->segments_parsed; i++) {
        if (a->segments[i].load_addr != b->segments[i].load_addr ||
            a->segments[i].data_len != b->segments[i].data_len ||
            a->segments[i].data_offset != b->segments[i].data_offset) {
            return 0;
        }
    }
    if (a->has_desc && (strcmp(a->desc.project_name, b->desc.project_name) != 0 ||
                        strcmp(a->desc.version, b->desc.version) != 0 ||
                        a->desc.secure_version != b->desc.secure_version)) {
        return 0;
    }
    return 1;
}

static int msg_is(const otakit_diag_t *d, const char *m)
{
    return d->msg != NULL && strcmp(d->msg, m) == 0;
}

/* A small program of n pseudo-random bytes. */
static uint8_t *make_prog(size_t n, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    uint32_t x = seed | 1u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

static uint8_t *make_image(size_t prog_len, size_t *len)
{
    otakit_image_build_opts_t o;
    otakit_image_build_opts_init(&o);
    o.project = "unit";
    o.version = "0.1";
    o.date = "Nov 24 2026";
    o.time = "12:00:00";
    uint8_t *prog = make_prog(prog_len, 7);
    uint8_t *img = NULL;
    otakit_err_t err = otakit_image_build(&o, prog, prog_len, &img, len);
    free(prog);
    return err == OTAKIT_OK ? img : NULL;
}

/* A RAM flash for verify_flash / read_desc. */
struct memflash {
    uint8_t *mem;
    int fail_reads_from; /* fail a read touching this address or later; -1 never */
};
static otakit_err_t mf_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    struct memflash *m = ctx;
    if (m->fail_reads_from >= 0 && addr + len > (uint32_t)m->fail_reads_from) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    memcpy(dst, m->mem + addr, len);
    return OTAKIT_OK;
}
static otakit_err_t mf_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    struct memflash *m = ctx;
    for (size_t i = 0; i < len; i++) {
        m->mem[addr + i] &= ((const uint8_t *)src)[i];
    }
    return OTAKIT_OK;
}
static otakit_err_t mf_erase(void *ctx, uint32_t addr, size_t len)
{
    struct memflash *m = ctx;
    memset(m->mem + addr, 0xFF, len);
    return OTAKIT_OK;
}
#define MF_SIZE 0x40000u
static otakit_flash_t mf_init(struct memflash *m)
{
    m->mem = malloc(MF_SIZE);
    memset(m->mem, 0xFF, MF_SIZE);
    m->fail_reads_from = -1;
    otakit_flash_t f = {m, mf_read, mf_write, mf_erase, MF_SIZE, 0x1000, 1, NULL};
    return f;
}

/* ---- codecs ------------------------------------------------------------------- */

static void test_header_codec(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    otakit_image_header_t h;
    otakit_image_header_decode(&h, img);
    CHECK_EQ(h.magic, 0xE9);
    CHECK_EQ(h.segment_count, 1);
    CHECK_EQ(h.spi_mode, 2);
    CHECK_EQ(h.spi_speed, 0);
    CHECK_EQ(h.spi_size, 2);
    CHECK_EQ(h.entry_addr, 0x40080000u);
    CHECK_EQ(h.wp_pin, 0xEE);
    CHECK_EQ(h.chip_id, OTAKIT_CHIP_ESP32);
    CHECK_EQ(h.min_chip_rev_full, 0);
    CHECK_EQ(h.max_chip_rev_full, 99);
    CHECK_EQ(h.hash_appended, 1);
    uint8_t out[24];
    otakit_image_header_encode(&h, out);
    CHECK_MEM(out, img, 24);

    /* every field lands where the spec says */
    static const uint8_t raw[24] = {0xE9, 0x10, 0x05, 0x7F, 0x78, 0x56, 0x34, 0x12,
                                    0x01, 0x02, 0x03, 0x04, 0x0C, 0x00, 0x03, 0x2C,
                                    0x01, 0x8F, 0x01, 0xA1, 0xA2, 0xA3, 0xA4, 0x01};
    otakit_image_header_decode(&h, raw);
    CHECK_EQ(h.segment_count, 16);
    CHECK_EQ(h.spi_mode, 5);
    CHECK_EQ(h.spi_speed, 0xF);
    CHECK_EQ(h.spi_size, 7);
    CHECK_EQ(h.entry_addr, 0x12345678u);
    CHECK_EQ(h.wp_pin, 1);
    CHECK_EQ(h.spi_pin_drv[0], 2);
    CHECK_EQ(h.spi_pin_drv[2], 4);
    CHECK_EQ(h.chip_id, OTAKIT_CHIP_ESP32C2);
    CHECK_EQ(h.min_chip_rev, 3);
    CHECK_EQ(h.min_chip_rev_full, 300);
    CHECK_EQ(h.max_chip_rev_full, 399);
    CHECK_EQ(h.reserved[0], 0xA1);
    CHECK_EQ(h.reserved[3], 0xA4);
    otakit_image_header_encode(&h, out);
    CHECK_MEM(out, raw, 24);
}

static void test_desc_codec(void)
{
    otakit_app_desc_t d, e;
    memset(&d, 0, sizeof(d));
    d.magic = OTAKIT_APP_DESC_MAGIC;
    d.secure_version = 7;
    strcpy(d.version, "0123456789abcdef0123456789abcdef"); /* 32 bytes, no NUL on flash */
    strcpy(d.project_name, "proj");
    strcpy(d.time, "12:34:56");
    strcpy(d.date, "Nov 24 2026");
    strcpy(d.idf_ver, "v5.5");
    for (int i = 0; i < 32; i++) {
        d.app_elf_sha256[i] = (uint8_t)(i * 7);
    }
    d.min_efuse_blk_rev_full = 1;
    d.max_efuse_blk_rev_full = 99;
    d.mmu_page_size = 16;
    uint8_t buf[256];
    memset(buf, 0x55, sizeof(buf));
    otakit_app_desc_encode(&d, buf);
    CHECK_EQ(otakit_le32_get(buf), 0xABCD5432u);
    CHECK_EQ(otakit_le32_get(buf + 4), 7);
    CHECK(memcmp(buf + 16, "0123456789abcdef0123456789abcdef", 32) == 0);
    CHECK(memcmp(buf + 48, "proj\0", 5) == 0);
    CHECK(memcmp(buf + 80, "12:34:56", 9) == 0);
    CHECK(memcmp(buf + 96, "Nov 24 2026", 12) == 0);
    CHECK(memcmp(buf + 112, "v5.5", 5) == 0);
    CHECK_EQ(buf[144 + 31], (uint8_t)(31 * 7));
    CHECK_EQ(otakit_le16_get(buf + 176), 1);
    CHECK_EQ(otakit_le16_get(buf + 178), 99);
    CHECK_EQ(buf[180], 16);
    CHECK_EQ(buf[8], 0); /* reserved bytes written as zero */
    CHECK_EQ(buf[255], 0);
    otakit_app_desc_decode(&e, buf);
    CHECK_EQ(e.magic, d.magic);
    CHECK_EQ(e.secure_version, 7);
    CHECK_STR(e.version, d.version);
    CHECK_STR(e.project_name, "proj");
    CHECK_STR(e.time, "12:34:56");
    CHECK_STR(e.date, "Nov 24 2026");
    CHECK_STR(e.idf_ver, "v5.5");
    CHECK_MEM(e.app_elf_sha256, d.app_elf_sha256, 32);
    CHECK_EQ(e.min_efuse_blk_rev_full, 1);
    CHECK_EQ(e.max_efuse_blk_rev_full, 99);
    CHECK_EQ(e.mmu_page_size, 16);
    /* unterminated 16-byte time field decodes to 16 chars */
    memset(buf + 80, 'x', 16);
    otakit_app_desc_decode(&e, buf);
    CHECK_EQ(strlen(e.time), 16);
}

static void test_len_and_names(void)
{
    CHECK_EQ(otakit_image_len_from_end(0x120, true), 0x150);
    CHECK_EQ(otakit_image_len_from_end(0x120, false), 0x130);
    CHECK_EQ(otakit_image_len_from_end(0x11F, false), 0x120);
    CHECK_EQ(otakit_image_len_from_end(0x110, false), 0x120);
    CHECK_EQ(otakit_image_len_from_end(0x2c38c, true), 0x2c3b0); /* hello_world.bin */
    CHECK_EQ(otakit_image_len_from_end(0x1ec0, false), 0x1ed0);  /* bootloader_esp32.bin */
    CHECK_STR(otakit_image_chip_name(0), "ESP32");
    CHECK_STR(otakit_image_chip_name(2), "ESP32-S2");
    CHECK_STR(otakit_image_chip_name(5), "ESP32-C3");
    CHECK_STR(otakit_image_chip_name(9), "ESP32-S3");
    CHECK_STR(otakit_image_chip_name(0xC), "ESP32-C2");
    CHECK_STR(otakit_image_chip_name(0xD), "ESP32-C6");
    CHECK_STR(otakit_image_chip_name(0x10), "ESP32-H2");
    CHECK_STR(otakit_image_chip_name(0x12), "ESP32-P4");
    CHECK_STR(otakit_image_chip_name(0x17), "ESP32-C5");
    CHECK(otakit_image_chip_name(0xFFFF) == NULL);
    CHECK(otakit_image_chip_name(1) == NULL);
}

/* ---- the worked example (spec §4.4) --------------------------------------------- */

static void test_spec_example(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    /* the bytes the spec lists */
    static const uint8_t first[] = {0x32, 0x54, 0xCD, 0xAB};
    CHECK_MEM(img + 0x20, first, 4);
    for (unsigned i = 0x120; i < 0x12F; i++) {
        CHECK_EQ(img[i], 0);
    }
    otakit_image_info_t info;
    otakit_diag_t diag;
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    CHECK(diag.msg == NULL);
    CHECK_EQ(info.image_len, EX_LEN); /* U = 0x120, P = 0x130, +32 */
    CHECK_EQ(info.segments_parsed, 1);
    CHECK_EQ(info.segments[0].load_addr, 0x3F400020u);
    CHECK_EQ(info.segments[0].data_len, 0x100);
    CHECK_EQ(info.segments[0].data_offset, 0x20);
    CHECK(info.has_desc);
    CHECK_STR(info.desc.version, "1.0.0");
    CHECK_STR(info.desc.project_name, "demo");
    CHECK(info.checksum_ok);
    CHECK(info.hash_present);
    CHECK(info.hash_ok);
    CHECK_EQ(info.checksum_stored, img[0x12F]);
    /* The spec prints checksum 0xC7 and SHA-256 6A 44 8A 97 ... 82 EB 5F 2C, but those
     * cannot come from the descriptor it describes: with version "1.0.0", project
     * "demo" and every other byte zero, 0xEF ^ (descriptor bytes) is 0xDD. These values
     * were computed independently (Python hashlib) from the bytes built above. */
    CHECK_EQ(info.checksum_calc, 0xDD);
    static const uint8_t sha_head[4] = {0x00, 0x6B, 0x6A, 0x49};
    static const uint8_t sha_tail[4] = {0x55, 0x96, 0x7F, 0xC7};
    CHECK_MEM(info.hash_calc, sha_head, 4);
    CHECK_MEM(info.hash_calc + 28, sha_tail, 4);
    CHECK_MEM(info.hash_stored, info.hash_calc, 32);

    /* with the spec's 0xC7 stored, the checksum fails and says so */
    img[0x12F] = 0xC7;
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "checksum mismatch"));
    CHECK_EQ(diag.offset, 0x12F);
    CHECK_EQ(info.checksum_stored, 0xC7);
    CHECK_EQ(info.checksum_calc, 0xDD);
    CHECK(!info.checksum_ok);
    CHECK(!info.hash_ok);

    /* image at partition offset 0x10000: segment data at 0x10020 = load mod 64 KiB */
    CHECK_EQ((0x10000u + info.segments[0].data_offset) % 0x10000u, 0x3F400020u % 0x10000u);
}

/* ---- streaming ------------------------------------------------------------------ */

static void test_chunk_sizes_example(void)
{
    uint8_t img[EX_LEN + 40];
    spec_example(img);
    memset(img + EX_LEN, 0x77, 40); /* trailing bytes are ignored */
    otakit_image_info_t ref, got;
    otakit_diag_t rd, gd;
    CHECK_EQ(verify(img, sizeof(img), &ESP32_OPTS, &ref, &rd), OTAKIT_OK);
    for (size_t chunk = 1; chunk <= sizeof(img); chunk++) {
        otakit_err_t err = verify_chunked(img, sizeof(img), chunk, &ESP32_OPTS, &got, &gd);
        CHECK_EQ(err, OTAKIT_OK);
        CHECK(same_info(&ref, &got));
    }
    /* and a corrupted one gives the same failure in every chunk size */
    img[0x40] ^= 1;
    CHECK_EQ(verify(img, sizeof(img), &ESP32_OPTS, &ref, &rd), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&rd, "checksum mismatch"));
    for (size_t chunk = 1; chunk <= sizeof(img); chunk++) {
        otakit_err_t err = verify_chunked(img, sizeof(img), chunk, &ESP32_OPTS, &got, &gd);
        CHECK_EQ(err, OTAKIT_ERR_IMAGE_INVALID);
        CHECK(same_info(&ref, &got));
        CHECK_EQ(gd.offset, rd.offset);
        CHECK(gd.msg == rd.msg);
    }
}

static void test_chunk_sizes_built(void)
{
    size_t len;
    uint8_t *img = make_image(3001, &len);
    CHECK(img != NULL);
    if (img == NULL) {
        return;
    }
    otakit_image_info_t ref, got;
    otakit_diag_t rd, gd;
    CHECK_EQ(verify(img, len, &ESP32_OPTS, &ref, &rd), OTAKIT_OK);
    static const size_t sizes[] = {1,    2,    3,    4,     5,     7,     8,   13,
                                   24,   31,   32,   100,   255,   256,   257, 1000,
                                   1024, 4096, 4099, 65536, 65537, 100000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        CHECK_EQ(verify_chunked(img, len, sizes[k], &ESP32_OPTS, &got, &gd), OTAKIT_OK);
        CHECK(same_info(&ref, &got));
    }
    /* irregular chunks: 1, 2, 3, ... bytes */
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, &ESP32_OPTS);
    size_t off = 0, n = 1;
    while (off < len) {
        size_t take = len - off < n ? len - off : n;
        CHECK_EQ(otakit_image_verifier_feed(&v, img + off, take), OTAKIT_OK);
        off += take;
        n = n % 97 + 1;
    }
    CHECK(otakit_image_verifier_complete(&v));
    CHECK_EQ(otakit_image_verifier_finish(&v, &got, &gd), OTAKIT_OK);
    CHECK(same_info(&ref, &got));
    free(img);
}

static void test_truncated(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    otakit_image_info_t info;
    otakit_diag_t diag;
    for (size_t n = 0; n < EX_LEN; n++) {
        otakit_image_verifier_t v;
        otakit_image_verifier_init(&v, &ESP32_OPTS);
        CHECK_EQ(otakit_image_verifier_feed(&v, img, n), OTAKIT_OK);
        CHECK(!otakit_image_verifier_complete(&v));
        CHECK_EQ(otakit_image_verifier_finish(&v, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
        CHECK(msg_is(&diag, "truncated image"));
        CHECK_EQ(diag.offset, n);
    }
    /* info as far as it got: header and segment known, checksum settled at 0x130 */
    CHECK_EQ(verify(img, 0x130, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "truncated image"));
    CHECK_EQ(info.segments_parsed, 1);
    CHECK(info.has_desc);
    CHECK(info.checksum_ok);
    CHECK_EQ(info.image_len, EX_LEN);

    /* a built image cut anywhere (every 61st length, plus the edges) */
    size_t len;
    uint8_t *b = make_image(500, &len);
    CHECK(b != NULL);
    for (size_t n = 0; b != NULL && n < len; n += (n < 300 || n > len - 100) ? 1 : 61) {
        CHECK_EQ(verify(b, n, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
        CHECK(msg_is(&diag, "truncated image"));
    }
    free(b);
}

static void test_bit_flips(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    otakit_image_info_t info;
    otakit_diag_t diag;
    for (unsigned i = 0; i < EX_LEN; i++) {
        for (int bit = 0; bit < 8; bit++) {
            img[i] ^= (uint8_t)(1u << bit);
            otakit_err_t err = verify(img, EX_LEN, &ESP32_OPTS, &info, &diag);
            if (i == 23 && bit == 0) {
                /* hash_appended cleared: a 0x130-byte image without hash, still valid
                 * (as for ESP-IDF without secure boot) */
                CHECK_EQ(err, OTAKIT_OK);
                CHECK_EQ(info.image_len, 0x130);
            } else {
                CHECK_EQ(err, OTAKIT_ERR_IMAGE_INVALID);
            }
            if (i >= 0x20 && i < 0x120) {
                CHECK(msg_is(&diag, "checksum mismatch")); /* segment data */
            } else if ((i >= 0x120 && i < 0x12F) || i >= 0x130) {
                CHECK(msg_is(&diag, "hash mismatch")); /* padding (hashed) and hash */
                CHECK_EQ(diag.offset, 0x130);
            } else if (i == 0x12F) {
                CHECK(msg_is(&diag, "checksum mismatch"));
            } else if (i == 0) {
                CHECK(msg_is(&diag, "invalid magic byte"));
            }
            img[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* skip_hash: a flipped hash byte passes, info still says the hash is wrong */
    img[0x140] ^= 0x10;
    otakit_image_opts_t o = ESP32_OPTS;
    o.skip_hash = true;
    CHECK_EQ(verify(img, EX_LEN, &o, &info, &diag), OTAKIT_OK);
    CHECK(info.hash_present);
    CHECK(!info.hash_ok);
    CHECK(info.checksum_ok);
    /* a flipped data byte still fails on the checksum */
    img[0x30] ^= 1;
    CHECK_EQ(verify(img, EX_LEN, &o, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "checksum mismatch"));
}

static void test_bad_magic_and_chip(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    otakit_image_info_t info;
    otakit_diag_t diag;
    img[0] = 0xFF;
    CHECK_EQ(verify(img, EX_LEN, &ANY_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "invalid magic byte"));
    CHECK_EQ(diag.offset, 0);
    /* known from the first byte: feed fails at once, and stays failed */
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, &ANY_OPTS);
    CHECK_EQ(otakit_image_verifier_feed(&v, img, 1), OTAKIT_ERR_IMAGE_INVALID);
    CHECK_EQ(otakit_image_verifier_feed(&v, img + 1, 10), OTAKIT_ERR_IMAGE_INVALID);
    CHECK_EQ(otakit_image_verifier_finish(&v, NULL, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "invalid magic byte"));
    /* finish twice: same verdict */
    CHECK_EQ(otakit_image_verifier_finish(&v, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "invalid magic byte"));

    spec_example(img);
    otakit_image_opts_t o = {OTAKIT_CHIP_ESP32S2, 0, false};
    otakit_image_verifier_init(&v, &o);
    CHECK_EQ(otakit_image_verifier_feed(&v, img, 24), OTAKIT_ERR_IMAGE_INVALID);
    CHECK_EQ(otakit_image_verifier_finish(&v, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "chip id mismatch"));
    CHECK_EQ(diag.offset, 12);
    CHECK_EQ(info.header.chip_id, OTAKIT_CHIP_ESP32);
    /* the same image for an S2 passes with the S2 expected, and with any */
    otakit_le16_put(img + 12, OTAKIT_CHIP_ESP32S2);
    otakit_hash_buf(OTAKIT_HASH_SHA256, img, 0x130, img + 0x130);
    CHECK_EQ(verify(img, EX_LEN, &o, &info, &diag), OTAKIT_OK);
    CHECK_EQ(verify(img, EX_LEN, &ANY_OPTS, &info, &diag), OTAKIT_OK);
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "chip id mismatch"));
}

static void test_max_size(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    otakit_image_info_t info;
    otakit_diag_t diag;
    otakit_image_opts_t o = {OTAKIT_CHIP_ESP32, EX_LEN, false};
    CHECK_EQ(verify(img, EX_LEN, &o, &info, &diag), OTAKIT_OK);
    o.max_size = EX_LEN - 1;
    CHECK_EQ(verify(img, EX_LEN, &o, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "image length doesn't fit in partition"));
    /* known from the segment header: feed fails after 32 bytes */
    otakit_image_verifier_t v;
    o.max_size = 0x100;
    otakit_image_verifier_init(&v, &o);
    CHECK_EQ(otakit_image_verifier_feed(&v, img, 31), OTAKIT_OK);
    CHECK_EQ(otakit_image_verifier_feed(&v, img + 31, 1), OTAKIT_ERR_IMAGE_INVALID);
    CHECK_EQ(otakit_image_verifier_finish(&v, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "image length doesn't fit in partition"));
    CHECK_EQ(diag.offset, 0x18);
    /* known from the header alone: 24 + 8 bytes of segment header + checksum + hash */
    o.max_size = 0x40;
    otakit_image_verifier_init(&v, &o);
    CHECK_EQ(otakit_image_verifier_feed(&v, img, 24), OTAKIT_ERR_IMAGE_INVALID);
    /* a built image against a 64 KiB partition */
    size_t len;
    uint8_t *b = make_image(100, &len);
    CHECK(b != NULL);
    o.max_size = 0x10000;
    CHECK_EQ(verify(b, len, &o, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "image length doesn't fit in partition"));
    o.max_size = (uint32_t)len;
    CHECK_EQ(verify(b, len, &o, &info, &diag), OTAKIT_OK);
    free(b);
}

/* An image of n empty segments loaded at addr (data_len 0 each). */
static size_t empty_segments(uint8_t *img, unsigned n, uint32_t addr)
{
    memset(img, 0, 24);
    img[0] = 0xE9;
    img[1] = (uint8_t)n;
    size_t off = 24;
    for (unsigned i = 0; i < n; i++) {
        otakit_le32_put(img + off, addr);
        otakit_le32_put(img + off + 4, 0);
        off += 8;
    }
    size_t p = otakit_image_len_from_end((uint32_t)off, false);
    memset(img + off, 0, p - off);
    img[p - 1] = OTAKIT_IMAGE_CHECKSUM_SEED;
    return p;
}

static void test_segment_limits(void)
{
    uint8_t img[256];
    otakit_image_info_t info;
    otakit_diag_t diag;
    size_t n = empty_segments(img, 16, 0x3FFB0000u);
    CHECK_EQ(verify(img, n, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    CHECK_EQ(info.segments_parsed, 16);
    CHECK_EQ(info.segments[15].data_offset, 24 + 16 * 8);
    n = empty_segments(img, 17, 0x3FFB0000u);
    CHECK_EQ(verify(img, n, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "too many segments"));
    CHECK_EQ(diag.offset, 1);
    n = empty_segments(img, 0, 0);
    CHECK_EQ(n, 32);
    CHECK_EQ(verify(img, n, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    CHECK_EQ(info.segments_parsed, 0);
    CHECK(!info.has_desc);

    /* data_len not a multiple of 4, and 16 MiB */
    uint8_t ex[EX_LEN];
    spec_example(ex);
    otakit_le32_put(ex + 0x1C, 0x102);
    CHECK_EQ(verify(ex, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "invalid segment length"));
    CHECK_EQ(diag.offset, 0x1C);
    otakit_le32_put(ex + 0x1C, 0x1000000);
    CHECK_EQ(verify(ex, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "invalid segment length"));
    otakit_le32_put(ex + 0x1C, 0xFFFFFC);
    CHECK_EQ(verify(ex, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "truncated image"));
}

static void test_mapping_rule(void)
{
    uint8_t img[EX_LEN];
    otakit_image_info_t info;
    otakit_diag_t diag;
    /* DROM load 0x3F400024 with data at file offset 0x20: refused, but the whole
     * image is still parsed (reported by finish) */
    spec_example(img);
    otakit_le32_put(img + 0x18, 0x3F400024u);
    otakit_hash_buf(OTAKIT_HASH_SHA256, img, 0x130, img + 0x130);
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, &ESP32_OPTS);
    CHECK_EQ(otakit_image_verifier_feed(&v, img, EX_LEN), OTAKIT_OK);
    CHECK(otakit_image_verifier_complete(&v));
    CHECK_EQ(otakit_image_verifier_finish(&v, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(diag.msg != NULL && strstr(diag.msg, "doesn't match") != NULL);
    CHECK_EQ(diag.offset, 0x20);
    CHECK(info.checksum_ok);
    CHECK(info.hash_ok);
    CHECK(info.has_desc);
    /* congruent modulo 64 KiB: fine */
    otakit_le32_put(img + 0x18, 0x3F410020u);
    otakit_hash_buf(OTAKIT_HASH_SHA256, img, 0x130, img + 0x130);
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    /* IROM too */
    otakit_le32_put(img + 0x18, 0x400D0024u);
    otakit_hash_buf(OTAKIT_HASH_SHA256, img, 0x130, img + 0x130);
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(diag.msg != NULL && strstr(diag.msg, "doesn't match") != NULL);
    /* RAM addresses are not mapped: any offset */
    otakit_le32_put(img + 0x18, 0x3FFB0004u);
    otakit_hash_buf(OTAKIT_HASH_SHA256, img, 0x130, img + 0x130);
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    /* a truncation wins over the mapping note */
    otakit_le32_put(img + 0x18, 0x3F400024u);
    CHECK_EQ(verify(img, 0x100, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "truncated image"));
}

static void test_multi_segment_reseal(void)
{
    /* DROM desc, DRAM, IRAM, padding, IROM at 0x10020: like an IDF image */
    static const uint32_t loads[] = {0x3F400020u, 0x3FFB0000u, 0x40080000u, 0, 0x400D0020u};
    static const uint32_t lens[] = {0x100, 0x40, 0x84, 0, 0x200};
    uint8_t *img = calloc(1, 0x11000);
    uint32_t off = 24;
    for (int i = 0; i < 5; i++) {
        uint32_t len = lens[i];
        if (i == 3) {
            len = 0x10018 - off - 8; /* pad up to 0x10018 */
        }
        otakit_le32_put(img + off, loads[i]);
        otakit_le32_put(img + off + 4, len);
        for (uint32_t k = 0; k < len; k++) {
            img[off + 8 + k] = (uint8_t)(k * 31 + i);
        }
        off += 8 + len;
    }
    img[0] = 0xE9;
    img[1] = 5;
    img[23] = 1;
    otakit_app_desc_t d;
    memset(&d, 0, sizeof(d));
    d.magic = OTAKIT_APP_DESC_MAGIC;
    d.secure_version = 3;
    strcpy(d.project_name, "multi");
    otakit_app_desc_encode(&d, img + 0x20);
    otakit_image_info_t info;
    otakit_diag_t diag;
    CHECK_EQ(verify(img, 0x11000, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK_EQ(info.segments_parsed, 5);
    CHECK_EQ(info.segments[4].data_offset, 0x10020);
    reseal(img, &info);
    CHECK_EQ(verify(img, 0x11000, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    CHECK_EQ(info.image_len, otakit_image_len_from_end(0x10220, true));
    CHECK(info.has_desc);
    CHECK_EQ(info.desc.secure_version, 3);
    CHECK_STR(info.desc.project_name, "multi");
    free(img);
}

/* ---- flash ------------------------------------------------------------------------ */

static void test_verify_flash(void)
{
    struct memflash m;
    otakit_flash_t f = mf_init(&m);
    size_t len;
    uint8_t *img = make_image(5000, &len);
    CHECK(img != NULL);
    memcpy(m.mem + 0x10000, img, len);
    otakit_image_info_t info, ref;
    otakit_diag_t diag;
    CHECK_EQ(verify(img, len, &ESP32_OPTS, &ref, &diag), OTAKIT_OK);
    otakit_image_opts_t o = {OTAKIT_CHIP_ESP32, 0x20000, false};
    CHECK_EQ(otakit_image_verify_flash(&f, 0x10000, &o, &info, &diag), OTAKIT_OK);
    CHECK(same_info(&ref, &info));
    CHECK_EQ(otakit_image_verify_flash(&f, 0x10000, NULL, &info, &diag), OTAKIT_OK);
    /* too small a partition */
    o.max_size = 0x10000;
    CHECK_EQ(otakit_image_verify_flash(&f, 0x10000, &o, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "image length doesn't fit in partition"));
    /* blank flash */
    o.max_size = 0x10000;
    CHECK_EQ(otakit_image_verify_flash(&f, 0x30000, &o, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "invalid magic byte"));
    /* an image running past the end of flash */
    CHECK_EQ(otakit_image_verify_flash(&f, MF_SIZE - 0x100, NULL, &info, &diag),
             OTAKIT_ERR_IMAGE_INVALID);
    memcpy(m.mem + MF_SIZE - 0x130, img, 0x130); /* through the padding segment's header */
    CHECK_EQ(otakit_image_verify_flash(&f, MF_SIZE - 0x130, NULL, &info, &diag),
             OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "truncated image"));
    CHECK_EQ(diag.offset, 0x130);
    CHECK_EQ(info.segments_parsed, 2);
    /* a read error */
    m.fail_reads_from = 0x10000 + 0x3000;
    o.max_size = 0x20000;
    CHECK_EQ(otakit_image_verify_flash(&f, 0x10000, &o, &info, &diag), OTAKIT_ERR_IMAGE_FLASH_FAIL);
    CHECK_EQ(otakit_image_verify_flash(&f, MF_SIZE + 1, &o, &info, &diag),
             OTAKIT_ERR_IMAGE_FLASH_FAIL);
    m.fail_reads_from = -1;

    /* the app description, read straight from flash */
    otakit_app_desc_t d;
    CHECK_EQ(otakit_image_read_desc(&f, 0x10000, &d), OTAKIT_OK);
    CHECK_STR(d.project_name, "unit");
    CHECK_STR(d.version, "0.1");
    CHECK_EQ(otakit_image_read_desc(&f, 0x30000, &d), OTAKIT_ERR_NOT_FOUND);
    CHECK_EQ(otakit_image_read_desc(&f, MF_SIZE - 0x10, &d), OTAKIT_ERR_INVALID_SIZE);
    m.fail_reads_from = 0;
    CHECK_EQ(otakit_image_read_desc(&f, 0x10000, &d), OTAKIT_ERR_FLASH_OP_FAIL);
    m.fail_reads_from = -1;

    /* the program, found through flash */
    uint32_t poff, plen;
    CHECK_EQ(otakit_image_program_flash(&f, 0x10000, &ref, &poff, &plen), OTAKIT_OK);
    CHECK_EQ(poff, OTAKIT_IMAGE_PROG_DATA_OFFSET);
    CHECK_EQ(plen, 5000);
    uint8_t *prog = make_prog(5000, 7);
    CHECK_MEM(m.mem + 0x10000 + poff, prog, 5000);
    free(prog);
    free(img);
    free(m.mem);
}

/* ---- building ----------------------------------------------------------------------- */

static void test_build_roundtrip(void)
{
    static const size_t lens[] = {0, 1, 2, 3, 4, 5, 63, 64, 65, 4096, 70001};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t n = lens[k], len;
        uint8_t *prog = make_prog(n, (uint32_t)k + 1);
        otakit_image_build_opts_t o;
        otakit_image_build_opts_init(&o);
        o.project = "hello_world";
        o.version = "v1.2.3";
        o.secure_version = 4;
        o.date = "Nov 24 2026";
        o.time = "12:00:00";
        uint8_t *img = NULL;
        CHECK_EQ(otakit_image_build(&o, prog, n, &img, &len), OTAKIT_OK);
        if (img == NULL) {
            free(prog);
            continue;
        }
        otakit_image_info_t info;
        otakit_diag_t diag;
        CHECK_EQ(verify(img, len, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
        CHECK_EQ(info.image_len, len);
        CHECK_EQ(len % 16, 0);
        CHECK_EQ(info.header.chip_id, OTAKIT_CHIP_ESP32);
        CHECK_EQ(info.header.spi_mode, 2);
        CHECK_EQ(info.header.spi_size, 2);
        CHECK_EQ(info.header.spi_speed, 0);
        CHECK_EQ(info.header.wp_pin, 0xEE);
        CHECK_EQ(info.header.hash_appended, 1);
        CHECK_EQ(info.segments_parsed, 3);
        CHECK_EQ(info.segments[0].load_addr, OTAKIT_IMAGE_DESC_LOAD_ADDR);
        CHECK_EQ(info.segments[0].data_offset, 0x20);
        CHECK_EQ(info.segments[0].data_len, 256);
        CHECK_EQ(info.segments[1].load_addr, 0);
        CHECK_EQ(info.segments[2].load_addr, OTAKIT_IMAGE_PROG_LOAD_ADDR);
        CHECK_EQ(info.segments[2].data_offset, 0x10020);
        CHECK_EQ(info.segments[2].data_len % 4, 0);
        CHECK(info.has_desc);
        CHECK_STR(info.desc.project_name, "hello_world");
        CHECK_STR(info.desc.version, "v1.2.3");
        CHECK_STR(info.desc.idf_ver, "otakit");
        CHECK_STR(info.desc.date, "Nov 24 2026");
        CHECK_STR(info.desc.time, "12:00:00");
        CHECK_EQ(info.desc.secure_version, 4);
        uint8_t sha[32];
        otakit_hash_buf(OTAKIT_HASH_SHA256, prog, n, sha);
        CHECK_MEM(info.desc.app_elf_sha256, sha, 32);
        const uint8_t *got;
        size_t got_len;
        CHECK_EQ(otakit_image_program(img, len, &info, &got, &got_len), OTAKIT_OK);
        CHECK_EQ(got_len, n);
        CHECK(n == 0 || memcmp(got, prog, n) == 0);
        CHECK(got == img + 0x10020);
        free(img);
        free(prog);
    }
}

static void test_build_refusals(void)
{
    otakit_image_build_opts_t o;
    otakit_image_build_opts_init(&o);
    uint8_t prog[8] = {0x7F, 'E', 'L', 'F'};
    uint8_t *img = NULL;
    size_t len;
    CHECK_EQ(otakit_image_build(&o, prog, 8, &img, &len), OTAKIT_ERR_INVALID_ARG); /* no names */
    o.project = "p";
    o.version = "0123456789abcdef0123456789abcdef0"; /* 33 bytes */
    CHECK_EQ(otakit_image_build(&o, prog, 8, &img, &len), OTAKIT_ERR_INVALID_ARG);
    o.version = "0123456789abcdef0123456789abcdef"; /* 32 is fine */
    o.date = "01234567890123456";                   /* 17 */
    CHECK_EQ(otakit_image_build(&o, prog, 8, &img, &len), OTAKIT_ERR_INVALID_ARG);
    o.date = NULL;
    CHECK_EQ(otakit_image_build(&o, NULL, 8, &img, &len), OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_image_build(&o, prog, (size_t)OTAKIT_IMAGE_PROG_MAX + 1, &img, &len),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_image_build(&o, prog, 8, &img, &len), OTAKIT_OK);
    otakit_image_info_t info;
    otakit_diag_t diag;
    CHECK_EQ(verify(img, len, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    CHECK_EQ(strlen(info.desc.version), 32);
    CHECK_STR(info.desc.date, "");
    free(img);

    /* another chip id: the ESP32 device refuses it */
    o.chip_id = OTAKIT_CHIP_ESP32C3;
    CHECK_EQ(otakit_image_build(&o, prog, 8, &img, &len), OTAKIT_OK);
    CHECK_EQ(verify(img, len, &ESP32_OPTS, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
    CHECK(msg_is(&diag, "chip id mismatch"));
    free(img);
}

static void test_program_not_found(void)
{
    uint8_t img[EX_LEN];
    spec_example(img);
    otakit_image_info_t info;
    otakit_diag_t diag;
    CHECK_EQ(verify(img, EX_LEN, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    const uint8_t *p;
    size_t n;
    CHECK_EQ(otakit_image_program(img, EX_LEN, &info, &p, &n), OTAKIT_ERR_NOT_FOUND);

    /* a built image whose trailer length is tampered with: not a program segment */
    size_t len;
    uint8_t *b = make_image(10, &len);
    CHECK_EQ(verify(b, len, &ESP32_OPTS, &info, &diag), OTAKIT_OK);
    CHECK_EQ(otakit_image_program(b, len, &info, &p, &n), OTAKIT_OK);
    CHECK_EQ(n, 10);
    otakit_le32_put(b + 0x10020 + 12 + 8, 100);
    CHECK_EQ(otakit_image_program(b, len, &info, &p, &n), OTAKIT_ERR_NOT_FOUND);
    otakit_le32_put(b + 0x10020 + 12 + 8, 10);
    b[0x10020 + 12] ^= 1; /* magic */
    CHECK_EQ(otakit_image_program(b, len, &info, &p, &n), OTAKIT_ERR_NOT_FOUND);
    b[0x10020 + 12] ^= 1;
    /* info claiming more than the buffer holds */
    CHECK_EQ(otakit_image_program(b, 0x10020, &info, &p, &n), OTAKIT_ERR_NOT_FOUND);
    free(b);
}

static void test_build_datetime(void)
{
    char date[16], tm[16];
    setenv("SOURCE_DATE_EPOCH", "0", 1);
    CHECK_EQ(otakit_image_build_datetime(date, tm), OTAKIT_OK);
    CHECK_STR(date, "Jan  1 1970");
    CHECK_STR(tm, "00:00:00");
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    CHECK_EQ(otakit_image_build_datetime(date, tm), OTAKIT_OK);
    CHECK_STR(date, "Nov 14 2023");
    CHECK_STR(tm, "22:13:20");
    setenv("SOURCE_DATE_EPOCH", "12abc", 1);
    CHECK_EQ(otakit_image_build_datetime(date, tm), OTAKIT_ERR_INVALID_ARG);
    unsetenv("SOURCE_DATE_EPOCH");
    CHECK_EQ(otakit_image_build_datetime(date, tm), OTAKIT_OK);
    CHECK_EQ(strlen(date), 11);
    CHECK_EQ(strlen(tm), 8);
}

int main(void)
{
    RUN(test_header_codec);
    RUN(test_desc_codec);
    RUN(test_len_and_names);
    RUN(test_spec_example);
    RUN(test_chunk_sizes_example);
    RUN(test_chunk_sizes_built);
    RUN(test_truncated);
    RUN(test_bit_flips);
    RUN(test_bad_magic_and_chip);
    RUN(test_max_size);
    RUN(test_segment_limits);
    RUN(test_mapping_rule);
    RUN(test_multi_segment_reseal);
    RUN(test_verify_flash);
    RUN(test_build_roundtrip);
    RUN(test_build_refusals);
    RUN(test_program_not_found);
    RUN(test_build_datetime);
    return harness_done();
}
