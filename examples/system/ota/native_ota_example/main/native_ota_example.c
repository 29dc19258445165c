/*
 * The seed's OTA example, as the factory app of the virtual device.
 *
 * Flow (and log lines) of ESP-IDF's examples/system/ota: join the AP, GET the new
 * image from the HTTP server, stream it into the next OTA slot with esp_ota_write in
 * 1024-byte chunks, make it the boot partition, restart. From native_ota_example it
 * takes the version checks on the first chunk (same version as the running app: stop;
 * same version as the app that was last rolled back: stop) and, with rollback enabled,
 * the diagnostic that confirms a new app (its GPIO, CONFIG_EXAMPLE_GPIO_DIAGNOSTIC). Beyond both:
 * the server is retried with a bounded backoff, and a link that drops mid-file is resumed with
 * "Range: bytes=N-" (a server that answers 200 instead of 206 makes the download start over).
 *
 * Configuration: "Example Configuration" in menuconfig (Kconfig.projbuild): the server
 * IP, port and file name (the seed's), or EXAMPLE_FIRMWARE_UPG_URL (ESP-IDF's examples),
 * and for HTTPS the server's CA, embedded in the app (EXAMPLE_SERVER_CA_CERT). At run
 * time the environment variables OTAKIT_SERVER_URL (e.g. https://127.0.0.1:8071/x.bin)
 * and OTAKIT_SERVER_CA (a PEM file) override them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/gpio.h"
#include "esp_app_format.h"
#include "esp_efuse.h"
#include "esp_err.h"
#include "esp_event.h"
#include "esp_http_client.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/task.h"
#include "mbedtls/sha256.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

#ifndef ESP_PARTITION_TABLE_OFFSET
#ifdef CONFIG_PARTITION_TABLE_OFFSET
#define ESP_PARTITION_TABLE_OFFSET CONFIG_PARTITION_TABLE_OFFSET
#else
#define ESP_PARTITION_TABLE_OFFSET 0x8000
#endif
#endif
#ifndef ESP_PARTITION_TABLE_MAX_LEN
#define ESP_PARTITION_TABLE_MAX_LEN 0xC00
#endif
#ifndef ESP_BOOTLOADER_OFFSET
#define ESP_BOOTLOADER_OFFSET 0x1000
#endif

#define BUFFSIZE 1024
#define URL_MAX 512

/* Called by the ESP layer's main() once the device is up. */
void app_main(void);

static const char *TAG = "ota";
static const char *WIFI_TAG = "wifi station";

/* An OTA data write buffer ready to write to the flash. */
static char ota_write_data[BUFFSIZE + 1];

/* --- Wi-Fi: join the configured AP ----------------------------------------------------- */

#define WIFI_CONNECTED_BIT BIT0
#define WIFI_FAIL_BIT BIT1
#ifndef BIT0
#define BIT0 0x1u
#define BIT1 0x2u
#endif

static EventGroupHandle_t s_wifi_event_group;
static int wifi_retry_num;
/* WIFI_EVENT_STA_DISCONNECTED events so far: a download connection opened before the
 * last one is gone, even when the station has reconnected since. */
static atomic_uint s_wifi_disconnects;

static const char *wifi_reason_name(int reason)
{
    switch (reason) {
    case WIFI_REASON_NO_AP_FOUND:
        return "NO_AP_FOUND";
    case WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT:
        return "4WAY_HANDSHAKE_TIMEOUT";
    case WIFI_REASON_AUTH_FAIL:
        return "AUTH_FAIL";
    case WIFI_REASON_HANDSHAKE_TIMEOUT:
        return "HANDSHAKE_TIMEOUT";
    case WIFI_REASON_ASSOC_LEAVE:
        return "ASSOC_LEAVE";
    case WIFI_REASON_BEACON_TIMEOUT:
        return "BEACON_TIMEOUT";
    default:
        return "UNSPECIFIED";
    }
}

static void wifi_event_handler(void *arg, esp_event_base_t event_base, int32_t event_id,
                               void *event_data)
{
    (void)arg;
    if (event_base == WIFI_EVENT && event_id == WIFI_EVENT_STA_START) {
        esp_wifi_connect();
    } else if (event_base == WIFI_EVENT && event_id == WIFI_EVENT_STA_DISCONNECTED) {
        const wifi_event_sta_disconnected_t *d = event_data;
        xEventGroupClearBits(s_wifi_event_group, WIFI_CONNECTED_BIT);
        atomic_fetch_add(&s_wifi_disconnects, 1);
        ESP_LOGW(WIFI_TAG, "disconnected from SSID \"%.*s\", reason %d (%s)", d->ssid_len,
                 (const char *)d->ssid, d->reason, wifi_reason_name(d->reason));
        bool give_up = wifi_retry_num >= CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY;
        if (!give_up) {
            wifi_retry_num++;
            ESP_LOGI(WIFI_TAG, "retry to connect to the AP (%d of %d)", wifi_retry_num,
                     CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY);
            esp_wifi_connect();
        }
        ESP_LOGI(WIFI_TAG, "connect to the AP fail");
        if (give_up) {
            /* Last, so every line of this event is out before app_main goes on. */
            xEventGroupSetBits(s_wifi_event_group, WIFI_FAIL_BIT);
        }
    } else if (event_base == IP_EVENT && event_id == IP_EVENT_STA_GOT_IP) {
        const ip_event_got_ip_t *e = event_data;
        ESP_LOGI(WIFI_TAG, "got ip:" IPSTR, IP2STR(&e->ip_info.ip));
        wifi_retry_num = 0;
        xEventGroupClearBits(s_wifi_event_group, WIFI_FAIL_BIT);
        xEventGroupSetBits(s_wifi_event_group, WIFI_CONNECTED_BIT);
    }
}

