/**
 * @file esp_netif.h
 * @brief A subset of ESP-IDF's esp_netif for the virtual device: one station interface
 * whose network is the host's loopback. When the simulated Wi-Fi (esp_wifi.h) gets its
 * address, IP_EVENT_STA_GOT_IP carries 127.0.0.1/8.
 */
#ifndef ESP_NETIF_H
#define ESP_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_event.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ERR_ESP_NETIF_BASE 0x5000
#define ESP_ERR_ESP_NETIF_INVALID_PARAMS (ESP_ERR_ESP_NETIF_BASE + 0x01)
#define ESP_ERR_ESP_NETIF_IF_NOT_READY (ESP_ERR_ESP_NETIF_BASE + 0x03)

typedef struct esp_netif_obj esp_netif_t;

/** IPv4 address in network byte order, as lwIP keeps it. */
typedef struct {
    uint32_t addr;
} esp_ip4_addr_t;

typedef struct {
    esp_ip4_addr_t ip;
    esp_ip4_addr_t netmask;
    esp_ip4_addr_t gw;
} esp_netif_ip_info_t;

#define esp_ip4_addr_get_byte(ipaddr, idx) (((const uint8_t *)(&(ipaddr)->addr))[idx])
#define esp_ip4_addr1_16(ipaddr) ((uint16_t)esp_ip4_addr_get_byte(ipaddr, 0))
#define esp_ip4_addr2_16(ipaddr) ((uint16_t)esp_ip4_addr_get_byte(ipaddr, 1))
#define esp_ip4_addr3_16(ipaddr) ((uint16_t)esp_ip4_addr_get_byte(ipaddr, 2))
#define esp_ip4_addr4_16(ipaddr) ((uint16_t)esp_ip4_addr_get_byte(ipaddr, 3))
#define IPSTR "%d.%d.%d.%d"
#define IP2STR(ipaddr)                                                                             \
    esp_ip4_addr1_16(ipaddr), esp_ip4_addr2_16(ipaddr), esp_ip4_addr3_16(ipaddr),                  \
        esp_ip4_addr4_16(ipaddr)

/** IP_EVENT ids (esp_netif_types.h). */
ESP_EVENT_DECLARE_BASE(IP_EVENT);
typedef enum {
    IP_EVENT_STA_GOT_IP = 0,
    IP_EVENT_STA_LOST_IP,
    IP_EVENT_AP_STAIPASSIGNED,
    IP_EVENT_GOT_IP6,
    IP_EVENT_ETH_GOT_IP,
    IP_EVENT_ETH_LOST_IP,
    IP_EVENT_PPP_GOT_IP,
    IP_EVENT_PPP_LOST_IP,
} ip_event_t;

typedef struct {
    esp_netif_t *esp_netif;
    esp_netif_ip_info_t ip_info;
    bool ip_changed;
} ip_event_got_ip_t;

/** @return ESP_OK (also when called again). */
esp_err_t esp_netif_init(void);
/**
 * @brief The default Wi-Fi station interface (one per process); it follows the Wi-Fi
 * driver's connect and disconnect events.
 * @return the interface, or NULL without esp_netif_init.
 */
esp_netif_t *esp_netif_create_default_wifi_sta(void);
void esp_netif_destroy(esp_netif_t *esp_netif);
/** @return ESP_OK (zeros before an address is assigned); ESP_ERR_ESP_NETIF_INVALID_PARAMS. */
esp_err_t esp_netif_get_ip_info(esp_netif_t *esp_netif, esp_netif_ip_info_t *ip_info);
/** Whether the interface has an address. */
bool esp_netif_is_netif_up(esp_netif_t *esp_netif);

#ifdef __cplusplus
}
#endif
#endif
