/*
 * esp_https_ota over esp_http_client and esp_ota_*.
 *
 * The download is a loop of esp_http_client reads; each buffer goes to esp_ota_write,
 * so the update engine sees exactly what a native OTA app would give it. The first
 * IMAGE_HEADER_SIZE bytes are read whole before anything is written, so the image header
 * (chip id) and the app description can be checked first: a wrong image never reaches
 * the partition. With partial download the image comes in Range requests of
 * max_http_request_size bytes; with resumption the first request asks for the bytes
 * after those the partition already holds and the engine's session is reopened at that
 * offset (esp_ota_resume).
 */
#include "esp_https_ota.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_app_format.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "freertos/FreeRTOS.h"

static const char *TAG = "esp_https_ota";

ESP_EVENT_DEFINE_BASE(ESP_HTTPS_OTA_EVENT);

/* What is read before the first write: covers the image header, the first segment
 * header and the app description, and is the smallest buffer. */
#define IMAGE_HEADER_SIZE 1024
#define DEFAULT_REQUEST_SIZE (64 * 1024)
/* How long a posted event may wait for room in the default loop's queue. */
#define EVENT_POST_TIMEOUT_MS 2000

_Static_assert(IMAGE_HEADER_SIZE > sizeof(esp_image_header_t) + sizeof(esp_image_segment_header_t) +
                                       sizeof(esp_app_desc_t),
               "the header buffer holds the app description");

typedef enum {
    OTA_INIT,
    OTA_BEGIN,       /* connected; nothing written */
    OTA_IN_PROGRESS, /* the update session is open */
    OTA_SUCCESS,     /* every byte read */
    OTA_RESUME,      /* connected; the session must be reopened at `written` */
} ota_state_t;

typedef struct {
    esp_ota_handle_t update;
    const esp_partition_t *staging;
    esp_http_client_handle_t client;
    char *buf;
    int buf_size;
    int written;      /* image bytes in the partition (and, in BEGIN, header bytes in buf) */
    int image_length; /* Content-Length of the first answer (the HEAD's with partial download) */
    int max_request;
    ota_state_t state;
    bool bulk_erase;
    bool partial;
    bool resumption;
} https_ota_t;

static const char *const EVENT_NAMES[] = {
    "ESP_HTTPS_OTA_START",
    "ESP_HTTPS_OTA_CONNECTED",
    "ESP_HTTPS_OTA_GET_IMG_DESC",
    "ESP_HTTPS_OTA_VERIFY_CHIP_ID",
    "ESP_HTTPS_OTA_VERIFY_CHIP_REVISION",
    "ESP_HTTPS_OTA_DECRYPT_CB",
    "ESP_HTTPS_OTA_WRITE_FLASH",
    "ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION",
    "ESP_HTTPS_OTA_FINISH",
    "ESP_HTTPS_OTA_ABORT",
};

static void post_event(esp_https_ota_event_t id, const void *data, size_t size)
{
    if (esp_event_post(ESP_HTTPS_OTA_EVENT, id, data, size, pdMS_TO_TICKS(EVENT_POST_TIMEOUT_MS)) !=
        ESP_OK) {
        ESP_LOGE(TAG, "Failed to post https_ota event: %s", EVENT_NAMES[id]);
    }
}

/* --- the HTTP side ------------------------------------------------------------------- */

static bool is_redirect(int status)
{
    return status == HttpStatus_MovedPermanently || status == HttpStatus_Found ||
           status == HttpStatus_SeeOther || status == HttpStatus_TemporaryRedirect ||
           status == HttpStatus_PermanentRedirect;
}

/* What a response status means for the download; ESP-IDF's log lines. */
static esp_err_t check_status(https_ota_t *h, int status)
{
    if (is_redirect(status)) {
        esp_err_t err = esp_http_client_set_redirection(h->client);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "URL redirection Failed");
        }
        return err;
    }
    if (status == HttpStatus_NotModified) {
        ESP_LOGI(TAG, "OTA image not modified since last request (status code: %d)", status);
        return ESP_ERR_HTTP_NOT_MODIFIED;
    }
    if (status == HttpStatus_RangeNotSatisfiable) {
        ESP_LOGI(TAG, "Requested range is incorrect (status code: %d)", status);
        return ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE;
    }
    if (status == HttpStatus_NotFound || status == HttpStatus_Forbidden) {
        ESP_LOGE(TAG, "File not found(%d)", status);
        return ESP_FAIL;
    }
    if (status >= HttpStatus_BadRequest && status < HttpStatus_InternalError) {
        ESP_LOGE(TAG, "Client error (%d)", status);
        return ESP_FAIL;
    }
    if (status >= HttpStatus_InternalError) {
        ESP_LOGE(TAG, "Server error (%d)", status);
        return ESP_FAIL;
    }
    if (h->resumption && !h->partial && status != HttpStatus_PartialContent) {
        /* The server sent the whole image: the bytes kept cannot be continued. */
        ESP_LOGW(TAG, "Server ignored the requested Range header");
        ESP_LOGW(TAG, "OTA resumption requires server with range request support.");
        return ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE;
    }
    return ESP_OK;
}

