/* The Secure Boot V2 signature sector parser and acceptance rule of the core
 * (src/core/sigblock.c), with a toy signature scheme standing in for RSA/ECDSA: a block's
 * "signature" is valid when it starts with the image digest. The real crypto is tested
 * against espsecure.py's output in tests/vectors/test_vectors_sbv2.c. */
#include <openssl/sha.h>
#include <stdbool.h>

#include "harness.h"
#include "otakit/sigblock.h"

#define SECTOR_OFF 0x2000u
#define TOTAL (SECTOR_OFF + OTAKIT_SIG_SECTOR_SIZE)

static unsigned hash_calls, verify_calls;

static otakit_err_t toy_hash(void *ctx, const uint8_t *data, size_t len, uint8_t *out,
                             size_t out_len)
{
    (void)ctx;
    hash_calls++;
    if (out_len == 32) {
        return SHA256(data, len, out) != NULL ? OTAKIT_OK : OTAKIT_FAIL;
    }
    if (out_len == 48) {
        return SHA384(data, len, out) != NULL ? OTAKIT_OK : OTAKIT_FAIL;
    }
    return OTAKIT_ERR_INVALID_ARG;
}

static otakit_err_t toy_verify(void *ctx, const otakit_sig_block_t *blk, const uint8_t *digest,
                               size_t digest_len)
{
    (void)ctx;
    verify_calls++;
    if (blk->sig_len < digest_len || memcmp(blk->sig, digest, digest_len) != 0) {
        return OTAKIT_ERR_IMAGE_INVALID;
    }
    return OTAKIT_OK;
}

static const otakit_sig_crypto_t TOY = {NULL, toy_hash, toy_verify};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void fix_crc(uint8_t *b)
{
    put32(b + OTAKIT_SIG_CRC_OFFSET, otakit_sig_crc32(b, OTAKIT_SIG_CRC_OFFSET));
}

/* A block of a scheme over data[0, SECTOR_OFF): digest, a key filled with key_seed, and
 * a toy signature (the digest), then the CRC. */
static void make_block(uint8_t *b, otakit_sig_scheme_t scheme, const uint8_t *data,
                       uint8_t key_seed)
{
    memset(b, 0, OTAKIT_SIG_BLOCK_SIZE);
    b[0] = OTAKIT_SIG_BLOCK_MAGIC;
    size_t dlen = scheme == OTAKIT_SIG_ECDSA_P384 ? 48 : 32;
    uint8_t d[48];
    toy_hash(NULL, data, SECTOR_OFF, d, dlen);
    memcpy(b + 4, d, dlen);
    if (scheme == OTAKIT_SIG_RSA3072) {
        b[1] = OTAKIT_SIG_VERSION_RSA;
        memset(b + 36, key_seed, 384);
        put32(b + 420, 65537);
        memset(b + 424, key_seed ^ 0x5A, 384);
        put32(b + 808, 0x12345678);
        memcpy(b + 812, d, 32);
    } else {
        b[1] = OTAKIT_SIG_VERSION_ECDSA;
        size_t key_off = scheme == OTAKIT_SIG_ECDSA_P384 ? 52 : 36;
        size_t field = scheme == OTAKIT_SIG_ECDSA_P384 ? 96 : 64;
        b[2] = scheme == OTAKIT_SIG_ECDSA_P384 ? 1 : 0;
        b[key_off] = scheme == OTAKIT_SIG_ECDSA_P192 ? 1 : scheme == OTAKIT_SIG_ECDSA_P256 ? 2 : 3;
        memset(b + key_off + 1, key_seed, field);
        memcpy(b + key_off + 1 + field, d, dlen);
    }
    fix_crc(b);
}

static uint8_t img[TOTAL];

/* data: a pattern; sector: erased */
static void reset_image(void)
{
    for (size_t i = 0; i < SECTOR_OFF; i++) {
        img[i] = (uint8_t)(i * 7 + 3);
    }
    memset(img + SECTOR_OFF, 0xFF, OTAKIT_SIG_SECTOR_SIZE);
}

static void key_digest_of(const uint8_t *block, uint8_t out[32])
{
    otakit_sig_block_t blk;
    CHECK_EQ(otakit_sig_block_parse(block, OTAKIT_SIG_BLOCK_SIZE, &blk, NULL), OTAKIT_OK);
    CHECK_EQ(otakit_sig_key_digest(&TOY, &blk, out), OTAKIT_OK);
}

