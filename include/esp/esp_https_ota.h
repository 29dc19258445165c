/**
 * @file esp_https_ota.h
 * @brief ESP-IDF v5.5's esp_https_ota: an app update fetched over HTTP(S) with
 * esp_http_client and written through esp_ota_* (so every guarantee of otakit's update
 * engine holds: sequential writes, the image verified before it can be booted, otadata
 * switched last).
 *
 * The same names, struct fields, error codes, events and log lines as ESP-IDF's
 * component. What is kept: the one-call esp_https_ota(), the begin / get_img_desc /
 * perform / is_complete_data_received / finish / abort sequence, partial download
 * (a HEAD for the size, then GETs of max_http_request_size bytes with Range), OTA
 * resumption (the app says how many bytes are already in the partition; the download
 * goes on from there with Range, or starts again if the server ignores Range),
 * bulk_flash_erase, http_client_init_cb, the chip id check of the image header and the
 * ESP_HTTPS_OTA_EVENT events on the default loop.
 * Not kept: the decryption callback (CONFIG_ESP_HTTPS_OTA_DECRYPT_CB), staging into one
 * partition and copying to another (partition.final must be NULL or equal to
 * partition.staging), bootloader updates, HTTP authentication retries.
 */
#ifndef ESP_HTTPS_OTA_H
#define ESP_HTTPS_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_app_desc.h"
#include "esp_app_format.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_partition.h"

#ifdef __cplusplus
extern "C" {
#endif

ESP_EVENT_DECLARE_BASE(ESP_HTTPS_OTA_EVENT);

/** Events posted to the default event loop, base ESP_HTTPS_OTA_EVENT. */
typedef enum {
    ESP_HTTPS_OTA_START,                 /**< esp_https_ota_begin called */
    ESP_HTTPS_OTA_CONNECTED,             /**< the server answered the first GET */
    ESP_HTTPS_OTA_GET_IMG_DESC,          /**< the app description is being read */
    ESP_HTTPS_OTA_VERIFY_CHIP_ID,        /**< data: the image's esp_chip_id_t */
    ESP_HTTPS_OTA_VERIFY_CHIP_REVISION,  /**< data: the image's min_chip_rev_full (uint16_t) */
    ESP_HTTPS_OTA_DECRYPT_CB,            /**< (never posted here: no decryption callback) */
    ESP_HTTPS_OTA_WRITE_FLASH,           /**< data: int, image bytes written so far */
    ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION, /**< data: the new boot partition's subtype */
    ESP_HTTPS_OTA_FINISH,                /**< esp_https_ota_finish done */
    ESP_HTTPS_OTA_ABORT,                 /**< esp_https_ota_abort called */
} esp_https_ota_event_t;

typedef void *esp_https_ota_handle_t;
/** Called once the HTTP client exists, before the first request (to add headers). */
typedef esp_err_t (*http_client_init_cb_t)(esp_http_client_handle_t);

typedef struct {
    const esp_http_client_config_t *http_config; /**< the server; cert_pem or crt_bundle_attach
                                                      is required */
    http_client_init_cb_t http_client_init_cb;   /**< may be NULL */
    bool bulk_flash_erase;      /**< erase the image's size (the whole partition when the size is
                                     unknown) at the first perform, not sector by sector */
    bool partial_http_download; /**< fetch the image in Range requests */
    int max_http_request_size;  /**< bytes per request with partial_http_download; 0 = 64 KiB */
    uint32_t buffer_caps;       /**< accepted; the host has one kind of memory */
    bool ota_resumption;        /**< go on from ota_image_bytes_written (esp_https_ota_begin) */
    size_t ota_image_bytes_written; /**< image bytes the partition already holds, from the app's
                                         own record (NVS); less than 1024 starts afresh */
    struct {
        const esp_partition_t *staging; /**< NULL: the next OTA partition */
        const esp_partition_t *final;   /**< NULL or the staging partition */
        bool finalize_with_copy;        /**< must be false */
    } partition;
} esp_https_ota_config_t;

#define ESP_ERR_HTTPS_OTA_BASE (0x9000)
#define ESP_ERR_HTTPS_OTA_IN_PROGRESS (ESP_ERR_HTTPS_OTA_BASE + 1) /**< call perform again */

/**
 * @brief The whole update in one call: begin, perform until done, finish (the new app is
 * the boot partition on ESP_OK; the caller restarts).
 * @return ESP_OK; ESP_ERR_INVALID_ARG; ESP_ERR_NOT_SUPPORTED with ota_resumption;
 *         ESP_ERR_INVALID_VERSION for another chip's image; ESP_ERR_OTA_VALIDATE_FAILED
 *         when the image does not verify; ESP_FAIL or an ESP_ERR_HTTP_* code otherwise.
 */
esp_err_t esp_https_ota(const esp_https_ota_config_t *ota_config);
/**
 * @brief Connect and send the first request (for partial download, a HEAD first for the
 * size). Nothing is written to flash yet.
 * @return ESP_OK with *handle set; else *handle is NULL and the error is
 *         ESP_ERR_INVALID_ARG (no config, or no server verification), ESP_FAIL,
 *         ESP_ERR_HTTP_CONNECT, ESP_ERR_HTTP_NOT_MODIFIED, ...
 */
esp_err_t esp_https_ota_begin(const esp_https_ota_config_t *ota_config,
                              esp_https_ota_handle_t *handle);
/**
 * @brief One step: the first call opens the update (esp_ota_begin or esp_ota_resume) and
 * writes the image header after its checks; each later call reads one buffer and writes it.
 * @return ESP_ERR_HTTPS_OTA_IN_PROGRESS while there is more to do; ESP_OK when the image
 *         is all read; an error otherwise (then call esp_https_ota_abort).
 */
esp_err_t esp_https_ota_perform(esp_https_ota_handle_t https_ota_handle);
/** Whether the whole image has arrived (the full Content-Length, or every range). */
bool esp_https_ota_is_complete_data_received(esp_https_ota_handle_t https_ota_handle);
/**
 * @brief Close the update: esp_ota_end (the image is verified) and, when the whole image
 * came, esp_ota_set_boot_partition. Frees the handle.
 * @return ESP_OK; ESP_ERR_OTA_VALIDATE_FAILED; ESP_ERR_INVALID_ARG; ESP_FAIL.
 */
esp_err_t esp_https_ota_finish(esp_https_ota_handle_t https_ota_handle);
/** @brief Drop the update (esp_ota_abort) and free the handle. */
esp_err_t esp_https_ota_abort(esp_https_ota_handle_t https_ota_handle);
/**
 * @brief The new image's esp_app_desc_t, read from the first bytes of the download (or from
 * the partition when resuming). Call after begin and before the first perform.
 * @return ESP_OK; ESP_ERR_INVALID_ARG; ESP_ERR_INVALID_STATE; ESP_FAIL (incomplete header,
 *         or "Incorrect app descriptor magic").
 */
esp_err_t esp_https_ota_get_img_desc(esp_https_ota_handle_t https_ota_handle,
                                     esp_app_desc_t *new_app_info);
/** @return image bytes written so far, or -1 before the first perform. */
int esp_https_ota_get_image_len_read(esp_https_ota_handle_t https_ota_handle);
/** @return the HTTP status of the last response, or -1. */
int esp_https_ota_get_status_code(esp_https_ota_handle_t https_ota_handle);
/** @return the image size the server gave (Content-Length), or -1. */
int esp_https_ota_get_image_size(esp_https_ota_handle_t https_ota_handle);

#ifdef __cplusplus
}
#endif
#endif
