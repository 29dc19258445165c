/* The eFuses of a virtual device, kept in a small text file beside the flash file
 * (FLASH.efuse), one "name value" line per field:
 *
 *     secure_version 3
 *     key_digest0 8f0c...(64 hex digits)
 *     key_revoke0 1
 *
 * secure_version is the anti-rollback counter (CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK);
 * key_digest0..2 are the Secure Boot V2 key digests (eFuse blocks KEY0..2 with purpose
 * SECURE_BOOT_DIGEST0..2: SHA-256 of a signing key's public part, as `otakit key digest`
 * prints it); key_revoke0..2 are their revocation bits (SECURE_BOOT_KEY_REVOKE0..2).
 * Like real eFuses every field only moves one way: the counter only rises, a digest is
 * burned once into an empty block, a revoked digest stays revoked. A missing file reads
 * as all zero (nothing burned); a file of one bare number (the older format) is that
 * counter. Every change is made under an exclusive lock, read-modify-write.
 */
#ifndef OTAKIT_SIM_EFUSE_H
#define OTAKIT_SIM_EFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"

#define OTAKIT_EFUSE_KEY_BLOCKS 3u
#define OTAKIT_EFUSE_DIGEST_LEN 32u

typedef struct otakit_efuse_state {
    uint32_t secure_version;
    bool key_set[OTAKIT_EFUSE_KEY_BLOCKS];
    bool key_revoked[OTAKIT_EFUSE_KEY_BLOCKS];
    uint8_t key_digest[OTAKIT_EFUSE_KEY_BLOCKS][OTAKIT_EFUSE_DIGEST_LEN];
} otakit_efuse_state_t;

/** The eFuse file of a flash file: "<flash>.efuse" into out (size n). Returns 0 or -1 (too long).
 */
int otakit_efuse_path(const char *flash_path, char *out, size_t n);
/** Read the counter (0 if the file is missing or unreadable). */
uint32_t otakit_efuse_file_get(const char *path);
/**
 * Raise the counter to v (under an exclusive lock; never lowers it).
 * @return OTAKIT_OK; OTAKIT_FAIL if the file cannot be written.
 */
otakit_err_t otakit_efuse_file_raise(const char *path, uint32_t v);

/**
 * Read every field. A missing file is all zero.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG (the file is not an eFuse file: *why names
 *         the line's problem); OTAKIT_FAIL (unreadable)
 */
otakit_err_t otakit_efuse_file_read(const char *path, otakit_efuse_state_t *st, const char **why);
/** Parse the text of an eFuse file (NUL-terminated). @return NULL, or what is wrong. */
const char *otakit_efuse_parse(const char *text, otakit_efuse_state_t *st);
/**
 * Burn a key digest into the first empty block (*block_out: its number). A digest that
 * is already burned is refused, as is a fourth one.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_STATE (already burned, or no empty block);
 *         OTAKIT_ERR_INVALID_ARG (the file is malformed); OTAKIT_FAIL (cannot write)
 */
otakit_err_t otakit_efuse_file_burn_key(const char *path, const uint8_t digest[32],
                                        unsigned *block_out);
/**
 * Set the revocation bit of key block `block` (0..2); revoking a revoked block succeeds.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG (block out of range, malformed file);
 *         OTAKIT_FAIL (cannot write)
 */
otakit_err_t otakit_efuse_file_revoke(const char *path, unsigned block);

/**
 * The digests the Secure Boot V2 bootloader trusts: burned and not revoked, in block
 * order. @return how many were copied to out.
 */
unsigned otakit_efuse_trusted_keys(const otakit_efuse_state_t *st,
                                   uint8_t out[OTAKIT_EFUSE_KEY_BLOCKS][OTAKIT_EFUSE_DIGEST_LEN]);

#endif
