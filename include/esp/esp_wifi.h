/**
 * @file esp_wifi.h
 * @brief A subset of ESP-IDF's Wi-Fi driver API, station mode, over a simulated radio.
 *
 * The access points around the virtual device come from the environment variable
 * OTAKIT_WIFI_APS: "SSID:PASSWORD[,SSID:PASSWORD...]" (an entry without ':' is an open
 * network). When it is unset exactly one access point exists: the SSID and password the
 * station is configured with, so a default build always joins. esp_wifi_connect()
 * looks the configured SSID up: unknown SSID -> WIFI_EVENT_STA_DISCONNECTED with reason
 * WIFI_REASON_NO_AP_FOUND (201); wrong password -> reason
 * WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT (15); otherwise WIFI_EVENT_STA_CONNECTED and then
 * IP_EVENT_STA_GOT_IP with 127.0.0.1 (the network is the host's loopback). The driver
 * logs "wifi:..." lines like ESP-IDF's.
 */
#ifndef ESP_WIFI_H
#define ESP_WIFI_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_event.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ERR_WIFI_BASE 0x3000
#define ESP_ERR_WIFI_NOT_INIT (ESP_ERR_WIFI_BASE + 1)
#define ESP_ERR_WIFI_NOT_STARTED (ESP_ERR_WIFI_BASE + 2)
#define ESP_ERR_WIFI_NOT_STOPPED (ESP_ERR_WIFI_BASE + 3)
#define ESP_ERR_WIFI_IF (ESP_ERR_WIFI_BASE + 4)
#define ESP_ERR_WIFI_MODE (ESP_ERR_WIFI_BASE + 5)
#define ESP_ERR_WIFI_STATE (ESP_ERR_WIFI_BASE + 6)
#define ESP_ERR_WIFI_CONN (ESP_ERR_WIFI_BASE + 7)
#define ESP_ERR_WIFI_NVS (ESP_ERR_WIFI_BASE + 8)
#define ESP_ERR_WIFI_MAC (ESP_ERR_WIFI_BASE + 9)
#define ESP_ERR_WIFI_SSID (ESP_ERR_WIFI_BASE + 10)
#define ESP_ERR_WIFI_PASSWORD (ESP_ERR_WIFI_BASE + 11)
#define ESP_ERR_WIFI_TIMEOUT (ESP_ERR_WIFI_BASE + 12)

typedef enum {
    WIFI_MODE_NULL = 0,
    WIFI_MODE_STA,
    WIFI_MODE_AP,
    WIFI_MODE_APSTA,
    WIFI_MODE_MAX,
} wifi_mode_t;

typedef enum {
    WIFI_IF_STA = 0,
    WIFI_IF_AP,
} wifi_interface_t;

typedef enum {
    WIFI_AUTH_OPEN = 0,
    WIFI_AUTH_WEP,
    WIFI_AUTH_WPA_PSK,
    WIFI_AUTH_WPA2_PSK,
    WIFI_AUTH_WPA_WPA2_PSK,
    WIFI_AUTH_WPA2_ENTERPRISE,
    WIFI_AUTH_WPA3_PSK,
    WIFI_AUTH_WPA2_WPA3_PSK,
    WIFI_AUTH_MAX,
} wifi_auth_mode_t;

/** Disconnect reasons (wifi_err_reason_t), the ones the simulation reports. */
typedef enum {
    WIFI_REASON_UNSPECIFIED = 1,
    WIFI_REASON_AUTH_EXPIRE = 2,
    WIFI_REASON_AUTH_LEAVE = 3,
    WIFI_REASON_ASSOC_LEAVE = 8,
    WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT = 15,
    WIFI_REASON_BEACON_TIMEOUT = 200,
    WIFI_REASON_NO_AP_FOUND = 201,
    WIFI_REASON_AUTH_FAIL = 202,
    WIFI_REASON_ASSOC_FAIL = 203,
    WIFI_REASON_HANDSHAKE_TIMEOUT = 204,
    WIFI_REASON_CONNECTION_FAIL = 205,
} wifi_err_reason_t;

typedef struct {
    int rssi;
    wifi_auth_mode_t authmode;
} wifi_scan_threshold_t;

typedef struct {
    bool capable;
    bool required;
} wifi_pmf_config_t;

typedef struct {
    uint8_t ssid[32];
    uint8_t password[64];
    bool bssid_set;
    uint8_t bssid[6];
    uint8_t channel;
    uint16_t listen_interval;
    wifi_scan_threshold_t threshold;
    wifi_pmf_config_t pmf_cfg;
} wifi_sta_config_t;