/* @return true once the station has an address; false after the retries ran out. */
static bool wifi_join(void)
{
    s_wifi_event_group = xEventGroupCreate();
    if (s_wifi_event_group == NULL) {
        return false;
    }
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    esp_netif_create_default_wifi_sta();

    wifi_init_config_t cfg = WIFI_INIT_CONFIG_DEFAULT();
    ESP_ERROR_CHECK(esp_wifi_init(&cfg));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID,
                                                        wifi_event_handler, NULL, NULL));
    ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP,
                                                        wifi_event_handler, NULL, NULL));

    wifi_config_t wifi_config;
    memset(&wifi_config, 0, sizeof(wifi_config));
    snprintf((char *)wifi_config.sta.ssid, sizeof(wifi_config.sta.ssid), "%s",
             CONFIG_EXAMPLE_WIFI_SSID);
    snprintf((char *)wifi_config.sta.password, sizeof(wifi_config.sta.password), "%s",
             CONFIG_EXAMPLE_WIFI_PASSWORD);
    wifi_config.sta.threshold.authmode =
        CONFIG_EXAMPLE_WIFI_PASSWORD[0] ? WIFI_AUTH_WPA2_PSK : WIFI_AUTH_OPEN;
    ESP_LOGI(WIFI_TAG, "Setting WiFi configuration SSID %s...", (const char *)wifi_config.sta.ssid);
    ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
    esp_err_t err = esp_wifi_set_config(WIFI_IF_STA, &wifi_config);
    if (err != ESP_OK) {
        ESP_LOGE(WIFI_TAG, "esp_wifi_set_config failed (%s)", esp_err_to_name(err));
        return false;
    }
    ESP_ERROR_CHECK(esp_wifi_start());
    ESP_LOGI(WIFI_TAG, "wifi_init_sta finished.");

    EventBits_t bits = xEventGroupWaitBits(s_wifi_event_group, WIFI_CONNECTED_BIT | WIFI_FAIL_BIT,
                                           pdFALSE, pdFALSE, portMAX_DELAY);
    if (bits & WIFI_CONNECTED_BIT) {
        ESP_LOGI(WIFI_TAG, "connected to ap SSID:%s", CONFIG_EXAMPLE_WIFI_SSID);
        return true;
    }
    ESP_LOGE(WIFI_TAG,
             "Failed to connect to SSID:%s after %d retries: check the SSID and the password "
             "(make menuconfig, \"Example Configuration\")",
             CONFIG_EXAMPLE_WIFI_SSID, CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY);
    return false;
}

/* --- helpers ---------------------------------------------------------------------------- */

static void __attribute__((noreturn)) task_fatal_error(void)
{
    ESP_LOGE(TAG, "Exiting task due to fatal error...");
    vTaskDelete(NULL);
    for (;;) {
        vTaskDelay(portMAX_DELAY);
    }
}

/*
 * native_ota_example prints "Waiting for a new firmware ... %d" every 2 s here; the
 * example ends its task instead, so a device run with instant delays does not spin.
 */
static void __attribute__((noreturn)) infinite_loop(void)
{
    ESP_LOGI(
        TAG,
        "When a new firmware is available on the server, press the reset button to download it");
    vTaskDelete(NULL);
    for (;;) {
        vTaskDelay(portMAX_DELAY);
    }
}

static void print_sha256(const uint8_t *image_hash, const char *label)
{
    char hash_print[65];
    for (int i = 0; i < 32; ++i) {
        snprintf(&hash_print[i * 2], 3, "%02x", image_hash[i]);
    }
    ESP_LOGI(TAG, "%s %s", label, hash_print);
}

/* --- rollback: confirm or reject a new app ------------------------------------------------ */

/*
 * native_ota_example's diagnostic: CONFIG_EXAMPLE_GPIO_DIAGNOSTIC is an input with the
 * internal pull-up, read after 5 seconds; held low (a button, or `otakit device run
 * --gpio 4=0`), the new app is not operable. Before it, otakit's self-test: the running
 * image still verifies and the partition table has otadata.
 */
static bool diagnostic(const esp_partition_t *running)
{
    uint8_t sha[32];
    if (esp_partition_get_sha256(running, sha) != ESP_OK) {
        ESP_LOGE(TAG, "Diagnostics: the running image does not verify");
        return false;
    }
    if (!esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_OTA, NULL)) {
        ESP_LOGE(TAG, "Diagnostics: no otadata partition");
        return false;
    }
    gpio_config_t io_conf = {
        .intr_type = GPIO_INTR_DISABLE,
        .mode = GPIO_MODE_INPUT,
        .pin_bit_mask = 1ULL << CONFIG_EXAMPLE_GPIO_DIAGNOSTIC,
        .pull_down_en = GPIO_PULLDOWN_DISABLE,
        .pull_up_en = GPIO_PULLUP_ENABLE,
    };
    esp_err_t err = gpio_config(&io_conf);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Diagnostics: GPIO %d cannot be an input (%s)",
                 CONFIG_EXAMPLE_GPIO_DIAGNOSTIC, esp_err_to_name(err));
        return false;
    }
    ESP_LOGI(TAG, "Diagnostics (5 sec)...");
    vTaskDelay(5000 / portTICK_PERIOD_MS);
    bool ok = gpio_get_level(CONFIG_EXAMPLE_GPIO_DIAGNOSTIC) != 0;
    gpio_reset_pin(CONFIG_EXAMPLE_GPIO_DIAGNOSTIC);
    if (!ok) {
        ESP_LOGE(TAG, "Diagnostics: GPIO %d (CONFIG_EXAMPLE_GPIO_DIAGNOSTIC) is held low",
                 CONFIG_EXAMPLE_GPIO_DIAGNOSTIC);
    }
    return ok;
}

