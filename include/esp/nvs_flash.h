/**
 * @file nvs_flash.h
 * @brief ESP-IDF v5.5's nvs_flash.h: initialise, erase and release NVS partitions found
 * through the partition table (type data, subtype nvs).
 */
#ifndef ESP_NVS_FLASH_H
#define ESP_NVS_FLASH_H

#include "esp_partition.h"
#include "nvs.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Initialise the "nvs" partition: load its pages and recover from an interrupted
 * write.
 * @return ESP_OK; ESP_ERR_NVS_NO_FREE_PAGES (no empty page: erase and init again);
 *         ESP_ERR_NVS_NEW_VERSION_FOUND (a newer format: erase and init again);
 *         ESP_ERR_NOT_FOUND (no partition labelled "nvs"); ESP_ERR_NO_MEM; flash errors.
 */
esp_err_t nvs_flash_init(void);
/** @brief nvs_flash_init for the partition with this label (ESP_ERR_INVALID_ARG if over 16 chars).
 */
esp_err_t nvs_flash_init_partition(const char *partition_label);
/** @brief nvs_flash_init for a partition record. */
esp_err_t nvs_flash_init_partition_ptr(const esp_partition_t *partition);
/** @brief Release "nvs" and close its handles. @return ESP_OK; ESP_ERR_NVS_NOT_INITIALIZED. */
esp_err_t nvs_flash_deinit(void);
esp_err_t nvs_flash_deinit_partition(const char *partition_label);
/**
 * @brief Erase the whole "nvs" partition (releasing it first when initialised).
 * @return ESP_OK; ESP_ERR_NOT_FOUND; flash errors.
 */
esp_err_t nvs_flash_erase(void);
esp_err_t nvs_flash_erase_partition(const char *part_name);
esp_err_t nvs_flash_erase_partition_ptr(const esp_partition_t *partition);

#ifdef __cplusplus
}
#endif
#endif
