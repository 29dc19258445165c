/* Secure Boot V2 keys, signing and verification on OpenSSL's libcrypto. The byte layout
 * follows espsecure.py (esptool v4.x): big numbers little-endian, the RSA signature
 * byte-reversed, ECDSA r and s little-endian; see include/otakit/sigblock.h. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "sbv2.h"

struct otakit_sbv2_key {
    EVP_PKEY *pkey;
    otakit_sig_scheme_t scheme;
    bool priv;
};

#define RSA_BITS 3072
#define PSS_SALT_LEN 32

/* ---- curves ---------------------------------------------------------------------- */

static const struct curve {
    otakit_sig_scheme_t scheme;
    int nid;
    const char *group; /* OpenSSL's group name */
    uint8_t id;        /* the block's curve id */
    size_t coord, field;
} CURVES[] = {
    {OTAKIT_SIG_ECDSA_P192, NID_X9_62_prime192v1, "prime192v1", OTAKIT_SIG_CURVE_P192, 24, 64},
    {OTAKIT_SIG_ECDSA_P256, NID_X9_62_prime256v1, "prime256v1", OTAKIT_SIG_CURVE_P256, 32, 64},
    {OTAKIT_SIG_ECDSA_P384, NID_secp384r1, "secp384r1", OTAKIT_SIG_CURVE_P384, 48, 96},
};

static const struct curve *curve_of(otakit_sig_scheme_t scheme)
{
    for (size_t i = 0; i < sizeof(CURVES) / sizeof(CURVES[0]); i++) {
        if (CURVES[i].scheme == scheme) {
            return &CURVES[i];
        }
    }
    return NULL;
}

/* SHA-384 signs P-384 images; SHA-256 everything else (espsecure.py). */
static const EVP_MD *image_md(otakit_sig_scheme_t scheme)
{
    return scheme == OTAKIT_SIG_ECDSA_P384 ? EVP_sha384() : EVP_sha256();
}

/* ---- keys ------------------------------------------------------------------------ */

static otakit_err_t classify(EVP_PKEY *pkey, otakit_sig_scheme_t *scheme, const char **why)
{
    int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(pkey) != RSA_BITS) {
            *why = "RSA key is not 3072 bits (Secure Boot V2 signs with RSA-3072)";
            return OTAKIT_ERR_NOT_SUPPORTED;
        }
        *scheme = OTAKIT_SIG_RSA3072;
        return OTAKIT_OK;
    }
    if (id == EVP_PKEY_EC) {
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) == 1) {
            int nid = OBJ_sn2nid(group);
            if (nid == NID_undef) {
                nid = EC_curve_nist2nid(group);
            }
            for (size_t i = 0; i < sizeof(CURVES) / sizeof(CURVES[0]); i++) {
                if (CURVES[i].nid == nid) {
                    *scheme = CURVES[i].scheme;
                    return OTAKIT_OK;
                }
            }
        }
        *why = "EC key is not on P-192, P-256 or P-384 (the curves Secure Boot V2 supports)";
        return OTAKIT_ERR_NOT_SUPPORTED;
    }
    *why = "key is neither RSA nor EC";
    return OTAKIT_ERR_NOT_SUPPORTED;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1; /* never prompt: an encrypted key fails to load */
}

static bool contains(const uint8_t *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, s, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The key object around an OpenSSL key; takes pkey over (frees it on failure). */
static otakit_err_t wrap_key(EVP_PKEY *pkey, otakit_sig_scheme_t scheme, bool priv,
                             otakit_sbv2_key_t **key)
{
    otakit_sbv2_key_t *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return OTAKIT_ERR_NO_MEM;
    }
    k->pkey = pkey;
    k->scheme = scheme;
    k->priv = priv;
    *key = k;
    return OTAKIT_OK;
}

