/* The hash hook (include/otakit/hash.h) as the host port implements it: known digests
 * (FIPS 180-2 and RFC 1321 test vectors), streaming in any chunking equals one shot,
 * an unknown algorithm is refused, and an abandoned hash releases what it took (the
 * ASan build's leak check would report it otherwise). */
#include "harness.h"
#include "otakit/hash.h"

static void hex(char *out, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}

static void test_known_digests(void)
{
    uint8_t d[OTAKIT_HASH_MAX_LEN];
    char h[2 * OTAKIT_HASH_MAX_LEN + 1];
    CHECK_EQ(otakit_hash_buf(OTAKIT_HASH_SHA256, "abc", 3, d), OTAKIT_OK);
    hex(h, d, OTAKIT_SHA256_LEN);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_EQ(otakit_hash_buf(OTAKIT_HASH_SHA256, NULL, 0, d), OTAKIT_OK);
    hex(h, d, OTAKIT_SHA256_LEN);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ(otakit_hash_buf(OTAKIT_HASH_MD5, "abc", 3, d), OTAKIT_OK);
    hex(h, d, OTAKIT_MD5_LEN);
    CHECK_STR(h, "900150983cd24fb0d6963f7d28e17f72");
    CHECK_EQ(otakit_hash_len(OTAKIT_HASH_SHA256), 32);
    CHECK_EQ(otakit_hash_len(OTAKIT_HASH_MD5), 16);
}

static void test_streaming_matches_one_shot(void)
{
    static uint8_t buf[10000];
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 7 + 3);
    }
    uint8_t want[32], got[32];
    CHECK_EQ(otakit_hash_buf(OTAKIT_HASH_SHA256, buf, sizeof(buf), want), OTAKIT_OK);
    const size_t chunks[] = {1, 63, 64, 65, 4096};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        otakit_hash_ctx_t ctx;
        CHECK_EQ(otakit_hash_start(&ctx, OTAKIT_HASH_SHA256), OTAKIT_OK);
        for (size_t off = 0; off < sizeof(buf); off += chunks[c]) {
            size_t n = sizeof(buf) - off < chunks[c] ? sizeof(buf) - off : chunks[c];
            CHECK_EQ(otakit_hash_update(&ctx, buf + off, n), OTAKIT_OK);
        }
        memset(got, 0, sizeof(got));
        CHECK_EQ(otakit_hash_finish(&ctx, got), OTAKIT_OK);
        CHECK_MEM(got, want, 32);
    }
}

static void test_unknown_algorithm_and_abandon(void)
{
    otakit_hash_ctx_t ctx;
    uint8_t d[32];
    CHECK_EQ(otakit_hash_start(&ctx, (otakit_hash_alg_t)7), OTAKIT_ERR_NOT_SUPPORTED);
    CHECK_EQ(otakit_hash_buf((otakit_hash_alg_t)7, "x", 1, d), OTAKIT_ERR_NOT_SUPPORTED);
    CHECK_EQ(otakit_hash_len((otakit_hash_alg_t)7), 0);
    CHECK_EQ(otakit_hash_buf(OTAKIT_HASH_SHA256, "x", 1, NULL), OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_hash_start(&ctx, OTAKIT_HASH_MD5), OTAKIT_OK);
    CHECK_EQ(otakit_hash_update(&ctx, "abc", 3), OTAKIT_OK);
    CHECK_EQ(otakit_hash_finish(&ctx, NULL), OTAKIT_OK);
}

int main(void)
{
    RUN(test_known_digests);
    RUN(test_streaming_matches_one_shot);
    RUN(test_unknown_algorithm_and_abandon);
    return harness_done();
}