static void test_sector_offset_and_crc(void)
{
    CHECK_EQ(otakit_sig_sector_offset(0), 0);
    CHECK_EQ(otakit_sig_sector_offset(1), 0x1000);
    CHECK_EQ(otakit_sig_sector_offset(0x1000), 0x1000);
    CHECK_EQ(otakit_sig_sector_offset(0x2c3b0), 0x2d000); /* hello_world.bin, spec §13 */
    CHECK_EQ(otakit_sig_sector_offset(0xFFFFF001u), 0);   /* wraps: no room in 32 bits */
    CHECK_EQ(otakit_sig_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u); /* zlib's */
    CHECK_EQ(otakit_sig_crc32(NULL, 0), 0);
    CHECK_STR(otakit_sig_scheme_name(OTAKIT_SIG_RSA3072), "RSA-3072");
    CHECK_STR(otakit_sig_scheme_name(OTAKIT_SIG_ECDSA_P256), "ECDSA-P256");
    CHECK_STR(otakit_sig_scheme_name(OTAKIT_SIG_ECDSA_P384), "ECDSA-P384");
    CHECK_STR(otakit_sig_scheme_name((otakit_sig_scheme_t)99), "unknown");
}

static void test_parse_fields(void)
{
    reset_image();
    uint8_t b[OTAKIT_SIG_BLOCK_SIZE];
    otakit_sig_block_t blk;
    otakit_diag_t d;

    make_block(b, OTAKIT_SIG_RSA3072, img, 0xA5);
    CHECK_EQ(otakit_sig_block_parse(b, sizeof(b), &blk, &d), OTAKIT_OK);
    CHECK(d.msg == NULL);
    CHECK_EQ(blk.scheme, OTAKIT_SIG_RSA3072);
    CHECK_EQ(blk.version, 2);
    CHECK(blk.digest == b + 4);
    CHECK_EQ(blk.digest_len, 32);
    CHECK(blk.key == b + 36);
    CHECK_EQ(blk.key_len, 776);
    CHECK(blk.rsa_n == b + 36);
    CHECK_EQ(blk.rsa_e, 65537);
    CHECK(blk.rsa_rinv == b + 424);
    CHECK_EQ(blk.rsa_mdash, 0x12345678);
    CHECK(blk.sig == b + 812);
    CHECK_EQ(blk.sig_len, 384);

    make_block(b, OTAKIT_SIG_ECDSA_P256, img, 0x11);
    CHECK_EQ(otakit_sig_block_parse(b, sizeof(b), &blk, &d), OTAKIT_OK);
    CHECK_EQ(blk.scheme, OTAKIT_SIG_ECDSA_P256);
    CHECK_EQ(blk.curve_id, 2);
    CHECK(blk.key == b + 36);
    CHECK_EQ(blk.key_len, 65);
    CHECK(blk.ec_xy == b + 37);
    CHECK_EQ(blk.coord_len, 32);
    CHECK(blk.sig == b + 101);
    CHECK_EQ(blk.sig_len, 64);

    make_block(b, OTAKIT_SIG_ECDSA_P192, img, 0x11);
    CHECK_EQ(otakit_sig_block_parse(b, sizeof(b), &blk, &d), OTAKIT_OK);
    CHECK_EQ(blk.scheme, OTAKIT_SIG_ECDSA_P192);
    CHECK_EQ(blk.coord_len, 24);
    CHECK_EQ(blk.key_len, 65);
    CHECK(blk.sig == b + 101);
    CHECK_EQ(blk.sig_len, 48);

    make_block(b, OTAKIT_SIG_ECDSA_P384, img, 0x22);
    CHECK_EQ(otakit_sig_block_parse(b, sizeof(b), &blk, &d), OTAKIT_OK);
    CHECK_EQ(blk.scheme, OTAKIT_SIG_ECDSA_P384);
    CHECK_EQ(blk.digest_len, 48);
    CHECK(blk.key == b + 52);
    CHECK_EQ(blk.key_len, 97);
    CHECK(blk.ec_xy == b + 53);
    CHECK_EQ(blk.coord_len, 48);
    CHECK(blk.sig == b + 149);
    CHECK_EQ(blk.sig_len, 96);
}

