/* Secure Boot V2 signature sector: parsing and the bootloader's acceptance rule (spec §13).
 * The hashes and signature checks come from the caller (otakit_sig_crypto_t). */
#include <string.h>

#include "otakit/le.h"
#include "otakit/sigblock.h"

/* Field offsets inside a block (see sigblock.h). */
#define OFF_VERSION 1u
#define OFF_SHA_MODE 2u
#define OFF_DIGEST 4u
#define OFF_KEY 36u
#define OFF_RSA_E (OFF_KEY + 384u)
#define OFF_RSA_RINV (OFF_RSA_E + 4u)
#define OFF_RSA_MDASH (OFF_RSA_RINV + 384u)
#define OFF_RSA_SIG (OFF_RSA_MDASH + 4u)
#define OFF_KEY_384 52u /* P-384: after a 48-byte digest */

#define ECDSA_SHA_256 0u
#define ECDSA_SHA_384 1u

uint32_t otakit_sig_sector_offset(uint32_t image_len)
{
    return (uint32_t)(((uint64_t)image_len + OTAKIT_SIG_SECTOR_SIZE - 1u) &
                      ~(uint64_t)(OTAKIT_SIG_SECTOR_SIZE - 1u));
}

uint32_t otakit_sig_crc32(const uint8_t *buf, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

const char *otakit_sig_scheme_name(otakit_sig_scheme_t scheme)
{
    switch (scheme) {
    case OTAKIT_SIG_RSA3072:
        return "RSA-3072";
    case OTAKIT_SIG_ECDSA_P192:
        return "ECDSA-P192";
    case OTAKIT_SIG_ECDSA_P256:
        return "ECDSA-P256";
    case OTAKIT_SIG_ECDSA_P384:
        return "ECDSA-P384";
    }
    return "unknown";
}

static bool all_erased(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFF) {
            return false;
        }
    }
    return true;
}

static void parse_rsa(const uint8_t *b, otakit_sig_block_t *blk)
{
    blk->scheme = OTAKIT_SIG_RSA3072;
    blk->digest_len = 32;
    blk->key = b + OFF_KEY;
    blk->key_len = OTAKIT_SIG_RSA_KEY_LEN;
    blk->rsa_n = b + OFF_KEY;
    blk->rsa_e = otakit_le32_get(b + OFF_RSA_E);
    blk->rsa_rinv = b + OFF_RSA_RINV;
    blk->rsa_mdash = otakit_le32_get(b + OFF_RSA_MDASH);
    blk->sig = b + OFF_RSA_SIG;
    blk->sig_len = OTAKIT_SIG_RSA_LEN;
}

/* ECDSA: the SHA mode byte decides where the key starts; the curve must agree with it
 * (espsecure writes SHA-384 exactly for P-384). */
static otakit_err_t parse_ecdsa(const uint8_t *b, otakit_sig_block_t *blk, otakit_diag_t *diag)
{
    uint8_t mode = b[OFF_SHA_MODE];
    uint32_t key_off;
    if (mode == ECDSA_SHA_256) {
        key_off = OFF_KEY;
        blk->digest_len = 32;
    } else if (mode == ECDSA_SHA_384) {
        key_off = OFF_KEY_384;
        blk->digest_len = 48;
    } else {
        return otakit_diag_set(diag, OFF_SHA_MODE, "unknown ECDSA SHA mode in signature block",
                               OTAKIT_ERR_IMAGE_INVALID);
    }
    uint8_t curve = b[key_off];
    size_t coord, field; /* coordinate length, and the block's room for each of X|Y and r|s */
    if (mode == ECDSA_SHA_256 && curve == OTAKIT_SIG_CURVE_P192) {
        blk->scheme = OTAKIT_SIG_ECDSA_P192;
        coord = 24;
        field = 64;
    } else if (mode == ECDSA_SHA_256 && curve == OTAKIT_SIG_CURVE_P256) {
        blk->scheme = OTAKIT_SIG_ECDSA_P256;
        coord = 32;
        field = 64;
    } else if (mode == ECDSA_SHA_384 && curve == OTAKIT_SIG_CURVE_P384) {
        blk->scheme = OTAKIT_SIG_ECDSA_P384;
        coord = 48;
        field = 96;
    } else {
        return otakit_diag_set(diag, key_off, "unknown ECDSA curve in signature block",
                               OTAKIT_ERR_IMAGE_INVALID);
    }
    blk->curve_id = curve;
    blk->coord_len = coord;
    blk->key = b + key_off;
    blk->key_len = 1 + field;
    blk->ec_xy = b + key_off + 1;
    blk->sig = b + key_off + 1 + field;
    blk->sig_len = 2 * coord;
    return OTAKIT_OK;
}

