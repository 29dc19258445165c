/* Secure Boot V2 on the host, with OpenSSL's libcrypto: keys (PEM, as espsecure.py reads
 * and writes them), the key digest an ESP32 burns into eFuse, signing an image, and the
 * hash and signature callbacks that the core's otakit_sig_verify() calls. */
#ifndef OTAKIT_HOST_SBV2_H
#define OTAKIT_HOST_SBV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/diag.h"
#include "otakit/err.h"
#include "otakit/sigblock.h"

/** A Secure Boot V2 key: RSA-3072 or ECDSA P-192/P-256/P-384, private or public only. */
typedef struct otakit_sbv2_key otakit_sbv2_key_t;

/**
 * Load a PEM key: a private key ("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY") or a
 * public key ("PUBLIC KEY"). On failure *why says what is wrong (a string literal).
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG (not a PEM key); OTAKIT_ERR_NOT_SUPPORTED
 *         (RSA of another size, another curve, another algorithm)
 */
otakit_err_t otakit_sbv2_key_load(const uint8_t *pem, size_t len, otakit_sbv2_key_t **key,
                                  const char **why);

/** Generate a key of a scheme. @return OTAKIT_OK, OTAKIT_ERR_NOT_SUPPORTED, OTAKIT_FAIL */
otakit_err_t otakit_sbv2_key_generate(otakit_sig_scheme_t scheme, otakit_sbv2_key_t **key);

void otakit_sbv2_key_free(otakit_sbv2_key_t *key);

otakit_sig_scheme_t otakit_sbv2_key_scheme(const otakit_sbv2_key_t *key);
bool otakit_sbv2_key_is_private(const otakit_sbv2_key_t *key);

/**
 * The private key as PEM in OpenSSL's traditional format ("BEGIN RSA PRIVATE KEY",
 * "BEGIN EC PRIVATE KEY"), as espsecure.py generate_signing_key writes it; or the public
 * key as SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), as espsecure.py
 * extract_public_key writes it. *pem is malloc'd; free() it.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_STATE (a private PEM of a public key); OTAKIT_FAIL
 */
otakit_err_t otakit_sbv2_key_pem(const otakit_sbv2_key_t *key, bool private_part, char **pem,
                                 size_t *len);

/**
 * The key fields as a signature block holds them (776 bytes for RSA: n, e, R^2 mod n, M';
 * 65 or 97 for ECDSA: curve id, X, Y), into out (room for 776 bytes).
 * @return OTAKIT_OK or OTAKIT_FAIL
 */
otakit_err_t otakit_sbv2_key_fields(const otakit_sbv2_key_t *key,
                                    uint8_t out[OTAKIT_SIG_RSA_KEY_LEN], size_t *len);

/** SHA-256 of the key fields: what espsecure.py digest_sbv2_public_key writes. */
otakit_err_t otakit_sbv2_key_digest(const otakit_sbv2_key_t *key,
                                    uint8_t out[OTAKIT_SIG_KEY_DIGEST_LEN]);

/**
 * One signature block over data (the signed bytes: the image padded to 4 KiB): the
 * digest (SHA-256; SHA-384 for P-384), the key fields, the signature (RSA-PSS with
 * SHA-256, MGF1-SHA-256 and a 32-byte salt; or ECDSA), the CRC.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_STATE for a public key; OTAKIT_FAIL
 */
otakit_err_t otakit_sbv2_sign_block(const otakit_sbv2_key_t *key, const uint8_t *data, size_t len,
                                    uint8_t block[OTAKIT_SIG_BLOCK_SIZE]);

/**
 * Sign an image as espsecure.py sign_data --version 2 does. in[0, image_len) is the image
 * (its structure already checked by the caller); the signature sector goes at the next
 * 4 KiB boundary, and the bytes before it that in does not have are 0xFF. Without
 * append, in must not already hold a signature sector there; with append it must, and
 * the new block joins its valid blocks (at most 3; each must sign the same bytes).
 * *out (malloc'd) is the signed image; diag names the problem on failure.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_STATE (already signed, no sector to append to,
 *         three blocks already, bytes after the image that are not a signature sector,
 *         an existing block over other bytes); OTAKIT_ERR_NO_MEM; OTAKIT_FAIL
 */
otakit_err_t otakit_sbv2_sign_image(const otakit_sbv2_key_t *key, const uint8_t *in, size_t in_len,
                                    uint32_t image_len, bool append, uint8_t **out, size_t *out_len,
                                    otakit_diag_t *diag);

/** Hash and signature callbacks for otakit_sig_verify(), on libcrypto. */
extern const otakit_sig_crypto_t otakit_sbv2_crypto;

#endif
