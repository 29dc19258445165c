/**
 * @file esp_tls_errors.h
 * ESP-IDF's esp-tls error codes (components/esp-tls/esp_tls_errors.h, v5.5), with the
 * same values, and the record esp_http_client_get_and_clear_last_tls_error() fills.
 * The virtual device's TLS is libcurl's, but it reports a failure as an ESP32 running
 * esp-tls over mbedTLS does: ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED with mbedTLS's code
 * (-0x2700, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, for a certificate that does not verify)
 * and mbedTLS's certificate flags.
 */
#ifndef OTAKIT_ESP_TLS_ERRORS_H
#define OTAKIT_ESP_TLS_ERRORS_H

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ERR_ESP_TLS_BASE 0x8000 /**< Starting number of ESP-TLS error codes */

/* generic esp-tls error codes */
/** hostname not resolved */
#define ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME (ESP_ERR_ESP_TLS_BASE + 0x01)
/** no socket */
#define ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET (ESP_ERR_ESP_TLS_BASE + 0x02)
/** protocol family */
#define ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY (ESP_ERR_ESP_TLS_BASE + 0x03)
/** TCP connect failed */
#define ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST (ESP_ERR_ESP_TLS_BASE + 0x04)
/** socket option */
#define ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED (ESP_ERR_ESP_TLS_BASE + 0x05)
/** connect timed out */
#define ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT (ESP_ERR_ESP_TLS_BASE + 0x06)
/** secure element */
#define ESP_ERR_ESP_TLS_SE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x07)
/** peer closed (FIN) */
#define ESP_ERR_ESP_TLS_TCP_CLOSED_FIN (ESP_ERR_ESP_TLS_BASE + 0x08)
/** handshake timed out */
#define ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT (ESP_ERR_ESP_TLS_BASE + 0x09)
/* mbedtls specific error codes */
/** some certificates parsed */
#define ESP_ERR_MBEDTLS_CERT_PARTLY_OK (ESP_ERR_ESP_TLS_BASE + 0x10)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED (ESP_ERR_ESP_TLS_BASE + 0x11)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED (ESP_ERR_ESP_TLS_BASE + 0x12)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED (ESP_ERR_ESP_TLS_BASE + 0x13)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED (ESP_ERR_ESP_TLS_BASE + 0x14)
/** CA certificate unreadable */
#define ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x15)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED (ESP_ERR_ESP_TLS_BASE + 0x16)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_SETUP_FAILED (ESP_ERR_ESP_TLS_BASE + 0x17)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_WRITE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x18)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED (ESP_ERR_ESP_TLS_BASE + 0x19)
/** TLS handshake failed */
#define ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x1A)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED (ESP_ERR_ESP_TLS_BASE + 0x1B)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_TICKET_SETUP_FAILED (ESP_ERR_ESP_TLS_BASE + 0x1C)
/** mbedtls api error */
#define ESP_ERR_MBEDTLS_SSL_READ_FAILED (ESP_ERR_ESP_TLS_BASE + 0x1D)

/* mbedTLS codes and certificate flags the client reports (mbedtls/x509.h, ssl.h) */
#define ESP_TLS_MBEDTLS_ERR_X509_CERT_VERIFY_FAILED (-0x2700) /**< the peer's certificate chain */
#define ESP_TLS_MBEDTLS_ERR_X509_INVALID_FORMAT (-0x2180)     /**< a certificate is not DER/PEM */
#define ESP_TLS_MBEDTLS_ERR_SSL_CONN_EOF (-0x7280)            /**< the peer closed */
#define ESP_TLS_MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE (-0x7780) /**< the peer sent a fatal alert */
#define ESP_TLS_MBEDTLS_X509_BADCERT_EXPIRED 0x01             /**< expired */
#define ESP_TLS_MBEDTLS_X509_BADCERT_CN_MISMATCH 0x04         /**< name does not match the host */
#define ESP_TLS_MBEDTLS_X509_BADCERT_NOT_TRUSTED 0x08         /**< not signed by a trusted CA */

/** Kinds of esp-tls error (esp_tls_error_type_t). */
typedef enum {
    ESP_TLS_ERR_TYPE_UNKNOWN = 0,
    ESP_TLS_ERR_TYPE_SYSTEM,             /**< System error -- errno */
    ESP_TLS_ERR_TYPE_MBEDTLS,            /**< Error code from mbedTLS library */
    ESP_TLS_ERR_TYPE_MBEDTLS_CERT_FLAGS, /**< Certificate flags defined in mbedTLS */
    ESP_TLS_ERR_TYPE_ESP,                /**< ESP-IDF error type -- esp_err_t */
    ESP_TLS_ERR_TYPE_WOLFSSL,            /**< Error code from wolfSSL library */
    ESP_TLS_ERR_TYPE_WOLFSSL_CERT_FLAGS, /**< Certificate flags defined in wolfSSL */
    ESP_TLS_ERR_TYPE_MAX,                /**< Last err type -- invalid entry */
} esp_tls_error_type_t;

/** The last TLS error of a connection (esp_tls_last_error_t). */
typedef struct esp_tls_last_error {
    esp_err_t last_error; /**< ESP_ERR_ESP_TLS_* / ESP_ERR_MBEDTLS_* of the last error, 0 if none */
    int esp_tls_error_code; /**< mbedTLS's code of the last failed call, 0 if none */
    int esp_tls_flags;      /**< certificate verification flags, 0 if none */
} esp_tls_last_error_t;

typedef struct esp_tls_last_error *esp_tls_error_handle_t;

/** ESP_ERR_ESP_TLS_* / ESP_ERR_MBEDTLS_* name of code, or NULL when it is not one. */
const char *esp_tls_err_name(esp_err_t code);

#ifdef __cplusplus
}
#endif

#endif
