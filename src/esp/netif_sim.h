/* Private to src/esp: the state the simulated Wi-Fi shares with the HTTP client and the
 * event loop. */
#ifndef OTAKIT_ESP_NETIF_SIM_H
#define OTAKIT_ESP_NETIF_SIM_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether the device can reach the network: true when the Wi-Fi driver was never
 * started (a host program using the HTTP client directly), else only while the
 * station has an address.
 */
bool netif_sim_link_up(void);

/*
 * Wait until the default event loop has no queued event and runs no handler (at once
 * when there is no loop, or when called from the loop itself). The Wi-Fi driver's task
 * waits so before it acts: on a chip its work takes device time, so a handler that
 * calls esp_wifi_connect() finishes its lines before the driver's next ones.
 */
void event_sim_wait_idle(void);

/*
 * The access point goes away now (otakit device run --wifi-drop-at) for down_us of
 * device time: the station loses it as on a beacon timeout (WIFI_EVENT_STA_DISCONNECTED,
 * reason WIFI_REASON_BEACON_TIMEOUT) and finds no AP until then. Nothing happens when
 * the station is not connected.
 */
void netif_sim_wifi_drop(uint64_t down_us);

/*
 * Counts the times the station lost its link. A connection opened under one count is
 * gone once it changes, even when the station has reconnected since (as a TCP connection
 * does not survive the lost association on a board).
 */
unsigned netif_sim_link_generation(void);

#endif
