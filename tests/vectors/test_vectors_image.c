/* Real ESP-IDF images (tests/vectors/data/image, provenance in tests/vectors/data/README.md): every
 * one verifies for its own chip with the checksum, hash and description esptool reports; images for
 * other chips are refused on the chip id; the streaming verifier gives the same answer
 * in any chunking and from flash; corruptions are caught; the otakit command agrees. */
#include <stdbool.h>
#include <sys/wait.h>

#include "harness.h"
#include "image_build.h"
#include "otakit/hash.h"
#include "otakit/image.h"

struct vec {
    const char *path;
    uint16_t chip;
    unsigned segments;
    uint8_t checksum;
    const char *hash_prefix; /* NULL: no hash appended */
    uint32_t image_len;
    const char *project; /* NULL: no app description */
    const char *version; /* NULL: not checked */
    uint32_t secure_version;
};

static const struct vec VECS[] = {
    {"esptool-v4.11.0/hello-world-signed.bin", OTAKIT_CHIP_ESP32, 7, 0x30, "06a1d6eb", 0x2ffb0,
     "hello-world", "v3.3-beta3-21-g0706bd0d1-dirty", 0},
    {"esptool-v4.11.0/bootloader_esp32.bin", OTAKIT_CHIP_ESP32, 4, 0x83, NULL, 0x1ed0, NULL, NULL,
     0},
    {"esptool-v4.11.0/bootloader_esp32_v5_2.bin", OTAKIT_CHIP_ESP32, 4, 0xbe, "10cec8cf", 0x6890,
     NULL, NULL, 0},
    {"esptool-v4.11.0/esp_idf_blink_esp32s2.bin", OTAKIT_CHIP_ESP32S2, 6, 0x18, "10f48f4a", 0x2c860,
     "blink", "qa-test-v5.0-20220830-4-g4532e6", 0},
    {"ota_test_firmawares/hello_world.bin", OTAKIT_CHIP_ESP32, 5, 0x03, "1ebc803b", 0x2c3b0,
     "hello_world", "v5.0.4-160-g3f55377ab4-dirty", 0},
    {"ota_test_firmawares/tls_1_3_test.bin", OTAKIT_CHIP_ESP32, 5, 0xff, "80b6d6f1", 0x2ad40,
     "hello_world", NULL, 0},
    {"ota_test_firmawares/qemu_hello_world.bin", OTAKIT_CHIP_ESP32, 6, 0xe8, "c421f170", 0x30000,
     "hello_world", NULL, 0},
    {"ota_test_firmawares/qemu_simple_ota.bin", OTAKIT_CHIP_ESP32, 6, 0x91, "05110a38", 0x9ffb0,
     "simple_ota", NULL, 0},
    {"ota_test_firmawares/qemu_simple_ota1.bin", OTAKIT_CHIP_ESP32, 6, 0xf2, "2d573380", 0x9ffb0,
     "simple_ota", NULL, 0},
    {"ota_test_firmawares/asymmetric_ota_esp32.bin", OTAKIT_CHIP_ESP32, 6, 0x5c, "6fef18e0",
     0xc0630, "asymmetric_ota", "94b03d2-dirty", 0},
    {"ota_test_firmawares/anti_rollback_4_esp32c2.bin", OTAKIT_CHIP_ESP32C2, 5, 0xa3, "6f97e9d6",
     0x9de90, "asymmetric_ota", "0984a8c-dirty", 1},
};
#define NVECS (sizeof(VECS) / sizeof(VECS[0]))

static uint8_t *load(const struct vec *v, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/image/%s", OTAKIT_VECTORS, v->path);
    uint8_t *buf = harness_read_file(path, len);
    if (buf == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
    }
    return buf;
}

static void hex(char *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", in[i]);
    }
}

static int same(const otakit_image_info_t *a, const otakit_image_info_t *b)
{
    return a->segments_parsed == b->segments_parsed && a->image_len == b->image_len &&
           a->checksum_calc == b->checksum_calc && a->checksum_ok == b->checksum_ok &&
           a->hash_ok == b->hash_ok && a->has_desc == b->has_desc &&
           memcmp(a->hash_calc, b->hash_calc, 32) == 0 &&
           memcmp(a->segments, b->segments, sizeof(a->segments[0]) * a->segments_parsed) == 0;
}

