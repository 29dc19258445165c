/**
 * @file event_groups.h
 * @brief FreeRTOS event groups (what ESP-IDF examples wait for Wi-Fi with), over a
 * mutex and a condition variable. Timeouts are device time.
 */
#ifndef OTAKIT_FREERTOS_EVENT_GROUPS_H
#define OTAKIT_FREERTOS_EVENT_GROUPS_H

#include <stdint.h>

#include "freertos/FreeRTOS.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otakit_event_group *EventGroupHandle_t;
typedef uint32_t EventBits_t;

/** A new group with no bits set, or NULL. */
EventGroupHandle_t xEventGroupCreate(void);
void vEventGroupDelete(EventGroupHandle_t group);
/** Set bits, wake waiters. @return the bits after the set. */
EventBits_t xEventGroupSetBits(EventGroupHandle_t group, EventBits_t bits);
/** Clear bits. @return the bits before the clear. */
EventBits_t xEventGroupClearBits(EventGroupHandle_t group, EventBits_t bits);
EventBits_t xEventGroupGetBits(EventGroupHandle_t group);
/**
 * @brief Wait until any (or all, wait_for_all) of bits are set, or ticks pass
 * (portMAX_DELAY = forever). clear_on_exit clears the waited bits when satisfied.
 * @return the bits at the time the wait ended.
 */
EventBits_t xEventGroupWaitBits(EventGroupHandle_t group, EventBits_t bits,
                                BaseType_t clear_on_exit, BaseType_t wait_for_all,
                                TickType_t ticks);

#ifdef __cplusplus
}
#endif
#endif
