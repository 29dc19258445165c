/* Secure Boot V2 on the virtual device: the port side of the signature checks the
 * bootloader and the apps make. The core parses and applies the acceptance rule
 * (include/otakit/sigblock.h, crypto-free); here an image and its signature sector are
 * read from flash and the hashes and signatures are computed with OpenSSL's libcrypto
 * (src/host/sbv2.c). A device port with a crypto engine would provide the same calls. */
#ifndef OTAKIT_SIM_SECURE_H
#define OTAKIT_SIM_SECURE_H

#include <stdint.h>

#include "otakit/diag.h"
#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/sigblock.h"

/**
 * Check the signature of the image of image_len bytes at addr (a partition of part_size
 * bytes): its signature sector sits at the next 4 KiB boundary, as espsecure puts it.
 * @param trusted   n_trusted key digests (eFuse, or the running app's keys)
 * @param result    which block verified, or why each did not
 * @return OTAKIT_OK; OTAKIT_ERR_IMAGE_INVALID (no signature sector, or none of its
 *         blocks is accepted: diag says why, offset in the partition);
 *         OTAKIT_ERR_INVALID_SIZE (no room for a sector in the partition);
 *         OTAKIT_ERR_INVALID_ARG (no trusted key); OTAKIT_ERR_NO_MEM; flash errors
 */
otakit_err_t otakit_secure_verify(const otakit_flash_t *f, uint32_t addr, uint32_t part_size,
                                  uint32_t image_len,
                                  const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN],
                                  unsigned n_trusted, otakit_sig_result_t *result,
                                  otakit_diag_t *diag);

/**
 * The key digests of the valid signature blocks of the image at addr (ESP-IDF's
 * esp_secure_boot_get_signature_blocks_for_running_app): the keys an app without
 * hardware Secure Boot trusts for its updates.
 * @return OTAKIT_OK with *n >= 1; OTAKIT_ERR_NOT_FOUND (no valid signature block);
 *         OTAKIT_ERR_IMAGE_INVALID (no valid image at addr); flash errors
 */
otakit_err_t otakit_secure_image_keys(const otakit_flash_t *f, uint32_t addr, uint32_t part_size,
                                      uint8_t out[OTAKIT_SIG_BLOCKS_MAX][OTAKIT_SIG_KEY_DIGEST_LEN],
                                      unsigned *n);

#endif
