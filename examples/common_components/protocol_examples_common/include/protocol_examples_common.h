/**
 * @file protocol_examples_common.h
 * @brief ESP-IDF's examples' connection helper, over otakit's virtual radio.
 *
 * Call esp_netif_init() and esp_event_loop_create_default() first, as ESP-IDF's examples
 * do; then example_connect() blocks until the station has an IPv4 address, or fails after
 * CONFIG_EXAMPLE_WIFI_CONN_MAX_RETRY reconnections.
 */
#pragma once

#include "esp_err.h"
#include "esp_netif.h"
#include "sdkconfig.h"

#ifdef __cplusplus
extern "C" {
#endif

#if CONFIG_EXAMPLE_CONNECT_WIFI
#define EXAMPLE_NETIF_DESC_STA "example_netif_sta"
#endif

/** Join the configured access point and wait for an IPv4 address.
 *  @return ESP_OK connected; ESP_FAIL the retries ran out; other codes from esp_wifi. */
esp_err_t example_connect(void);

/** Leave the access point and stop the radio (the reverse of example_connect). */
esp_err_t example_disconnect(void);

/** Make stdin and stdout unbuffered, so that the monitor's input reaches fgets() at once. */
esp_err_t example_configure_stdin_stdout(void);

/** The station's esp_netif after example_connect(), or NULL. */
esp_netif_t *get_example_netif(void);

/** The esp_netif with this description ("example_netif_sta"), or NULL. */
esp_netif_t *get_example_netif_from_desc(const char *desc);

#ifdef __cplusplus
}
#endif
