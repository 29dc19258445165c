#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "esp_https_ota.h"
#include "esp_tls_errors.h"

const char *esp_tls_err_name(esp_err_t code)
{
    /* ESP-IDF's esp_err_to_name table for esp_tls_errors.h, in its order. */
    static const struct {
        esp_err_t code;
        const char *name;
    } names[] = {
#define TLS_NAME(x) {x, #x}
        TLS_NAME(ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME),
        TLS_NAME(ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET),
        TLS_NAME(ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY),
        TLS_NAME(ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST),
        TLS_NAME(ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED),
        TLS_NAME(ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT),
        TLS_NAME(ESP_ERR_ESP_TLS_SE_FAILED),
        TLS_NAME(ESP_ERR_ESP_TLS_TCP_CLOSED_FIN),
        TLS_NAME(ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT),
        TLS_NAME(ESP_ERR_MBEDTLS_CERT_PARTLY_OK),
        TLS_NAME(ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_SETUP_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_WRITE_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_TICKET_SETUP_FAILED),
        TLS_NAME(ESP_ERR_MBEDTLS_SSL_READ_FAILED),
#undef TLS_NAME
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].code == code) {
            return names[i].name;
        }
    }
    return NULL;
}

const char *esp_err_to_name(esp_err_t code)
{
    if (code == ESP_ERR_HTTPS_OTA_IN_PROGRESS) {
        return "ESP_ERR_HTTPS_OTA_IN_PROGRESS";
    }
    const char *tls = esp_tls_err_name(code);
    return tls != NULL ? tls : otakit_err_name(code);
}

const char *esp_err_to_name_r(esp_err_t code, char *buf, size_t buflen)
{
    const char *name = esp_err_to_name(code);
    if (buf == NULL || buflen == 0) {
        return name;
    }
    if (strcmp(name, "UNKNOWN ERROR") == 0) {
        snprintf(buf, buflen, "UNKNOWN ERROR 0x%x(%d)", (unsigned)code, (int)code);
    } else {
        snprintf(buf, buflen, "%s", name);
    }
    return buf;
}

static void print_check_failed(const char *msg, esp_err_t rc, const char *file, int line,
                               const char *function, const char *expression)
{
    fflush(stdout);
    printf("%s failed: esp_err_t 0x%x (%s) at 0x%08lx\n", msg, (unsigned)rc, esp_err_to_name(rc),
           (unsigned long)(uintptr_t)__builtin_return_address(0));
    printf("file: \"%s\" line %d\nfunc: %s\nexpression: %s\n", file, line, function, expression);
    fflush(stdout);
}

void _esp_error_check_failed(esp_err_t rc, const char *file, int line, const char *function,
                             const char *expression)
{
    print_check_failed("ESP_ERROR_CHECK", rc, file, line, function, expression);
    abort();
}

void _esp_error_check_failed_without_abort(esp_err_t rc, const char *file, int line,
                                           const char *function, const char *expression)
{
    print_check_failed("ESP_ERROR_CHECK_WITHOUT_ABORT", rc, file, line, function, expression);
}
