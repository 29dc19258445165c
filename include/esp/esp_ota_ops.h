/**
 * @file esp_ota_ops.h
 * @brief ESP-IDF's app_update API over otakit's update session (include/otakit/update.h, ota.h):
 * same names, same error codes, same on-flash results.
 *
 * Rollback behaviour follows CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE and
 * CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK in sdkconfig.h. Sessions are kept in a small
 * per-process table (handles count from 1), as ESP-IDF does.
 */
#ifndef ESP_OTA_OPS_H
#define ESP_OTA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_app_desc.h"
#include "esp_err.h"
#include "esp_flash_partitions.h"
#include "esp_partition.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ERR_OTA_BASE OTAKIT_ERR_OTA_BASE
#define ESP_ERR_OTA_PARTITION_CONFLICT OTAKIT_ERR_OTA_PARTITION_CONFLICT
#define ESP_ERR_OTA_SELECT_INFO_INVALID OTAKIT_ERR_OTA_SELECT_INFO_INVALID
#define ESP_ERR_OTA_VALIDATE_FAILED OTAKIT_ERR_OTA_VALIDATE_FAILED
#define ESP_ERR_OTA_SMALL_SEC_VER OTAKIT_ERR_OTA_SMALL_SEC_VER
#define ESP_ERR_OTA_ROLLBACK_FAILED OTAKIT_ERR_OTA_ROLLBACK_FAILED
#define ESP_ERR_OTA_ROLLBACK_INVALID_STATE OTAKIT_ERR_OTA_ROLLBACK_INVALID_STATE

#define OTA_SIZE_UNKNOWN 0xffffffffu
#define OTA_WITH_SEQUENTIAL_WRITES 0xfffffffeu

/** An OTA session. */
typedef uint32_t esp_ota_handle_t;

/* esp_ota_img_states_t and its ESP_OTA_IMG_* values: esp_flash_partitions.h. */

/** The running app's description (same as esp_app_get_description()). */
const esp_app_desc_t *esp_ota_get_app_description(void);
/** As esp_app_get_elf_sha256. */
int esp_ota_get_app_elf_sha256(char *dst, size_t size);

/**
 * @brief Start writing an update into partition.
 * @param image_size OTA_SIZE_UNKNOWN (or 0): erase the whole partition now;
 *        OTA_WITH_SEQUENTIAL_WRITES: erase sectors as they are written; otherwise the
 *        image size, whose sectors are erased now.
 * @return ESP_OK; ESP_ERR_INVALID_ARG (NULL, or not an OTA app partition);
 *         ESP_ERR_NOT_FOUND (not in the table); ESP_ERR_OTA_PARTITION_CONFLICT (the
 *         running partition); ESP_ERR_OTA_ROLLBACK_INVALID_STATE (the running app is
 *         still PENDING_VERIFY); ESP_ERR_INVALID_SIZE (image larger than the partition,
 *         or the partition passes the end of flash); ESP_ERR_NO_MEM (too many sessions);
 *         flash errors.
 */
esp_err_t esp_ota_begin(const esp_partition_t *partition, size_t image_size,
                        esp_ota_handle_t *out_handle);
/**
 * @brief Continue a session cut at offset (no erase below offset).
 * @return as esp_ota_begin; ESP_ERR_INVALID_ARG if offset > partition size.
 */
esp_err_t esp_ota_resume(const esp_partition_t *partition, const size_t erase_size,
                         const size_t image_offset, esp_ota_handle_t *out_handle);
/**
 * @brief Append data.
 * @return ESP_OK; ESP_ERR_INVALID_ARG (NULL data or unknown handle);
 *         ESP_ERR_OTA_VALIDATE_FAILED (first byte not 0xE9); ESP_ERR_INVALID_SIZE (past
 *         the partition end); flash errors.
 */
esp_err_t esp_ota_write(esp_ota_handle_t handle, const void *data, size_t size);
/**
 * @brief Finish the session and verify the image.
 * @return ESP_OK; ESP_ERR_NOT_FOUND (unknown handle); ESP_ERR_INVALID_ARG (nothing
 *         written); ESP_ERR_OTA_VALIDATE_FAILED. The handle is freed in every case.
 */
esp_err_t esp_ota_end(esp_ota_handle_t handle);
/** Drop a session. @return ESP_OK; ESP_ERR_NOT_FOUND. */
esp_err_t esp_ota_abort(esp_ota_handle_t handle);

/**
 * @brief Boot partition on the next reset (verifies its image; factory erases otadata).
 * @return ESP_OK; ESP_ERR_INVALID_ARG; ESP_ERR_OTA_VALIDATE_FAILED; ESP_ERR_NOT_FOUND
 *         (no otadata partition); ESP_ERR_OTA_SMALL_SEC_VER; flash errors.
 */
esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition);
/** The partition otadata selects (factory when none), or NULL if the table has no app. */
const esp_partition_t *esp_ota_get_boot_partition(void);
/** The partition this app runs from. */
const esp_partition_t *esp_ota_get_running_partition(void);
/** The OTA slot after start_from (running if NULL), wrapping; NULL if there is none. */
const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from);
/**
 * @brief The app description of a partition.
 * @return ESP_OK; ESP_ERR_INVALID_ARG (NULL); ESP_ERR_NOT_SUPPORTED (not an app);
 *         ESP_ERR_NOT_FOUND (no description magic); flash errors.
 */
esp_err_t esp_ota_get_partition_description(const esp_partition_t *partition,
                                            esp_app_desc_t *app_desc);
/** Number of contiguous OTA slots ota_0, ota_1, ... */
uint8_t esp_ota_get_app_partition_count(void);

/**
 * @brief Confirm the running app (VALID); with anti-rollback also raise the eFuse
 * secure version to the app's.
 * @return ESP_OK; ESP_FAIL when running from factory (no active otadata entry).
 */
esp_err_t esp_ota_mark_app_valid_cancel_rollback(void);
/**
 * @brief Mark the running app INVALID and restart (the bootloader rolls back).
 * @return only on failure: ESP_ERR_OTA_ROLLBACK_FAILED (no other app can boot); ESP_FAIL.
 */
esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void);
/** As above without the restart (v5.5+). */
esp_err_t esp_ota_mark_app_invalid_rollback(void);
/** The slot of the last INVALID/ABORTED entry, or NULL. */
const esp_partition_t *esp_ota_get_last_invalid_partition(void);
/**
 * @brief The otadata state of an OTA slot.
 * @return ESP_OK; ESP_ERR_INVALID_ARG (NULL); ESP_ERR_NOT_SUPPORTED (not an OTA slot);
 *         ESP_ERR_NOT_FOUND (no entry selects it).
 */
esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition,
                                      esp_ota_img_states_t *ota_state);
/** Erase the previous app's slot and its otadata entry. @return ESP_OK; ESP_FAIL. */
esp_err_t esp_ota_erase_last_boot_app_partition(void);
/** Whether a rollback has an app to go to. */
bool esp_ota_check_rollback_is_possible(void);

#ifdef __cplusplus
}
#endif
#endif