static void test_fields(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        const struct vec *v = &VECS[k];
        size_t len;
        uint8_t *buf = load(v, &len);
        CHECK(buf != NULL);
        if (buf == NULL) {
            continue;
        }
        h_current = v->path;
        otakit_image_opts_t o = {v->chip, 0, false};
        otakit_image_info_t info;
        otakit_diag_t diag;
        CHECK_EQ(otakit_image_verify_buf(buf, len, &o, &info, &diag), OTAKIT_OK);
        CHECK_EQ(info.header.chip_id, v->chip);
        CHECK_EQ(info.segments_parsed, v->segments);
        CHECK_EQ(info.header.segment_count, v->segments);
        CHECK_EQ(info.checksum_stored, v->checksum);
        CHECK_EQ(info.checksum_calc, v->checksum);
        CHECK(info.checksum_ok);
        CHECK_EQ(info.image_len, v->image_len);
        CHECK(info.image_len <= len);
        CHECK_EQ(info.hash_present, v->hash_prefix != NULL);
        if (v->hash_prefix != NULL) {
            char h[65];
            hex(h, info.hash_stored, 32);
            CHECK(strncmp(h, v->hash_prefix, 8) == 0);
            CHECK(info.hash_ok);
            /* the hash is SHA-256 of [0, P) */
            uint8_t sha[32];
            otakit_hash_buf(OTAKIT_HASH_SHA256, buf, info.image_len - 32, sha);
            CHECK_MEM(sha, info.hash_calc, 32);
        }
        CHECK_EQ(info.has_desc, v->project != NULL);
        if (v->project != NULL) {
            CHECK_STR(info.desc.project_name, v->project);
            CHECK_EQ(info.desc.secure_version, v->secure_version);
            if (v->version != NULL) {
                CHECK_STR(info.desc.version, v->version);
            }
            CHECK_EQ(info.segments[0].data_offset, 0x20);
        }
        /* segments are contiguous from offset 24 */
        uint32_t off = 24;
        for (unsigned i = 0; i < info.segments_parsed; i++) {
            CHECK_EQ(info.segments[i].data_offset, off + 8);
            off += 8 + info.segments[i].data_len;
        }
        CHECK_EQ(otakit_image_len_from_end(off, info.hash_present), info.image_len);
        /* no otakit program in an ESP-IDF image */
        const uint8_t *p;
        size_t plen;
        CHECK_EQ(otakit_image_program(buf, len, &info, &p, &plen), OTAKIT_ERR_NOT_FOUND);
        free(buf);
    }
    h_current = "test_fields";
}

static void test_chip_check(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        const struct vec *v = &VECS[k];
        size_t len;
        uint8_t *buf = load(v, &len);
        if (buf == NULL) {
            CHECK(0);
            continue;
        }
        otakit_image_info_t info;
        otakit_diag_t diag;
        otakit_image_opts_t esp32 = {OTAKIT_CHIP_ESP32, 0, false};
        otakit_image_opts_t any = {OTAKIT_CHIP_ANY, 0, false};
        otakit_err_t err = otakit_image_verify_buf(buf, len, &esp32, &info, &diag);
        if (v->chip == OTAKIT_CHIP_ESP32) {
            CHECK_EQ(err, OTAKIT_OK);
        } else {
            CHECK_EQ(err, OTAKIT_ERR_IMAGE_INVALID);
            CHECK_STR(diag.msg, "chip id mismatch");
            CHECK_EQ(diag.offset, 12);
        }
        CHECK_EQ(otakit_image_verify_buf(buf, len, &any, &info, &diag), OTAKIT_OK);
        free(buf);
    }
}