typedef struct {
    uint8_t ssid[32];
    uint8_t password[64];
    uint8_t ssid_len;
    uint8_t channel;
    wifi_auth_mode_t authmode;
    uint8_t max_connection;
} wifi_ap_config_t;

typedef union {
    wifi_ap_config_t ap;
    wifi_sta_config_t sta;
} wifi_config_t;

typedef struct {
    uint8_t bssid[6];
    uint8_t ssid[33];
    uint8_t primary;
    int8_t rssi;
    wifi_auth_mode_t authmode;
} wifi_ap_record_t;

typedef struct {
    int magic; /**< set by WIFI_INIT_CONFIG_DEFAULT */
} wifi_init_config_t;

#define WIFI_INIT_CONFIG_MAGIC 0x1F2F3F4F
#define WIFI_INIT_CONFIG_DEFAULT()                                                                 \
    {                                                                                              \
        .magic = WIFI_INIT_CONFIG_MAGIC                                                            \
    }

ESP_EVENT_DECLARE_BASE(WIFI_EVENT);
typedef enum {
    WIFI_EVENT_WIFI_READY = 0,
    WIFI_EVENT_SCAN_DONE,
    WIFI_EVENT_STA_START,
    WIFI_EVENT_STA_STOP,
    WIFI_EVENT_STA_CONNECTED,
    WIFI_EVENT_STA_DISCONNECTED,
    WIFI_EVENT_STA_AUTHMODE_CHANGE,
} wifi_event_t;

typedef struct {
    uint8_t ssid[32];
    uint8_t ssid_len;
    uint8_t bssid[6];
    uint8_t channel;
    wifi_auth_mode_t authmode;
    uint16_t aid;
} wifi_event_sta_connected_t;

typedef struct {
    uint8_t ssid[32];
    uint8_t ssid_len;
    uint8_t bssid[6];
    uint8_t reason; /**< wifi_err_reason_t */
    int8_t rssi;
} wifi_event_sta_disconnected_t;

/** @return ESP_OK; ESP_ERR_INVALID_ARG without WIFI_INIT_CONFIG_DEFAULT. */
esp_err_t esp_wifi_init(const wifi_init_config_t *config);
esp_err_t esp_wifi_deinit(void);
/** @return ESP_OK; ESP_ERR_WIFI_NOT_INIT; ESP_ERR_INVALID_ARG. */
esp_err_t esp_wifi_set_mode(wifi_mode_t mode);
esp_err_t esp_wifi_get_mode(wifi_mode_t *mode);
/**
 * @return ESP_OK; ESP_ERR_WIFI_NOT_INIT; ESP_ERR_WIFI_IF (only WIFI_IF_STA);
 *         ESP_ERR_WIFI_PASSWORD (a non-empty password shorter than 8 bytes, as WPA2 asks).
 */
esp_err_t esp_wifi_set_config(wifi_interface_t interface, wifi_config_t *conf);
esp_err_t esp_wifi_get_config(wifi_interface_t interface, wifi_config_t *conf);
/** Post WIFI_EVENT_STA_START. @return ESP_OK; ESP_ERR_WIFI_NOT_INIT; ESP_ERR_WIFI_MODE. */
esp_err_t esp_wifi_start(void);
esp_err_t esp_wifi_stop(void);
/**
 * @brief Try to join the configured AP; the outcome arrives as events.
 * @return ESP_OK; ESP_ERR_WIFI_NOT_INIT; ESP_ERR_WIFI_NOT_STARTED; ESP_ERR_WIFI_SSID (empty SSID).
 */
esp_err_t esp_wifi_connect(void);
esp_err_t esp_wifi_disconnect(void);
/** @return ESP_OK; ESP_ERR_WIFI_CONN when not connected. */
esp_err_t esp_wifi_sta_get_ap_info(wifi_ap_record_t *ap_info);

/** Modem power save (the virtual radio's speed does not depend on it). */
typedef enum {
    WIFI_PS_NONE,
    WIFI_PS_MIN_MODEM, /**< ESP-IDF's default */
    WIFI_PS_MAX_MODEM,
} wifi_ps_type_t;

/** Record the power-save mode. @return ESP_OK; ESP_ERR_WIFI_NOT_INIT; ESP_ERR_INVALID_ARG. */
esp_err_t esp_wifi_set_ps(wifi_ps_type_t type);
/** @return ESP_OK; ESP_ERR_WIFI_NOT_INIT; ESP_ERR_INVALID_ARG for NULL. */
esp_err_t esp_wifi_get_ps(wifi_ps_type_t *type);

#ifdef __cplusplus
}
#endif
#endif
