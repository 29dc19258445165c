/**
 * @file esp_event.h
 * @brief A subset of ESP-IDF's event loop library: the default loop only. Handlers run
 * one at a time on the loop's own thread (ESP-IDF's "sys_evt" task), in the order the
 * events were posted.
 */
#ifndef ESP_EVENT_H
#define ESP_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef const char *esp_event_base_t;
typedef void *esp_event_handler_instance_t;
typedef void (*esp_event_handler_t)(void *event_handler_arg, esp_event_base_t event_base,
                                    int32_t event_id, void *event_data);

#define ESP_EVENT_ANY_BASE NULL
#define ESP_EVENT_ANY_ID (-1)

#define ESP_EVENT_DECLARE_BASE(id) extern esp_event_base_t const id
#define ESP_EVENT_DEFINE_BASE(id) esp_event_base_t const id = #id

/** Wait forever in esp_event_post (portMAX_DELAY). */
#define ESP_EVENT_MAX_DELAY 0xFFFFFFFFu

/**
 * @brief Create the default event loop and its thread.
 * @return ESP_OK; ESP_ERR_INVALID_STATE if it already exists; ESP_ERR_NO_MEM.
 */
esp_err_t esp_event_loop_create_default(void);
/** Stop the loop thread (after the queued events ran) and drop every handler. */
esp_err_t esp_event_loop_delete_default(void);

/**
 * @brief Register a handler on the default loop; base ESP_EVENT_ANY_BASE and id
 * ESP_EVENT_ANY_ID match everything.
 * @return ESP_OK; ESP_ERR_INVALID_ARG; ESP_ERR_INVALID_STATE (no default loop); ESP_ERR_NO_MEM.
 */
esp_err_t esp_event_handler_register(esp_event_base_t event_base, int32_t event_id,
                                     esp_event_handler_t event_handler, void *event_handler_arg);
esp_err_t esp_event_handler_unregister(esp_event_base_t event_base, int32_t event_id,
                                       esp_event_handler_t event_handler);
esp_err_t esp_event_handler_instance_register(esp_event_base_t event_base, int32_t event_id,
                                              esp_event_handler_t event_handler,
                                              void *event_handler_arg,
                                              esp_event_handler_instance_t *instance);
esp_err_t esp_event_handler_instance_unregister(esp_event_base_t event_base, int32_t event_id,
                                                esp_event_handler_instance_t instance);

/**
 * @brief Queue an event (the data is copied) for the loop thread.
 * @param ticks_to_wait ignored: the queue never fills.
 * @return ESP_OK; ESP_ERR_INVALID_ARG; ESP_ERR_INVALID_STATE (no default loop); ESP_ERR_NO_MEM.
 */
esp_err_t esp_event_post(esp_event_base_t event_base, int32_t event_id, const void *event_data,
                         size_t event_data_size, uint32_t ticks_to_wait);

#ifdef __cplusplus
}
#endif
#endif