otakit_err_t otakit_sig_block_parse(const uint8_t *buf, size_t len, otakit_sig_block_t *blk,
                                    otakit_diag_t *diag)
{
    memset(blk, 0, sizeof(*blk));
    if (len < OTAKIT_SIG_BLOCK_SIZE) {
        return otakit_diag_set(diag, (uint32_t)len, "truncated signature block",
                               OTAKIT_ERR_IMAGE_INVALID);
    }
    if (all_erased(buf, OTAKIT_SIG_BLOCK_SIZE)) {
        return otakit_diag_set(diag, 0, "no signature block (erased)", OTAKIT_ERR_NOT_FOUND);
    }
    if (buf[0] != OTAKIT_SIG_BLOCK_MAGIC) {
        return otakit_diag_set(diag, 0, "invalid signature block magic", OTAKIT_ERR_IMAGE_INVALID);
    }
    /* The CRC guards every other field, so it is checked before any of them is trusted. */
    if (otakit_le32_get(buf + OTAKIT_SIG_CRC_OFFSET) !=
        otakit_sig_crc32(buf, OTAKIT_SIG_CRC_OFFSET)) {
        return otakit_diag_set(diag, OTAKIT_SIG_CRC_OFFSET, "signature block CRC mismatch",
                               OTAKIT_ERR_IMAGE_INVALID);
    }
    blk->version = buf[OFF_VERSION];
    if (blk->version == OTAKIT_SIG_VERSION_RSA) {
        parse_rsa(buf, blk);
    } else if (blk->version == OTAKIT_SIG_VERSION_ECDSA) {
        otakit_err_t err = parse_ecdsa(buf, blk, diag);
        if (err != OTAKIT_OK) {
            return err;
        }
    } else {
        return otakit_diag_set(diag, OFF_VERSION, "unknown signature block version",
                               OTAKIT_ERR_IMAGE_INVALID);
    }
    blk->digest = buf + OFF_DIGEST;
    return otakit_diag_set(diag, 0, NULL, OTAKIT_OK);
}

otakit_err_t otakit_sig_sector_parse(const uint8_t *buf, size_t len, otakit_sig_sector_t *sector,
                                     otakit_diag_t *diag)
{
    memset(sector, 0, sizeof(*sector));
    if (len < OTAKIT_SIG_SECTOR_SIZE) {
        return otakit_diag_set(diag, (uint32_t)len, "truncated signature sector",
                               OTAKIT_ERR_INVALID_SIZE);
    }
    otakit_diag_t first = {0, NULL};
    for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
        otakit_diag_t d = {0, NULL};
        uint32_t at = i * OTAKIT_SIG_BLOCK_SIZE;
        if (otakit_sig_block_parse(buf + at, len - at, &sector->blocks[i], &d) == OTAKIT_OK) {
            sector->valid[i] = true;
            sector->valid_count++;
        } else {
            sector->why[i] = d.msg;
            if (first.msg == NULL) {
                first.offset = at + d.offset;
                first.msg = d.msg;
            }
        }
    }
    if (sector->valid_count == 0) {
        return otakit_diag_set(diag, first.offset, first.msg, OTAKIT_ERR_NOT_FOUND);
    }
    return otakit_diag_set(diag, 0, NULL, OTAKIT_OK);
}

otakit_err_t otakit_sig_key_digest(const otakit_sig_crypto_t *crypto, const otakit_sig_block_t *blk,
                                   uint8_t out[OTAKIT_SIG_KEY_DIGEST_LEN])
{
    return crypto->hash(crypto->ctx, blk->key, blk->key_len, out, OTAKIT_SIG_KEY_DIGEST_LEN);
}

static bool is_trusted(const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN], unsigned n,
                       const uint8_t *digest)
{
    for (unsigned i = 0; i < n; i++) {
        if (memcmp(trusted[i], digest, OTAKIT_SIG_KEY_DIGEST_LEN) == 0) {
            return true;
        }
    }
    return false;
}

/* Digest of the signed data, computed at most once per length (SHA-256 / SHA-384). */
struct digest_cache {
    bool have[2];
    uint8_t d[2][OTAKIT_SIG_DIGEST_MAX];
};

