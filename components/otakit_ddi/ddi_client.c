/* hawkBit DDI v1 client over esp_http_client and esp_https_ota (ddi_client.h). */
#include "ddi_client.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_crt_bundle.h"
#include "esp_http_client.h"
#include "esp_https_ota.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "mbedtls/sha256.h"

static const char *TAG = "ddi_client";

#define BODY_MAX (64 * 1024) /* a DDI document is far smaller */
#define URL_MAX (OTAKIT_DDI_HREF_MAX + 128)

struct ddi_client {
    char base[URL_MAX]; /* {server}/{tenant}/controller/v1/{id} */
    char auth[256];     /* the Authorization value, "" = none */
    const char *cert_pem;
    int timeout_ms;
    char *body;
    int body_len;
};

ddi_client_handle_t ddi_client_init(const ddi_client_config_t *config)
{
    if (config == NULL || config->server_url == NULL || config->controller_id == NULL) {
        ESP_LOGE(TAG, "server_url and controller_id are required");
        return NULL;
    }
    struct ddi_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    size_t n = strlen(config->server_url);
    while (n > 0 && config->server_url[n - 1] == '/') {
        n--;
    }
    int len =
        snprintf(c->base, sizeof(c->base), "%.*s/%s/controller/v1/%s", (int)n, config->server_url,
                 config->tenant ? config->tenant : "DEFAULT", config->controller_id);
    if (len < 0 || (size_t)len >= sizeof(c->base)) {
        ESP_LOGE(TAG, "the controller's URL is longer than %d bytes", URL_MAX - 1);
        free(c);
        return NULL;
    }
    if (config->target_token != NULL) {
        snprintf(c->auth, sizeof(c->auth), "TargetToken %s", config->target_token);
    } else if (config->gateway_token != NULL) {
        snprintf(c->auth, sizeof(c->auth), "GatewayToken %s", config->gateway_token);
    }
    c->cert_pem = config->cert_pem;
    c->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : 10000;
    c->body = malloc(BODY_MAX + 1);
    if (c->body == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void ddi_client_cleanup(ddi_client_handle_t client)
{
    if (client != NULL) {
        free(client->body);
        free(client);
    }
}

/* One request: method on url with an optional JSON body; the response body (up to
 * BODY_MAX) lands in c->body. *status gets the HTTP status. */
static esp_err_t request(struct ddi_client *c, esp_http_client_method_t method, const char *url,
                         const char *json, int *status)
{
    esp_http_client_config_t cfg = {
        .url = url,
        .method = method,
        .timeout_ms = c->timeout_ms,
        .cert_pem = c->cert_pem,
    };
    esp_http_client_handle_t h = esp_http_client_init(&cfg);
    if (h == NULL) {
        return ESP_ERR_NO_MEM;
    }
    esp_http_client_set_header(h, "Accept", "application/hal+json");
    if (c->auth[0] != '\0') {
        esp_http_client_set_header(h, "Authorization", c->auth);
    }
    if (json != NULL) {
        esp_http_client_set_header(h, "Content-Type", "application/json");
        esp_http_client_set_post_field(h, json, (int)strlen(json));
    }
    esp_err_t err = esp_http_client_open(h, 0);
    c->body_len = 0;
    if (err == ESP_OK && esp_http_client_fetch_headers(h) < 0) {
        err = ESP_ERR_HTTP_FETCH_HEADER;
    }
    if (err == ESP_OK) {
        *status = esp_http_client_get_status_code(h);
        int n;
        while (c->body_len < BODY_MAX &&
               (n = esp_http_client_read(h, c->body + c->body_len, BODY_MAX - c->body_len)) > 0) {
            c->body_len += n;
        }
        c->body[c->body_len] = '\0';
    }
    esp_http_client_close(h);
    esp_http_client_cleanup(h);
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "%s: %s", url, esp_err_to_name(err));
    }
    return err;
}

