/**
 * @file esp_system.h
 * @brief Restart, reset reason and heap figures of the virtual device.
 */
#ifndef ESP_SYSTEM_H
#define ESP_SYSTEM_H

#include <stdint.h>

#include "esp_chip_info.h"
#include "esp_err.h"
#include "esp_idf_version.h"
#include "esp_mac.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Reset reasons (ESP-IDF's esp_reset_reason_t values). */
typedef enum {
    ESP_RST_UNKNOWN = 0,
    ESP_RST_POWERON, /**< power-on, or power back after a power cut */
    ESP_RST_EXT,
    ESP_RST_SW,    /**< esp_restart() */
    ESP_RST_PANIC, /**< a crash (fault, abort()) */
    ESP_RST_INT_WDT,
    ESP_RST_TASK_WDT,
    ESP_RST_WDT,
    ESP_RST_DEEPSLEEP,
    ESP_RST_BROWNOUT,
    ESP_RST_SDIO,
    ESP_RST_USB,
    ESP_RST_JTAG,
    ESP_RST_EFUSE,
    ESP_RST_PWR_GLITCH,
    ESP_RST_CPU_LOCKUP,
} esp_reset_reason_t;

typedef void (*shutdown_handler_t)(void);

/**
 * @brief Restart the chip: run the shutdown handlers, end the app; the device boots
 * again (ROM "rst:0xc (SW_CPU_RESET)", esp_reset_reason() = ESP_RST_SW). Never returns.
 */
void esp_restart(void)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;
/** Why the chip last reset. */
esp_reset_reason_t esp_reset_reason(void);
/**
 * @brief Register a function esp_restart() calls first (at most 5, as ESP-IDF).
 * @return ESP_OK; ESP_ERR_INVALID_STATE if already registered; ESP_ERR_NO_MEM if full.
 */
esp_err_t esp_register_shutdown_handler(shutdown_handler_t handle);
/** @return ESP_OK; ESP_ERR_INVALID_STATE if it was not registered. */
esp_err_t esp_unregister_shutdown_handler(shutdown_handler_t handle);

/** Heap figures of a chip of this kind (the host has no such limit; fixed values). */
uint32_t esp_get_free_heap_size(void);
uint32_t esp_get_free_internal_heap_size(void);
uint32_t esp_get_minimum_free_heap_size(void);

/** Abort with a message (a panic reset). */
void esp_system_abort(const char *details)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