static void confirm_new_app(const esp_partition_t *running)
{
#if defined(CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE) && defined(CONFIG_EXAMPLE_SELF_TEST)
    esp_ota_img_states_t ota_state;
    if (esp_ota_get_state_partition(running, &ota_state) != ESP_OK ||
        ota_state != ESP_OTA_IMG_PENDING_VERIFY) {
        return;
    }
    ESP_LOGI(TAG, "Running a new app (state PENDING_VERIFY): starting the self-test");
    if (diagnostic(running)) {
        ESP_LOGI(TAG, "Diagnostics completed successfully! Continuing execution ...");
        esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "esp_ota_mark_app_valid_cancel_rollback failed (%s)",
                     esp_err_to_name(err));
        } else {
            ESP_LOGI(TAG, "App marked valid: rollback cancelled");
        }
    } else {
        ESP_LOGE(TAG, "Diagnostics failed! Start rollback to the previous version ...");
        esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
        ESP_LOGE(TAG, "esp_ota_mark_app_invalid_rollback_and_reboot failed (%s)",
                 esp_err_to_name(err));
    }
#else
    (void)running;
    (void)diagnostic;
#endif
}

/* --- the download --------------------------------------------------------------------------- */

typedef struct {
    char url[URL_MAX];
    char host[128];
    char port[16];
    esp_http_client_handle_t client;
    const esp_partition_t *running;
    const esp_partition_t *update;
    esp_ota_handle_t handle;
    bool begun;
    bool header_checked;
    int written;
    int next_progress;
    int64_t range_start;       /* from Content-Range of a 206, -1 if none */
    int64_t total;             /* the file's length, -1 if unknown */
    int64_t started_us;        /* device time of the first byte, for the rate */
    unsigned wifi_disconnects; /* s_wifi_disconnects when the connection was opened */
} ota_ctx_t;

static esp_err_t http_event(esp_http_client_event_t *evt)
{
    ota_ctx_t *ctx = evt->user_data;
    if (evt->event_id == HTTP_EVENT_ON_HEADER &&
        strcasecmp(evt->header_key, "Content-Range") == 0) {
        long long a = -1;
        long long b = -1;
        long long t = -1;
        if (sscanf(evt->header_value, "bytes %lld-%lld/%lld", &a, &b, &t) >= 2) {
            ctx->range_start = a;
            if (t > 0) {
                ctx->total = t;
            }
        }
    }
    return ESP_OK;
}

/* Split the URL for the seed's "Server IP: %s Server Port:%s" line. */
static void url_parts(ota_ctx_t *ctx)
{
    const char *p = strstr(ctx->url, "://");
    p = p ? p + 3 : ctx->url;
    size_t n = strcspn(p, ":/");
    snprintf(ctx->host, sizeof(ctx->host), "%.*s", (int)n, p);
    if (p[n] == ':') {
        size_t m = strcspn(p + n + 1, "/");
        snprintf(ctx->port, sizeof(ctx->port), "%.*s", (int)m, p + n + 1);
    } else {
        snprintf(ctx->port, sizeof(ctx->port), "%s",
                 strncmp(ctx->url, "https", 5) == 0 ? "443" : "80");
    }
}

/*
 * A failed connection that no retry can heal: the server's certificate does not verify
 * against the pinned CA, or the pinned CA cannot be read. Logs one line for it.
 */
static bool tls_failure_is_permanent(ota_ctx_t *ctx)
{
    int code = 0;
    int flags = 0;
    esp_err_t err = esp_http_client_get_and_clear_last_tls_error(ctx->client, &code, &flags);
    if (err == ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED &&
        code == ESP_TLS_MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        ESP_LOGE(TAG,
                 "The certificate of %s:%s does not verify against the pinned CA (%s 0x%x, "
                 "mbedtls -0x%04x, flags 0x%x%s): not retrying",
                 ctx->host, ctx->port, esp_err_to_name(err), (unsigned)err, (unsigned)-code,
                 (unsigned)flags,
                 flags & ESP_TLS_MBEDTLS_X509_BADCERT_CN_MISMATCH ? ", name mismatch"
                 : flags & ESP_TLS_MBEDTLS_X509_BADCERT_EXPIRED   ? ", expired"
                                                                  : ", not signed by the CA");
        return true;
    }
    if (err == ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED) {
        ESP_LOGE(TAG, "The pinned CA certificate is not a PEM certificate (%s 0x%x): not retrying",
                 esp_err_to_name(err), (unsigned)err);
        return true;
    }
    return false;
}