/* Same verdict and info whatever the chunking: 1 byte, odd sizes, pseudo-random. */
static void test_chunking(void)
{
    uint32_t rng = 12345;
    for (size_t k = 0; k < NVECS; k++) {
        size_t len;
        uint8_t *buf = load(&VECS[k], &len);
        if (buf == NULL) {
            CHECK(0);
            continue;
        }
        otakit_image_opts_t o = {OTAKIT_CHIP_ANY, 0, false};
        otakit_image_info_t ref, got;
        otakit_diag_t diag;
        CHECK_EQ(otakit_image_verify_buf(buf, len, &o, &ref, &diag), OTAKIT_OK);
        for (int mode = len > 200000 ? 1 : 0; mode < 3; mode++) { /* 1-byte chunks: small ones */
            otakit_image_verifier_t v;
            otakit_image_verifier_init(&v, &o);
            size_t off = 0;
            while (off < len) {
                size_t n = mode == 0 ? 1 : mode == 1 ? 4093 : 1 + (rng % 3000);
                rng = rng * 1103515245u + 12345u;
                if (n > len - off) {
                    n = len - off;
                }
                CHECK_EQ(otakit_image_verifier_feed(&v, buf + off, n), OTAKIT_OK);
                off += n;
            }
            CHECK_EQ(otakit_image_verifier_finish(&v, &got, &diag), OTAKIT_OK);
            CHECK(same(&ref, &got));
        }
        free(buf);
    }
}

/* Flip bits across each image: every flip inside [0, image_len) is caught. */
static void test_corruption(void)
{
    for (size_t k = 0; k < NVECS; k++) {
        const struct vec *v = &VECS[k];
        size_t len;
        uint8_t *buf = load(v, &len);
        if (buf == NULL) {
            CHECK(0);
            continue;
        }
        otakit_image_opts_t o = {v->chip, 0, false};
        otakit_image_info_t info;
        otakit_diag_t diag;
        CHECK_EQ(otakit_image_verify_buf(buf, len, &o, &info, &diag), OTAKIT_OK);
        uint32_t ilen = info.image_len;
        unsigned caught = 0, tried = 0;
        otakit_image_info_t orig = info;
        for (uint32_t at = 24; at < ilen; at += ilen / 23 + 1) {
            /* past the image header; without a hash only segment data is covered (by
             * the checksum), as for ESP-IDF */
            bool in_data = false;
            for (unsigned i = 0; i < orig.segments_parsed; i++) {
                const otakit_image_segment_t *s = &orig.segments[i];
                in_data |= at >= s->data_offset && at - s->data_offset < s->data_len;
            }
            if (!orig.hash_present && !in_data) {
                continue;
            }
            buf[at] ^= 0x04;
            tried++;
            if (otakit_image_verify_buf(buf, len, &o, &info, &diag) == OTAKIT_ERR_IMAGE_INVALID) {
                caught++;
            }
            buf[at] ^= 0x04;
        }
        CHECK_EQ(caught, tried);
        /* truncated by one byte, and to half */
        CHECK_EQ(otakit_image_verify_buf(buf, ilen - 1, &o, &info, &diag),
                 OTAKIT_ERR_IMAGE_INVALID);
        CHECK_STR(diag.msg, "truncated image");
        CHECK_EQ(otakit_image_verify_buf(buf, ilen / 2, &o, &info, &diag),
                 OTAKIT_ERR_IMAGE_INVALID);
        /* a partition one byte too small */
        o.max_size = ilen - 1;
        CHECK_EQ(otakit_image_verify_buf(buf, len, &o, &info, &diag), OTAKIT_ERR_IMAGE_INVALID);
        CHECK_STR(diag.msg, "image length doesn't fit in partition");
        o.max_size = ilen;
        CHECK_EQ(otakit_image_verify_buf(buf, len, &o, &info, &diag), OTAKIT_OK);
        free(buf);
    }
}

/* RAM flash holding one vector at 0x10000. */
struct ram {
    uint8_t *mem;
};
static otakit_err_t ram_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    memcpy(dst, ((struct ram *)ctx)->mem + addr, len);
    return OTAKIT_OK;
}
static otakit_err_t ram_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    (void)ctx, (void)addr, (void)src, (void)len;
    return OTAKIT_ERR_NOT_SUPPORTED;
}
static otakit_err_t ram_erase(void *ctx, uint32_t addr, size_t len)
{
    (void)ctx, (void)addr, (void)len;
    return OTAKIT_ERR_NOT_SUPPORTED;
}

