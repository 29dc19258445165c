/**
 * @file sigblock.h
 * @brief Secure Boot V2 signature sector (spec §13): where it sits after an image, its
 * up to three 1216-byte signature blocks, and the bootloader's acceptance rule.
 *
 * Pure byte parsing: the core computes no hash and checks no signature itself. The
 * caller supplies the SHA-256/SHA-384 and the RSA-PSS/ECDSA verification through
 * otakit_sig_crypto_t (on the host: src/host/sbv2.c, OpenSSL's libcrypto; on a device:
 * its ROM or its crypto library).
 *
 * Block layout (all integers little-endian, as esptool's espsecure.py writes them):
 *
 *     0     magic 0xE7
 *     1     version: 0x02 RSA-3072-PSS, 0x03 ECDSA
 *     2     ECDSA only: 0 = SHA-256 digest, 1 = SHA-384 digest (P-384)
 *     4     image digest (32 bytes; 48 with SHA-384)
 *     RSA:  36 n[384]  420 e  424 R^2 mod n [384]  808 M' = -n^-1 mod 2^32  812 signature[384]
 *     ECDSA (SHA-256): 36 curve id (1 P-192, 2 P-256)  37 X|Y[64]  101 r|s[64]
 *     ECDSA (SHA-384): 52 curve id (3 P-384)           53 X|Y[96]  149 r|s[96]
 *     1196  CRC-32 (zlib's) of bytes 0..1195;  1200  16 zero bytes
 *
 * The key digest that an ESP32 burns into eFuse is SHA-256 of the key fields: bytes
 * 36..811 (RSA), 36..100 (P-192/P-256) or 52..148 (P-384).
 */
#ifndef OTAKIT_SIGBLOCK_H
#define OTAKIT_SIGBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/diag.h"
#include "otakit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_SIG_SECTOR_SIZE 4096u
#define OTAKIT_SIG_BLOCK_SIZE 1216u
#define OTAKIT_SIG_BLOCKS_MAX 3u
#define OTAKIT_SIG_BLOCK_MAGIC 0xE7u
#define OTAKIT_SIG_VERSION_RSA 0x02u
#define OTAKIT_SIG_VERSION_ECDSA 0x03u
#define OTAKIT_SIG_CRC_OFFSET 1196u
#define OTAKIT_SIG_KEY_DIGEST_LEN 32u
#define OTAKIT_SIG_DIGEST_MAX 48u
#define OTAKIT_SIG_RSA_LEN 384u
/** Bytes of key material in an RSA block (n, e, R^2 mod n, M'). */
#define OTAKIT_SIG_RSA_KEY_LEN 776u

/** ECDSA curve ids of the signature block. */
#define OTAKIT_SIG_CURVE_P192 1u
#define OTAKIT_SIG_CURVE_P256 2u
#define OTAKIT_SIG_CURVE_P384 3u

typedef enum otakit_sig_scheme {
    OTAKIT_SIG_RSA3072 = 1,
    OTAKIT_SIG_ECDSA_P192,
    OTAKIT_SIG_ECDSA_P256,
    OTAKIT_SIG_ECDSA_P384,
} otakit_sig_scheme_t;

/**
 * One parsed signature block. Every pointer points into the buffer given to the parser,
 * which must outlive this struct.
 */
typedef struct otakit_sig_block {
    otakit_sig_scheme_t scheme;
    uint8_t version;       /**< 0x02 or 0x03 */
    const uint8_t *digest; /**< the image digest the block signs */
    size_t digest_len;     /**< 32 (SHA-256) or 48 (SHA-384) */
    const uint8_t *key;    /**< the key fields the eFuse digest covers */
    size_t key_len;        /**< 776 (RSA), 65 (P-192, P-256) or 97 (P-384) */
    const uint8_t *sig;    /**< RSA: 384 bytes; ECDSA: r then s, coord_len bytes each */
    size_t sig_len;
    /* RSA-3072: little-endian big numbers, as the ESP32's RSA peripheral takes them */
    const uint8_t *rsa_n; /**< 384 bytes */
    uint32_t rsa_e;
    const uint8_t *rsa_rinv; /**< R^2 mod n with R = 2^3072, 384 bytes */
    uint32_t rsa_mdash;      /**< -n^-1 mod 2^32 */
    /* ECDSA: little-endian coordinates */
    uint8_t curve_id;
    const uint8_t *ec_xy; /**< X then Y, coord_len bytes each */
    size_t coord_len;     /**< 24, 32 or 48 */
} otakit_sig_block_t;

/** The three slots of a signature sector, each parsed on its own (as ESP-IDF checks them). */
typedef struct otakit_sig_sector {
    unsigned valid_count; /**< slots that hold a valid block */
    bool valid[OTAKIT_SIG_BLOCKS_MAX];
    otakit_sig_block_t blocks[OTAKIT_SIG_BLOCKS_MAX]; /**< meaningful where valid[i] */
    const char *why[OTAKIT_SIG_BLOCKS_MAX];           /**< why slot i is not valid, or NULL */
} otakit_sig_sector_t;