/* Send the request as set up and wait for a usable answer, following redirects. */
static esp_err_t http_connect(https_ota_t *h)
{
    for (int hops = 0;; hops++) {
        esp_err_t err = esp_http_client_open(h->client, 0);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "Failed to open HTTP connection: %s", esp_err_to_name(err));
            return err;
        }
        int64_t hdr = esp_http_client_fetch_headers(h->client);
        if (hdr < 0) {
            return (esp_err_t)hdr;
        }
        int status = esp_http_client_get_status_code(h->client);
        err = check_status(h, status);
        if (err != ESP_OK || !is_redirect(status)) {
            return err;
        }
        if (hops >= 10) {
            ESP_LOGE(TAG, "URL redirection Failed");
            return ESP_ERR_HTTP_MAX_REDIRECT;
        }
    }
}

/* Range: bytes=from-to (to < 0: to the end). */
static esp_err_t set_range(https_ota_t *h, int from, int to)
{
    char val[48];
    if (to >= 0) {
        snprintf(val, sizeof(val), "bytes=%d-%d", from, to);
    } else {
        snprintf(val, sizeof(val), "bytes=%d-", from);
    }
    return esp_http_client_set_header(h->client, "Range", val);
}

/* The Range of the next partial request, starting at `from`: max_request bytes at most. */
static esp_err_t set_next_range(https_ota_t *h, int from)
{
    if (h->image_length - from > h->max_request) {
        return set_range(h, from, from + h->max_request - 1);
    }
    return set_range(h, from, -1);
}

/* Partial download: the image's size from a HEAD request. */
static esp_err_t head_for_size(https_ota_t *h)
{
    esp_http_client_set_method(h->client, HTTP_METHOD_HEAD);
    esp_err_t err = esp_http_client_perform(h->client);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "ESP HTTP client perform failed: %d", err);
        return err;
    }
    int status = esp_http_client_get_status_code(h->client);
    if (status != HttpStatus_Ok) {
        ESP_LOGE(TAG, "Received incorrect http status %d", status);
        return ESP_FAIL;
    }
    int64_t len = esp_http_client_get_content_length(h->client);
    if (len <= 0 || len > INT32_MAX) {
        ESP_LOGE(TAG, "The server gave no usable image size (Content-Length %lld)", (long long)len);
        return ESP_FAIL;
    }
    h->image_length = (int)len;
    esp_http_client_close(h->client);
    esp_http_client_set_method(h->client, HTTP_METHOD_GET);
    if (h->image_length - h->written > h->max_request || h->written > 0) {
        return set_next_range(h, h->written);
    }
    return ESP_OK;
}

/* The first GET; when a resumption is refused by the server, start over from byte 0. */
static esp_err_t first_request(https_ota_t *h)
{
    esp_err_t err = http_connect(h);
    if (err != ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE || !h->resumption) {
        return err;
    }
    ESP_LOGE(TAG, "OTA resumption failed with err: %d.", err);
    ESP_LOGI(TAG, "Falling back to OTA without resumption and restarting download from beginning");
    h->resumption = false;
    h->written = 0;
    esp_http_client_delete_header(h->client, "Range");
    if (h->partial && h->image_length > h->max_request) {
        err = set_range(h, 0, h->max_request - 1);
        if (err != ESP_OK) {
            return err;
        }
    }
    esp_http_client_close(h->client);
    return http_connect(h);
}

static void http_cleanup(https_ota_t *h)
{
    if (h->client) {
        esp_http_client_close(h->client);
        esp_http_client_cleanup(h->client);
        h->client = NULL;
    }
}

static void free_handle(https_ota_t *h)
{
    http_cleanup(h);
    free(h->buf);
    free(h);
}