otakit_err_t otakit_sbv2_key_load(const uint8_t *pem, size_t len, otakit_sbv2_key_t **key,
                                  const char **why)
{
    const char *dummy;
    why = why ? why : &dummy;
    *key = NULL;
    bool priv = contains(pem, len, "PRIVATE KEY-----");
    if (!priv && !contains(pem, len, "-----BEGIN PUBLIC KEY-----")) {
        *why = "not a PEM private or public key";
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (len > INT32_MAX) {
        *why = "key file too large";
        return OTAKIT_ERR_INVALID_ARG;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    EVP_PKEY *pkey = priv ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                          : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (pkey == NULL) {
        *why = priv ? "cannot read the PEM private key (malformed, or encrypted)"
                    : "cannot read the PEM public key";
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_sig_scheme_t scheme;
    otakit_err_t err = classify(pkey, &scheme, why);
    if (err != OTAKIT_OK) {
        EVP_PKEY_free(pkey);
        return err;
    }
    return wrap_key(pkey, scheme, priv, key);
}

otakit_err_t otakit_sbv2_key_generate(otakit_sig_scheme_t scheme, otakit_sbv2_key_t **key)
{
    *key = NULL;
    EVP_PKEY *pkey = NULL;
    const struct curve *c = curve_of(scheme);
    if (scheme == OTAKIT_SIG_RSA3072) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
    } else if (c != NULL) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->group);
    } else {
        return OTAKIT_ERR_NOT_SUPPORTED;
    }
    if (pkey == NULL) {
        return OTAKIT_FAIL;
    }
    return wrap_key(pkey, scheme, true, key);
}

void otakit_sbv2_key_free(otakit_sbv2_key_t *key)
{
    if (key != NULL) {
        EVP_PKEY_free(key->pkey);
        free(key);
    }
}

otakit_sig_scheme_t otakit_sbv2_key_scheme(const otakit_sbv2_key_t *key)
{
    return key->scheme;
}

bool otakit_sbv2_key_is_private(const otakit_sbv2_key_t *key)
{
    return key->priv;
}

