/**
 * @file esp_timer.h
 * @brief Device time since the reset (the clock esp_log timestamps use).
 */
#ifndef ESP_TIMER_H
#define ESP_TIMER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Microseconds since the reset, device time (delays sped up by the device count in full). */
int64_t esp_timer_get_time(void);

#ifdef __cplusplus
}
#endif
#endif
