/* Private to src/esp: the state the simulated Wi-Fi shares with the HTTP client. */
#ifndef OTAKIT_ESP_NETIF_SIM_H
#define OTAKIT_ESP_NETIF_SIM_H

#include <stdbool.h>

/*
 * Whether the device can reach the network: true when the Wi-Fi driver was never
 * started (a host program using the HTTP client directly), else only while the
 * station has an address.
 */
bool netif_sim_link_up(void);

#endif