otakit_err_t otakit_sbv2_key_pem(const otakit_sbv2_key_t *key, bool private_part, char **pem,
                                 size_t *len)
{
    *pem = NULL;
    if (private_part && !key->priv) {
        return OTAKIT_ERR_INVALID_STATE;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    int ok = private_part
                 ? PEM_write_bio_PrivateKey_traditional(bio, key->pkey, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_bio_PUBKEY(bio, key->pkey);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    otakit_err_t err = OTAKIT_FAIL;
    if (ok == 1 && n > 0 && (*pem = malloc((size_t)n + 1)) != NULL) {
        memcpy(*pem, data, (size_t)n);
        (*pem)[n] = '\0';
        *len = (size_t)n;
        err = OTAKIT_OK;
    }
    BIO_free(bio);
    return err;
}

/* The RSA peripheral's constants for n: R^2 mod n (R = 2^3072) and M' = -n^-1 mod 2^32. */
static otakit_err_t rsa_montgomery(const BIGNUM *n, uint8_t rinv[OTAKIT_SIG_RSA_LEN],
                                   uint32_t *mdash)
{
    otakit_err_t err = OTAKIT_FAIL;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *rr = BN_new(), *word = BN_new(), *inv = BN_new();
    if (ctx == NULL || rr == NULL || word == NULL || inv == NULL) {
        goto out;
    }
    if (!BN_one(rr) || !BN_lshift(rr, rr, 2 * RSA_BITS) || !BN_mod(rr, rr, n, ctx) ||
        BN_bn2lebinpad(rr, rinv, OTAKIT_SIG_RSA_LEN) != (int)OTAKIT_SIG_RSA_LEN) {
        goto out;
    }
    if (!BN_set_word(word, 1) || !BN_lshift(word, word, 32) ||
        BN_mod_inverse(inv, n, word, ctx) == NULL) {
        goto out;
    }
    *mdash = (uint32_t)(0u - (uint32_t)BN_get_word(inv));
    err = OTAKIT_OK;
out:
    BN_free(inv);
    BN_free(word);
    BN_free(rr);
    BN_CTX_free(ctx);
    return err;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static otakit_err_t rsa_fields(EVP_PKEY *pkey, uint8_t *out, size_t *len)
{
    otakit_err_t err = OTAKIT_FAIL;
    BIGNUM *n = NULL, *e = NULL;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1 || BN_num_bits(e) > 32) {
        goto out;
    }
    uint32_t mdash;
    if (BN_bn2lebinpad(n, out, OTAKIT_SIG_RSA_LEN) != (int)OTAKIT_SIG_RSA_LEN ||
        rsa_montgomery(n, out + OTAKIT_SIG_RSA_LEN + 4, &mdash) != OTAKIT_OK) {
        goto out;
    }
    put_le32(out + OTAKIT_SIG_RSA_LEN, (uint32_t)BN_get_word(e));
    put_le32(out + 2 * OTAKIT_SIG_RSA_LEN + 4, mdash);
    *len = OTAKIT_SIG_RSA_KEY_LEN;
    err = OTAKIT_OK;
out:
    BN_free(n);
    BN_free(e);
    return err;
}

static otakit_err_t ec_fields(EVP_PKEY *pkey, const struct curve *c, uint8_t *out, size_t *len)
{
    otakit_err_t err = OTAKIT_FAIL;
    BIGNUM *x = NULL, *y = NULL;
    memset(out, 0, 1 + c->field);
    out[0] = c->id;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
        BN_bn2lebinpad(x, out + 1, (int)c->coord) == (int)c->coord &&
        BN_bn2lebinpad(y, out + 1 + c->coord, (int)c->coord) == (int)c->coord) {
        *len = 1 + c->field;
        err = OTAKIT_OK;
    }
    BN_free(x);
    BN_free(y);
    return err;
}

otakit_err_t otakit_sbv2_key_fields(const otakit_sbv2_key_t *key,
                                    uint8_t out[OTAKIT_SIG_RSA_KEY_LEN], size_t *len)
{
    if (key->scheme == OTAKIT_SIG_RSA3072) {
        return rsa_fields(key->pkey, out, len);
    }
    return ec_fields(key->pkey, curve_of(key->scheme), out, len);
}

static otakit_err_t digest(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out)
{
    return EVP_Digest(data, len, out, NULL, md, NULL) == 1 ? OTAKIT_OK : OTAKIT_FAIL;
}

otakit_err_t otakit_sbv2_key_digest(const otakit_sbv2_key_t *key,
                                    uint8_t out[OTAKIT_SIG_KEY_DIGEST_LEN])
{
    uint8_t fields[OTAKIT_SIG_RSA_KEY_LEN];
    size_t n;
    otakit_err_t err = otakit_sbv2_key_fields(key, fields, &n);
    return err == OTAKIT_OK ? digest(EVP_sha256(), fields, n, out) : err;
}

/* ---- signatures ------------------------------------------------------------------ */

/* RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, over a precomputed digest. */
static int pss_setup(EVP_PKEY_CTX *c)
{
    return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(c, PSS_SALT_LEN) == 1;
}

static void reverse_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[n - 1 - i];
    }
}

static otakit_err_t sign_rsa(EVP_PKEY *pkey, const uint8_t *dig, uint8_t sig_le[384])
{
    uint8_t sig[OTAKIT_SIG_RSA_LEN];
    size_t n = sizeof(sig);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
    otakit_err_t err = OTAKIT_FAIL;
    if (c != NULL && EVP_PKEY_sign_init(c) == 1 && pss_setup(c) &&
        EVP_PKEY_sign(c, sig, &n, dig, 32) == 1 && n == sizeof(sig)) {
        reverse_copy(sig_le, sig, n);
        err = OTAKIT_OK;
    }
    EVP_PKEY_CTX_free(c);
    return err;
}