/* parse must fail with err and a diag at offset naming the problem */
static void expect_bad(const uint8_t *b, size_t len, otakit_err_t err, uint32_t offset,
                       const char *msg)
{
    otakit_sig_block_t blk;
    otakit_diag_t d = {0, NULL};
    CHECK_EQ(otakit_sig_block_parse(b, len, &blk, &d), err);
    CHECK_EQ(d.offset, offset);
    CHECK_STR(d.msg, msg);
}

static void test_parse_errors(void)
{
    reset_image();
    uint8_t b[OTAKIT_SIG_BLOCK_SIZE];
    make_block(b, OTAKIT_SIG_RSA3072, img, 1);
    expect_bad(b, OTAKIT_SIG_BLOCK_SIZE - 1, OTAKIT_ERR_IMAGE_INVALID, OTAKIT_SIG_BLOCK_SIZE - 1,
               "truncated signature block");

    uint8_t e[OTAKIT_SIG_BLOCK_SIZE];
    memset(e, 0xFF, sizeof(e));
    expect_bad(e, sizeof(e), OTAKIT_ERR_NOT_FOUND, 0, "no signature block (erased)");

    b[0] = 0xE9;
    fix_crc(b);
    expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, 0, "invalid signature block magic");

    make_block(b, OTAKIT_SIG_RSA3072, img, 1);
    b[OTAKIT_SIG_CRC_OFFSET] ^= 1;
    expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, OTAKIT_SIG_CRC_OFFSET,
               "signature block CRC mismatch");
    /* every byte before the CRC is covered by it */
    for (size_t i = 1; i < OTAKIT_SIG_CRC_OFFSET; i += 13) {
        make_block(b, OTAKIT_SIG_RSA3072, img, 1);
        b[i] ^= 0x40;
        expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, OTAKIT_SIG_CRC_OFFSET,
                   "signature block CRC mismatch");
    }

    make_block(b, OTAKIT_SIG_RSA3072, img, 1);
    b[1] = 0x01; /* Secure Boot V1 is not a block version */
    fix_crc(b);
    expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, 1, "unknown signature block version");

    make_block(b, OTAKIT_SIG_ECDSA_P256, img, 1);
    b[2] = 2;
    fix_crc(b);
    expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, 2,
               "unknown ECDSA SHA mode in signature block");

    make_block(b, OTAKIT_SIG_ECDSA_P256, img, 1);
    b[36] = 3; /* P-384 with a SHA-256 digest: espsecure never writes that */
    fix_crc(b);
    expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, 36,
               "unknown ECDSA curve in signature block");

    make_block(b, OTAKIT_SIG_ECDSA_P384, img, 1);
    b[52] = 2; /* P-256 with SHA-384 */
    fix_crc(b);
    expect_bad(b, sizeof(b), OTAKIT_ERR_IMAGE_INVALID, 52,
               "unknown ECDSA curve in signature block");
}

static void test_sector_parse(void)
{
    reset_image();
    otakit_sig_sector_t s;
    otakit_diag_t d;
    uint8_t *sec = img + SECTOR_OFF;
    CHECK_EQ(otakit_sig_sector_parse(sec, OTAKIT_SIG_SECTOR_SIZE - 1, &s, &d),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_sig_sector_parse(sec, OTAKIT_SIG_SECTOR_SIZE, &s, &d), OTAKIT_ERR_NOT_FOUND);
    CHECK_EQ(s.valid_count, 0);
    CHECK_STR(s.why[0], "no signature block (erased)");

    /* slot 0 broken, slot 1 valid, slot 2 erased: each slot judged on its own */
    make_block(sec, OTAKIT_SIG_RSA3072, img, 1);
    sec[5] ^= 1;
    make_block(sec + OTAKIT_SIG_BLOCK_SIZE, OTAKIT_SIG_ECDSA_P256, img, 2);
    CHECK_EQ(otakit_sig_sector_parse(sec, OTAKIT_SIG_SECTOR_SIZE, &s, &d), OTAKIT_OK);
    CHECK_EQ(s.valid_count, 1);
    CHECK(!s.valid[0] && s.valid[1] && !s.valid[2]);
    CHECK_STR(s.why[0], "signature block CRC mismatch");
    CHECK(s.why[1] == NULL);
    CHECK_STR(s.why[2], "no signature block (erased)");
    CHECK_EQ(s.blocks[1].scheme, OTAKIT_SIG_ECDSA_P256);
    CHECK(s.blocks[1].digest == sec + OTAKIT_SIG_BLOCK_SIZE + 4);
}

