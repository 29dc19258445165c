/**
 * @file ota.h
 * @brief Boot-slot switching and the app's rollback marks (ESP-IDF's app_update, spec
 * §7): which slot otadata selects, switching it, confirming or rejecting the running
 * app, over a device view (otakit_ota_t) the caller owns. The write session that puts
 * an image into a slot is update.h.
 */
#ifndef OTAKIT_OTA_H
#define OTAKIT_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/efuse.h"
#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/image.h"
#include "otakit/log.h"
#include "otakit/otadata.h"
#include "otakit/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A device's view for the OTA API: flash, table, configuration, running app. */
typedef struct otakit_ota {
    const otakit_flash_t *flash;
    const otakit_ptable_t *table;
    const otakit_part_t *running; /**< partition the app runs from; NULL = none (host tool) */
    bool rollback;                /**< CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    bool anti_rollback;           /**< CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    const otakit_efuse_t *efuse;  /**< needed with anti_rollback */
    int32_t chip_id;              /**< chip the images must be for, or OTAKIT_CHIP_ANY */
    /** CONFIG_OTAKIT_APP_REQUIRE_SHA256: otakit_update_end refuses an image without the
     * appended SHA-256 (ESP-IDF accepts it, checked only by its XOR checksum). */
    bool require_hash;
    otakit_log_t log;
} otakit_ota_t;

/**
 * What a verification proved about the image in a slot, and when: otakit_update_end
 * fills one (otakit_update_t.proof) so that otakit_ota_set_boot_verified need not read
 * and hash the image again while the flash's write epoch has not moved.
 */
typedef struct otakit_image_proof {
    bool valid;           /**< the image verified and the port keeps a write epoch */
    uint32_t part_offset; /**< the slot it is in */
    uint32_t part_size;
    uint32_t epoch;          /**< otakit_flash_t.epoch when it was verified */
    uint32_t image_len;      /**< bytes, the appended hash included */
    bool has_desc;           /**< the image has an app description ... */
    uint32_t secure_version; /**< ... with this secure_version (anti-rollback) */
} otakit_image_proof_t;

/**
 * @brief Make part the boot partition (esp_ota_set_boot_partition, spec §5.6 and §7.4):
 * verify its image; factory: erase otadata; otherwise write the new seq into the
 * inactive copy, state NEW with rollback, else UNDEFINED. Re-selecting the selected
 * slot writes the inactive copy with seq + N (ESP-IDF v6 rewrites the active copy in
 * place). The copy that selects the running app is never overwritten: after a
 * fallback, the active copy (pointing at the slot that failed) is rewritten instead.
 * @return OTAKIT_OK; OTAKIT_ERR_OTA_VALIDATE_FAILED; OTAKIT_ERR_INVALID_ARG;
 *         OTAKIT_ERR_NOT_FOUND (no otadata); OTAKIT_ERR_OTA_SMALL_SEC_VER; flash errors.
 * Power-loss: until the new copy's last byte is programmed, the previous selection
 * stays the active one; a cut can only fall back to the running app or the previous
 * selection, never to a half-written slot (the bootloader verifies before it boots).
 */
otakit_err_t otakit_ota_set_boot(const otakit_ota_t *ota, const otakit_part_t *part);
/**
 * @brief otakit_ota_set_boot, trusting a verification already made: when proof is for
 * this slot and the flash's write epoch is the one recorded (nothing has written or
 * erased anything since; a port without an epoch never qualifies), the image is not
 * read again and only the anti-rollback rule is applied to the recorded
 * secure_version. Otherwise (proof NULL, another slot, the epoch moved) the image is
 * verified in full, as otakit_ota_set_boot does.
 * @return as otakit_ota_set_boot.
 */
otakit_err_t otakit_ota_set_boot_verified(const otakit_ota_t *ota, const otakit_part_t *part,
                                          const otakit_image_proof_t *proof);
/** The partition otadata selects (esp_ota_get_boot_partition). */
const otakit_part_t *otakit_ota_get_boot(const otakit_ota_t *ota);
/** The slot after start (running if NULL), wrapping (esp_ota_get_next_update_partition). */
const otakit_part_t *otakit_ota_next_update(const otakit_ota_t *ota, const otakit_part_t *start);
/** @return OTAKIT_OK; OTAKIT_ERR_NOT_SUPPORTED (not an OTA slot); OTAKIT_ERR_NOT_FOUND. */
otakit_err_t otakit_ota_get_state(const otakit_ota_t *ota, const otakit_part_t *part,
                                  uint32_t *state);
/** The slot of the INVALID/ABORTED copy (smaller seq if both), NULL if none or not verifiable. */
const otakit_part_t *otakit_ota_last_invalid(const otakit_ota_t *ota);
/**
 * @brief Mark the running app VALID (esp_ota_mark_app_valid_cancel_rollback); with
 * anti-rollback also raise the eFuse counter to its secure_version.
 * @return OTAKIT_OK; OTAKIT_FAIL if running from factory / no active copy.
 * Power-loss: the active copy is rewritten in place; if cut, the other copy (if valid)
 * or factory is chosen on the next boot.
 */
otakit_err_t otakit_ota_mark_valid(const otakit_ota_t *ota);
/**
 * @brief Mark the running app INVALID so the next boot rolls back (the caller restarts).
 * @return OTAKIT_OK; OTAKIT_ERR_OTA_ROLLBACK_FAILED if no other app can boot; OTAKIT_FAIL.
 */
otakit_err_t otakit_ota_mark_invalid(const otakit_ota_t *ota);
/** esp_ota_check_rollback_is_possible. */
bool otakit_ota_rollback_possible(const otakit_ota_t *ota);
/** esp_ota_erase_last_boot_app_partition. @return OTAKIT_OK or OTAKIT_FAIL. */
otakit_err_t otakit_ota_erase_last_boot_app(const otakit_ota_t *ota);
/** Image verification options for this device and partition. */
otakit_image_opts_t otakit_ota_image_opts(const otakit_ota_t *ota, const otakit_part_t *part);

#ifdef __cplusplus
}
#endif
#endif