/*
 * Connect and send the GET (with "Range: bytes=offset-" when offset > 0), trying up to
 * CONFIG_EXAMPLE_CONNECT_RETRIES times with a doubling delay while the error can heal
 * (connection refused or reset, timeout, 5xx). Errors that cannot heal end at once:
 * a 4xx answer (404, 403, ...) and a server certificate that does not verify.
 * @return ESP_OK with a 200 or 206 response open; ESP_ERR_NOT_FOUND for a 4xx answer;
 *         ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED / ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED for
 *         a certificate; ESP_ERR_HTTP_CONNECT when every attempt failed.
 */
static esp_err_t http_connect(ota_ctx_t *ctx, int offset, bool first)
{
    int delay = CONFIG_EXAMPLE_RETRY_BACKOFF_MS;
    char range[48];
    if (offset > 0) {
        snprintf(range, sizeof(range), "bytes=%d-", offset);
        esp_http_client_set_header(ctx->client, "Range", range);
    } else {
        esp_http_client_delete_header(ctx->client, "Range");
    }
    for (int attempt = 1; attempt <= CONFIG_EXAMPLE_CONNECT_RETRIES; attempt++) {
        ctx->range_start = -1;
        ctx->wifi_disconnects = atomic_load(&s_wifi_disconnects);
        esp_err_t err = esp_http_client_open(ctx->client, 0);
        if (err == ESP_OK) {
            if (first) {
                ESP_LOGI(TAG, "Connected to server");
                ESP_LOGI(TAG, "Connected to http server");
                ESP_LOGI(TAG, "Send GET request to server succeeded");
            }
            int64_t len = esp_http_client_fetch_headers(ctx->client);
            int status = esp_http_client_get_status_code(ctx->client);
            if (len >= 0 && (status == HttpStatus_Ok || status == HttpStatus_PartialContent)) {
                ESP_LOGI(TAG, "HTTP status %d, content length %" PRId64 "%s", status,
                         esp_http_client_get_content_length(ctx->client),
                         offset > 0 ? " (resume request)" : "");
                return ESP_OK;
            }
            esp_http_client_close(ctx->client);
            if (len < 0) {
                ESP_LOGE(TAG, "Failed to read the HTTP response headers (%s)",
                         len == -ESP_ERR_HTTP_EAGAIN ? "receive timeout" : "connection closed");
            } else if (status >= 400 && status < 500) {
                ESP_LOGE(TAG, "HTTP GET %s failed: the server answered %d%s", ctx->url, status,
                         status == HttpStatus_NotFound
                             ? " (file not found: is the file in the served directory?)"
                             : "");
                return ESP_ERR_NOT_FOUND;
            } else {
                ESP_LOGE(TAG, "HTTP GET %s failed: the server answered %d", ctx->url, status);
            }
        } else if (tls_failure_is_permanent(ctx)) {
            return ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED;
        } else {
            ESP_LOGE(TAG, "Connect to http server failed! (%s, errno=%d) attempt %d of %d",
                     esp_err_to_name(err), esp_http_client_get_errno(ctx->client), attempt,
                     CONFIG_EXAMPLE_CONNECT_RETRIES);
        }
        if (attempt < CONFIG_EXAMPLE_CONNECT_RETRIES) {
            ESP_LOGW(TAG, "Server not reachable at %s:%s, retrying in %d ms", ctx->host, ctx->port,
                     delay);
            vTaskDelay(pdMS_TO_TICKS(delay));
            delay = delay * 2 > CONFIG_EXAMPLE_RETRY_BACKOFF_MAX_MS
                        ? CONFIG_EXAMPLE_RETRY_BACKOFF_MAX_MS
                        : delay * 2;
        }
    }
    ESP_LOGE(
        TAG,
        "Could not get %s after %d attempts: is the server running (make serve) and the port open?",
        ctx->url, CONFIG_EXAMPLE_CONNECT_RETRIES);
    return ESP_ERR_HTTP_CONNECT;
}

/* The pinned digest (CONFIG_EXAMPLE_FIRMWARE_SHA256, or OTAKIT_FIRMWARE_SHA256 for a
 * run): 32 bytes into out. Returns 0 when none is set, 1 when one is, -1 when the setting
 * is not 64 hex digits. */
static int pinned_digest(uint8_t out[32], const char **text)
{
    const char *s = getenv("OTAKIT_FIRMWARE_SHA256");
#ifdef CONFIG_EXAMPLE_FIRMWARE_SHA256
    if (s == NULL) {
        s = CONFIG_EXAMPLE_FIRMWARE_SHA256;
    }
#endif
    *text = s;
    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64) {
        return -1;
    }
    for (int i = 0; i < 32; i++) {
        sscanf(s + 2 * i, "%2hhx", &out[i]);
    }
    return 1;
}

/* With a pinned digest: the SHA-256 of the bytes written to the update partition (the
 * whole downloaded file, read back) must be it. Checked after esp_ota_end, before
 * esp_ota_set_boot_partition: a mismatch leaves the boot partition as it was. */
