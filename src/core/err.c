/* ESP-IDF's error names. Codes and names are kept apart (a table of codes and one string
 * of names, NUL-separated) so no pointer is stored per entry: the bootloader counts its
 * bytes, and it keeps only the names it can meet (OTAKIT_ERR_BOOTLOADER_NAMES: no NVS,
 * OTA, HTTP or esp_https_ota names). Built with OTAKIT_TOOLS 0 there are none (err.h). */
#include "otakit/err.h"

#include "otakit/nvs.h"

#include <stddef.h>

#define ERR_COMMON(X)                                                                              \
    X(OTAKIT_OK, "ESP_OK")                                                                         \
    X(OTAKIT_FAIL, "ESP_FAIL")                                                                     \
    X(OTAKIT_ERR_NO_MEM, "ESP_ERR_NO_MEM")                                                         \
    X(OTAKIT_ERR_INVALID_ARG, "ESP_ERR_INVALID_ARG")                                               \
    X(OTAKIT_ERR_INVALID_STATE, "ESP_ERR_INVALID_STATE")                                           \
    X(OTAKIT_ERR_INVALID_SIZE, "ESP_ERR_INVALID_SIZE")                                             \
    X(OTAKIT_ERR_NOT_FOUND, "ESP_ERR_NOT_FOUND")                                                   \
    X(OTAKIT_ERR_NOT_SUPPORTED, "ESP_ERR_NOT_SUPPORTED")                                           \
    X(OTAKIT_ERR_TIMEOUT, "ESP_ERR_TIMEOUT")                                                       \
    X(OTAKIT_ERR_INVALID_RESPONSE, "ESP_ERR_INVALID_RESPONSE")                                     \
    X(OTAKIT_ERR_INVALID_CRC, "ESP_ERR_INVALID_CRC")                                               \
    X(OTAKIT_ERR_INVALID_VERSION, "ESP_ERR_INVALID_VERSION")                                       \
    X(OTAKIT_ERR_INVALID_MAC, "ESP_ERR_INVALID_MAC")                                               \
    X(OTAKIT_ERR_NOT_FINISHED, "ESP_ERR_NOT_FINISHED")                                             \
    X(OTAKIT_ERR_NOT_ALLOWED, "ESP_ERR_NOT_ALLOWED")                                               \
    X(OTAKIT_ERR_IMAGE_BASE, "ESP_ERR_IMAGE_BASE")                                                 \
    X(OTAKIT_ERR_IMAGE_FLASH_FAIL, "ESP_ERR_IMAGE_FLASH_FAIL")                                     \
    X(OTAKIT_ERR_IMAGE_INVALID, "ESP_ERR_IMAGE_INVALID")                                           \
    X(OTAKIT_ERR_FLASH_BASE, "ESP_ERR_FLASH_BASE")                                                 \
    X(OTAKIT_ERR_FLASH_OP_FAIL, "ESP_ERR_FLASH_OP_FAIL")                                           \
    X(OTAKIT_ERR_FLASH_OP_TIMEOUT, "ESP_ERR_FLASH_OP_TIMEOUT")

#ifdef OTAKIT_ERR_BOOTLOADER_NAMES
#define ERR_NVS(X)
#define ERR_APP(X)
#else
#define ERR_NVS(X)                                                                                 \
    X(OTAKIT_ERR_NVS_BASE, "ESP_ERR_NVS_BASE")                                                     \
    X(OTAKIT_ERR_NVS_NOT_INITIALIZED, "ESP_ERR_NVS_NOT_INITIALIZED")                               \
    X(OTAKIT_ERR_NVS_NOT_FOUND, "ESP_ERR_NVS_NOT_FOUND")                                           \
    X(OTAKIT_ERR_NVS_TYPE_MISMATCH, "ESP_ERR_NVS_TYPE_MISMATCH")                                   \
    X(OTAKIT_ERR_NVS_READ_ONLY, "ESP_ERR_NVS_READ_ONLY")                                           \
    X(OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE, "ESP_ERR_NVS_NOT_ENOUGH_SPACE")                             \
    X(OTAKIT_ERR_NVS_INVALID_NAME, "ESP_ERR_NVS_INVALID_NAME")                                     \
    X(OTAKIT_ERR_NVS_INVALID_HANDLE, "ESP_ERR_NVS_INVALID_HANDLE")                                 \
    X(OTAKIT_ERR_NVS_REMOVE_FAILED, "ESP_ERR_NVS_REMOVE_FAILED")                                   \
    X(OTAKIT_ERR_NVS_KEY_TOO_LONG, "ESP_ERR_NVS_KEY_TOO_LONG")                                     \
    X(OTAKIT_ERR_NVS_PAGE_FULL, "ESP_ERR_NVS_PAGE_FULL")                                           \
    X(OTAKIT_ERR_NVS_INVALID_STATE, "ESP_ERR_NVS_INVALID_STATE")                                   \
    X(OTAKIT_ERR_NVS_INVALID_LENGTH, "ESP_ERR_NVS_INVALID_LENGTH")                                 \
    X(OTAKIT_ERR_NVS_NO_FREE_PAGES, "ESP_ERR_NVS_NO_FREE_PAGES")                                   \
    X(OTAKIT_ERR_NVS_VALUE_TOO_LONG, "ESP_ERR_NVS_VALUE_TOO_LONG")                                 \
    X(OTAKIT_ERR_NVS_PART_NOT_FOUND, "ESP_ERR_NVS_PART_NOT_FOUND")                                 \
    X(OTAKIT_ERR_NVS_NEW_VERSION_FOUND, "ESP_ERR_NVS_NEW_VERSION_FOUND")                           \
    X(OTAKIT_ERR_NVS_XTS_ENCR_FAILED, "ESP_ERR_NVS_XTS_ENCR_FAILED")                               \
    X(OTAKIT_ERR_NVS_XTS_DECR_FAILED, "ESP_ERR_NVS_XTS_DECR_FAILED")                               \
    X(OTAKIT_ERR_NVS_XTS_CFG_FAILED, "ESP_ERR_NVS_XTS_CFG_FAILED")                                 \
    X(OTAKIT_ERR_NVS_XTS_CFG_NOT_FOUND, "ESP_ERR_NVS_XTS_CFG_NOT_FOUND")                           \
    X(OTAKIT_ERR_NVS_ENCR_NOT_SUPPORTED, "ESP_ERR_NVS_ENCR_NOT_SUPPORTED")                         \
    X(OTAKIT_ERR_NVS_KEYS_NOT_INITIALIZED, "ESP_ERR_NVS_KEYS_NOT_INITIALIZED")                     \
    X(OTAKIT_ERR_NVS_CORRUPT_KEY_PART, "ESP_ERR_NVS_CORRUPT_KEY_PART")                             \
    X(OTAKIT_ERR_NVS_CONTENT_DIFFERS, "ESP_ERR_NVS_CONTENT_DIFFERS")                               \
    X(OTAKIT_ERR_NVS_WRONG_ENCRYPTION, "ESP_ERR_NVS_WRONG_ENCRYPTION")