/* --- begin --------------------------------------------------------------------------- */

static bool verifies_server(const esp_http_client_config_t *cfg)
{
    return cfg->cert_pem != NULL || cfg->use_global_ca_store || cfg->crt_bundle_attach != NULL;
}

/* The partition the image goes to: the given staging one, or the next OTA slot. */
static esp_err_t pick_partition(https_ota_t *h, const esp_https_ota_config_t *cfg)
{
    if (cfg->partition.final != NULL && cfg->partition.final != cfg->partition.staging) {
        ESP_LOGE(TAG, "A final partition other than the staging one is not supported");
        return ESP_ERR_NOT_SUPPORTED;
    }
    if (cfg->partition.finalize_with_copy) {
        ESP_LOGE(TAG, "finalize_with_copy is not supported");
        return ESP_ERR_NOT_SUPPORTED;
    }
    h->staging = cfg->partition.staging ? esp_partition_verify(cfg->partition.staging)
                                        : esp_ota_get_next_update_partition(NULL);
    if (h->staging == NULL || h->staging->type != ESP_PARTITION_TYPE_APP) {
        ESP_LOGE(TAG, "Given staging partition or another suitable Passive OTA partition could "
                      "not be found");
        return ESP_FAIL;
    }
    ESP_LOGI(TAG, "Writing to <%s> partition at offset 0x%" PRIx32, h->staging->label,
             h->staging->address);
    return ESP_OK;
}

static esp_err_t begin_http(https_ota_t *h, const esp_https_ota_config_t *cfg)
{
    h->client = esp_http_client_init(cfg->http_config);
    if (h->client == NULL) {
        ESP_LOGE(TAG, "Failed to initialise HTTP connection");
        return ESP_FAIL;
    }
    esp_err_t err;
    if (cfg->http_client_init_cb) {
        err = cfg->http_client_init_cb(h->client);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "http_client_init_cb returned 0x%x", err);
            return err;
        }
    }
    /* A resumption always asks for a range, even from 0, so a server that ignores
     * ranges is found out before any byte is written. */
    if (h->resumption && !h->partial) {
        err = set_range(h, h->written, -1);
        if (err != ESP_OK) {
            return err;
        }
    }
    if (h->partial) {
        err = head_for_size(h);
        if (err != ESP_OK) {
            return err;
        }
    }
    err = first_request(h);
    if (err != ESP_OK) {
        if (err != ESP_ERR_HTTP_NOT_MODIFIED) {
            ESP_LOGE(TAG, "Failed to establish HTTP connection");
        }
        return err;
    }
    post_event(ESP_HTTPS_OTA_CONNECTED, NULL, 0);
    if (!h->partial) {
        int64_t len = esp_http_client_get_content_length(h->client);
        h->image_length = len > 0 && len <= INT32_MAX ? (int)len : -1;
    }
    return ESP_OK;
}

esp_err_t esp_https_ota_begin(const esp_https_ota_config_t *ota_config,
                              esp_https_ota_handle_t *handle)
{
    post_event(ESP_HTTPS_OTA_START, NULL, 0);
    if (handle == NULL || ota_config == NULL || ota_config->http_config == NULL) {
        ESP_LOGE(TAG, "esp_https_ota_begin: Invalid argument");
        if (handle) {
            *handle = NULL;
        }
        return ESP_ERR_INVALID_ARG;
    }
    *handle = NULL;
    if (!verifies_server(ota_config->http_config)) {
        ESP_LOGE(TAG, "No option for server verification is enabled in esp_http_client config.");
        return ESP_ERR_INVALID_ARG;
    }
    https_ota_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        ESP_LOGE(TAG, "Couldn't allocate memory to upgrade data buffer");
        return ESP_ERR_NO_MEM;
    }
    h->partial = ota_config->partial_http_download;
    h->max_request = ota_config->max_http_request_size > 0 ? ota_config->max_http_request_size
                                                           : DEFAULT_REQUEST_SIZE;
    h->resumption = ota_config->ota_resumption;
    h->bulk_erase = ota_config->bulk_flash_erase;
    h->image_length = -1;
    /* Fewer bytes than the header buffer are not worth keeping: start afresh. */
    if (h->resumption && ota_config->ota_image_bytes_written >= IMAGE_HEADER_SIZE &&
        ota_config->ota_image_bytes_written <= INT32_MAX) {
        h->written = (int)ota_config->ota_image_bytes_written;
        ESP_LOGD(TAG, "Resuming OTA from offset: %d", h->written);
    }
    esp_err_t err = begin_http(h, ota_config);
    if (err == ESP_OK) {
        ESP_LOGI(TAG, "Starting OTA...");
        err = pick_partition(h, ota_config);
    }
    if (err == ESP_OK) {
        int bs = ota_config->http_config->buffer_size;
        h->buf_size = bs > IMAGE_HEADER_SIZE ? bs : IMAGE_HEADER_SIZE;
        h->buf = malloc((size_t)h->buf_size);
        if (h->buf == NULL) {
            ESP_LOGE(TAG, "Couldn't allocate memory to upgrade data buffer");
            err = ESP_ERR_NO_MEM;
        }
    }
    if (err != ESP_OK) {
        free_handle(h);
        return err;
    }
    h->state = h->written ? OTA_RESUME : OTA_BEGIN;
    *handle = h;
    return ESP_OK;
}

