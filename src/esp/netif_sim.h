/* Private to src/esp: the state the simulated Wi-Fi shares with the HTTP client and the
 * event loop. */
#ifndef OTAKIT_ESP_NETIF_SIM_H
#define OTAKIT_ESP_NETIF_SIM_H

#include <stdbool.h>

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

#endif