esp_err_t ddi_client_poll(ddi_client_handle_t client, ddi_base_t *base)
{
    int status = 0;
    esp_err_t err = request(client, HTTP_METHOD_GET, client->base, NULL, &status);
    if (err != ESP_OK) {
        return err;
    }
    otakit_ddi_error_t why;
    if (status != 200) {
        ESP_LOGW(TAG, "poll: HTTP status %d", status);
        return ESP_ERR_INVALID_RESPONSE;
    }
    if (otakit_ddi_parse_base(client->body, (size_t)client->body_len, base, &why) != 0) {
        ESP_LOGE(TAG, "poll: not a DDI base resource: %s", why.what);
        return ESP_ERR_INVALID_RESPONSE;
    }
    return ESP_OK;
}

esp_err_t ddi_client_get_deployment(ddi_client_handle_t client, uint64_t action,
                                    ddi_deployment_t *deployment)
{
    char url[URL_MAX + 48];
    snprintf(url, sizeof(url), "%s/deploymentBase/%" PRIu64, client->base, action);
    int status = 0;
    esp_err_t err = request(client, HTTP_METHOD_GET, url, NULL, &status);
    if (err != ESP_OK) {
        return err;
    }
    otakit_ddi_error_t why;
    if (status != 200) {
        ESP_LOGW(TAG, "deploymentBase/%" PRIu64 ": HTTP status %d", action, status);
        return ESP_ERR_INVALID_RESPONSE;
    }
    if (otakit_ddi_parse_deployment(client->body, (size_t)client->body_len, deployment, &why) !=
        0) {
        ESP_LOGE(TAG, "deploymentBase/%" PRIu64 ": %s", action, why.what);
        return ESP_ERR_INVALID_RESPONSE;
    }
    return ESP_OK;
}

/* Send a JSON body; a 2xx status is success. */
static esp_err_t send_json(struct ddi_client *c, esp_http_client_method_t method, const char *url,
                           const char *json)
{
    int status = 0;
    esp_err_t err = request(c, method, url, json, &status);
    if (err == ESP_OK && (status < 200 || status > 299)) {
        ESP_LOGW(TAG, "%s: HTTP status %d", url, status);
        err = ESP_ERR_INVALID_RESPONSE;
    }
    return err;
}

esp_err_t ddi_client_send_feedback(ddi_client_handle_t client, uint64_t action,
                                   otakit_ddi_exec_t execution, otakit_ddi_finished_t finished,
                                   unsigned cnt, unsigned of, const char *detail)
{
    otakit_ddi_feedback_t fb;
    memset(&fb, 0, sizeof(fb));
    snprintf(fb.id, sizeof(fb.id), "%" PRIu64, action);
    fb.execution = execution;
    fb.finished = finished;
    fb.has_progress = of > 0;
    fb.progress_cnt = cnt;
    fb.progress_of = of;
    if (detail != NULL) {
        fb.detail_count = 1;
        snprintf(fb.details[0], sizeof(fb.details[0]), "%s", detail);
    }
    char json[1024];
    if (otakit_ddi_feedback_json(&fb, json, sizeof(json)) < 0) {
        return ESP_ERR_INVALID_SIZE;
    }
    char url[URL_MAX + 64];
    snprintf(url, sizeof(url), "%s/deploymentBase/%" PRIu64 "/feedback", client->base, action);
    return send_json(client, HTTP_METHOD_POST, url, json);
}

esp_err_t ddi_client_put_config(ddi_client_handle_t client, const char *const *keys,
                                const char *const *values, size_t n)
{
    char json[1024];
    if (otakit_ddi_config_json(keys, values, n, json, sizeof(json)) < 0) {
        return ESP_ERR_INVALID_SIZE;
    }
    char url[URL_MAX + 16];
    snprintf(url, sizeof(url), "%s/configData", client->base);
    return send_json(client, HTTP_METHOD_PUT, url, json);
}

/* esp_https_ota's init callback has no context: one install runs at a time. */
static const char *s_download_auth;

static esp_err_t add_auth(esp_http_client_handle_t h)
{
    return esp_http_client_set_header(h, "Authorization", s_download_auth);
}

