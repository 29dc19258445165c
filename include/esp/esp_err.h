/**
 * @file esp_err.h
 * @brief ESP-IDF's error type and codes over otakit's (same numbers: include/otakit/err.h).
 */
#ifndef ESP_ERR_H
#define ESP_ERR_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "otakit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef otakit_err_t esp_err_t;

#define ESP_OK OTAKIT_OK
#define ESP_FAIL OTAKIT_FAIL

#define ESP_ERR_NO_MEM OTAKIT_ERR_NO_MEM
#define ESP_ERR_INVALID_ARG OTAKIT_ERR_INVALID_ARG
#define ESP_ERR_INVALID_STATE OTAKIT_ERR_INVALID_STATE
#define ESP_ERR_INVALID_SIZE OTAKIT_ERR_INVALID_SIZE
#define ESP_ERR_NOT_FOUND OTAKIT_ERR_NOT_FOUND
#define ESP_ERR_NOT_SUPPORTED OTAKIT_ERR_NOT_SUPPORTED
#define ESP_ERR_TIMEOUT OTAKIT_ERR_TIMEOUT
#define ESP_ERR_INVALID_RESPONSE OTAKIT_ERR_INVALID_RESPONSE
#define ESP_ERR_INVALID_CRC OTAKIT_ERR_INVALID_CRC
#define ESP_ERR_INVALID_VERSION OTAKIT_ERR_INVALID_VERSION
#define ESP_ERR_INVALID_MAC OTAKIT_ERR_INVALID_MAC
#define ESP_ERR_NOT_FINISHED OTAKIT_ERR_NOT_FINISHED
#define ESP_ERR_NOT_ALLOWED OTAKIT_ERR_NOT_ALLOWED

#define ESP_ERR_WIFI_BASE 0x3000
#define ESP_ERR_MESH_BASE 0x4000
#define ESP_ERR_FLASH_BASE OTAKIT_ERR_FLASH_BASE
#define ESP_ERR_HW_CRYPTO_BASE 0xc000
#define ESP_ERR_MEMPROT_BASE 0xd000

/* esp_flash / spi_flash */
#define ESP_ERR_FLASH_OP_FAIL OTAKIT_ERR_FLASH_OP_FAIL
#define ESP_ERR_FLASH_OP_TIMEOUT OTAKIT_ERR_FLASH_OP_TIMEOUT

/* bootloader_support: esp_image_format.h */
#define ESP_ERR_IMAGE_BASE OTAKIT_ERR_IMAGE_BASE
#define ESP_ERR_IMAGE_FLASH_FAIL OTAKIT_ERR_IMAGE_FLASH_FAIL
#define ESP_ERR_IMAGE_INVALID OTAKIT_ERR_IMAGE_INVALID

/**
 * @brief ESP-IDF's name of an error code ("ESP_ERR_INVALID_SIZE").
 * @return the name, or "UNKNOWN ERROR"; never NULL.
 */
const char *esp_err_to_name(esp_err_t code);
/** As esp_err_to_name, copied into buf (for unknown codes "UNKNOWN ERROR 0x..."). */
const char *esp_err_to_name_r(esp_err_t code, char *buf, size_t buflen);

/** What ESP_ERROR_CHECK calls on failure: prints ESP-IDF's message and aborts (panic). */
void _esp_error_check_failed(esp_err_t rc, const char *file, int line, const char *function,
                             const char *expression)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;
/** What ESP_ERROR_CHECK_WITHOUT_ABORT calls on failure: prints the message. */
void _esp_error_check_failed_without_abort(esp_err_t rc, const char *file, int line,
                                           const char *function, const char *expression);

/** Abort (panic reset) when x is not ESP_OK, with ESP-IDF's message. */
#define ESP_ERROR_CHECK(x)                                                                         \
    do {                                                                                           \
        esp_err_t err_rc_ = (x);                                                                   \
        if (err_rc_ != ESP_OK) {                                                                   \
            _esp_error_check_failed(err_rc_, __FILE__, __LINE__, __func__, #x);                    \
        }                                                                                          \
    } while (0)

/** Print ESP-IDF's message when x is not ESP_OK; evaluates to x. */
#define ESP_ERROR_CHECK_WITHOUT_ABORT(x)                                                           \
    __extension__({                                                                                \
        esp_err_t err_rc_ = (x);                                                                   \
        if (err_rc_ != ESP_OK) {                                                                   \
            _esp_error_check_failed_without_abort(err_rc_, __FILE__, __LINE__, __func__, #x);      \
        }                                                                                          \
        err_rc_;                                                                                   \
    })

/** The app's entry point, called by the layer's main() (declared here, where every app
 * sees it, so apps that define it without a prototype build warning-free). */
void app_main(void);

#ifdef __cplusplus
}
#endif
#endif
