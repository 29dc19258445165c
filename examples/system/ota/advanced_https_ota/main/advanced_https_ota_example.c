/*
 * Advanced HTTPS OTA: the update in steps (esp_https_ota_begin, _get_img_desc, _perform
 * until done, _finish), so the app can look at the new image's description before any
 * byte is written, follow the progress, fetch the image in Range requests
 * (CONFIG_EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD) and, with
 * CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION, keep the number of bytes written in NVS so that
 * after a power cut or a reset the download goes on from there.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "esp_check.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

static const char *TAG = "advanced_https_ota_example";

extern const char server_cert_pem_start[] asm("_binary_ca_cert_pem_start");

#define URL_MAX 256

/* ---- the progress record (OTA resumption) ---------------------------------------- */
#ifdef CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION

#define RES_NAMESPACE "ota_resumption"
#define RES_KEY_LEN "wr_len"
#define RES_KEY_URL "url"

/* Bytes already written for this URL; 0 when there is no record or it was for another. */
static uint32_t load_progress(nvs_handle_t nvs, const char *url)
{
    char saved[URL_MAX] = {0};
    size_t n = sizeof(saved);
    uint32_t len = 0;
    if (nvs_get_str(nvs, RES_KEY_URL, saved, &n) != ESP_OK || strcmp(saved, url) != 0 ||
        nvs_get_u32(nvs, RES_KEY_LEN, &len) != ESP_OK) {
        ESP_LOGI(TAG, "No download to resume: starting from the beginning");
        return 0;
    }
    ESP_LOGI(TAG, "Resuming the download at byte %" PRIu32 " (kept in NVS)", len);
    return len;
}

static esp_err_t save_progress(nvs_handle_t nvs, const char *url, uint32_t len)
{
    char saved[URL_MAX] = {0};
    size_t n = sizeof(saved);
    if (nvs_get_str(nvs, RES_KEY_URL, saved, &n) != ESP_OK || strcmp(saved, url) != 0) {
        ESP_RETURN_ON_ERROR(nvs_set_str(nvs, RES_KEY_URL, url), TAG, "Failed to save the URL");
    }
    ESP_RETURN_ON_ERROR(nvs_set_u32(nvs, RES_KEY_LEN, len), TAG, "Failed to save the length");
    ESP_RETURN_ON_ERROR(nvs_commit(nvs), TAG, "Failed to commit NVS");
    return ESP_OK;
}

static esp_err_t clear_progress(nvs_handle_t nvs)
{
    esp_err_t ret = ESP_OK;
    ESP_GOTO_ON_ERROR(nvs_erase_all(nvs), out, TAG, "Failed to erase the record");
    ESP_GOTO_ON_ERROR(nvs_commit(nvs), out, TAG, "Failed to commit NVS");
out:
    return ret;
}
#endif

/* ---- events and checks ------------------------------------------------------------- */

static void on_ota_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    if (base != ESP_HTTPS_OTA_EVENT) {
        return;
    }
    switch (id) {
    case ESP_HTTPS_OTA_START:
        ESP_LOGI(TAG, "OTA started");
        break;
    case ESP_HTTPS_OTA_CONNECTED:
        ESP_LOGI(TAG, "Connected to server");
        break;
    case ESP_HTTPS_OTA_GET_IMG_DESC:
        ESP_LOGI(TAG, "Reading Image Description");
        break;
    case ESP_HTTPS_OTA_VERIFY_CHIP_ID:
        ESP_LOGI(TAG, "Verifying chip id of new image: %d", *(esp_chip_id_t *)data);
        break;
    case ESP_HTTPS_OTA_WRITE_FLASH:
        ESP_LOGD(TAG, "Writing to flash: %d written", *(int *)data);
        break;
    case ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION:
        ESP_LOGI(TAG, "Boot partition updated. Next Partition: %d",
                 *(esp_partition_subtype_t *)data);
        break;
    case ESP_HTTPS_OTA_FINISH:
        ESP_LOGI(TAG, "OTA finish");
        break;
    case ESP_HTTPS_OTA_ABORT:
        ESP_LOGI(TAG, "OTA abort");
        break;
    default:
        break;
    }
}

/* Refuse an image with the running app's version (unless told to skip the check). */
static esp_err_t check_new_image(const esp_app_desc_t *next)
{
    esp_app_desc_t running;
    if (esp_ota_get_partition_description(esp_ota_get_running_partition(), &running) != ESP_OK) {
        return ESP_FAIL;
    }
    ESP_LOGI(TAG, "Running firmware version: %s, new: %s", running.version, next->version);
#ifndef CONFIG_EXAMPLE_SKIP_VERSION_CHECK
    if (memcmp(next->version, running.version, sizeof(next->version)) == 0) {
        ESP_LOGW(TAG, "Current running version is the same as a new. We will not continue the "
                      "update.");
        return ESP_FAIL;
    }
#endif
    return ESP_OK;
}

