/**
 * @file esp_efuse.h
 * @brief The eFuse calls of ESP-IDF's efuse component that OTA code uses: the
 * anti-rollback secure version. On the virtual device the eFuses are the file beside the
 * flash (FLASH.efuse; `otakit efuse show`).
 */
#ifndef OTAKIT_ESP_EFUSE_H
#define OTAKIT_ESP_EFUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The secure version (anti-rollback counter) burned in eFuse. */
uint32_t esp_efuse_read_secure_version(void);

/**
 * Whether an app of secure_version may run on this chip: secure_version is at least the
 * eFuse counter. (As in ESP-IDF, this is the plain comparison, whether or not
 * CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK is set.)
 */
bool esp_efuse_check_secure_version(uint32_t secure_version);

/**
 * Raise the eFuse counter to secure_version (never lowers it).
 * @return ESP_OK; ESP_FAIL if the eFuse cannot be written
 */
esp_err_t esp_efuse_update_secure_version(uint32_t secure_version);

#ifdef __cplusplus
}
#endif
#endif
