/**
 * @file ddi_client.h
 * @brief A client for Eclipse hawkBit's Direct Device Integration API v1, in ESP-IDF's
 * style: esp_http_client for the requests, cJSON (through otakit's DDI parser,
 * ddi_device.h) for the bodies, esp_https_ota for the download.
 *
 * Resources (relative to {server_url}/{tenant}/controller/v1/{controller_id}): the base
 * resource (ddi_client_poll), deploymentBase/{action} (ddi_client_get_deployment), its
 * feedback (ddi_client_send_feedback), configData (ddi_client_put_config). Every request
 * carries "Authorization: TargetToken <token>" (or GatewayToken) when a token is set.
 *
 * ddi_client_install downloads an artifact into the next OTA partition with
 * esp_https_ota (resuming from resume_from bytes, e.g. a count the app kept in NVS),
 * checks the artifact's SHA-256 from the deployment against what the partition holds,
 * and only then lets esp_https_ota_finish verify the image and set the boot partition.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ddi_device.h"
#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef otakit_ddi_base_t ddi_base_t;
typedef otakit_ddi_deployment_t ddi_deployment_t;
typedef otakit_ddi_artifact_t ddi_artifact_t;

typedef struct {
    const char *server_url;    /**< "http://host:port" (a path prefix may follow) */
    const char *tenant;        /**< NULL = "DEFAULT" */
    const char *controller_id; /**< required */
    const char *target_token;  /**< "TargetToken"; NULL = none */
    const char *gateway_token; /**< "GatewayToken", when target_token is NULL */
    const char *cert_pem;      /**< CA for an https:// server; NULL = the host's store */
    int timeout_ms;            /**< per request; 0 = 10000 */
} ddi_client_config_t;

typedef struct ddi_client *ddi_client_handle_t;

/** Called while installing: image bytes in the partition so far (save them to resume). */
typedef void (*ddi_client_progress_cb_t)(size_t written, void *arg);

typedef struct {
    size_t resume_from;                /**< bytes already in the partition; 0 = from the start */
    ddi_client_progress_cb_t progress; /**< may be NULL */
    void *progress_arg;
} ddi_client_install_config_t;

/** @return a client, or NULL (no memory, no server_url or controller_id). */
ddi_client_handle_t ddi_client_init(const ddi_client_config_t *config);
void ddi_client_cleanup(ddi_client_handle_t client);

/**
 * @brief GET the base resource.
 * @return ESP_OK; ESP_ERR_HTTP_CONNECT and the other esp_http_client errors;
 *         ESP_ERR_INVALID_RESPONSE for a status other than 200 or a body that is not a
 *         base resource (the log names the member).
 */
esp_err_t ddi_client_poll(ddi_client_handle_t client, ddi_base_t *base);

/** @brief GET deploymentBase/{action}. @return as ddi_client_poll. */
esp_err_t ddi_client_get_deployment(ddi_client_handle_t client, uint64_t action,
                                    ddi_deployment_t *deployment);

/**
 * @brief POST deploymentBase/{action}/feedback (progress cnt of "of"; of 0 = none).
 * @return ESP_OK on a 2xx status; ESP_ERR_INVALID_RESPONSE for another; HTTP errors.
 */
esp_err_t ddi_client_send_feedback(ddi_client_handle_t client, uint64_t action,
                                   otakit_ddi_exec_t execution, otakit_ddi_finished_t finished,
                                   unsigned cnt, unsigned of, const char *detail);

/** @brief PUT configData {"mode":"merge","data":{keys: values}}. @return as feedback. */
esp_err_t ddi_client_put_config(ddi_client_handle_t client, const char *const *keys,
                                const char *const *values, size_t n);

/**
 * @brief Download the artifact into the next OTA partition, check its SHA-256, verify the
 * image and make it the boot partition (the caller restarts).
 * @return ESP_OK; ESP_ERR_INVALID_ARG (no SHA-256 in the deployment, or a size that does
 *         not fit); ESP_ERR_INVALID_CRC (the partition's bytes differ from the SHA-256:
 *         nothing is switched); esp_https_ota's errors (ESP_ERR_OTA_VALIDATE_FAILED, HTTP).
 */
esp_err_t ddi_client_install(ddi_client_handle_t client, const ddi_artifact_t *artifact,
                             const ddi_client_install_config_t *config);

#ifdef __cplusplus
}
#endif