static bool pinned_digest_matches(const ota_ctx_t *ctx)
{
    uint8_t want[32], got[32];
    const char *text;
    int pinned = pinned_digest(want, &text);
    if (pinned == 0) {
        return true;
    }
    if (pinned < 0) {
        ESP_LOGE(TAG, "The pinned SHA-256 '%s' is not 64 hex digits: not installing", text);
        return false;
    }
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    bool ok = mbedtls_sha256_starts(&sha, 0) == 0;
    static uint8_t buf[4096];
    for (int off = 0; ok && off < ctx->written; off += (int)sizeof(buf)) {
        size_t left = (size_t)(ctx->written - off);
        size_t n = left < sizeof(buf) ? left : sizeof(buf);
        ok = esp_partition_read(ctx->update, off, buf, n) == ESP_OK &&
             mbedtls_sha256_update(&sha, buf, n) == 0;
    }
    ok = ok && mbedtls_sha256_finish(&sha, got) == 0;
    mbedtls_sha256_free(&sha);
    char hex[65];
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", got[i]);
    }
    if (!ok) {
        ESP_LOGE(TAG, "Cannot read back the download to check its SHA-256: not installing");
        return false;
    }
    if (memcmp(want, got, sizeof(got)) != 0) {
        ESP_LOGE(TAG, "SHA-256 of the download %s is not the pinned %s: not installing", hex, text);
        return false;
    }
    ESP_LOGI(TAG, "SHA-256 of the download matches the pinned one: %s", hex);
    return true;
}

/* Version checks of native_ota_example on the first chunk, then esp_ota_begin. */
static void check_header_and_begin(ota_ctx_t *ctx, const char *data, int len)
{
    if ((size_t)len <=
        sizeof(esp_image_header_t) + sizeof(esp_image_segment_header_t) + sizeof(esp_app_desc_t)) {
        ESP_LOGE(TAG, "received package is not fit len");
        esp_http_client_cleanup(ctx->client);
        task_fatal_error();
    }
    /* As esp_https_ota does before anything is erased: an image for another chip (an
     * ESP32-S3 build on the server, ...) ends the update here. */
    esp_image_header_t image_header;
    memcpy(&image_header, data, sizeof(image_header));
    if (image_header.magic == ESP_IMAGE_HEADER_MAGIC && image_header.chip_id != ESP_CHIP_ID_ESP32) {
        ESP_LOGE(TAG, "Mismatch chip id, expected %d, found %d: %s is not an ESP32 image",
                 ESP_CHIP_ID_ESP32, image_header.chip_id, ctx->url);
        esp_http_client_cleanup(ctx->client);
        task_fatal_error();
    }
    esp_app_desc_t new_app_info;
    memcpy(&new_app_info, &data[sizeof(esp_image_header_t) + sizeof(esp_image_segment_header_t)],
           sizeof(esp_app_desc_t));
    if (new_app_info.magic_word == ESP_APP_DESC_MAGIC_WORD) {
        ESP_LOGI(TAG, "New firmware version: %.32s", new_app_info.version);
        esp_app_desc_t running_app_info;
        bool have_running =
            esp_ota_get_partition_description(ctx->running, &running_app_info) == ESP_OK;
        if (have_running) {
            ESP_LOGI(TAG, "Running firmware version: %.32s", running_app_info.version);
        }
        const esp_partition_t *last_invalid_app = esp_ota_get_last_invalid_partition();
        esp_app_desc_t invalid_app_info;
        bool have_invalid =
            last_invalid_app != NULL &&
            esp_ota_get_partition_description(last_invalid_app, &invalid_app_info) == ESP_OK;
        if (have_invalid) {
            ESP_LOGI(TAG, "Last invalid firmware version: %.32s", invalid_app_info.version);
            if (memcmp(invalid_app_info.version, new_app_info.version,
                       sizeof(new_app_info.version)) == 0) {
                ESP_LOGW(TAG, "New version is the same as invalid version.");
                ESP_LOGW(TAG,
                         "Previously, there was an attempt to launch the firmware with %.32s "
                         "version, but it failed.",
                         invalid_app_info.version);
                ESP_LOGW(TAG, "The firmware has been rolled back to the previous version.");
                esp_http_client_cleanup(ctx->client);
                infinite_loop();
            }
        }
#ifdef CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
        /* As esp_https_ota does: an app below the eFuse secure version could never boot,
         * so it is refused here, from its header, before anything is erased. */
        if (!esp_efuse_check_secure_version(new_app_info.secure_version)) {
            ESP_LOGE(TAG,
                     "New firmware security version is less than eFuse programmed, %" PRIu32
                     " < %" PRIu32,
                     new_app_info.secure_version, esp_efuse_read_secure_version());
            esp_http_client_cleanup(ctx->client);
            task_fatal_error();
        }
#endif
#ifndef CONFIG_EXAMPLE_SKIP_VERSION_CHECK
        if (have_running && memcmp(new_app_info.version, running_app_info.version,
                                   sizeof(new_app_info.version)) == 0) {
            ESP_LOGW(
                TAG,
                "Current running version is the same as a new. We will not continue the update.");
            esp_http_client_cleanup(ctx->client);
            infinite_loop();
        }
#endif
    } else {
        ESP_LOGW(TAG,
                 "The new firmware has no app description (magic 0x%08" PRIx32
                 "): version not checked",
                 new_app_info.magic_word);
    }

#ifdef CONFIG_EXAMPLE_OTA_ERASE_WHOLE_SLOT
    const size_t image_size = OTA_SIZE_UNKNOWN;
#else
    const size_t image_size = OTA_WITH_SEQUENTIAL_WRITES;
#endif
    esp_err_t err = esp_ota_begin(ctx->update, image_size, &ctx->handle);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_begin failed, error=%d", err);
        ESP_LOGE(TAG, "ota_begin error err=0x%x (%s)", (unsigned)err, esp_err_to_name(err));
        if (err == ESP_ERR_INVALID_SIZE) {
            ESP_LOGE(TAG,
                     "Partition %s at 0x%" PRIx32 " (size 0x%" PRIx32
                     ") does not fit this flash: the "
                     "partition table needs a bigger flash (the two-OTA table needs 4MB); "
                     "see \"ota_begin error err=0x104\" in docs/ota_example.md",
                     ctx->update->label, ctx->update->address, ctx->update->size);
        }
        esp_http_client_cleanup(ctx->client);
        task_fatal_error();
    }
    ctx->begun = true;
    ctx->header_checked = true;
    ESP_LOGI(TAG, "esp_ota_begin succeeded");
}

