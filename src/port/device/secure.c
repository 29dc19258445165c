/* Secure Boot V2 checks of images on the virtual device's flash (see secure.h). */
#include "secure.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "otakit/hash.h"
#include "otakit/image.h"

/* ---- the device's crypto: what an ESP32's ROM does -------------------------------- */
/* An ESP32 checks RSA-3072 signature blocks only (RSA-PSS, SHA-256, MGF1-SHA-256, a
 * 32-byte salt); an ECDSA block is refused as a block the chip cannot check. This is
 * deliberately smaller than the host's src/host/sbv2.c, as it is linked into the
 * bootloader, which has a 28 KiB budget. R^2 mod n and M' are not checked against n: the
 * key digest, which must be a trusted one, covers them. */

static otakit_err_t dev_hash(void *ctx, const uint8_t *data, size_t len, uint8_t *out,
                             size_t out_len)
{
    (void)ctx;
    if (out_len != OTAKIT_SHA256_LEN) {
        return OTAKIT_ERR_NOT_SUPPORTED; /* SHA-384 is for P-384 blocks only */
    }
    return otakit_hash_buf(OTAKIT_HASH_SHA256, data, len, out);
}

/* OpenSSL takes big numbers in OSSL_PARAM in native byte order; the block has them
 * little-endian. */
static void to_native(uint8_t *dst, const uint8_t *le, size_t n)
{
    const uint16_t one = 1;
    bool little = *(const uint8_t *)&one == 1;
    for (size_t i = 0; i < n; i++) {
        dst[i] = little ? le[i] : le[n - 1 - i];
    }
}

/* The parameters are written out as OSSL_PARAM records (public structs) rather than
 * built with OpenSSL's helpers: every libcrypto function the bootloader calls costs it
 * a dynamic symbol, and its budget is small. */