static esp_err_t on_client_init(esp_http_client_handle_t client)
{
    /* Every request of the download carries this header. */
    return esp_http_client_set_header(client, "X-Otakit-Example", "advanced_https_ota");
}

/* ---- the update --------------------------------------------------------------------- */

static void ota_task(void *arg)
{
    (void)arg;
    ESP_LOGI(TAG, "Starting Advanced OTA example");
    esp_http_client_config_t http = {
        .url = CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL,
        .cert_pem = server_cert_pem_start,
        .timeout_ms = CONFIG_EXAMPLE_OTA_RECV_TIMEOUT,
        .keep_alive_enable = true,
        .buffer_size = CONFIG_EXAMPLE_OTA_BUF_SIZE,
#ifdef CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK
        .skip_cert_common_name_check = true,
#endif
    };
    esp_https_ota_config_t cfg = {
        .http_config = &http,
        .http_client_init_cb = on_client_init,
#ifdef CONFIG_EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD
        .partial_http_download = true,
        .max_http_request_size = CONFIG_EXAMPLE_HTTP_REQUEST_SIZE,
#endif
    };
#ifdef CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION
    nvs_handle_t nvs;
    ESP_ERROR_CHECK(nvs_open(RES_NAMESPACE, NVS_READWRITE, &nvs));
    cfg.ota_resumption = true;
    cfg.ota_image_bytes_written = load_progress(nvs, http.url);
#endif

    esp_https_ota_handle_t ota = NULL;
    esp_err_t err = esp_https_ota_begin(&cfg, &ota);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "ESP HTTPS OTA Begin failed (%s)", esp_err_to_name(err));
        vTaskDelete(NULL);
        return;
    }
    esp_app_desc_t desc;
    err = esp_https_ota_get_img_desc(ota, &desc);
    if (err == ESP_OK) {
        err = check_new_image(&desc);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "image header verification failed");
        esp_https_ota_abort(ota);
        vTaskDelete(NULL);
        return;
    }
    ESP_LOGI(TAG, "Image size: %d bytes", esp_https_ota_get_image_size(ota));
    bool first = true;
    while ((err = esp_https_ota_perform(ota)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
        int len = esp_https_ota_get_image_len_read(ota);
        if (first) {
            ESP_LOGI(TAG, "First write done: %d image bytes in the partition", len);
            first = false;
        }
        ESP_LOGD(TAG, "Image bytes read: %d", len);
#ifdef CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION
        if (save_progress(nvs, http.url, (uint32_t)len) != ESP_OK) {
            ESP_LOGE(TAG, "Failed to save the OTA progress");
        }
#endif
    }
    if (err != ESP_OK || !esp_https_ota_is_complete_data_received(ota)) {
        ESP_LOGE(TAG, "Complete data was not received (%s).", esp_err_to_name(err));
        esp_https_ota_abort(ota);
        ESP_LOGE(TAG, "ESP_HTTPS_OTA upgrade failed");
        vTaskDelete(NULL);
        return;
    }
#ifdef CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION
    clear_progress(nvs);
    nvs_close(nvs);
#endif
    ESP_LOGI(TAG, "Downloaded %d image bytes", esp_https_ota_get_image_len_read(ota));
    err = esp_https_ota_finish(ota);
    if (err != ESP_OK) {
        if (err == ESP_ERR_OTA_VALIDATE_FAILED) {
            ESP_LOGE(TAG, "Image validation failed, image is corrupted");
        }
        ESP_LOGE(TAG, "ESP_HTTPS_OTA upgrade failed 0x%x", err);
        vTaskDelete(NULL);
        return;
    }
    ESP_LOGI(TAG, "ESP_HTTPS_OTA upgrade successful. Rebooting ...");
    vTaskDelay(1000 / portTICK_PERIOD_MS);
    esp_restart();
}

void app_main(void)
{
    ESP_LOGI(TAG, "OTA example app_main start");
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(
        esp_event_handler_register(ESP_HTTPS_OTA_EVENT, ESP_EVENT_ANY_ID, &on_ota_event, NULL));
    ESP_ERROR_CHECK(example_connect());
    esp_wifi_set_ps(WIFI_PS_NONE);
    xTaskCreate(&ota_task, "advanced_ota_example_task", 8192, NULL, 5, NULL);
}