static void test_verify_accepts_trusted(void)
{
    reset_image();
    uint8_t *sec = img + SECTOR_OFF;
    make_block(sec, OTAKIT_SIG_RSA3072, img, 0x31);
    uint8_t trusted[2][32];
    memset(trusted[0], 0xEE, 32);   /* some other key */
    key_digest_of(sec, trusted[1]); /* this block's */
    otakit_sig_result_t r;
    otakit_diag_t d;
    hash_calls = verify_calls = 0;
    CHECK_EQ(
        otakit_sig_verify(img, TOTAL, SECTOR_OFF, (const uint8_t(*)[32])trusted, 2, &TOY, &r, &d),
        OTAKIT_OK);
    CHECK_EQ(r.block, 0);
    CHECK_EQ(r.scheme, OTAKIT_SIG_RSA3072);
    CHECK(d.msg == NULL);
    CHECK_EQ(verify_calls, 1);
    CHECK_EQ(hash_calls, 2); /* the key digest, then the image digest */

    /* a longer buffer (a partition read whole) changes nothing */
    static uint8_t big[TOTAL + 8192];
    memcpy(big, img, TOTAL);
    memset(big + TOTAL, 0xFF, 8192);
    CHECK_EQ(otakit_sig_verify(big, sizeof(big), SECTOR_OFF, (const uint8_t(*)[32])trusted, 2, &TOY,
                               &r, &d),
             OTAKIT_OK);

    /* P-384: a SHA-384 image digest */
    reset_image();
    make_block(sec, OTAKIT_SIG_ECDSA_P384, img, 0x41);
    key_digest_of(sec, trusted[0]);
    CHECK_EQ(
        otakit_sig_verify(img, TOTAL, SECTOR_OFF, (const uint8_t(*)[32])trusted, 1, &TOY, &r, &d),
        OTAKIT_OK);
    CHECK_EQ(r.scheme, OTAKIT_SIG_ECDSA_P384);
}

static void expect_refused(const uint8_t (*trusted)[32], unsigned n, uint32_t offset,
                           const char *msg)
{
    otakit_sig_result_t r;
    otakit_diag_t d = {0, NULL};
    CHECK_EQ(otakit_sig_verify(img, TOTAL, SECTOR_OFF, trusted, n, &TOY, &r, &d),
             OTAKIT_ERR_IMAGE_INVALID);
    CHECK_EQ(r.block, -1);
    CHECK_EQ(d.offset, offset);
    CHECK_STR(d.msg, msg);
}

static void test_verify_refusals(void)
{
    reset_image();
    uint8_t *sec = img + SECTOR_OFF;
    uint8_t trusted[1][32];
    /* nothing there */
    memset(trusted[0], 0, 32);
    expect_refused((const uint8_t(*)[32])trusted, 1, SECTOR_OFF, "no signature block (erased)");

    make_block(sec, OTAKIT_SIG_ECDSA_P256, img, 0x51);
    key_digest_of(sec, trusted[0]);
    /* untrusted key */
    uint8_t other[1][32];
    memset(other[0], 0x77, 32);
    expect_refused((const uint8_t(*)[32])other, 1, SECTOR_OFF + 36,
                   "signature block key is not a trusted key");
    /* one changed byte of signed data */
    img[100] ^= 1;
    expect_refused((const uint8_t(*)[32])trusted, 1, SECTOR_OFF + 4,
                   "signature block image digest does not match the image");
    img[100] ^= 1;
    /* a signature that does not verify (CRC fixed so the block still parses) */
    sec[101] ^= 1;
    fix_crc(sec);
    expect_refused((const uint8_t(*)[32])trusted, 1, SECTOR_OFF + 101, "signature does not verify");
    /* a changed key field: not the trusted key any more */
    make_block(sec, OTAKIT_SIG_ECDSA_P256, img, 0x51);
    sec[40] ^= 1;
    fix_crc(sec);
    expect_refused((const uint8_t(*)[32])trusted, 1, SECTOR_OFF + 36,
                   "signature block key is not a trusted key");
    /* a CRC mismatch: the block does not count at all */
    make_block(sec, OTAKIT_SIG_ECDSA_P256, img, 0x51);
    sec[OTAKIT_SIG_CRC_OFFSET + 3] ^= 0x80;
    expect_refused((const uint8_t(*)[32])trusted, 1, SECTOR_OFF + OTAKIT_SIG_CRC_OFFSET,
                   "signature block CRC mismatch");
}