static otakit_err_t sign_ecdsa(EVP_PKEY *pkey, const struct curve *cv, const uint8_t *dig,
                               size_t dig_len, uint8_t *rs_le)
{
    uint8_t der[160];
    size_t n = sizeof(der);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
    ECDSA_SIG *sig = NULL;
    otakit_err_t err = OTAKIT_FAIL;
    if (c != NULL && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, der, &n, dig, dig_len) == 1) {
        const unsigned char *p = der;
        sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    }
    if (sig != NULL &&
        BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rs_le, (int)cv->coord) == (int)cv->coord &&
        BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rs_le + cv->coord, (int)cv->coord) ==
            (int)cv->coord) {
        err = OTAKIT_OK;
    }
    ECDSA_SIG_free(sig);
    EVP_PKEY_CTX_free(c);
    return err;
}

otakit_err_t otakit_sbv2_sign_block(const otakit_sbv2_key_t *key, const uint8_t *data, size_t len,
                                    uint8_t block[OTAKIT_SIG_BLOCK_SIZE])
{
    if (!key->priv) {
        return OTAKIT_ERR_INVALID_STATE;
    }
    const struct curve *cv = curve_of(key->scheme);
    bool sha384 = key->scheme == OTAKIT_SIG_ECDSA_P384;
    size_t dig_len = sha384 ? 48 : 32;
    size_t key_off = sha384 ? 52 : 36;
    uint8_t dig[OTAKIT_SIG_DIGEST_MAX];
    size_t fields_len;
    memset(block, 0, OTAKIT_SIG_BLOCK_SIZE);
    block[0] = OTAKIT_SIG_BLOCK_MAGIC;
    block[1] = cv ? OTAKIT_SIG_VERSION_ECDSA : OTAKIT_SIG_VERSION_RSA;
    block[2] = sha384 ? 1 : 0;
    otakit_err_t err = digest(image_md(key->scheme), data, len, dig);
    if (err == OTAKIT_OK) {
        memcpy(block + 4, dig, dig_len);
        err = otakit_sbv2_key_fields(key, block + key_off, &fields_len);
    }
    if (err == OTAKIT_OK) {
        uint8_t *sig = block + key_off + fields_len;
        err = cv ? sign_ecdsa(key->pkey, cv, dig, dig_len, sig) : sign_rsa(key->pkey, dig, sig);
    }
    if (err != OTAKIT_OK) {
        return err;
    }
    put_le32(block + OTAKIT_SIG_CRC_OFFSET, otakit_sig_crc32(block, OTAKIT_SIG_CRC_OFFSET));
    return OTAKIT_OK;
}

/* A public key of type ("RSA", "EC") from the parameters in bld, or NULL; for EC,
 * OpenSSL decodes the point here and refuses one that is not on the curve. */