/* SHA-256 of the first len bytes of a partition. */
static esp_err_t partition_sha256(const esp_partition_t *p, size_t len, uint8_t out[32])
{
    static uint8_t buf[4096];
    mbedtls_sha256_context ctx;
    mbedtls_sha256_init(&ctx);
    esp_err_t err = mbedtls_sha256_starts(&ctx, 0) == 0 ? ESP_OK : ESP_FAIL;
    for (size_t off = 0; err == ESP_OK && off < len;) {
        size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
        err = esp_partition_read(p, off, buf, n);
        if (err == ESP_OK && mbedtls_sha256_update(&ctx, buf, n) != 0) {
            err = ESP_FAIL;
        }
        off += n;
    }
    if (err == ESP_OK && mbedtls_sha256_finish(&ctx, out) != 0) {
        err = ESP_FAIL;
    }
    mbedtls_sha256_free(&ctx);
    return err;
}

esp_err_t ddi_client_install(ddi_client_handle_t client, const ddi_artifact_t *artifact,
                             const ddi_client_install_config_t *config)
{
    const esp_partition_t *slot = esp_ota_get_next_update_partition(NULL);
    if (!artifact->has_sha256 || slot == NULL || artifact->size == 0 ||
        artifact->size > slot->size) {
        ESP_LOGE(TAG, "%s: %s", artifact->filename,
                 !artifact->has_sha256 ? "the deployment gives no SHA-256"
                                       : "it does not fit the update partition");
        return ESP_ERR_INVALID_ARG;
    }
    esp_http_client_config_t http = {
        .url = artifact->href,
        .timeout_ms = client->timeout_ms,
        .cert_pem = client->cert_pem,
        .keep_alive_enable = true,
    };
    if (client->cert_pem == NULL) {
        /* esp_https_ota wants a way to verify a server: the bundle (unused for http://). */
        http.crt_bundle_attach = esp_crt_bundle_attach;
    }
    esp_https_ota_config_t cfg = {
        .http_config = &http,
        .ota_resumption = config != NULL && config->resume_from > 0,
        .ota_image_bytes_written = config != NULL ? config->resume_from : 0,
    };
    /* The download link needs the same credentials as the API (hawkBit checks them). */
    if (client->auth[0] != '\0') {
        s_download_auth = client->auth;
        cfg.http_client_init_cb = add_auth;
    }
    esp_https_ota_handle_t ota = NULL;
    esp_err_t err = esp_https_ota_begin(&cfg, &ota);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_https_ota_begin: %s", esp_err_to_name(err));
        return err;
    }
    if (cfg.ota_resumption) {
        ESP_LOGI(TAG, "Resuming %s at byte %u", artifact->filename,
                 (unsigned)cfg.ota_image_bytes_written);
    }
    while ((err = esp_https_ota_perform(ota)) == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
        if (config != NULL && config->progress != NULL) {
            config->progress((size_t)esp_https_ota_get_image_len_read(ota), config->progress_arg);
        }
    }
    if (err != ESP_OK || !esp_https_ota_is_complete_data_received(ota)) {
        ESP_LOGE(TAG, "download of %s failed: %s", artifact->filename, esp_err_to_name(err));
        esp_https_ota_abort(ota);
        return err != ESP_OK ? err : ESP_FAIL;
    }
    uint8_t sha[32];
    err = partition_sha256(slot, (size_t)artifact->size, sha);
    if (err == ESP_OK && memcmp(sha, artifact->sha256, sizeof(sha)) != 0) {
        ESP_LOGE(TAG, "%s: SHA-256 of the partition differs from the deployment's",
                 artifact->filename);
        err = ESP_ERR_INVALID_CRC;
    }
    if (err != ESP_OK) {
        esp_https_ota_abort(ota);
        return err;
    }
    ESP_LOGI(TAG, "%s: SHA-256 matches the deployment", artifact->filename);
    err = esp_https_ota_finish(ota);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "esp_https_ota_finish: %s", esp_err_to_name(err));
    }
    return err;
}