/* "Have written image length N", with the share of the file when its length is known
 * and the average rate on the device clock since the first byte. */
static void log_progress(const ota_ctx_t *ctx)
{
    int64_t us = esp_timer_get_time() - ctx->started_us;
    unsigned kib_s = us > 0 ? (unsigned)((int64_t)ctx->written * 1000000 / 1024 / us) : 0;
    if (ctx->total > 0) {
        ESP_LOGI(TAG, "Have written image length %d of %" PRId64 " (%d%%), %u KiB/s", ctx->written,
                 ctx->total, (int)((int64_t)ctx->written * 100 / ctx->total), kib_s);
    } else {
        ESP_LOGI(TAG, "Have written image length %d, %u KiB/s", ctx->written, kib_s);
    }
}

static void write_chunk(ota_ctx_t *ctx, const char *data, int len)
{
    esp_err_t err = esp_ota_write(ctx->handle, data, (size_t)len);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_write failed (%s)! err=0x%x", esp_err_to_name(err), (unsigned)err);
        esp_http_client_cleanup(ctx->client);
        esp_ota_abort(ctx->handle);
        task_fatal_error();
    }
    if (ctx->written == 0) {
        ESP_LOGI(TAG, "esp_ota_write header OK");
    }
    if (ctx->written == 0) {
        ctx->started_us = esp_timer_get_time();
    }
    ctx->written += len;
    ESP_LOGD(TAG, "Written image length %d", ctx->written);
    if (ctx->written >= ctx->next_progress) {
        log_progress(ctx);
        while (ctx->next_progress <= ctx->written) {
            ctx->next_progress += CONFIG_EXAMPLE_PROGRESS_INTERVAL;
        }
    }
}

/*
 * When the station lost the AP (WIFI_EVENT_STA_DISCONNECTED: the handler above already
 * reconnects, as ESP-IDF's station example does), wait until it has an address again.
 * @return true to resume the download; false when the retries ran out.
 */
static bool wait_for_wifi(const ota_ctx_t *ctx)
{
    wifi_ap_record_t ap;
    if (esp_wifi_sta_get_ap_info(&ap) == ESP_OK &&
        atomic_load(&s_wifi_disconnects) == ctx->wifi_disconnects) {
        return true; /* still on the same association: the server or the path failed */
    }
    ESP_LOGW(TAG, "Wi-Fi lost after %d bytes: waiting for the AP to come back", ctx->written);
    /* Associated again means the DISCONNECTED event was handled (the driver starts a new
     * attempt only then), so CONNECTED is the new address, not the old one. */
    for (;;) {
        EventBits_t bits =
            xEventGroupWaitBits(s_wifi_event_group, WIFI_FAIL_BIT, pdFALSE, pdFALSE, 1);
        if (bits & WIFI_FAIL_BIT) {
            ESP_LOGE(TAG, "The Wi-Fi did not come back after %d retries: giving up the download",
                     CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY);
            return false;
        }
        if ((bits & WIFI_CONNECTED_BIT) && esp_wifi_sta_get_ap_info(&ap) == ESP_OK) {
            break;
        }
    }
    ESP_LOGI(TAG, "Wi-Fi is back: resuming the download at byte %d", ctx->written);
    return true;
}

/* The link dropped after ctx->written bytes: ask for the rest. @return true to go on. */
static bool resume_download(ota_ctx_t *ctx)
{
    esp_http_client_close(ctx->client);
    if (http_connect(ctx, ctx->written, false) != ESP_OK) {
        return false;
    }
    int status = esp_http_client_get_status_code(ctx->client);
    if (ctx->written > 0 && status == HttpStatus_PartialContent &&
        ctx->range_start == ctx->written) {
        ESP_LOGI(TAG, "Resuming the download at byte %d", ctx->written);
        return true;
    }
    if (ctx->written > 0) {
        if (status == HttpStatus_PartialContent) {
            ESP_LOGW(TAG,
                     "The server resumed at byte %" PRId64 ", not %d: starting over from byte 0",
                     ctx->range_start, ctx->written);
            esp_http_client_close(ctx->client);
            if (http_connect(ctx, 0, false) != ESP_OK) {
                return false;
            }
        } else {
            ESP_LOGW(TAG,
                     "The server ignored the Range request (status %d): starting over from byte 0",
                     status);
        }
        if (ctx->begun) {
            esp_ota_abort(ctx->handle);
        }
    }
    ctx->begun = false;
    ctx->header_checked = false;
    ctx->written = 0;
    ctx->next_progress = CONFIG_EXAMPLE_PROGRESS_INTERVAL;
    ctx->total = esp_http_client_get_content_length(ctx->client);
    return true;
}

#ifdef EXAMPLE_EMBEDDED_CA_START
#define EXAMPLE_STR_(x) #x
#define EXAMPLE_STR(x) EXAMPLE_STR_(x)
/* The CA the build embedded (CONFIG_EXAMPLE_SERVER_CA_CERT), NUL-terminated, as
 * ESP-IDF's examples declare server_certs/ca_cert.pem. */
