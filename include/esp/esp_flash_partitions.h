/**
 * @file esp_flash_partitions.h
 * @brief ESP-IDF's on-flash partition structures and constants (bootloader_support).
 *
 * The partition table record, the otadata select entry and its states, and the fixed
 * flash offsets, with ESP-IDF's names and values. The formats themselves are the core's
 * (include/otakit/ptable.h, otadata.h); these names are what ESP-IDF code includes.
 */
#ifndef ESP_FLASH_PARTITIONS_H
#define ESP_FLASH_PARTITIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_PARTITION_MAGIC 0x50AA
#define ESP_PARTITION_MAGIC_MD5 0xEBEB

#define PART_TYPE_APP 0x00
#define PART_SUBTYPE_FACTORY 0x00
#define PART_SUBTYPE_OTA_FLAG 0x10
#define PART_SUBTYPE_OTA_MASK 0x0f
#define PART_SUBTYPE_TEST 0x20
#define PART_TYPE_DATA 0x01
#define PART_SUBTYPE_DATA_OTA 0x00
#define PART_SUBTYPE_DATA_RF 0x01
#define PART_SUBTYPE_DATA_WIFI 0x02
#define PART_SUBTYPE_DATA_NVS_KEYS 0x04
#define PART_SUBTYPE_DATA_EFUSE_EM 0x05
#define PART_TYPE_BOOTLOADER 0x02
#define PART_SUBTYPE_BOOTLOADER_PRIMARY 0x00
#define PART_SUBTYPE_BOOTLOADER_OTA 0x01
#define PART_TYPE_PARTITION_TABLE 0x03
#define PART_SUBTYPE_PARTITION_TABLE_PRIMARY 0x00
#define PART_SUBTYPE_PARTITION_TABLE_OTA 0x01
#define PART_TYPE_END 0xff
#define PART_SUBTYPE_END 0xff

#define PART_FLAG_ENCRYPTED (1 << 0)
#define PART_FLAG_READONLY (1 << 1)

/** The MD5 record's digest starts this many bytes into the record. */
#define ESP_PARTITION_MD5_OFFSET 16

#define ESP_BOOTLOADER_DIGEST_OFFSET 0x0
#define ESP_BOOTLOADER_OFFSET 0x1000
#define ESP_PRIMARY_BOOTLOADER_OFFSET ESP_BOOTLOADER_OFFSET
#define ESP_PARTITION_TABLE_OFFSET CONFIG_PARTITION_TABLE_OFFSET
#define ESP_PRIMARY_PARTITION_TABLE_OFFSET CONFIG_PARTITION_TABLE_OFFSET
#define ESP_PARTITION_TABLE_SIZE 0x1000
#define ESP_BOOTLOADER_SIZE (ESP_PARTITION_TABLE_OFFSET - ESP_BOOTLOADER_OFFSET)
#define ESP_PARTITION_TABLE_MAX_LEN 0xC00
#define ESP_PARTITION_TABLE_MAX_ENTRIES (ESP_PARTITION_TABLE_MAX_LEN / sizeof(esp_partition_info_t))

/** States of an OTA slot's otadata entry. A 32-bit type, not an enum:
 *  ESP_OTA_IMG_UNDEFINED (0xFFFFFFFF) does not fit a C11 enum. */
typedef uint32_t esp_ota_img_states_t;
#define ESP_OTA_IMG_NEW 0x0U            /**< written; the bootloader marks it PENDING_VERIFY */
#define ESP_OTA_IMG_PENDING_VERIFY 0x1U /**< first boot done, not yet confirmed */
#define ESP_OTA_IMG_VALID 0x2U          /**< the app confirmed itself */
#define ESP_OTA_IMG_INVALID 0x3U        /**< the app declared itself broken */
#define ESP_OTA_IMG_ABORTED 0x4U        /**< booted again without a verdict: not booted again */
#define ESP_OTA_IMG_UNDEFINED 0xFFFFFFFFU

/** One otadata select entry (two copies in the otadata partition), 32 bytes. */
typedef struct {
    uint32_t ota_seq;
    uint8_t seq_label[20];
    uint32_t ota_state;
    uint32_t crc; /**< CRC-32 of ota_seq alone */
} esp_ota_select_entry_t;

typedef struct {
    uint32_t offset;
    uint32_t size;
} esp_partition_pos_t;

/** One partition table record, 32 bytes. */
typedef struct {
    uint16_t magic;
    uint8_t type;
    uint8_t subtype;
    esp_partition_pos_t pos;
    uint8_t label[16];
    uint32_t flags;
} esp_partition_info_t;

/**
 * @brief Check a partition table read from flash: record magics, the MD5 record (when
 *        there is one), and that no partition overlaps another or the table itself.
 * @param num_partitions the number of partitions, when the table is valid (may be NULL)
 * @return ESP_OK, or ESP_ERR_INVALID_STATE naming the first problem in the log when
 *         log_errors is set.
 */
esp_err_t esp_partition_table_verify(const esp_partition_info_t *partition_table, bool log_errors,
                                     int *num_partitions);

/** False for the bootloader and partition table area, and for any read-only partition. */
bool esp_partition_is_flash_region_writable(size_t addr, size_t size);

/** False when [addr, addr + size) overlaps the running app or the bootloader area. */
bool esp_partition_main_flash_region_safe(size_t addr, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* ESP_FLASH_PARTITIONS_H */
