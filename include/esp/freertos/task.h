/**
 * @file task.h
 * @brief FreeRTOS tasks as host threads: xTaskCreate starts a thread, vTaskDelay sleeps
 * device time (sped up as the device says), vTaskDelete(NULL) ends the calling task.
 */
#ifndef OTAKIT_FREERTOS_TASK_H
#define OTAKIT_FREERTOS_TASK_H

#include <stdint.h>

#include "freertos/FreeRTOS.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*TaskFunction_t)(void *);
typedef struct otakit_task *TaskHandle_t;

/**
 * @brief Start a task (a thread). Stack size, priority and core are accepted and ignored.
 * @return pdPASS, or pdFAIL (errCOULD_NOT_ALLOCATE_REQUIRED_MEMORY in FreeRTOS) if the thread
 * cannot start.
 */
BaseType_t xTaskCreate(TaskFunction_t fn, const char *name, uint32_t stack_depth, void *arg,
                       UBaseType_t priority, TaskHandle_t *created);
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *name, uint32_t stack_depth,
                                   void *arg, UBaseType_t priority, TaskHandle_t *created,
                                   BaseType_t core_id);
/** End a task; NULL = the calling one (never returns then). Other tasks cannot be deleted here. */
void vTaskDelete(TaskHandle_t task);
/** Sleep ticks (10 ms each) of device time. */
void vTaskDelay(TickType_t ticks);
/** Ticks since the reset. */
TickType_t xTaskGetTickCount(void);
/** The calling task (NULL for the main task). */
TaskHandle_t xTaskGetCurrentTaskHandle(void);
/** The task's name ("main" for the main task). */
char *pcTaskGetName(TaskHandle_t task);

#ifdef __cplusplus
}
#endif
#endif
