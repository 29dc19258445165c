/**
 * @file esp_mac.h
 * @brief MAC addresses of the virtual device. The base (factory) MAC comes from the
 * device (`otakit device run --mac`, default Espressif's OUI 24:0a:c4 and three bytes
 * derived from the flash file's path); the others follow ESP-IDF's "universal MAC"
 * rule: Wi-Fi station = base, soft-AP = base+1, Bluetooth = base+2, Ethernet = base+3.
 */
#ifndef ESP_MAC_H
#define ESP_MAC_H

#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_MAC_WIFI_STA = 0,
    ESP_MAC_WIFI_SOFTAP,
    ESP_MAC_BT,
    ESP_MAC_ETH,
    ESP_MAC_IEEE802154,
    ESP_MAC_BASE,
    ESP_MAC_EFUSE_FACTORY,
    ESP_MAC_EFUSE_CUSTOM,
    ESP_MAC_EFUSE_EXT,
} esp_mac_type_t;

#define MACSTR "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC2STR(a) (a)[0], (a)[1], (a)[2], (a)[3], (a)[4], (a)[5]

/** @return ESP_OK; ESP_ERR_INVALID_ARG for NULL or an unknown type. */
esp_err_t esp_read_mac(uint8_t *mac, esp_mac_type_t type);
/** The factory MAC from eFuse. @return ESP_OK; ESP_ERR_INVALID_ARG for NULL. */
esp_err_t esp_efuse_mac_get_default(uint8_t *mac);
/** The base MAC. @return ESP_OK; ESP_ERR_INVALID_ARG for NULL. */
esp_err_t esp_base_mac_addr_get(uint8_t *mac);

#ifdef __cplusplus
}
#endif
#endif
