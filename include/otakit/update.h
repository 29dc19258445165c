/**
 * @file update.h
 * @brief The OTA write session (ESP-IDF's esp_ota_begin / write / end, spec §7): puts
 * an image into a slot and verifies it as it goes. Switching to it is ota.h.
 */
#ifndef OTAKIT_UPDATE_H
#define OTAKIT_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/image.h"
#include "otakit/ota.h"
#include "otakit/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_OTA_SIZE_UNKNOWN 0xFFFFFFFFu
#define OTAKIT_OTA_WITH_SEQUENTIAL_WRITES 0xFFFFFFFEu

typedef enum {
    OTAKIT_ERASE_WHOLE = 0,  /**< erase the whole slot at begin (OTA_SIZE_UNKNOWN) */
    OTAKIT_ERASE_SIZE,       /**< erase the image size rounded up to sectors at begin */
    OTAKIT_ERASE_SEQUENTIAL, /**< erase each sector when first written, skip blank ones */
} otakit_erase_policy_t;

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
    uint32_t image_size; /**< declared size, or OTAKIT_OTA_SIZE_UNKNOWN */
    uint32_t written;    /**< offset of the next byte in the slot */
    uint32_t erased_end; /**< sequential policy: slot offset up to which sectors are ready */
    uint32_t sectors_erased;
    bool open;
    bool verifying; /**< verifier has consumed the slot's bytes [0, written) */
    bool has_epoch; /**< epoch is the flash's write epoch after our last write */
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

#ifdef __cplusplus
}
#endif
#endif
