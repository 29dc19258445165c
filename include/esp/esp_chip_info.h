/**
 * @file esp_chip_info.h
 * @brief Chip facts of the virtual device: an ESP32, two cores, revision v3.0,
 * Wi-Fi/BT/BLE, external flash.
 */
#ifndef ESP_CHIP_INFO_H
#define ESP_CHIP_INFO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CHIP_ESP32 = 1,
    CHIP_ESP32S2 = 2,
    CHIP_ESP32S3 = 9,
    CHIP_ESP32C3 = 5,
    CHIP_ESP32C2 = 12,
    CHIP_ESP32C6 = 13,
    CHIP_ESP32H2 = 16,
    CHIP_ESP32P4 = 18,
    CHIP_POSIX_LINUX = 999,
} esp_chip_model_t;

#define CHIP_FEATURE_EMB_FLASH (1u << 0)
#define CHIP_FEATURE_WIFI_BGN (1u << 1)
#define CHIP_FEATURE_BLE (1u << 4)
#define CHIP_FEATURE_BT (1u << 5)
#define CHIP_FEATURE_IEEE802154 (1u << 6)
#define CHIP_FEATURE_EMB_PSRAM (1u << 7)

typedef struct {
    esp_chip_model_t model; /**< CHIP_ESP32 */
    uint32_t features;      /**< CHIP_FEATURE_WIFI_BGN | CHIP_FEATURE_BT | CHIP_FEATURE_BLE */
    uint16_t revision;      /**< major * 100 + minor: 300 = v3.0 */
    uint8_t cores;          /**< 2 */
} esp_chip_info_t;

void esp_chip_info(esp_chip_info_t *out_info);

#ifdef __cplusplus
}
#endif
#endif