#define ERR_APP(X)                                                                                 \
    X(OTAKIT_ERR_OTA_BASE, "ESP_ERR_OTA_BASE")                                                     \
    X(OTAKIT_ERR_OTA_PARTITION_CONFLICT, "ESP_ERR_OTA_PARTITION_CONFLICT")                         \
    X(OTAKIT_ERR_OTA_SELECT_INFO_INVALID, "ESP_ERR_OTA_SELECT_INFO_INVALID")                       \
    X(OTAKIT_ERR_OTA_VALIDATE_FAILED, "ESP_ERR_OTA_VALIDATE_FAILED")                               \
    X(OTAKIT_ERR_OTA_SMALL_SEC_VER, "ESP_ERR_OTA_SMALL_SEC_VER")                                   \
    X(OTAKIT_ERR_OTA_ROLLBACK_FAILED, "ESP_ERR_OTA_ROLLBACK_FAILED")                               \
    X(OTAKIT_ERR_OTA_ROLLBACK_INVALID_STATE, "ESP_ERR_OTA_ROLLBACK_INVALID_STATE")                 \
    X(OTAKIT_ERR_HTTP_BASE, "ESP_ERR_HTTP_BASE")                                                   \
    X(OTAKIT_ERR_HTTP_MAX_REDIRECT, "ESP_ERR_HTTP_MAX_REDIRECT")                                   \
    X(OTAKIT_ERR_HTTP_CONNECT, "ESP_ERR_HTTP_CONNECT")                                             \
    X(OTAKIT_ERR_HTTP_WRITE_DATA, "ESP_ERR_HTTP_WRITE_DATA")                                       \
    X(OTAKIT_ERR_HTTP_FETCH_HEADER, "ESP_ERR_HTTP_FETCH_HEADER")                                   \
    X(OTAKIT_ERR_HTTP_INVALID_TRANSPORT, "ESP_ERR_HTTP_INVALID_TRANSPORT")                         \
    X(OTAKIT_ERR_HTTP_CONNECTING, "ESP_ERR_HTTP_CONNECTING")                                       \
    X(OTAKIT_ERR_HTTP_EAGAIN, "ESP_ERR_HTTP_EAGAIN")                                               \
    X(OTAKIT_ERR_HTTP_CONNECTION_CLOSED, "ESP_ERR_HTTP_CONNECTION_CLOSED")                         \
    X(OTAKIT_ERR_HTTP_NOT_MODIFIED, "ESP_ERR_HTTP_NOT_MODIFIED")                                   \
    X(OTAKIT_ERR_HTTP_RANGE_NOT_SATISFIABLE, "ESP_ERR_HTTP_RANGE_NOT_SATISFIABLE")                 \
    X(OTAKIT_ERR_HTTPS_OTA_BASE, "ESP_ERR_HTTPS_OTA_BASE")                                         \
    X(OTAKIT_ERR_HTTPS_OTA_IN_PROGRESS, "ESP_ERR_HTTPS_OTA_IN_PROGRESS")
#endif
#define ERR_ALL(X) ERR_COMMON(X) ERR_NVS(X) ERR_APP(X)

#if OTAKIT_TOOLS
#define ERR_CODE(code, name) code,
#define ERR_NAME(code, name) name "\0"
static const otakit_err_t ERR_CODES[] = {ERR_ALL(ERR_CODE)};
static const char ERR_NAMES[] = ERR_ALL(ERR_NAME);

#endif

const char *otakit_err_name(otakit_err_t err)
{
#if OTAKIT_TOOLS
    const char *name = ERR_NAMES;
    for (size_t i = 0; i < sizeof(ERR_CODES) / sizeof(ERR_CODES[0]); i++) {
        if (ERR_CODES[i] == err) {
            return name;
        }
        while (*name++ != '\0') {
        }
    }
#else
    (void)err;
#endif
    return "UNKNOWN ERROR";
}