static void test_flash(void)
{
    const uint32_t size = 0x400000;
    struct ram r = {malloc(size)};
    otakit_flash_t f = {&r, ram_read, ram_write, ram_erase, size, 0x1000, 1, NULL};
    for (size_t k = 0; k < NVECS; k++) {
        const struct vec *v = &VECS[k];
        size_t len;
        uint8_t *buf = load(v, &len);
        if (buf == NULL) {
            CHECK(0);
            continue;
        }
        memset(r.mem, 0xFF, size);
        memcpy(r.mem + 0x110000, buf, len);
        otakit_image_opts_t o = {OTAKIT_CHIP_ESP32, 0x100000, false};
        otakit_image_info_t info, ref;
        otakit_diag_t diag;
        otakit_err_t want = v->chip == OTAKIT_CHIP_ESP32 ? OTAKIT_OK : OTAKIT_ERR_IMAGE_INVALID;
        CHECK_EQ(otakit_image_verify_flash(&f, 0x110000, &o, &info, &diag), want);
        o.chip_id = OTAKIT_CHIP_ANY;
        CHECK_EQ(otakit_image_verify_buf(buf, len, &o, &ref, &diag), OTAKIT_OK);
        CHECK_EQ(otakit_image_verify_flash(&f, 0x110000, &o, &info, &diag), OTAKIT_OK);
        CHECK(same(&ref, &info));
        otakit_app_desc_t d;
        otakit_err_t derr = otakit_image_read_desc(&f, 0x110000, &d);
        if (v->project != NULL) {
            CHECK_EQ(derr, OTAKIT_OK);
            CHECK_STR(d.project_name, v->project);
            CHECK_EQ(d.secure_version, v->secure_version);
        } else {
            CHECK_EQ(derr, OTAKIT_ERR_NOT_FOUND);
        }
        free(buf);
    }
    free(r.mem);
}

/* The otakit command over the same files. */
static int run(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", OTAKIT_BIN, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void)
{
    char a[512];
    for (size_t k = 0; k < NVECS; k++) {
        const struct vec *v = &VECS[k];
        snprintf(a, sizeof(a), "image verify '%s/image/%s'", OTAKIT_VECTORS, v->path);
        CHECK_EQ(run(a), v->chip == OTAKIT_CHIP_ESP32 ? 0 : 1);
        snprintf(a, sizeof(a), "image verify --chip any '%s/image/%s'", OTAKIT_VECTORS, v->path);
        CHECK_EQ(run(a), 0);
        snprintf(a, sizeof(a), "image info '%s/image/%s'", OTAKIT_VECTORS, v->path);
        CHECK_EQ(run(a), 0);
    }
    snprintf(a, sizeof(a), "image verify --chip esp32s2 '%s/image/%s'", OTAKIT_VECTORS,
             "esptool-v4.11.0/esp_idf_blink_esp32s2.bin");
    CHECK_EQ(run(a), 0);
    snprintf(a, sizeof(a), "image verify --chip esp32c2 '%s/image/%s'", OTAKIT_VECTORS,
             "ota_test_firmawares/anti_rollback_4_esp32c2.bin");
    CHECK_EQ(run(a), 0);
    snprintf(a, sizeof(a), "image verify --partition-size 0x30000 '%s/image/%s'", OTAKIT_VECTORS,
             "ota_test_firmawares/hello_world.bin");
    CHECK_EQ(run(a), 0);
    snprintf(a, sizeof(a), "image verify --partition-size 0x20000 '%s/image/%s'", OTAKIT_VECTORS,
             "ota_test_firmawares/hello_world.bin");
    CHECK_EQ(run(a), 1);
}

int main(void)
{
    RUN(test_fields);
    RUN(test_chip_check);
    RUN(test_chunking);
    RUN(test_corruption);
    RUN(test_flash);
    RUN(test_cli);
    return harness_done();
}