/* --- the image header ---------------------------------------------------------------- */

/* Read the first IMAGE_HEADER_SIZE bytes into buf (h->written counts them). */
static esp_err_t read_header(https_ota_t *h)
{
    int got = 0;
    while (got < IMAGE_HEADER_SIZE && !esp_http_client_is_complete_data_received(h->client)) {
        int n = esp_http_client_read(h->client, h->buf + got, IMAGE_HEADER_SIZE - got);
        if (n == -ESP_ERR_HTTP_EAGAIN) {
            ESP_LOGD(TAG, "ESP_ERR_HTTP_EAGAIN invoked: Call timed out before data was ready");
            continue;
        }
        if (n < 0) {
            ESP_LOGE(TAG, "Connection closed, errno = %d", errno);
            break;
        }
        if (n == 0) {
            break; /* the peer closed early; is_complete stays false */
        }
        got += n;
    }
    if (got < IMAGE_HEADER_SIZE) {
        ESP_LOGE(TAG, "Complete headers were not received");
        return ESP_FAIL;
    }
    h->written = got;
    return ESP_OK;
}

esp_err_t esp_https_ota_get_img_desc(esp_https_ota_handle_t https_ota_handle,
                                     esp_app_desc_t *new_app_info)
{
    post_event(ESP_HTTPS_OTA_GET_IMG_DESC, NULL, 0);
    https_ota_t *h = https_ota_handle;
    if (h == NULL || new_app_info == NULL) {
        ESP_LOGE(TAG, "esp_https_ota_get_img_desc: Invalid argument");
        return ESP_ERR_INVALID_ARG;
    }
    if (h->state < OTA_BEGIN) {
        ESP_LOGE(TAG, "esp_https_ota_get_img_desc: Invalid state");
        return ESP_ERR_INVALID_STATE;
    }
    const size_t offset = sizeof(esp_image_header_t) + sizeof(esp_image_segment_header_t);
    esp_app_desc_t desc;
    if ((size_t)h->written >= offset + sizeof(desc)) {
        /* Already there: the header buffer, or (resuming) the partition. */
        if (h->state == OTA_BEGIN) {
            memcpy(&desc, h->buf + offset, sizeof(desc));
        } else {
            esp_err_t err = esp_partition_read(h->staging, offset, &desc, sizeof(desc));
            if (err != ESP_OK) {
                ESP_LOGE(TAG, "partition read failed %d", err);
                return err;
            }
        }
    } else {
        if (read_header(h) != ESP_OK) {
            return ESP_FAIL;
        }
        memcpy(&desc, h->buf + offset, sizeof(desc));
    }
    if (desc.magic_word != ESP_APP_DESC_MAGIC_WORD) {
        ESP_LOGE(TAG, "Incorrect app descriptor magic");
        return ESP_FAIL;
    }
    memcpy(new_app_info, &desc, sizeof(desc));
    return ESP_OK;
}

/* The image must be for this chip (the virtual device is an ESP32). */
static esp_err_t verify_chip(const char *buf)
{
    esp_image_header_t hdr;
    memcpy(&hdr, buf, sizeof(hdr));
    esp_chip_id_t chip = (esp_chip_id_t)hdr.chip_id;
    post_event(ESP_HTTPS_OTA_VERIFY_CHIP_ID, &chip, sizeof(chip));
    if (hdr.chip_id != ESP_CHIP_ID_ESP32) {
        ESP_LOGE(TAG, "Mismatch chip id, expected %d, found %d", ESP_CHIP_ID_ESP32, hdr.chip_id);
        return ESP_ERR_INVALID_VERSION;
    }
    uint16_t rev = hdr.min_chip_rev_full;
    post_event(ESP_HTTPS_OTA_VERIFY_CHIP_REVISION, &rev, sizeof(rev));
    return ESP_OK;
}