static EVP_PKEY *rsa_key(const otakit_sig_block_t *blk, uint8_t n_buf[OTAKIT_SIG_RSA_LEN],
                         uint32_t *e)
{
    *e = blk->rsa_e;
    to_native(n_buf, blk->rsa_n, OTAKIT_SIG_RSA_LEN);
    OSSL_PARAM params[] = {
        {OSSL_PKEY_PARAM_RSA_N, OSSL_PARAM_UNSIGNED_INTEGER, n_buf, OTAKIT_SIG_RSA_LEN, 0},
        {OSSL_PKEY_PARAM_RSA_E, OSSL_PARAM_UNSIGNED_INTEGER, e, sizeof(*e), 0},
        OSSL_PARAM_END,
    };
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *fc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (fc == NULL || EVP_PKEY_fromdata_init(fc) != 1 ||
        EVP_PKEY_fromdata(fc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(fc);
    return pkey;
}

static otakit_err_t dev_verify(void *ctx, const otakit_sig_block_t *blk, const uint8_t *digest,
                               size_t digest_len)
{
    (void)ctx;
    if (blk->scheme != OTAKIT_SIG_RSA3072 || digest_len != OTAKIT_SHA256_LEN) {
        return OTAKIT_ERR_NOT_SUPPORTED;
    }
    uint8_t n_buf[OTAKIT_SIG_RSA_LEN], sig[OTAKIT_SIG_RSA_LEN];
    uint32_t e;
    for (size_t i = 0; i < sizeof(sig); i++) {
        sig[i] = blk->sig[sizeof(sig) - 1 - i]; /* the block holds it byte-reversed */
    }
    static char pss[] = OSSL_PKEY_RSA_PAD_MODE_PSS, sha256[] = "SHA256";
    int salt = 32;
    OSSL_PARAM pss_params[] = {
        {OSSL_SIGNATURE_PARAM_PAD_MODE, OSSL_PARAM_UTF8_STRING, pss, sizeof(pss) - 1, 0},
        {OSSL_SIGNATURE_PARAM_DIGEST, OSSL_PARAM_UTF8_STRING, sha256, sizeof(sha256) - 1, 0},
        {OSSL_SIGNATURE_PARAM_MGF1_DIGEST, OSSL_PARAM_UTF8_STRING, sha256, sizeof(sha256) - 1, 0},
        {OSSL_SIGNATURE_PARAM_PSS_SALTLEN, OSSL_PARAM_INTEGER, &salt, sizeof(salt), 0},
        OSSL_PARAM_END,
    };
    EVP_PKEY *pkey = rsa_key(blk, n_buf, &e);
    EVP_PKEY_CTX *c = pkey != NULL ? EVP_PKEY_CTX_new(pkey, NULL) : NULL;
    bool ok = c != NULL && EVP_PKEY_verify_init_ex(c, pss_params) == 1 &&
              EVP_PKEY_verify(c, sig, sizeof(sig), digest, digest_len) == 1;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok ? OTAKIT_OK : OTAKIT_ERR_IMAGE_INVALID;
}

static const otakit_sig_crypto_t DEVICE_CRYPTO = {NULL, dev_hash, dev_verify};

/* The signed data and the signature sector of an image, read from flash. */
static otakit_err_t read_signed(const otakit_flash_t *f, uint32_t addr, uint32_t part_size,
                                uint32_t image_len, uint8_t **buf, uint32_t *sector_off,
                                otakit_diag_t *diag)
{
    *buf = NULL;
    uint32_t off = otakit_sig_sector_offset(image_len);
    if (off == 0 || off > part_size || part_size - off < OTAKIT_SIG_SECTOR_SIZE) {
        return otakit_diag_set(diag, off, "no room for a signature sector in the partition",
                               OTAKIT_ERR_INVALID_SIZE);
    }
    size_t len = (size_t)off + OTAKIT_SIG_SECTOR_SIZE;
    uint8_t *b = malloc(len);
    if (b == NULL) {
        return otakit_diag_set(diag, 0, "out of memory", OTAKIT_ERR_NO_MEM);
    }
    otakit_err_t err = otakit_flash_read(f, addr, b, len);
    if (err != OTAKIT_OK) {
        free(b);
        return otakit_diag_set(diag, 0, "flash read failed", err);
    }
    *buf = b;
    *sector_off = off;
    return OTAKIT_OK;
}

otakit_err_t otakit_secure_verify(const otakit_flash_t *f, uint32_t addr, uint32_t part_size,
                                  uint32_t image_len,
                                  const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN],
                                  unsigned n_trusted, otakit_sig_result_t *result,
                                  otakit_diag_t *diag)
{
    memset(result, 0, sizeof(*result));
    result->block = -1;
    uint8_t *buf;
    uint32_t off;
    otakit_err_t err = read_signed(f, addr, part_size, image_len, &buf, &off, diag);
    if (err != OTAKIT_OK) {
        return err;
    }
    err = otakit_sig_verify(buf, (size_t)off + OTAKIT_SIG_SECTOR_SIZE, off, trusted, n_trusted,
                            &DEVICE_CRYPTO, result, diag);
    /* result's block pointers point into buf: only block, scheme and why are kept. */
    memset(&result->sector, 0, sizeof(result->sector));
    free(buf);
    return err;
}

otakit_err_t otakit_secure_image_keys(const otakit_flash_t *f, uint32_t addr, uint32_t part_size,
                                      uint8_t out[OTAKIT_SIG_BLOCKS_MAX][OTAKIT_SIG_KEY_DIGEST_LEN],
                                      unsigned *n)
{
    *n = 0;
    otakit_image_opts_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.chip_id = OTAKIT_CHIP_ANY;
    opts.max_size = part_size;
    otakit_image_info_t info;
    otakit_err_t err = otakit_image_verify_flash(f, addr, &opts, &info, NULL);
    if (err != OTAKIT_OK) {
        return err;
    }
    uint8_t *buf;
    uint32_t off;
    err = read_signed(f, addr, part_size, info.image_len, &buf, &off, NULL);
    if (err != OTAKIT_OK) {
        return err == OTAKIT_ERR_INVALID_SIZE ? OTAKIT_ERR_NOT_FOUND : err;
    }
    otakit_sig_sector_t sector;
    if (otakit_sig_sector_parse(buf + off, OTAKIT_SIG_SECTOR_SIZE, &sector, NULL) == OTAKIT_OK) {
        for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
            if (sector.valid[i] &&
                otakit_sig_key_digest(&DEVICE_CRYPTO, &sector.blocks[i], out[*n]) == OTAKIT_OK) {
                (*n)++;
            }
        }
    }
    free(buf);
    return *n > 0 ? OTAKIT_OK : OTAKIT_ERR_NOT_FOUND;
}
