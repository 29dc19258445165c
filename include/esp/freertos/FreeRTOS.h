/**
 * @file FreeRTOS.h
 * @brief The few FreeRTOS types and macros ESP-IDF apps use, over host threads.
 * The tick is 10 ms (configTICK_RATE_HZ 100, ESP-IDF's default); delays follow the
 * device's time speed-up.
 */
#ifndef OTAKIT_FREERTOS_H
#define OTAKIT_FREERTOS_H

#include <assert.h> /* as ESP-IDF's FreeRTOSConfig.h includes it (configASSERT): apps call assert() */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t TickType_t;
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef uint32_t StackType_t;

#define configTICK_RATE_HZ 100
#define portTICK_PERIOD_MS ((TickType_t)1000 / configTICK_RATE_HZ)
#define portTICK_RATE_MS portTICK_PERIOD_MS
#define portMAX_DELAY ((TickType_t)0xffffffffu)
#define pdMS_TO_TICKS(ms) ((TickType_t)(((uint64_t)(ms)*configTICK_RATE_HZ) / 1000u))
#define pdTICKS_TO_MS(t) ((uint32_t)(((uint64_t)(t)*1000u) / configTICK_RATE_HZ))
#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)
#define pdPASS pdTRUE
#define pdFAIL pdFALSE
#define errQUEUE_EMPTY ((BaseType_t)0)
#define errQUEUE_FULL ((BaseType_t)0)
#define tskNO_AFFINITY 0x7fffffff
#define configMAX_PRIORITIES 25

#ifdef __cplusplus
}
#endif
#endif
