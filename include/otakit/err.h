/**
 * @file err.h
 * @brief otakit error codes: ESP-IDF's numeric values, so a log line here means what
 * it means on a device.
 */
#ifndef OTAKIT_ERR_H
#define OTAKIT_ERR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t otakit_err_t;

#define OTAKIT_OK 0
#define OTAKIT_FAIL (-1)
#define OTAKIT_ERR_NO_MEM 0x101
#define OTAKIT_ERR_INVALID_ARG 0x102
#define OTAKIT_ERR_INVALID_STATE 0x103
#define OTAKIT_ERR_INVALID_SIZE 0x104
#define OTAKIT_ERR_NOT_FOUND 0x105
#define OTAKIT_ERR_NOT_SUPPORTED 0x106
#define OTAKIT_ERR_TIMEOUT 0x107
#define OTAKIT_ERR_INVALID_RESPONSE 0x108
#define OTAKIT_ERR_INVALID_CRC 0x109
#define OTAKIT_ERR_INVALID_VERSION 0x10A
#define OTAKIT_ERR_INVALID_MAC 0x10B
#define OTAKIT_ERR_NOT_FINISHED 0x10C
#define OTAKIT_ERR_NOT_ALLOWED 0x10D

#define OTAKIT_ERR_OTA_BASE 0x1500
#define OTAKIT_ERR_OTA_PARTITION_CONFLICT 0x1501
#define OTAKIT_ERR_OTA_SELECT_INFO_INVALID 0x1502
#define OTAKIT_ERR_OTA_VALIDATE_FAILED 0x1503
#define OTAKIT_ERR_OTA_SMALL_SEC_VER 0x1504
#define OTAKIT_ERR_OTA_ROLLBACK_FAILED 0x1505
#define OTAKIT_ERR_OTA_ROLLBACK_INVALID_STATE 0x1506

#define OTAKIT_ERR_IMAGE_BASE 0x2000
#define OTAKIT_ERR_IMAGE_FLASH_FAIL 0x2001
#define OTAKIT_ERR_IMAGE_INVALID 0x2002

#define OTAKIT_ERR_FLASH_BASE 0x6000
#define OTAKIT_ERR_FLASH_OP_FAIL 0x6001
#define OTAKIT_ERR_FLASH_OP_TIMEOUT 0x6002

#define OTAKIT_ERR_HTTP_BASE 0x7000
#define OTAKIT_ERR_HTTP_MAX_REDIRECT 0x7001
#define OTAKIT_ERR_HTTP_CONNECT 0x7002
#define OTAKIT_ERR_HTTP_WRITE_DATA 0x7003
#define OTAKIT_ERR_HTTP_FETCH_HEADER 0x7004
#define OTAKIT_ERR_HTTP_INVALID_TRANSPORT 0x7005
#define OTAKIT_ERR_HTTP_CONNECTING 0x7006
#define OTAKIT_ERR_HTTP_EAGAIN 0x7007
#define OTAKIT_ERR_HTTP_CONNECTION_CLOSED 0x7008
#define OTAKIT_ERR_HTTP_NOT_MODIFIED 0x7009
#define OTAKIT_ERR_HTTP_RANGE_NOT_SATISFIABLE 0x700A

#define OTAKIT_ERR_HTTPS_OTA_BASE 0x9000
#define OTAKIT_ERR_HTTPS_OTA_IN_PROGRESS 0x9001

/**
 * OTAKIT_TOOLS: whether the core also carries what only people and host tools use:
 * names for display (otakit_err_name, otakit_image_chip_name, otakit_ptable_type_name,
 * otakit_ptable_subtype_name, otakit_otadata_state_name) and the writers of formats a
 * device only reads (otakit_image_header_encode, otakit_app_desc_encode,
 * otakit_ptable_encode, otakit_ptable_encode_entry). 1, the default, on the host. A
 * microcontroller port may build the core with -DOTAKIT_TOOLS=0 (as ESP-IDF without
 * CONFIG_ESP_ERR_TO_NAME_LOOKUP): the name functions stay and answer as for a value
 * they do not know ("UNKNOWN ERROR", NULL, "UNKNOWN"); the writers are not compiled.
 */
#ifndef OTAKIT_TOOLS
#define OTAKIT_TOOLS 1
#endif

/**
 * @brief ESP-IDF's name of an error code.
 * @return "ESP_OK", "ESP_ERR_INVALID_SIZE", ... or "UNKNOWN ERROR" for a value that
 *         has no name (every value when built with OTAKIT_TOOLS 0). Never NULL.
 */
const char *otakit_err_name(otakit_err_t err);

#ifdef __cplusplus
}
#endif
#endif