static EVP_PKEY *public_key_from(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *fc = params != NULL ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    if (fc == NULL || EVP_PKEY_fromdata_init(fc) != 1 ||
        EVP_PKEY_fromdata(fc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(fc);
    OSSL_PARAM_free(params);
    return pkey;
}

/* The public key a block holds, as an EVP_PKEY. For RSA the block's R^2 mod n and M'
 * must be the ones n gives: the ESP32's RSA peripheral computes with them, so a block
 * with other values would not verify on a device even though n, e and the signature agree. */
static EVP_PKEY *block_rsa_key(const otakit_sig_block_t *blk)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = BN_lebin2bn(blk->rsa_n, OTAKIT_SIG_RSA_LEN, NULL);
    BIGNUM *e = BN_new();
    uint8_t rinv[OTAKIT_SIG_RSA_LEN];
    uint32_t mdash;
    if (bld != NULL && n != NULL && e != NULL && BN_num_bits(n) == RSA_BITS && BN_is_odd(n) &&
        BN_set_word(e, blk->rsa_e) && rsa_montgomery(n, rinv, &mdash) == OTAKIT_OK &&
        memcmp(rinv, blk->rsa_rinv, sizeof(rinv)) == 0 && mdash == blk->rsa_mdash &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
        pkey = public_key_from("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static EVP_PKEY *block_ec_key(const otakit_sig_block_t *blk, const struct curve *cv)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    uint8_t point[1 + 2 * 48]; /* uncompressed: 04 | X | Y, big-endian */
    size_t plen = 1 + 2 * cv->coord;
    point[0] = 0x04;
    reverse_copy(point + 1, blk->ec_xy, cv->coord);
    reverse_copy(point + 1 + cv->coord, blk->ec_xy + cv->coord, cv->coord);
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, cv->group, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, plen) == 1) {
        pkey = public_key_from("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static bool verify_rsa(EVP_PKEY *pkey, const otakit_sig_block_t *blk, const uint8_t *dig)
{
    uint8_t sig[OTAKIT_SIG_RSA_LEN];
    reverse_copy(sig, blk->sig, sizeof(sig));
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);
    bool ok = c != NULL && EVP_PKEY_verify_init(c) == 1 && pss_setup(c) &&
              EVP_PKEY_verify(c, sig, sizeof(sig), dig, 32) == 1;
    EVP_PKEY_CTX_free(c);
    return ok;
}

static bool verify_ecdsa(EVP_PKEY *pkey, const otakit_sig_block_t *blk, const struct curve *cv,
                         const uint8_t *dig, size_t dig_len)
{
    bool ok = false;
    unsigned char *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_lebin2bn(blk->sig, (int)cv->coord, NULL);
    BIGNUM *s = BN_lebin2bn(blk->sig + cv->coord, (int)cv->coord, NULL);
    EVP_PKEY_CTX *c = NULL;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        goto out;
    }
    int der_len = i2d_ECDSA_SIG(sig, &der);
    c = EVP_PKEY_CTX_new(pkey, NULL);
    ok = der_len > 0 && c != NULL && EVP_PKEY_verify_init(c) == 1 &&
         EVP_PKEY_verify(c, der, (size_t)der_len, dig, dig_len) == 1;
out:
    EVP_PKEY_CTX_free(c);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return ok;
}

static otakit_err_t cb_hash(void *ctx, const uint8_t *data, size_t len, uint8_t *out,
                            size_t out_len)
{
    (void)ctx;
    if (out_len != 32 && out_len != 48) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    return digest(out_len == 48 ? EVP_sha384() : EVP_sha256(), data, len, out);
}

static otakit_err_t cb_verify(void *ctx, const otakit_sig_block_t *blk, const uint8_t *dig,
                              size_t dig_len)
{
    (void)ctx;
    const struct curve *cv = curve_of(blk->scheme);
    if (dig_len != (blk->scheme == OTAKIT_SIG_ECDSA_P384 ? 48u : 32u)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    EVP_PKEY *pkey = cv ? block_ec_key(blk, cv) : block_rsa_key(blk);
    bool ok = pkey != NULL &&
              (cv ? verify_ecdsa(pkey, blk, cv, dig, dig_len) : verify_rsa(pkey, blk, dig));
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok ? OTAKIT_OK : OTAKIT_ERR_IMAGE_INVALID;
}

const otakit_sig_crypto_t otakit_sbv2_crypto = {NULL, cb_hash, cb_verify};

/* ---- signing an image ------------------------------------------------------------ */

static bool erased(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFF) {
            return false;
        }
    }
    return true;
}

/* The valid blocks from slot 0 on (espsecure.py keeps those when it appends). Each must
 * sign the bytes being signed now: a block over other bytes would never verify. */
static otakit_err_t existing_blocks(const uint8_t *signed_data, uint32_t sector_off,
                                    const uint8_t *sector, unsigned *count, otakit_diag_t *diag)
{
    *count = 0;
    for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
        otakit_sig_block_t blk;
        if (otakit_sig_block_parse(sector + i * OTAKIT_SIG_BLOCK_SIZE, OTAKIT_SIG_BLOCK_SIZE, &blk,
                                   NULL) != OTAKIT_OK) {
            break;
        }
        uint8_t dig[OTAKIT_SIG_DIGEST_MAX];
        if (cb_hash(NULL, signed_data, sector_off, dig, blk.digest_len) != OTAKIT_OK) {
            return OTAKIT_FAIL;
        }
        if (memcmp(dig, blk.digest, blk.digest_len) != 0) {
            return otakit_diag_set(diag, sector_off + i * OTAKIT_SIG_BLOCK_SIZE + 4,
                                   "an existing signature block signs other bytes than this image",
                                   OTAKIT_ERR_INVALID_STATE);
        }
        (*count)++;
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_sbv2_sign_image(const otakit_sbv2_key_t *key, const uint8_t *in, size_t in_len,
                                    uint32_t image_len, bool append, uint8_t **out, size_t *out_len,
                                    otakit_diag_t *diag)
{
    *out = NULL;
    if (!key->priv) {
        return otakit_diag_set(diag, 0, "signing needs a private key", OTAKIT_ERR_INVALID_STATE);
    }
    uint32_t sector_off = otakit_sig_sector_offset(image_len);
    const uint8_t *sector = NULL; /* an existing signature sector in `in`, if any */
    if (in_len > sector_off) {
        const uint8_t *tail = in + sector_off;
        size_t tail_len = in_len - sector_off;
        otakit_sig_sector_t s;
        if (tail_len >= OTAKIT_SIG_SECTOR_SIZE &&
            otakit_sig_sector_parse(tail, tail_len, &s, NULL) == OTAKIT_OK) {
            if (!erased(tail + OTAKIT_SIG_SECTOR_SIZE, tail_len - OTAKIT_SIG_SECTOR_SIZE)) {
                return otakit_diag_set(diag, sector_off + OTAKIT_SIG_SECTOR_SIZE,
                                       "data after the signature sector", OTAKIT_ERR_INVALID_STATE);
            }
            if (!append) {
                return otakit_diag_set(diag, sector_off,
                                       "already signed (a signature sector follows the image; "
                                       "--append-signatures adds a block)",
                                       OTAKIT_ERR_INVALID_STATE);
            }
            sector = tail;
        } else if (!erased(tail, tail_len)) {
            return otakit_diag_set(diag, sector_off,
                                   "bytes after the image that are neither 0xFF padding nor a "
                                   "signature sector",
                                   OTAKIT_ERR_INVALID_STATE);
        }
    }
    size_t total = (size_t)sector_off + OTAKIT_SIG_SECTOR_SIZE;
    uint8_t *buf = malloc(total);
    if (buf == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    size_t keep = in_len < sector_off ? in_len : sector_off;
    memcpy(buf, in, keep);
    memset(buf + keep, 0xFF, total - keep);
    unsigned count = 0;
    otakit_err_t err = OTAKIT_OK;
    if (sector != NULL) {
        err = existing_blocks(buf, sector_off, sector, &count, diag);
        if (err == OTAKIT_OK && count == OTAKIT_SIG_BLOCKS_MAX) {
            err = otakit_diag_set(diag, sector_off,
                                  "the signature sector already holds 3 blocks, the most it can",
                                  OTAKIT_ERR_INVALID_STATE);
        }
        if (err == OTAKIT_OK) {
            memcpy(buf + sector_off, sector, (size_t)count * OTAKIT_SIG_BLOCK_SIZE);
        }
    }
    if (err == OTAKIT_OK) {
        err = otakit_sbv2_sign_block(key, buf, sector_off,
                                     buf + sector_off + count * OTAKIT_SIG_BLOCK_SIZE);
        if (err != OTAKIT_OK) {
            otakit_diag_set(diag, sector_off, "signing failed", err);
        }
    }
    if (err != OTAKIT_OK) {
        free(buf);
        return err;
    }
    *out = buf;
    *out_len = total;
    return otakit_diag_set(diag, 0, NULL, OTAKIT_OK);
}