/**
 * Hash and signature primitives that the verifier calls; the core has none of its own.
 */
typedef struct otakit_sig_crypto {
    void *ctx;
    /** SHA-256 (out_len 32) or SHA-384 (out_len 48) of data. @return OTAKIT_OK or an error */
    otakit_err_t (*hash)(void *ctx, const uint8_t *data, size_t len, uint8_t *out, size_t out_len);
    /**
     * Check blk->sig over digest with the public key held in blk (RSA-3072 PSS with
     * SHA-256, MGF1-SHA-256 and a 32-byte salt; or ECDSA on blk's curve).
     * @return OTAKIT_OK when the signature is valid, anything else when not
     */
    otakit_err_t (*verify)(void *ctx, const otakit_sig_block_t *blk, const uint8_t *digest,
                           size_t digest_len);
} otakit_sig_crypto_t;

/** The result of otakit_sig_verify(), for reporting. */
typedef struct otakit_sig_result {
    int block;                              /**< slot that verified, or -1 */
    otakit_sig_scheme_t scheme;             /**< its scheme (when block >= 0) */
    otakit_sig_sector_t sector;             /**< what the sector holds */
    const char *why[OTAKIT_SIG_BLOCKS_MAX]; /**< why each slot did not verify, or NULL */
} otakit_sig_result_t;

/** Where the signature sector of an image of image_len bytes starts: the next 4 KiB boundary
 * (0 when that does not fit in 32 bits; image lengths are far below that). */
uint32_t otakit_sig_sector_offset(uint32_t image_len);

/** zlib's CRC-32 (esp_rom_crc32_le(0, ...)), as the block's CRC field holds it. */
uint32_t otakit_sig_crc32(const uint8_t *buf, size_t len);

/** Name of a scheme: "RSA-3072", "ECDSA-P192", "ECDSA-P256", "ECDSA-P384". */
const char *otakit_sig_scheme_name(otakit_sig_scheme_t scheme);

/**
 * Parse one signature block (the first OTAKIT_SIG_BLOCK_SIZE bytes of buf).
 * @return OTAKIT_OK; OTAKIT_ERR_NOT_FOUND if the slot is erased (all 0xFF);
 *         OTAKIT_ERR_IMAGE_INVALID with diag (offset within the block) for a short
 *         buffer, a wrong magic, an unknown version, SHA mode or curve, or a CRC mismatch
 */
otakit_err_t otakit_sig_block_parse(const uint8_t *buf, size_t len, otakit_sig_block_t *blk,
                                    otakit_diag_t *diag);

/**
 * Parse the three slots of a signature sector (the first OTAKIT_SIG_SECTOR_SIZE bytes of
 * buf). Each slot is judged on its own; sector->why says what is wrong with a slot.
 * @return OTAKIT_OK when at least one slot holds a valid block; OTAKIT_ERR_NOT_FOUND when
 *         none does (diag names the first slot's problem); OTAKIT_ERR_INVALID_SIZE when
 *         len is shorter than a sector
 */
otakit_err_t otakit_sig_sector_parse(const uint8_t *buf, size_t len, otakit_sig_sector_t *sector,
                                     otakit_diag_t *diag);

/**
 * SHA-256 of a block's key fields: the digest an ESP32 keeps in eFuse for that key.
 * @return OTAKIT_OK, or the hash callback's error
 */
otakit_err_t otakit_sig_key_digest(const otakit_sig_crypto_t *crypto, const otakit_sig_block_t *blk,
                                   uint8_t out[OTAKIT_SIG_KEY_DIGEST_LEN]);

/**
 * The bootloader's Secure Boot V2 check of a signed image: buf[0, sector_off) is the
 * signed data and the signature sector follows at sector_off. A slot is accepted when
 * it holds a valid block whose key digest is one of the trusted digests, whose image
 * digest equals the digest of the signed data, and whose signature verifies. Slots are
 * tried in order; the first one accepted wins.
 * @param trusted    n_trusted key digests (the eFuse key digests, or a given key's digest)
 * @param result     filled in on every return (required)
 * @return OTAKIT_OK when a slot is accepted; OTAKIT_ERR_INVALID_SIZE when buf is shorter
 *         than sector_off + a sector or sector_off is not 4 KiB aligned;
 *         OTAKIT_ERR_INVALID_ARG without a result, a trusted digest or crypto callbacks;
 *         OTAKIT_ERR_IMAGE_INVALID when no slot is accepted (diag: the first slot's
 *         problem, offset in buf); a hash callback's error as is
 */
otakit_err_t otakit_sig_verify(const uint8_t *buf, size_t len, uint32_t sector_off,
                               const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN],
                               unsigned n_trusted, const otakit_sig_crypto_t *crypto,
                               otakit_sig_result_t *result, otakit_diag_t *diag);

#ifdef __cplusplus
}
#endif
#endif