static void test_verify_second_block(void)
{
    reset_image();
    uint8_t *sec = img + SECTOR_OFF;
    make_block(sec, OTAKIT_SIG_RSA3072, img, 0x61);
    make_block(sec + OTAKIT_SIG_BLOCK_SIZE, OTAKIT_SIG_ECDSA_P256, img, 0x62);
    make_block(sec + 2 * OTAKIT_SIG_BLOCK_SIZE, OTAKIT_SIG_RSA3072, img, 0x63);
    uint8_t trusted[1][32];
    key_digest_of(sec + 2 * OTAKIT_SIG_BLOCK_SIZE, trusted[0]);
    otakit_sig_result_t r;
    CHECK_EQ(
        otakit_sig_verify(img, TOTAL, SECTOR_OFF, (const uint8_t(*)[32])trusted, 1, &TOY, &r, NULL),
        OTAKIT_OK);
    CHECK_EQ(r.block, 2);
    CHECK_EQ(r.sector.valid_count, 3);
    CHECK_STR(r.why[0], "signature block key is not a trusted key");
    CHECK_STR(r.why[1], "signature block key is not a trusted key");

    /* block 2's signature broken: block 1 with its own trusted key still verifies */
    uint8_t two[2][32];
    memcpy(two[0], trusted[0], 32);
    key_digest_of(sec + OTAKIT_SIG_BLOCK_SIZE, two[1]);
    sec[2 * OTAKIT_SIG_BLOCK_SIZE + 812] ^= 1;
    fix_crc(sec + 2 * OTAKIT_SIG_BLOCK_SIZE);
    CHECK_EQ(
        otakit_sig_verify(img, TOTAL, SECTOR_OFF, (const uint8_t(*)[32])two, 2, &TOY, &r, NULL),
        OTAKIT_OK);
    CHECK_EQ(r.block, 1);
}

static void test_verify_arguments(void)
{
    reset_image();
    uint8_t *sec = img + SECTOR_OFF;
    make_block(sec, OTAKIT_SIG_RSA3072, img, 0x71);
    uint8_t trusted[1][32];
    key_digest_of(sec, trusted[0]);
    const uint8_t(*t)[32] = (const uint8_t(*)[32])trusted;
    otakit_sig_result_t r;
    otakit_diag_t d;
    otakit_sig_crypto_t nohash = {NULL, NULL, toy_verify};
    CHECK_EQ(otakit_sig_verify(img, TOTAL, SECTOR_OFF, t, 1, &TOY, NULL, &d),
             OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_sig_verify(img, TOTAL, SECTOR_OFF, NULL, 1, &TOY, &r, &d),
             OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_sig_verify(img, TOTAL, SECTOR_OFF, t, 0, &TOY, &r, &d), OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_sig_verify(img, TOTAL, SECTOR_OFF, t, 1, &nohash, &r, &d),
             OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_sig_verify(img, TOTAL - 1, SECTOR_OFF, t, 1, &TOY, &r, &d),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_STR(d.msg, "no room for a signature sector");
    CHECK_EQ(otakit_sig_verify(img, TOTAL, SECTOR_OFF + 16, t, 1, &TOY, &r, &d),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_sig_verify(img, SECTOR_OFF - 1, SECTOR_OFF, t, 1, &TOY, &r, &d),
             OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(r.block, -1);
}

int main(void)
{
    RUN(test_sector_offset_and_crc);
    RUN(test_parse_fields);
    RUN(test_parse_errors);
    RUN(test_sector_parse);
    RUN(test_verify_accepts_trusted);
    RUN(test_verify_refusals);
    RUN(test_verify_second_block);
    RUN(test_verify_arguments);
    return harness_done();
}