extern const char server_cert_pem_start[] __asm__(EXAMPLE_STR(EXAMPLE_EMBEDDED_CA_START));
#endif

/*
 * The server's CA: the PEM file OTAKIT_SERVER_CA names, else the one embedded in the app,
 * else none (NULL). Fatal when the file cannot be read. The caller frees the result.
 */
static char *server_ca_pem(void)
{
    const char *path = getenv("OTAKIT_SERVER_CA");
    if (path == NULL || path[0] == '\0') {
#ifdef EXAMPLE_EMBEDDED_CA_START
        ESP_LOGI(TAG, "Server certificate pinned: %s embedded in the app",
                 EXAMPLE_EMBEDDED_CA_NAME);
        return strdup(server_cert_pem_start);
#else
        return NULL;
#endif
    }
    FILE *f = fopen(path, "rb");
    char *pem = calloc(1, 65536);
    size_t n = (f && pem) ? fread(pem, 1, 65535, f) : 0;
    if (f) {
        fclose(f);
    }
    if (n == 0) {
        ESP_LOGE(TAG, "Cannot read the server CA certificate %s", path);
        free(pem);
        task_fatal_error();
    }
    ESP_LOGI(TAG, "Server certificate pinned from %s", path);
    return pem;
}

static void ota_example_task(void *pvParameter)
{
    (void)pvParameter;
    static ota_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.next_progress = CONFIG_EXAMPLE_PROGRESS_INTERVAL;
    ctx.total = -1;
    ctx.range_start = -1;

    const char *url = getenv("OTAKIT_SERVER_URL");
    if (url && url[0]) {
        snprintf(ctx.url, sizeof(ctx.url), "%s", url);
        ESP_LOGI(TAG, "Server URL from OTAKIT_SERVER_URL: %s", ctx.url);
    } else if (CONFIG_EXAMPLE_FIRMWARE_UPG_URL[0] != '\0') {
        snprintf(ctx.url, sizeof(ctx.url), "%s", CONFIG_EXAMPLE_FIRMWARE_UPG_URL);
        ESP_LOGI(TAG, "Server URL: %s", ctx.url);
    } else {
        snprintf(ctx.url, sizeof(ctx.url), "http://%s:%s%s%s", CONFIG_EXAMPLE_SERVER_IP,
                 CONFIG_EXAMPLE_SERVER_PORT, CONFIG_EXAMPLE_FILENAME[0] == '/' ? "" : "/",
                 CONFIG_EXAMPLE_FILENAME);
    }
    url_parts(&ctx);

    ESP_LOGI(TAG, "Connect to Wifi ! Start to Connect to Server....");
    ESP_LOGI(TAG, "Server IP: %s Server Port:%s", ctx.host, ctx.port);

    /* HTTPS: the server's CA is pinned, as ESP-IDF's example pins the certificate it
     * embeds (or the PEM file OTAKIT_SERVER_CA names at run time). */
    char *ca_pem = server_ca_pem();
    if (ca_pem == NULL && strncmp(ctx.url, "https:", 6) == 0) {
        ESP_LOGE(TAG,
                 "%s is HTTPS but no server CA certificate is set: set EXAMPLE_SERVER_CA_CERT "
                 "(make menuconfig, \"Example Configuration\") or OTAKIT_SERVER_CA",
                 ctx.url);
        task_fatal_error();
    }
    esp_http_client_config_t config = {
        .url = ctx.url,
        .cert_pem = ca_pem,
        .timeout_ms = CONFIG_EXAMPLE_OTA_RECV_TIMEOUT,
        .keep_alive_enable = true,
        .event_handler = http_event,
        .user_data = &ctx,
    };
    ctx.client = esp_http_client_init(&config);
    free(ca_pem); /* the client keeps its own copy */
    if (ctx.client == NULL) {
        ESP_LOGE(TAG, "Failed to initialise HTTP connection");
        task_fatal_error();
    }
    esp_err_t err = http_connect(&ctx, 0, true);
    if (err != ESP_OK) {
        esp_http_client_cleanup(ctx.client);
        task_fatal_error();
    }
    ctx.total = esp_http_client_get_content_length(ctx.client);

    ctx.running = esp_ota_get_running_partition();
    ctx.update = esp_ota_get_next_update_partition(NULL);
    if (ctx.update == NULL) {
        ESP_LOGE(TAG, "No OTA partition to write to: the partition table has no ota_0");
        esp_http_client_cleanup(ctx.client);
        task_fatal_error();
    }
    ESP_LOGI(TAG, "Writing to partition subtype %d at offset 0x%" PRIx32, ctx.update->subtype,
             ctx.update->address);

    int stalls = 0;
    int high_water = 0; /* most bytes ever written in this download */
    bool complete = false;
    /* The version checks need the image header and the app description in one piece: a
     * short first read (a link lost after a few bytes) is topped up first. */
    const int header_needed = (int)(sizeof(esp_image_header_t) +
                                    sizeof(esp_image_segment_header_t) + sizeof(esp_app_desc_t)) +
                              1;
    int have = 0; /* bytes of the first chunk in ota_write_data, before the checks */
    for (;;) {
        /* Reads end on BUFFSIZE multiples of the file, also after a resume at an odd
         * offset, so the progress lines fall on EXAMPLE_PROGRESS_INTERVAL multiples. */
        int want = ctx.header_checked ? BUFFSIZE - ctx.written % BUFFSIZE : BUFFSIZE - have;
        int data_read = esp_http_client_read(ctx.client, ota_write_data + have, want);
        if (data_read > 0) {
            if (!ctx.header_checked) {
                have += data_read;
                if (have < header_needed &&
                    !esp_http_client_is_complete_data_received(ctx.client)) {
                    continue;
                }
                check_header_and_begin(&ctx, ota_write_data, have);
                data_read = have;
                have = 0;
            }
            write_chunk(&ctx, ota_write_data, data_read);
            if (ctx.written > high_water) {
                high_water = ctx.written;
                stalls = 0;
            }
            continue;
        }
        if (data_read == 0 && esp_http_client_is_complete_data_received(ctx.client)) {
            ESP_LOGI(TAG, "Connection closed, all packets received");
            complete = true;
            break;
        }
        if (data_read == -ESP_ERR_HTTP_EAGAIN) {
            ESP_LOGW(TAG, "No data from the server for %d ms after %d bytes",
                     CONFIG_EXAMPLE_OTA_RECV_TIMEOUT, ctx.written);
        } else {
            ESP_LOGW(TAG, "Connection closed, errno = %d, after %d of %" PRId64 " bytes", errno,
                     ctx.written, ctx.total);
        }
        if (!wait_for_wifi(&ctx)) {
            break;
        }
        if (++stalls > CONFIG_EXAMPLE_RESUME_RETRIES) {
            ESP_LOGE(TAG, "The download made no progress in %d reconnections",
                     CONFIG_EXAMPLE_RESUME_RETRIES);
            break;
        }
        if (!resume_download(&ctx)) {
            break;
        }
        have = 0; /* a first chunk not yet checked comes again from byte 0 */
    }
    ESP_LOGI(TAG, "Total Write binary data length : %d", ctx.written);
    esp_http_client_cleanup(ctx.client);
    if (!complete) {
        ESP_LOGE(TAG, "Error in receiving complete file");
        if (ctx.begun) {
            esp_ota_abort(ctx.handle);
        }
        task_fatal_error();
    }
    if (!ctx.begun) {
        ESP_LOGE(TAG, "The server sent an empty file");
        task_fatal_error();
    }
    err = esp_ota_end(ctx.handle);
    if (err != ESP_OK) {
        if (err == ESP_ERR_OTA_VALIDATE_FAILED) {
            ESP_LOGE(TAG, "Image validation failed, image is corrupted");
        } else {
            ESP_LOGE(TAG, "esp_ota_end failed (%s)!", esp_err_to_name(err));
        }
        task_fatal_error();
    }
    if (!pinned_digest_matches(&ctx)) {
        task_fatal_error();
    }
    err = esp_ota_set_boot_partition(ctx.update);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_set_boot_partition failed (%s)! err=0x%x", esp_err_to_name(err),
                 (unsigned)err);
        task_fatal_error();
    }
    ESP_LOGI(TAG, "Prepare to restart system!");
    esp_restart();
}

