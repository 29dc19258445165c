/**
 * @file nvs.h
 * @brief ESP-IDF v5.5's NVS API (nvs.h) over otakit's NVS engine (include/otakit/nvs.h):
 * the same names, types, error codes and on-flash bytes. Not provided: encryption
 * (nvs_flash_secure_*), the entry iterators (nvs_entry_find and friends).
 */
#ifndef ESP_NVS_H
#define ESP_NVS_H

#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "otakit/nvs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t nvs_handle_t;

#define ESP_ERR_NVS_BASE OTAKIT_ERR_NVS_BASE
#define ESP_ERR_NVS_NOT_INITIALIZED OTAKIT_ERR_NVS_NOT_INITIALIZED
#define ESP_ERR_NVS_NOT_FOUND OTAKIT_ERR_NVS_NOT_FOUND
#define ESP_ERR_NVS_TYPE_MISMATCH OTAKIT_ERR_NVS_TYPE_MISMATCH
#define ESP_ERR_NVS_READ_ONLY OTAKIT_ERR_NVS_READ_ONLY
#define ESP_ERR_NVS_NOT_ENOUGH_SPACE OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE
#define ESP_ERR_NVS_INVALID_NAME OTAKIT_ERR_NVS_INVALID_NAME
#define ESP_ERR_NVS_INVALID_HANDLE OTAKIT_ERR_NVS_INVALID_HANDLE
#define ESP_ERR_NVS_REMOVE_FAILED OTAKIT_ERR_NVS_REMOVE_FAILED
#define ESP_ERR_NVS_KEY_TOO_LONG OTAKIT_ERR_NVS_KEY_TOO_LONG
#define ESP_ERR_NVS_PAGE_FULL OTAKIT_ERR_NVS_PAGE_FULL
#define ESP_ERR_NVS_INVALID_STATE OTAKIT_ERR_NVS_INVALID_STATE
#define ESP_ERR_NVS_INVALID_LENGTH OTAKIT_ERR_NVS_INVALID_LENGTH
#define ESP_ERR_NVS_NO_FREE_PAGES OTAKIT_ERR_NVS_NO_FREE_PAGES
#define ESP_ERR_NVS_VALUE_TOO_LONG OTAKIT_ERR_NVS_VALUE_TOO_LONG
#define ESP_ERR_NVS_PART_NOT_FOUND OTAKIT_ERR_NVS_PART_NOT_FOUND
#define ESP_ERR_NVS_NEW_VERSION_FOUND OTAKIT_ERR_NVS_NEW_VERSION_FOUND
#define ESP_ERR_NVS_XTS_ENCR_FAILED OTAKIT_ERR_NVS_XTS_ENCR_FAILED
#define ESP_ERR_NVS_XTS_DECR_FAILED OTAKIT_ERR_NVS_XTS_DECR_FAILED
#define ESP_ERR_NVS_XTS_CFG_FAILED OTAKIT_ERR_NVS_XTS_CFG_FAILED
#define ESP_ERR_NVS_XTS_CFG_NOT_FOUND OTAKIT_ERR_NVS_XTS_CFG_NOT_FOUND
#define ESP_ERR_NVS_ENCR_NOT_SUPPORTED OTAKIT_ERR_NVS_ENCR_NOT_SUPPORTED
#define ESP_ERR_NVS_KEYS_NOT_INITIALIZED OTAKIT_ERR_NVS_KEYS_NOT_INITIALIZED
#define ESP_ERR_NVS_CORRUPT_KEY_PART OTAKIT_ERR_NVS_CORRUPT_KEY_PART
#define ESP_ERR_NVS_WRONG_ENCRYPTION OTAKIT_ERR_NVS_WRONG_ENCRYPTION
#define ESP_ERR_NVS_CONTENT_DIFFERS OTAKIT_ERR_NVS_CONTENT_DIFFERS

#define NVS_DEFAULT_PART_NAME "nvs" /**< the default NVS partition's label */
#define NVS_PART_NAME_MAX_SIZE 16   /**< partition label, without the NUL */
#define NVS_KEY_NAME_MAX_SIZE 16    /**< key, with the NUL */
#define NVS_NS_NAME_MAX_SIZE NVS_KEY_NAME_MAX_SIZE

typedef enum {
    NVS_READONLY,
    NVS_READWRITE,
} nvs_open_mode_t;

typedef enum {
    NVS_TYPE_U8 = 0x01,
    NVS_TYPE_I8 = 0x11,
    NVS_TYPE_U16 = 0x02,
    NVS_TYPE_I16 = 0x12,
    NVS_TYPE_U32 = 0x04,
    NVS_TYPE_I32 = 0x14,
    NVS_TYPE_U64 = 0x08,
    NVS_TYPE_I64 = 0x18,
    NVS_TYPE_STR = 0x21,
    NVS_TYPE_BLOB = 0x42,
    NVS_TYPE_ANY = 0xff,
} nvs_type_t;

typedef struct {
    size_t used_entries;      /**< entries holding data */
    size_t free_entries;      /**< entries free, the reserved page's included */
    size_t available_entries; /**< free entries less the reserved page */
    size_t total_entries;
    size_t namespace_count;
} nvs_stats_t;

/**
 * @brief Open a namespace of the "nvs" partition (created in NVS_READWRITE mode).
 * @return ESP_OK; ESP_ERR_NVS_NOT_INITIALIZED (nvs_flash_init not called);
 *         ESP_ERR_NVS_PART_NOT_FOUND; ESP_ERR_NVS_NOT_FOUND (missing, NVS_READONLY);
 *         ESP_ERR_NVS_INVALID_NAME; ESP_ERR_NVS_KEY_TOO_LONG; ESP_ERR_NO_MEM;
 *         ESP_ERR_NVS_NOT_ENOUGH_SPACE; ESP_ERR_NOT_ALLOWED (read-only partition);
 *         ESP_ERR_INVALID_ARG (NULL out_handle).
 */
