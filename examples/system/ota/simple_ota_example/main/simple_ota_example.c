/*
 * Simple HTTPS OTA: join the network, fetch CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL with
 * esp_https_ota() (one call: download, write, verify, switch the boot partition) and
 * restart into the new app. The server is trusted through the certificate bundle or the
 * embedded server_certs/ca_cert.pem. With the URL "FROM_STDIN" the URL is one line read
 * from the console.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#ifdef CONFIG_EXAMPLE_USE_CERT_BUNDLE
#include "esp_crt_bundle.h"
#endif

static const char *TAG = "simple_ota_example";

extern const char server_cert_pem_start[] asm("_binary_ca_cert_pem_start");

static esp_err_t on_http_event(esp_http_client_event_t *evt)
{
    switch (evt->event_id) {
    case HTTP_EVENT_ON_CONNECTED:
        ESP_LOGD(TAG, "HTTP_EVENT_ON_CONNECTED");
        break;
    case HTTP_EVENT_ON_HEADER:
        ESP_LOGD(TAG, "HTTP_EVENT_ON_HEADER, key=%s, value=%s", evt->header_key, evt->header_value);
        break;
    case HTTP_EVENT_ON_DATA:
        ESP_LOGD(TAG, "HTTP_EVENT_ON_DATA, len=%d", evt->data_len);
        break;
    case HTTP_EVENT_ERROR:
        ESP_LOGD(TAG, "HTTP_EVENT_ERROR");
        break;
    default:
        break;
    }
    return ESP_OK;
}

static void __attribute__((noreturn)) idle(void)
{
    for (;;) {
        vTaskDelay(1000 / portTICK_PERIOD_MS);
    }
}

static void ota_task(void *arg)
{
    (void)arg;
    ESP_LOGI(TAG, "Starting OTA example task");
    esp_http_client_config_t http = {
        .url = CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL,
#ifdef CONFIG_EXAMPLE_USE_CERT_BUNDLE
        .crt_bundle_attach = esp_crt_bundle_attach,
#else
        .cert_pem = server_cert_pem_start,
#endif
        .event_handler = on_http_event,
        .keep_alive_enable = true,
#ifdef CONFIG_EXAMPLE_SKIP_COMMON_NAME_CHECK
        .skip_cert_common_name_check = true,
#endif
    };
#ifdef CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL_FROM_STDIN
    static char url[512];
    example_configure_stdin_stdout();
    ESP_LOGI(TAG, "Type the firmware upgrade URL and press Enter");
    if (fgets(url, sizeof(url), stdin) == NULL) {
        ESP_LOGE(TAG, "No firmware upgrade URL on the console");
        idle();
    }
    url[strcspn(url, "\r\n")] = '\0';
    http.url = url;
#endif
    esp_https_ota_config_t ota = {.http_config = &http};
    ESP_LOGI(TAG, "Attempting to download update from %s", http.url);
    esp_err_t err = esp_https_ota(&ota);
    if (err == ESP_OK) {
        ESP_LOGI(TAG, "OTA Succeed, Rebooting...");
        esp_restart();
    }
    ESP_LOGE(TAG, "Firmware upgrade failed (%s)", esp_err_to_name(err));
    idle();
}

void app_main(void)
{
    ESP_LOGI(TAG, "OTA example app_main start");
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        /* A partition written by another layout or version: start it afresh. */
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    const esp_partition_t *running = esp_ota_get_running_partition();
    ESP_LOGI(TAG, "Running from %s at 0x%" PRIx32, running->label, running->address);

    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());
    /* No modem sleep during the download. */
    esp_wifi_set_ps(WIFI_PS_NONE);
    xTaskCreate(&ota_task, "ota_example_task", 8192, NULL, 5, NULL);
}
