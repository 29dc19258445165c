/**
 * @file esp_partition.h
 * @brief ESP-IDF's partition API over the device's flash and partition table.
 *
 * The table is read once (at the app's start, from CONFIG_PARTITION_TABLE_OFFSET) and
 * the esp_partition_t records live as long as the app: pointers returned here stay
 * valid and can be compared, as in ESP-IDF.
 */
#ifndef ESP_PARTITION_H
#define ESP_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_flash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_PARTITION_TYPE_APP = 0x00,
    ESP_PARTITION_TYPE_DATA = 0x01,
    ESP_PARTITION_TYPE_BOOTLOADER = 0x02,
    ESP_PARTITION_TYPE_PARTITION_TABLE = 0x03,
    ESP_PARTITION_TYPE_ANY = 0xff,
} esp_partition_type_t;

typedef enum {
    ESP_PARTITION_SUBTYPE_BOOTLOADER_PRIMARY = 0x00,
    ESP_PARTITION_SUBTYPE_BOOTLOADER_OTA = 0x01,
    ESP_PARTITION_SUBTYPE_PARTITION_TABLE_PRIMARY = 0x00,
    ESP_PARTITION_SUBTYPE_PARTITION_TABLE_OTA = 0x01,

    ESP_PARTITION_SUBTYPE_APP_FACTORY = 0x00,
    ESP_PARTITION_SUBTYPE_APP_OTA_MIN = 0x10,
    ESP_PARTITION_SUBTYPE_APP_OTA_0 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 0,
    ESP_PARTITION_SUBTYPE_APP_OTA_1 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 1,
    ESP_PARTITION_SUBTYPE_APP_OTA_2 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 2,
    ESP_PARTITION_SUBTYPE_APP_OTA_3 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 3,
    ESP_PARTITION_SUBTYPE_APP_OTA_4 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 4,
    ESP_PARTITION_SUBTYPE_APP_OTA_5 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 5,
    ESP_PARTITION_SUBTYPE_APP_OTA_6 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 6,
    ESP_PARTITION_SUBTYPE_APP_OTA_7 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 7,
    ESP_PARTITION_SUBTYPE_APP_OTA_8 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 8,
    ESP_PARTITION_SUBTYPE_APP_OTA_9 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 9,
    ESP_PARTITION_SUBTYPE_APP_OTA_10 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 10,
    ESP_PARTITION_SUBTYPE_APP_OTA_11 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 11,
    ESP_PARTITION_SUBTYPE_APP_OTA_12 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 12,
    ESP_PARTITION_SUBTYPE_APP_OTA_13 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 13,
    ESP_PARTITION_SUBTYPE_APP_OTA_14 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 14,
    ESP_PARTITION_SUBTYPE_APP_OTA_15 = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 15,
    ESP_PARTITION_SUBTYPE_APP_OTA_MAX = ESP_PARTITION_SUBTYPE_APP_OTA_MIN + 16,
    ESP_PARTITION_SUBTYPE_APP_TEST = 0x20,

    ESP_PARTITION_SUBTYPE_DATA_OTA = 0x00,
    ESP_PARTITION_SUBTYPE_DATA_PHY = 0x01,
    ESP_PARTITION_SUBTYPE_DATA_NVS = 0x02,
    ESP_PARTITION_SUBTYPE_DATA_COREDUMP = 0x03,
    ESP_PARTITION_SUBTYPE_DATA_NVS_KEYS = 0x04,
    ESP_PARTITION_SUBTYPE_DATA_EFUSE_EM = 0x05,
    ESP_PARTITION_SUBTYPE_DATA_UNDEFINED = 0x06,
    ESP_PARTITION_SUBTYPE_DATA_ESPHTTPD = 0x80,
    ESP_PARTITION_SUBTYPE_DATA_FAT = 0x81,
    ESP_PARTITION_SUBTYPE_DATA_SPIFFS = 0x82,
    ESP_PARTITION_SUBTYPE_DATA_LITTLEFS = 0x83,

    ESP_PARTITION_SUBTYPE_ANY = 0xff,
} esp_partition_subtype_t;

/** ota_N subtype. */
#define PART_SUBTYPE_OTA(i)                                                                        \
    ((esp_partition_subtype_t)(ESP_PARTITION_SUBTYPE_APP_OTA_MIN + ((i)&0xf)))

typedef struct esp_partition_iterator_opaque_ *esp_partition_iterator_t;

typedef struct {
    esp_flash_t *flash_chip; /**< the device's flash */
    esp_partition_type_t type;
    esp_partition_subtype_t subtype;
    uint32_t address; /**< start on flash */
    uint32_t size;
    uint32_t erase_size; /**< 4096 */
    char label[17];
    bool encrypted;
    bool readonly;
} esp_partition_t;

/**
 * @brief Iterate partitions by type, subtype and label (NULL = any), in table order.
 * @return an iterator (release it), or NULL if none matches.
 */
esp_partition_iterator_t esp_partition_find(esp_partition_type_t type,
                                            esp_partition_subtype_t subtype, const char *label);
/** The first match of esp_partition_find, or NULL. */
const esp_partition_t *esp_partition_find_first(esp_partition_type_t type,
                                                esp_partition_subtype_t subtype, const char *label);
/** The partition at the iterator. */
const esp_partition_t *esp_partition_get(esp_partition_iterator_t iterator);
/** Advance; frees the iterator and returns NULL at the end. */
esp_partition_iterator_t esp_partition_next(esp_partition_iterator_t iterator);
void esp_partition_iterator_release(esp_partition_iterator_t iterator);
/** The table's record equal to partition (address, size, type, subtype, label), or NULL. */
const esp_partition_t *esp_partition_verify(const esp_partition_t *partition);

/**
 * @return ESP_OK; ESP_ERR_INVALID_ARG (NULL, or offset past the partition);
 *         ESP_ERR_INVALID_SIZE (the range passes the partition end); flash errors.
 */
esp_err_t esp_partition_read(const esp_partition_t *partition, size_t src_offset, void *dst,
                             size_t size);
/** Program (NOR: bits only clear). @return as read; ESP_ERR_NOT_ALLOWED on a read-only partition.
 */
esp_err_t esp_partition_write(const esp_partition_t *partition, size_t dst_offset, const void *src,
                              size_t size);
esp_err_t esp_partition_read_raw(const esp_partition_t *partition, size_t src_offset, void *dst,
                                 size_t size);
esp_err_t esp_partition_write_raw(const esp_partition_t *partition, size_t dst_offset,
                                  const void *src, size_t size);
/**
 * @brief Erase [offset, offset+size) of the partition to 0xFF.
 * @return ESP_OK; ESP_ERR_INVALID_ARG (offset not a multiple of 4096 or past the end);
 *         ESP_ERR_INVALID_SIZE (size not a multiple of 4096 or the range passes the end);
 *         ESP_ERR_NOT_ALLOWED; flash errors.
 */
esp_err_t esp_partition_erase_range(const esp_partition_t *partition, size_t offset, size_t size);

/**
 * @brief SHA-256 of a partition: for an app, the image's digest (verified; of the image
 * only); for data, of the whole partition.
 * @return ESP_OK; ESP_ERR_INVALID_ARG; ESP_ERR_IMAGE_INVALID; flash errors.
 */
esp_err_t esp_partition_get_sha256(const esp_partition_t *partition, uint8_t *sha_256);
/** Whether two partitions have the same SHA-256. */
bool esp_partition_check_identity(const esp_partition_t *partition_1,
                                  const esp_partition_t *partition_2);

#ifdef __cplusplus
}
#endif
#endif