void app_main(void)
{
    ESP_LOGI(TAG, "Starting OTA example...");

    uint8_t sha_256[32] = {0};
    esp_partition_t partition;
    memset(&partition, 0, sizeof(partition));
    /* SHA-256 of the partition table and of the bootloader, as native_ota_example prints. */
    partition.address = ESP_PARTITION_TABLE_OFFSET;
    partition.size = ESP_PARTITION_TABLE_MAX_LEN;
    partition.type = ESP_PARTITION_TYPE_DATA;
    if (esp_partition_get_sha256(&partition, sha_256) == ESP_OK) {
        print_sha256(sha_256, "SHA-256 for the partition table:");
    }
    partition.address = ESP_BOOTLOADER_OFFSET;
    partition.size = ESP_PARTITION_TABLE_OFFSET;
    partition.type = ESP_PARTITION_TYPE_APP;
    if (esp_partition_get_sha256(&partition, sha_256) == ESP_OK) {
        print_sha256(sha_256, "SHA-256 for bootloader: ");
    }

    const esp_partition_t *configured = esp_ota_get_boot_partition();
    const esp_partition_t *running = esp_ota_get_running_partition();
    if (running == NULL) {
        ESP_LOGE(TAG, "Cannot tell which partition this app runs from");
        task_fatal_error();
    }
    if (esp_partition_get_sha256(running, sha_256) == ESP_OK) {
        print_sha256(sha_256, "SHA-256 for current firmware: ");
    }
    if (configured != running) {
        ESP_LOGW(TAG,
                 "Configured OTA boot partition at offset 0x%08" PRIx32
                 ", but running from offset 0x%08" PRIx32,
                 configured ? configured->address : 0, running->address);
        ESP_LOGW(
            TAG,
            "(This can happen if either the OTA boot data or preferred boot image become corrupted "
            "somehow.)");
    }
    ESP_LOGI(TAG, "Running partition type %d subtype %d (offset 0x%08" PRIx32 ")", running->type,
             running->subtype, running->address);

    confirm_new_app(running);

    /* NVS, as ESP-IDF's example initialises it (the Wi-Fi driver keeps its data there). */
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        /* The OTA table's nvs partition is smaller than the single-app table's: a
         * partition written with the other layout does not fit. Erase and start over. */
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);

    if (!wifi_join()) {
        task_fatal_error();
    }
    xTaskCreate(&ota_example_task, "ota_example_task", 8192, NULL, 5, NULL);
}
