/* Secure Boot V2 against espsecure.py's own output (tests/vectors/data/signed, provenance
 * in tests/vectors/data/README.md): the signed images verify with the public key, the
 * private key and the eFuse key digest, and with nothing else; the key digests and
 * public keys otakit derives equal espsecure's byte for byte; any flipped byte of the
 * signed data or of a block field is refused; otakit's own signatures have espsecure's
 * layout; appending, key generation and the RSA peripheral constants. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>

#include "harness.h"
#include "otakit/image.h"
#include "otakit/sigblock.h"
#include "sbv2.h"

#define SIGNED OTAKIT_VECTORS "/signed/"
#define HELLO OTAKIT_VECTORS "/image/ota_test_firmawares/hello_world.bin"

struct scheme_vec {
    const char *name; /* file stem */
    otakit_sig_scheme_t scheme;
    size_t sig_off; /* where the signature starts in the block */
};

static const struct scheme_vec VECS[] = {
    {"rsa3072", OTAKIT_SIG_RSA3072, 812},
    {"ecdsa256", OTAKIT_SIG_ECDSA_P256, 101},
};

static uint8_t *read_vec(const char *dir, const char *stem, const char *suffix, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s%s", dir, stem, suffix);
    uint8_t *b = harness_read_file(path, len);
    if (b == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return b;
}

static otakit_sbv2_key_t *load_key(const char *stem, const char *suffix)
{
    size_t len;
    uint8_t *pem = read_vec(SIGNED, stem, suffix, &len);
    otakit_sbv2_key_t *key = NULL;
    const char *why = NULL;
    CHECK_EQ(otakit_sbv2_key_load(pem, len, &key, &why), OTAKIT_OK);
    free(pem);
    if (key == NULL) {
        fprintf(stderr, "cannot load %s%s: %s\n", stem, suffix, why ? why : "?");
        exit(1);
    }
    return key;
}

/* The image's own length, from the image parser: the sector follows at the next 4 KiB. */
static uint32_t sector_of(const uint8_t *buf, size_t len)
{
    otakit_image_opts_t opts = {OTAKIT_CHIP_ANY, 0, false};
    otakit_image_info_t info;
    CHECK_EQ(otakit_image_verify_buf(buf, len, &opts, &info, NULL), OTAKIT_OK);
    return otakit_sig_sector_offset(info.image_len);
}

static otakit_err_t verify_with(const uint8_t *buf, size_t len, const uint8_t digest[32],
                                otakit_sig_result_t *r)
{
    uint32_t off = otakit_sig_sector_offset(0x2c3b0); /* hello_world.bin's length */
    return otakit_sig_verify(buf, len, off, (const uint8_t(*)[32])digest, 1, &otakit_sbv2_crypto, r,
                             NULL);
}

static void key_digest(otakit_sbv2_key_t *k, uint8_t out[32])
{
    CHECK_EQ(otakit_sbv2_key_digest(k, out), OTAKIT_OK);
}

static void test_vectors_accepted(void)
{
    for (size_t v = 0; v < sizeof(VECS) / sizeof(VECS[0]); v++) {
        size_t len, dlen;
        char stem[32];
        snprintf(stem, sizeof(stem), "hw_%s.bin", VECS[v].name);
        uint8_t *img = read_vec(SIGNED, stem, "", &len);
        CHECK_EQ(len, 188416);
        CHECK_EQ(sector_of(img, len), 0x2d000);
        uint8_t *efuse = read_vec(SIGNED, VECS[v].name, "_digest.bin", &dlen);
        CHECK_EQ(dlen, 32);
        otakit_sbv2_key_t *pub = load_key(VECS[v].name, "_pub.pem");
        otakit_sbv2_key_t *priv = load_key(VECS[v].name, ".pem");
        CHECK(!otakit_sbv2_key_is_private(pub));
        CHECK(otakit_sbv2_key_is_private(priv));
        CHECK_EQ(otakit_sbv2_key_scheme(pub), VECS[v].scheme);
        CHECK_EQ(otakit_sbv2_key_scheme(priv), VECS[v].scheme);
        uint8_t dpub[32], dpriv[32];
        key_digest(pub, dpub);
        key_digest(priv, dpriv);
        /* espsecure.py digest_sbv2_public_key wrote these */
        CHECK_MEM(dpub, efuse, 32);
        CHECK_MEM(dpriv, efuse, 32);
        otakit_sig_result_t r;
        CHECK_EQ(verify_with(img, len, dpub, &r), OTAKIT_OK);
        CHECK_EQ(r.block, 0);
        CHECK_EQ(r.scheme, VECS[v].scheme);
        CHECK_EQ(r.sector.valid_count, 1);
        CHECK_EQ(verify_with(img, len, efuse, &r), OTAKIT_OK);

        /* the other vector's key is refused */
        const char *other = VECS[(v + 1) % 2].name;
        otakit_sbv2_key_t *ok = load_key(other, "_pub.pem");
        uint8_t dother[32];
        key_digest(ok, dother);
        CHECK_EQ(verify_with(img, len, dother, &r), OTAKIT_ERR_IMAGE_INVALID);
        CHECK_EQ(r.block, -1);
        CHECK_STR(r.why[0], "signature block key is not a trusted key");

        /* the public key PEM equals espsecure.py extract_public_key's byte for byte */
        char *pem;
        size_t pem_len, want_len;
        uint8_t *want = read_vec(SIGNED, VECS[v].name, "_pub.pem", &want_len);
        CHECK_EQ(otakit_sbv2_key_pem(priv, false, &pem, &pem_len), OTAKIT_OK);
        CHECK_EQ(pem_len, want_len);
        CHECK(pem_len == want_len && memcmp(pem, want, want_len) == 0);
        free(pem);
        free(want);
        char *none;
        CHECK_EQ(otakit_sbv2_key_pem(pub, true, &none, &pem_len), OTAKIT_ERR_INVALID_STATE);

        otakit_sbv2_key_free(ok);
        otakit_sbv2_key_free(pub);
        otakit_sbv2_key_free(priv);
        free(efuse);
        free(img);
    }
}

/* Flip one byte, check the verdict, flip it back. */
static bool refused_after_flip(uint8_t *img, size_t len, size_t pos, const uint8_t digest[32],
                               bool fix_crc)
{
    uint32_t sec = 0x2d000;
    size_t blk = sec + ((pos - sec) / OTAKIT_SIG_BLOCK_SIZE) * OTAKIT_SIG_BLOCK_SIZE;
    uint8_t crc_save[4];
    img[pos] ^= 0x01;
    if (fix_crc) {
        memcpy(crc_save, img + blk + OTAKIT_SIG_CRC_OFFSET, 4);
        uint32_t c = otakit_sig_crc32(img + blk, OTAKIT_SIG_CRC_OFFSET);
        for (int i = 0; i < 4; i++) {
            img[blk + OTAKIT_SIG_CRC_OFFSET + i] = (uint8_t)(c >> (8 * i));
        }
    }
    otakit_sig_result_t r;
    bool refused = verify_with(img, len, digest, &r) != OTAKIT_OK;
    img[pos] ^= 0x01;
    if (fix_crc) {
        memcpy(img + blk + OTAKIT_SIG_CRC_OFFSET, crc_save, 4);
    }
    return refused;
}

static void test_flips_refused(void)
{
    for (size_t v = 0; v < sizeof(VECS) / sizeof(VECS[0]); v++) {
        size_t len, dlen;
        char stem[32];
        snprintf(stem, sizeof(stem), "hw_%s.bin", VECS[v].name);
        uint8_t *img = read_vec(SIGNED, stem, "", &len);
        uint8_t *efuse = read_vec(SIGNED, VECS[v].name, "_digest.bin", &dlen);
        const uint32_t sec = 0x2d000, image_len = 0x2c3b0;
        unsigned tried = 0, refused = 0;
        /* signed data: the header, each 997th byte, the 0xFF padding before the sector */
        for (size_t pos = 0; pos < sec; pos = pos < 64 ? pos + 1 : pos + 997) {
            tried++;
            refused += refused_after_flip(img, len, pos, efuse, false);
        }
        for (size_t pos = image_len; pos < sec; pos += 97) {
            tried++;
            refused += refused_after_flip(img, len, pos, efuse, false);
        }
        tried++;
        refused += refused_after_flip(img, len, sec - 1, efuse, false);
        /* every byte of the block up to and including the CRC, as it is */
        for (size_t pos = sec; pos < sec + OTAKIT_SIG_CRC_OFFSET + 4; pos++) {
            tried++;
            refused += refused_after_flip(img, len, pos, efuse, false);
        }
        CHECK_EQ(refused, tried);

        /* each field with the CRC made right again, so the field's own check refuses it */
        struct field {
            const char *name;
            size_t off, len;
        } rsa[] = {{"magic", 0, 1}, {"version", 1, 1},      {"image digest", 4, 32},
                   {"n", 36, 384},  {"e", 420, 4},          {"R^2 mod n", 424, 384},
                   {"M'", 808, 4},  {"signature", 812, 384}},
          ec[] = {{"magic", 0, 1},         {"version", 1, 1},   {"SHA mode", 2, 1},
                  {"image digest", 4, 32}, {"curve id", 36, 1}, {"X|Y", 37, 64},
                  {"r|s", 101, 64}};
        struct field *f = v == 0 ? rsa : ec;
        size_t nf = v == 0 ? sizeof(rsa) / sizeof(rsa[0]) : sizeof(ec) / sizeof(ec[0]);
        for (size_t i = 0; i < nf; i++) {
            size_t at[3] = {f[i].off, f[i].off + f[i].len / 2, f[i].off + f[i].len - 1};
            for (int k = 0; k < 3; k++) {
                if (!refused_after_flip(img, len, sec + at[k], efuse, true)) {
                    fprintf(stderr, "%s: %s byte %zu accepted after a flip\n", VECS[v].name,
                            f[i].name, at[k]);
                    CHECK(false);
                }
            }
        }
        /* ...while the untouched image still verifies (the flips were undone) */
        otakit_sig_result_t r;
        CHECK_EQ(verify_with(img, len, efuse, &r), OTAKIT_OK);
        free(efuse);
        free(img);
    }
}

/* R^2 mod n and M' are what the ESP32's RSA peripheral computes with: a block whose
 * values are not n's is refused even when its key digest is trusted as it stands. */
static void test_rsa_constants_checked(void)
{
    size_t len;
    uint8_t *img = read_vec(SIGNED, "hw_rsa3072.bin", "", &len);
    uint8_t *blk = img + 0x2d000;
    otakit_sig_block_t b;
    for (int which = 0; which < 2; which++) {
        size_t pos = which == 0 ? 424 + 100 : 808;
        blk[pos] ^= 0x10;
        uint32_t c = otakit_sig_crc32(blk, OTAKIT_SIG_CRC_OFFSET);
        for (int i = 0; i < 4; i++) {
            blk[OTAKIT_SIG_CRC_OFFSET + i] = (uint8_t)(c >> (8 * i));
        }
        CHECK_EQ(otakit_sig_block_parse(blk, OTAKIT_SIG_BLOCK_SIZE, &b, NULL), OTAKIT_OK);
        uint8_t d[32];
        CHECK_EQ(otakit_sig_key_digest(&otakit_sbv2_crypto, &b, d), OTAKIT_OK);
        otakit_sig_result_t r;
        CHECK_EQ(verify_with(img, len, d, &r), OTAKIT_ERR_IMAGE_INVALID);
        CHECK_STR(r.why[0], "signature does not verify");
        blk[pos] ^= 0x10;
    }
    free(img);
}

static void test_sign_layout(void)
{
    size_t in_len;
    uint8_t *in = read_vec(HELLO, "", "", &in_len);
    for (size_t v = 0; v < sizeof(VECS) / sizeof(VECS[0]); v++) {
        size_t ref_len;
        char stem[32];
        snprintf(stem, sizeof(stem), "hw_%s.bin", VECS[v].name);
        uint8_t *ref = read_vec(SIGNED, stem, "", &ref_len);
        otakit_sbv2_key_t *priv = load_key(VECS[v].name, ".pem");
        uint8_t *out = NULL, *out2 = NULL;
        size_t out_len = 0, out2_len = 0;
        otakit_diag_t d;
        CHECK_EQ(otakit_sbv2_sign_image(priv, in, in_len, 0x2c3b0, false, &out, &out_len, &d),
                 OTAKIT_OK);
        CHECK_EQ(out_len, ref_len);
        /* espsecure's bytes up to the signature: image, 0xFF padding, magic, version,
         * digest, key; after it the CRC differs, then 16 zeros and 0xFF as espsecure's */
        size_t same = 0x2d000 + VECS[v].sig_off;
        CHECK(out_len == ref_len && memcmp(out, ref, same) == 0);
        size_t tail = 0x2d000 + OTAKIT_SIG_CRC_OFFSET + 4;
        CHECK(out_len == ref_len && memcmp(out + tail, ref + tail, ref_len - tail) == 0);
        uint8_t dig[32];
        key_digest(priv, dig);
        otakit_sig_result_t r;
        CHECK_EQ(verify_with(out, out_len, dig, &r), OTAKIT_OK);
        CHECK_EQ(r.block, 0);
        /* randomized signatures: a second signing differs only in the signature and CRC */
        CHECK_EQ(otakit_sbv2_sign_image(priv, in, in_len, 0x2c3b0, false, &out2, &out2_len, &d),
                 OTAKIT_OK);
        CHECK(out2_len == out_len && memcmp(out2, out, same) == 0 &&
              memcmp(out2 + same, out + same, OTAKIT_SIG_CRC_OFFSET - VECS[v].sig_off) != 0);
        free(out2);
        /* an already signed image is refused without append */
        out2 = NULL;
        CHECK_EQ(otakit_sbv2_sign_image(priv, ref, ref_len, 0x2c3b0, false, &out2, &out2_len, &d),
                 OTAKIT_ERR_INVALID_STATE);
        CHECK(out2 == NULL);
        CHECK_EQ(d.offset, 0x2d000);
        /* a public key cannot sign */
        otakit_sbv2_key_t *pub = load_key(VECS[v].name, "_pub.pem");
        CHECK_EQ(otakit_sbv2_sign_image(pub, in, in_len, 0x2c3b0, false, &out2, &out2_len, &d),
                 OTAKIT_ERR_INVALID_STATE);
        otakit_sbv2_key_free(pub);
        free(out);
        free(ref);
        otakit_sbv2_key_free(priv);
    }
    free(in);
}

static void test_append(void)
{
    size_t len;
    uint8_t *img = read_vec(SIGNED, "hw_rsa3072.bin", "", &len);
    otakit_sbv2_key_t *rsa = load_key("rsa3072", ".pem");
    otakit_sbv2_key_t *ec = load_key("ecdsa256", ".pem");
    uint8_t drsa[32], dec[32];
    key_digest(rsa, drsa);
    key_digest(ec, dec);
    uint8_t *two = NULL, *three = NULL, *four = NULL;
    size_t two_len, three_len, four_len;
    otakit_diag_t d;
    CHECK_EQ(otakit_sbv2_sign_image(ec, img, len, 0x2c3b0, true, &two, &two_len, &d), OTAKIT_OK);
    CHECK_EQ(two_len, len);
    /* the existing block is kept byte for byte; the new one is slot 1 */
    CHECK(memcmp(two, img, 0x2d000 + OTAKIT_SIG_BLOCK_SIZE) == 0);
    otakit_sig_result_t r;
    CHECK_EQ(verify_with(two, two_len, drsa, &r), OTAKIT_OK);
    CHECK_EQ(r.block, 0);
    CHECK_EQ(verify_with(two, two_len, dec, &r), OTAKIT_OK);
    CHECK_EQ(r.block, 1);
    CHECK_EQ(r.sector.valid_count, 2);
    CHECK_EQ(otakit_sbv2_sign_image(rsa, two, two_len, 0x2c3b0, true, &three, &three_len, &d),
             OTAKIT_OK);
    CHECK_EQ(verify_with(three, three_len, drsa, &r), OTAKIT_OK);
    CHECK_EQ(r.sector.valid_count, 3);
    /* the sector's room ends at three */
    CHECK_EQ(otakit_sbv2_sign_image(rsa, three, three_len, 0x2c3b0, true, &four, &four_len, &d),
             OTAKIT_ERR_INVALID_STATE);
    CHECK(four == NULL);
    CHECK_STR(d.msg, "the signature sector already holds 3 blocks, the most it can");
    /* a sector whose block signs other bytes is not appended to */
    memcpy(three, two, two_len);
    three[0x2c3b0 + 5] ^= 1; /* the padding, which the blocks sign */
    four = NULL;
    CHECK_EQ(otakit_sbv2_sign_image(rsa, three, two_len, 0x2c3b0, true, &four, &four_len, &d),
             OTAKIT_ERR_INVALID_STATE);
    CHECK_STR(d.msg, "an existing signature block signs other bytes than this image");
    CHECK(four == NULL);
    /* junk after the image is neither padding nor a sector */
    size_t in_len;
    uint8_t *in = read_vec(HELLO, "", "", &in_len);
    uint8_t *junk = malloc(0x2e000);
    memset(junk, 0xFF, 0x2e000);
    memcpy(junk, in, in_len);
    junk[0x2d010] = 0;
    CHECK_EQ(otakit_sbv2_sign_image(rsa, junk, 0x2e000, 0x2c3b0, false, &four, &four_len, &d),
             OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(d.offset, 0x2d000);
    /* ...while erased flash after it is padding: signed as if it were not there */
    junk[0x2d010] = 0xFF;
    CHECK_EQ(otakit_sbv2_sign_image(rsa, junk, 0x2e000, 0x2c3b0, false, &four, &four_len, &d),
             OTAKIT_OK);
    CHECK_EQ(four_len, 0x2e000);
    CHECK(memcmp(four, img, 0x2d000 + 812) == 0);
    free(four);
    free(junk);
    free(in);
    free(two);
    free(three);
    otakit_sbv2_key_free(rsa);
    otakit_sbv2_key_free(ec);
    free(img);
}

static void test_generate_all_schemes(void)
{
    size_t in_len;
    uint8_t *in = read_vec(HELLO, "", "", &in_len);
    const otakit_sig_scheme_t schemes[] = {OTAKIT_SIG_RSA3072, OTAKIT_SIG_ECDSA_P192,
                                           OTAKIT_SIG_ECDSA_P256, OTAKIT_SIG_ECDSA_P384};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        otakit_sbv2_key_t *k = NULL, *back = NULL;
        CHECK_EQ(otakit_sbv2_key_generate(schemes[i], &k), OTAKIT_OK);
        if (k == NULL) {
            continue;
        }
        char *pem;
        size_t pem_len;
        CHECK_EQ(otakit_sbv2_key_pem(k, true, &pem, &pem_len), OTAKIT_OK);
        /* the traditional PEM espsecure.py writes */
        CHECK(strstr(pem, schemes[i] == OTAKIT_SIG_RSA3072
                              ? "-----BEGIN RSA PRIVATE KEY-----"
                              : "-----BEGIN EC PRIVATE KEY-----") == pem);
        CHECK_EQ(otakit_sbv2_key_load((uint8_t *)pem, pem_len, &back, NULL), OTAKIT_OK);
        free(pem);
        uint8_t d1[32], d2[32];
        key_digest(k, d1);
        key_digest(back, d2);
        CHECK_MEM(d1, d2, 32);
        uint8_t *out = NULL;
        size_t out_len;
        CHECK_EQ(otakit_sbv2_sign_image(back, in, in_len, 0x2c3b0, false, &out, &out_len, NULL),
                 OTAKIT_OK);
        otakit_sig_result_t r;
        CHECK_EQ(verify_with(out, out_len, d1, &r), OTAKIT_OK);
        CHECK_EQ(r.scheme, schemes[i]);
        if (schemes[i] == OTAKIT_SIG_ECDSA_P384) {
            CHECK_EQ(out[0x2d000 + 2], 1); /* SHA-384 */
            CHECK_EQ(out[0x2d000 + 52], OTAKIT_SIG_CURVE_P384);
        }
        free(out);
        otakit_sbv2_key_free(back);
        otakit_sbv2_key_free(k);
    }
    free(in);
}

static void test_key_refusals(void)
{
    otakit_sbv2_key_t *k = NULL;
    const char *why = NULL;
    const char junk[] = "not a key";
    CHECK_EQ(otakit_sbv2_key_load((const uint8_t *)junk, sizeof(junk), &k, &why),
             OTAKIT_ERR_INVALID_ARG);
    CHECK_STR(why, "not a PEM private or public key");
    const char broken[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    CHECK_EQ(otakit_sbv2_key_load((const uint8_t *)broken, sizeof(broken), &k, &why),
             OTAKIT_ERR_INVALID_ARG);
    CHECK(k == NULL);
    /* RSA-2048 is not a Secure Boot V2 key */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, small);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    CHECK_EQ(otakit_sbv2_key_load((const uint8_t *)data, (size_t)n, &k, &why),
             OTAKIT_ERR_NOT_SUPPORTED);
    CHECK(strstr(why, "3072") != NULL);
    BIO_free(bio);
    EVP_PKEY_free(small);
    /* nor is an EC key on another curve */
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k1, NULL, NULL, 0, NULL, NULL);
    n = BIO_get_mem_data(bio, &data);
    CHECK_EQ(otakit_sbv2_key_load((const uint8_t *)data, (size_t)n, &k, &why),
             OTAKIT_ERR_NOT_SUPPORTED);
    BIO_free(bio);
    EVP_PKEY_free(k1);
}

int main(void)
{
    RUN(test_vectors_accepted);
    RUN(test_flips_refused);
    RUN(test_rsa_constants_checked);
    RUN(test_sign_layout);
    RUN(test_append);
    RUN(test_generate_all_schemes);
    RUN(test_key_refusals);
    return harness_done();
}