static otakit_err_t signed_digest(const otakit_sig_crypto_t *c, const uint8_t *buf,
                                  uint32_t sector_off, size_t digest_len, struct digest_cache *dc,
                                  const uint8_t **out)
{
    unsigned k = digest_len == 48 ? 1 : 0;
    if (!dc->have[k]) {
        otakit_err_t err = c->hash(c->ctx, buf, sector_off, dc->d[k], digest_len);
        if (err != OTAKIT_OK) {
            return err;
        }
        dc->have[k] = true;
    }
    *out = dc->d[k];
    return OTAKIT_OK;
}

/* One valid slot against the trusted digests and the signed data. Returns OTAKIT_OK when
 * accepted; OTAKIT_ERR_IMAGE_INVALID with *why and *where (offset in buf) when not; or
 * a hash callback's error. */
static otakit_err_t check_block(const otakit_sig_crypto_t *c, const uint8_t *buf,
                                uint32_t sector_off, uint32_t at, const otakit_sig_block_t *blk,
                                const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN],
                                unsigned n_trusted, struct digest_cache *dc, const char **why,
                                uint32_t *where)
{
    uint8_t key_digest[OTAKIT_SIG_KEY_DIGEST_LEN];
    otakit_err_t err = otakit_sig_key_digest(c, blk, key_digest);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (!is_trusted(trusted, n_trusted, key_digest)) {
        *why = "signature block key is not a trusted key";
        *where = at + (uint32_t)(blk->key - (buf + at));
        return OTAKIT_ERR_IMAGE_INVALID;
    }
    const uint8_t *image_digest;
    err = signed_digest(c, buf, sector_off, blk->digest_len, dc, &image_digest);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (memcmp(image_digest, blk->digest, blk->digest_len) != 0) {
        *why = "signature block image digest does not match the image";
        *where = at + OFF_DIGEST;
        return OTAKIT_ERR_IMAGE_INVALID;
    }
    if (c->verify(c->ctx, blk, image_digest, blk->digest_len) != OTAKIT_OK) {
        *why = "signature does not verify";
        *where = at + (uint32_t)(blk->sig - (buf + at));
        return OTAKIT_ERR_IMAGE_INVALID;
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_sig_verify(const uint8_t *buf, size_t len, uint32_t sector_off,
                               const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN],
                               unsigned n_trusted, const otakit_sig_crypto_t *crypto,
                               otakit_sig_result_t *result, otakit_diag_t *diag)
{
    if (result == NULL) {
        return otakit_diag_set(diag, 0, "no result struct", OTAKIT_ERR_INVALID_ARG);
    }
    otakit_sig_result_t *r = result;
    memset(r, 0, sizeof(*r));
    r->block = -1;
    if (trusted == NULL || n_trusted == 0 || crypto == NULL || crypto->hash == NULL ||
        crypto->verify == NULL) {
        return otakit_diag_set(diag, 0, "no trusted key digest or no crypto callbacks",
                               OTAKIT_ERR_INVALID_ARG);
    }
    if (sector_off % OTAKIT_SIG_SECTOR_SIZE != 0 || len < sector_off ||
        len - sector_off < OTAKIT_SIG_SECTOR_SIZE) {
        return otakit_diag_set(diag, sector_off, "no room for a signature sector",
                               OTAKIT_ERR_INVALID_SIZE);
    }
    otakit_diag_t d = {0, NULL};
    otakit_err_t perr = otakit_sig_sector_parse(buf + sector_off, len - sector_off, &r->sector, &d);
    for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
        r->why[i] = r->sector.why[i];
    }
    if (perr != OTAKIT_OK) {
        return otakit_diag_set(diag, sector_off + d.offset, d.msg, OTAKIT_ERR_IMAGE_INVALID);
    }
    struct digest_cache dc;
    memset(&dc, 0, sizeof(dc));
    otakit_diag_t first = {0, NULL};
    for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
        if (!r->sector.valid[i]) {
            continue;
        }
        uint32_t at = sector_off + i * OTAKIT_SIG_BLOCK_SIZE, where = at;
        const char *why = NULL;
        otakit_err_t err = check_block(crypto, buf, sector_off, at, &r->sector.blocks[i], trusted,
                                       n_trusted, &dc, &why, &where);
        if (err == OTAKIT_OK) {
            r->block = (int)i;
            r->scheme = r->sector.blocks[i].scheme;
            return otakit_diag_set(diag, 0, NULL, OTAKIT_OK);
        }
        if (err != OTAKIT_ERR_IMAGE_INVALID) {
            return otakit_diag_set(diag, at, "hash failed", err);
        }
        r->why[i] = why;
        if (first.msg == NULL) {
            first.offset = where;
            first.msg = why;
        }
    }
    return otakit_diag_set(diag, first.offset, first.msg, OTAKIT_ERR_IMAGE_INVALID);
}
