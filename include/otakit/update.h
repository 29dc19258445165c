/**
 * @file update.h
 * @brief The OTA write session and boot-slot switching (ESP-IDF's app_update, spec §7),
 * over a device view (otakit_ota_t) the caller owns.
 */
#ifndef OTAKIT_UPDATE_H
#define OTAKIT_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/image.h"
#include "otakit/log.h"
#include "otakit/otadata.h"
#include "otakit/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_OTA_SIZE_UNKNOWN 0xFFFFFFFFu
#define OTAKIT_OTA_WITH_SEQUENTIAL_WRITES 0xFFFFFFFEu

/** The eFuse SECURE_VERSION counter, held by the port. It only ever rises. */
typedef struct otakit_efuse {
    void *ctx;
    uint32_t (*get)(void *ctx);
    /** Raise the counter to v (never lowers it). */
    otakit_err_t (*raise)(void *ctx, uint32_t v);
} otakit_efuse_t;

/** A device's view for the OTA API: flash, table, configuration, running app. */
typedef struct otakit_ota {
    const otakit_flash_t *flash;
    const otakit_ptable_t *table;
    const otakit_part_t *running; /**< partition the app runs from; NULL = none (host tool) */
    bool rollback;                /**< CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    bool anti_rollback;           /**< CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    const otakit_efuse_t *efuse;  /**< needed with anti_rollback */
    int32_t chip_id;              /**< chip the images must be for, or OTAKIT_CHIP_ANY */
    otakit_log_t log;
} otakit_ota_t;

typedef enum {
    OTAKIT_ERASE_WHOLE = 0,  /**< erase the whole slot at begin (OTA_SIZE_UNKNOWN) */
    OTAKIT_ERASE_SIZE,       /**< erase the image size rounded up to sectors at begin */
    OTAKIT_ERASE_SEQUENTIAL, /**< erase each sector when first written, skip blank ones */
} otakit_erase_policy_t;

/**
 * What a verification proved about the image in a slot, and when: otakit_update_end
 * fills one (otakit_update_t.proof) so that otakit_ota_set_boot_verified need not read
 * and hash the image again while the flash's write epoch has not moved.
 */
typedef struct otakit_image_proof {
    bool valid;              /**< the image verified and the port keeps a write epoch */
    uint32_t part_offset;    /**< the slot it is in */
    uint32_t part_size;
    uint32_t epoch;          /**< otakit_flash_t.epoch when it was verified */
    uint32_t image_len;      /**< bytes, the appended hash included */
    bool has_desc;           /**< the image has an app description ... */
    uint32_t secure_version; /**< ... with this secure_version (anti-rollback) */
} otakit_image_proof_t;

/**
 * One OTA write session. Every byte written is read back from flash, compared with
 * what was given, and fed to a streaming verifier, so update_end knows whether the
 * slot holds a valid image without reading it again. End or abort every session that
 * begin or resume opened: the verifier holds a hash context of the port's.
 */
typedef struct otakit_update {
    const otakit_ota_t *ota;
    const otakit_part_t *part;
    otakit_erase_policy_t policy;
    uint32_t image_size;   /**< declared size, or OTAKIT_OTA_SIZE_UNKNOWN */
    uint32_t written;      /**< offset of the next byte in the slot */
    uint32_t erased_end;   /**< sequential policy: slot offset up to which sectors are ready */
    uint32_t sectors_erased;
    bool open;
    bool verifying;        /**< verifier has consumed the slot's bytes [0, written) */
    bool has_epoch;        /**< epoch is the flash's write epoch after our last write */
    uint32_t epoch;
    otakit_image_verifier_t verifier;
    otakit_image_proof_t proof; /**< set by a successful update_end */
} otakit_update_t;

/**
 * @brief Start writing an image into part (esp_ota_begin).
 * @param image_size OTAKIT_OTA_SIZE_UNKNOWN (or 0): erase the whole slot;
 *        OTAKIT_OTA_WITH_SEQUENTIAL_WRITES: erase as written; otherwise the byte count,
 *        whose sectors are erased now.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG (not an OTA app slot); OTAKIT_ERR_NOT_FOUND
 *         (not in the table); OTAKIT_ERR_OTA_PARTITION_CONFLICT (the running slot);
 *         OTAKIT_ERR_OTA_ROLLBACK_INVALID_STATE (rollback on and the running app is still
 *         PENDING_VERIFY); OTAKIT_ERR_INVALID_SIZE (image larger than the slot, or the
 *         slot passes the end of flash); flash errors.
 * Power-loss: touches only the target slot.
 */
otakit_err_t otakit_update_begin(otakit_update_t *u, const otakit_ota_t *ota,
                                 const otakit_part_t *part, uint32_t image_size);
/** Same choice of erase policy as begin, without the size rule. */
otakit_err_t otakit_update_begin_policy(otakit_update_t *u, const otakit_ota_t *ota,
                                        const otakit_part_t *part, otakit_erase_policy_t policy,
                                        uint32_t image_size);
/**
 * @brief Continue a session that was cut at offset (esp_ota_resume): nothing is
 * erased again below offset; with the sequential policy the sector holding offset is
 * taken as already erased.
 * @return as begin; OTAKIT_ERR_INVALID_ARG if offset > slot size.
 */
otakit_err_t otakit_update_resume(otakit_update_t *u, const otakit_ota_t *ota,
                                  const otakit_part_t *part, otakit_erase_policy_t policy,
                                  uint32_t image_size, uint32_t offset);
/**
 * @brief Append bytes (esp_ota_write), then read them back and feed what flash holds
 * to the session's verifier (the first write after a resume first reads and feeds the
 * bytes below the resume offset).
 * @return OTAKIT_OK; OTAKIT_ERR_OTA_VALIDATE_FAILED if the first byte is not 0xE9;
 *         OTAKIT_ERR_INVALID_SIZE at the write that crosses the slot end (nothing of it
 *         is written); OTAKIT_ERR_INVALID_ARG (session not open); flash errors;
 *         OTAKIT_ERR_FLASH_OP_FAIL also when flash reads back other bytes than were
 *         written (the session stays at the same offset: the write can be retried).
 */
otakit_err_t otakit_update_write(otakit_update_t *u, const void *data, size_t len);
/**
 * @brief Close the session and verify the image in the slot (esp_ota_end): the
 * verifier has seen every byte of [0, written) as read back from flash, so nothing is
 * read again. On success u->proof records the result for otakit_ota_set_boot_verified.
 * Bytes past `written` are not part of the image (a stale tail left in the slot by an
 * earlier image does not complete a truncated one).
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG if nothing was written;
 *         OTAKIT_ERR_OTA_VALIDATE_FAILED if the image does not verify; flash errors
 *         (after a resume with no write since, while reading the bytes below the offset).
 */
otakit_err_t otakit_update_end(otakit_update_t *u);
/** Drop the session (and its verifier); the slot keeps what was written, otadata is not touched. */
void otakit_update_abort(otakit_update_t *u);

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
