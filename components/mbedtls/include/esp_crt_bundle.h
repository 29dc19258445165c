/**
 * @file esp_crt_bundle.h
 * @brief ESP-IDF's certificate bundle, for esp_http_client_config_t.crt_bundle_attach.
 *
 * ESP-IDF embeds a bundle of common root certificates; on otakit the bundle is the host's
 * CA store (libcurl's default CA file, Debian's ca-certificates), plus the project's
 * custom bundle when CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE names one (a PEM file, path
 * relative to the project). CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_DEFAULT_NONE leaves the
 * host's store out, as it leaves ESP-IDF's default bundle out.
 */
#ifndef ESP_CRT_BUNDLE_H
#define ESP_CRT_BUNDLE_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Make a TLS connection verify its server against the bundle.
 * @param conf the connection's libcurl easy handle (CURL *); esp_http_client passes it
 *        (ESP-IDF passes an mbedtls_ssl_config)
 * @return ESP_OK; ESP_ERR_INVALID_ARG for NULL; ESP_FAIL when the host's CA file cannot be
 *         read while a custom bundle must be added to it.
 */
esp_err_t esp_crt_bundle_attach(void *conf);

#ifdef __cplusplus
}
#endif
#endif
