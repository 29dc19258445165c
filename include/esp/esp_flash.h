/**
 * @file esp_flash.h
 * @brief The flash chip of the virtual device (size only; reads and writes go through
 * esp_partition.h).
 */
#ifndef ESP_FLASH_H
#define ESP_FLASH_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp_flash_t esp_flash_t;

/** The main flash chip (pass it or NULL). */
extern esp_flash_t *esp_flash_default_chip;

/** Size of the flash in bytes (the flash file's size). @return ESP_OK; ESP_ERR_INVALID_ARG. */
esp_err_t esp_flash_get_size(esp_flash_t *chip, uint32_t *out_size);
/** Legacy spi_flash API: the flash size in bytes. */
uint32_t spi_flash_get_chip_size(void);

#ifdef __cplusplus
}
#endif
#endif