esp_err_t nvs_open(const char *namespace_name, nvs_open_mode_t open_mode, nvs_handle_t *out_handle);
/** @brief nvs_open on the partition labelled part_name. */
esp_err_t nvs_open_from_partition(const char *part_name, const char *namespace_name,
                                  nvs_open_mode_t open_mode, nvs_handle_t *out_handle);

/**
 * @brief Set a value. An equal value already stored is not written again.
 * @return ESP_OK; ESP_ERR_NVS_INVALID_HANDLE; ESP_ERR_NVS_READ_ONLY; ESP_ERR_NVS_INVALID_NAME;
 *         ESP_ERR_NVS_KEY_TOO_LONG; ESP_ERR_NVS_NOT_ENOUGH_SPACE; ESP_ERR_NVS_REMOVE_FAILED;
 *         ESP_ERR_NVS_VALUE_TOO_LONG (strings over 4000 bytes, blobs over the partition);
 *         flash errors.
 */
esp_err_t nvs_set_i8(nvs_handle_t handle, const char *key, int8_t value);
esp_err_t nvs_set_u8(nvs_handle_t handle, const char *key, uint8_t value);
esp_err_t nvs_set_i16(nvs_handle_t handle, const char *key, int16_t value);
esp_err_t nvs_set_u16(nvs_handle_t handle, const char *key, uint16_t value);
esp_err_t nvs_set_i32(nvs_handle_t handle, const char *key, int32_t value);
esp_err_t nvs_set_u32(nvs_handle_t handle, const char *key, uint32_t value);
esp_err_t nvs_set_i64(nvs_handle_t handle, const char *key, int64_t value);
esp_err_t nvs_set_u64(nvs_handle_t handle, const char *key, uint64_t value);
esp_err_t nvs_set_str(nvs_handle_t handle, const char *key, const char *value);
esp_err_t nvs_set_blob(nvs_handle_t handle, const char *key, const void *value, size_t length);

/**
 * @brief Get a value.
 * @return ESP_OK; ESP_ERR_NVS_NOT_FOUND (absent, or stored under another type);
 *         ESP_ERR_NVS_INVALID_HANDLE; ESP_ERR_NVS_INVALID_NAME; ESP_ERR_NVS_KEY_TOO_LONG.
 */
esp_err_t nvs_get_i8(nvs_handle_t handle, const char *key, int8_t *out_value);
esp_err_t nvs_get_u8(nvs_handle_t handle, const char *key, uint8_t *out_value);
esp_err_t nvs_get_i16(nvs_handle_t handle, const char *key, int16_t *out_value);
esp_err_t nvs_get_u16(nvs_handle_t handle, const char *key, uint16_t *out_value);
esp_err_t nvs_get_i32(nvs_handle_t handle, const char *key, int32_t *out_value);
esp_err_t nvs_get_u32(nvs_handle_t handle, const char *key, uint32_t *out_value);
esp_err_t nvs_get_i64(nvs_handle_t handle, const char *key, int64_t *out_value);
esp_err_t nvs_get_u64(nvs_handle_t handle, const char *key, uint64_t *out_value);

/**
 * @brief Get a string (with its NUL) or blob. out_value NULL: *length is set to the
 * stored length and ESP_OK returned. A *length smaller than the stored length:
 * ESP_ERR_NVS_INVALID_LENGTH with *length set to the stored length.
 * @return ESP_OK; ESP_ERR_NVS_NOT_FOUND; ESP_ERR_NVS_INVALID_LENGTH (also for a NULL
 *         length); ESP_ERR_NVS_INVALID_HANDLE.
 */
esp_err_t nvs_get_str(nvs_handle_t handle, const char *key, char *out_value, size_t *length);
esp_err_t nvs_get_blob(nvs_handle_t handle, const char *key, void *out_value, size_t *length);

/**
 * @brief Whether a key exists, and its type (NVS_TYPE_BLOB for blobs).
 * @return ESP_OK; ESP_ERR_NVS_NOT_FOUND; ESP_ERR_NVS_INVALID_HANDLE.
 */
esp_err_t nvs_find_key(nvs_handle_t handle, const char *key, nvs_type_t *out_type);

/** @return ESP_OK; ESP_ERR_NVS_NOT_FOUND; ESP_ERR_NVS_READ_ONLY; ESP_ERR_NVS_INVALID_HANDLE. */
esp_err_t nvs_erase_key(nvs_handle_t handle, const char *key);
/** @brief Erase every key of the handle's namespace. */
esp_err_t nvs_erase_all(nvs_handle_t handle);
/** @brief Writes are durable when the set call returns; commit only checks the handle. */
esp_err_t nvs_commit(nvs_handle_t handle);
/** @brief Close a handle (an unknown handle is ignored). */
void nvs_close(nvs_handle_t handle);

/**
 * @brief Entry statistics of a partition (NULL: "nvs").
 * @return ESP_OK; ESP_ERR_INVALID_ARG (NULL nvs_stats); ESP_ERR_NVS_NOT_INITIALIZED.
 */
esp_err_t nvs_get_stats(const char *part_name, nvs_stats_t *nvs_stats);
/** @brief Entries used by the handle's namespace. */
esp_err_t nvs_get_used_entry_count(nvs_handle_t handle, size_t *used_entries);

#ifdef __cplusplus
}
#endif
#endif