/* --- perform ------------------------------------------------------------------------- */

static esp_err_t ota_write(https_ota_t *h, const char *data, int len)
{
    esp_err_t err = esp_ota_write(h->update, data, (size_t)len);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Error: esp_ota_write failed! err=0x%x", err);
    } else {
        h->written += len;
        ESP_LOGD(TAG, "Written image length %d", h->written);
        err = ESP_ERR_HTTPS_OTA_IN_PROGRESS;
    }
    post_event(ESP_HTTPS_OTA_WRITE_FLASH, &h->written, sizeof(h->written));
    return err;
}

static size_t erase_size(const https_ota_t *h)
{
    if (!h->bulk_erase) {
        return OTA_WITH_SEQUENTIAL_WRITES;
    }
    return h->image_length > 0 ? (size_t)h->image_length : OTA_SIZE_UNKNOWN;
}

/* First perform of a fresh update: open the session, check and write the header. */
static esp_err_t perform_begin(https_ota_t *h)
{
    esp_err_t err = ESP_OK;
    if (h->written == 0) {
        err = read_header(h);
        if (err != ESP_OK) {
            return err;
        }
    }
    int len = h->written;
    h->written = 0;
    err = verify_chip(h->buf);
    if (err != ESP_OK) {
        return err;
    }
    err = esp_ota_begin(h->staging, erase_size(h), &h->update);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_ota_begin failed (%s)", esp_err_to_name(err));
        return err;
    }
    h->state = OTA_IN_PROGRESS;
    return ota_write(h, h->buf, len);
}

/* Partial download: the next range, once this one is read. */
static esp_err_t next_range(https_ota_t *h)
{
    esp_http_client_close(h->client);
    esp_err_t err = set_next_range(h, h->written);
    if (err == ESP_OK) {
        err = http_connect(h);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Failed to establish HTTP connection");
        return ESP_FAIL;
    }
    ESP_LOGD(TAG, "Connection start");
    return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
}

static esp_err_t perform_read(https_ota_t *h)
{
    int n = esp_http_client_read(h->client, h->buf, h->buf_size);
    if (n > 0) {
        return ota_write(h, h->buf, n);
    }
    if (n == -ESP_ERR_HTTP_EAGAIN) {
        ESP_LOGD(TAG, "ESP_ERR_HTTP_EAGAIN invoked: Call timed out before data was ready");
        return ESP_ERR_HTTPS_OTA_IN_PROGRESS;
    }
    if (n < 0) {
        ESP_LOGE(TAG, "data read %d, errno %d", n, errno);
        return ESP_FAIL;
    }
    if (!esp_http_client_is_complete_data_received(h->client)) {
        ESP_LOGE(TAG, "Connection closed before complete data was received!");
        return ESP_FAIL;
    }
    ESP_LOGD(TAG, "Connection closed");
    if (!h->partial || h->written == h->image_length) {
        h->state = OTA_SUCCESS;
        return ESP_OK;
    }
    if (h->written > h->image_length) {
        ESP_LOGE(TAG, "The server sent %d bytes of a %d-byte image", h->written, h->image_length);
        return ESP_FAIL;
    }
    return next_range(h);
}

esp_err_t esp_https_ota_perform(esp_https_ota_handle_t https_ota_handle)
{
    https_ota_t *h = https_ota_handle;
    if (h == NULL) {
        ESP_LOGE(TAG, "esp_https_ota_perform: Invalid argument");
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err;
    switch (h->state) {
    case OTA_BEGIN:
        return perform_begin(h);
    case OTA_RESUME:
        ESP_LOGD(TAG, "OTA resumption case");
        err = esp_ota_resume(h->staging, erase_size(h), (size_t)h->written, &h->update);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "esp_ota_resume failed (%s)", esp_err_to_name(err));
            return err;
        }
        h->state = OTA_IN_PROGRESS;
        return perform_read(h);
    case OTA_IN_PROGRESS:
        return perform_read(h);
    case OTA_SUCCESS:
        return ESP_OK;
    default:
        ESP_LOGE(TAG, "esp_https_ota_perform: Invalid state");
        return ESP_FAIL;
    }
}

bool esp_https_ota_is_complete_data_received(esp_https_ota_handle_t https_ota_handle)
{
    https_ota_t *h = https_ota_handle;
    if (h == NULL) {
        return false;
    }
    if (h->partial) {
        return h->image_length > 0 && h->written == h->image_length;
    }
    return h->state >= OTA_IN_PROGRESS && esp_http_client_is_complete_data_received(h->client);
}

/* --- finish / abort ------------------------------------------------------------------ */

/* What a finish or an abort may end: ESP_ERR_INVALID_ARG without a handle, ESP_FAIL
 * before esp_https_ota_begin has opened the write session. */
static esp_err_t check_ending(const https_ota_t *h)
{
    if (h == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    return h->state < OTA_BEGIN ? ESP_FAIL : ESP_OK;
}

/* A write session is open (esp_ota_begin ran and nothing ended it). */
static bool session_open(const https_ota_t *h)
{
    return h->state == OTA_SUCCESS || h->state == OTA_IN_PROGRESS;
}

esp_err_t esp_https_ota_finish(esp_https_ota_handle_t https_ota_handle)
{
    https_ota_t *h = https_ota_handle;
    esp_err_t err = check_ending(h);
    if (err != ESP_OK) {
        return err;
    }
    if (session_open(h)) {
        /* esp_ota_end verifies the image: a truncated one fails here and is never booted. */
        err = esp_ota_end(h->update);
    }
    /* Only an image read to its end becomes the boot partition. */
    if (err == ESP_OK && h->state == OTA_SUCCESS) {
        err = esp_ota_set_boot_partition(h->staging);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "esp_ota_set_boot_partition failed! err=0x%x", err);
        } else {
            esp_partition_subtype_t sub = h->staging->subtype;
            post_event(ESP_HTTPS_OTA_UPDATE_BOOT_PARTITION, &sub, sizeof(sub));
        }
    }
    free_handle(h);
    post_event(ESP_HTTPS_OTA_FINISH, NULL, 0);
    return err;
}

esp_err_t esp_https_ota_abort(esp_https_ota_handle_t https_ota_handle)
{
    post_event(ESP_HTTPS_OTA_ABORT, NULL, 0);
    https_ota_t *h = https_ota_handle;
    esp_err_t err = check_ending(h);
    if (err != ESP_OK) {
        return err;
    }
    if (session_open(h)) {
        err = esp_ota_abort(h->update);
    }
    free_handle(h);
    return err;
}

int esp_https_ota_get_status_code(esp_https_ota_handle_t https_ota_handle)
{
    https_ota_t *h = https_ota_handle;
    return h && h->client ? esp_http_client_get_status_code(h->client) : -1;
}

int esp_https_ota_get_image_len_read(esp_https_ota_handle_t https_ota_handle)
{
    https_ota_t *h = https_ota_handle;
    if (h == NULL || h->state < OTA_IN_PROGRESS) {
        return -1;
    }
    return h->written;
}

int esp_https_ota_get_image_size(esp_https_ota_handle_t https_ota_handle)
{
    https_ota_t *h = https_ota_handle;
    if (h == NULL || h->state < OTA_BEGIN) {
        return -1;
    }
    return h->image_length;
}

/* --- the one call -------------------------------------------------------------------- */

esp_err_t esp_https_ota(const esp_https_ota_config_t *ota_config)
{
    if (ota_config == NULL || ota_config->http_config == NULL) {
        ESP_LOGE(TAG, "esp_https_ota: Invalid argument");
        return ESP_ERR_INVALID_ARG;
    }
    if (ota_config->ota_resumption) {
        ESP_LOGE(TAG, "OTA resumption is not supported in esp_https_ota API");
        return ESP_ERR_NOT_SUPPORTED;
    }
    esp_https_ota_handle_t h = NULL;
    esp_err_t err = esp_https_ota_begin(ota_config, &h);
    if (err != ESP_OK) {
        return err;
    }
    do {
        err = esp_https_ota_perform(h);
    } while (err == ESP_ERR_HTTPS_OTA_IN_PROGRESS);
    if (err != ESP_OK) {
        esp_https_ota_abort(h);
        return err;
    }
    return esp_https_ota_finish(h);
}
