/**
 * @file semphr.h
 * @brief FreeRTOS semaphores: binary, counting, mutexes and recursive mutexes, over
 * the queues of queue.h (zero-size items). Take waits up to ticks of device time.
 * A mutex has no priority inheritance (host threads have no FreeRTOS priorities); a
 * recursive mutex counts its owner's takes.
 */
#ifndef OTAKIT_FREERTOS_SEMPHR_H
#define OTAKIT_FREERTOS_SEMPHR_H

#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef QueueHandle_t SemaphoreHandle_t;

/** Binary semaphore, created empty (a Take waits for a Give), as FreeRTOS's. */
SemaphoreHandle_t xSemaphoreCreateBinary(void);
/** Counting semaphore holding initial of at most max. */
SemaphoreHandle_t xSemaphoreCreateCounting(UBaseType_t max, UBaseType_t initial);
/** Mutex, created given (free). */
SemaphoreHandle_t xSemaphoreCreateMutex(void);
/** Recursive mutex: its owner may take it again; free after as many gives. */
SemaphoreHandle_t xSemaphoreCreateRecursiveMutex(void);
#define vSemaphoreDelete(s) vQueueDelete(s)
/** @return pdTRUE when taken within ticks, else pdFALSE. */
BaseType_t xSemaphoreTake(SemaphoreHandle_t sem, TickType_t ticks);
/** @return pdTRUE, or pdFALSE when it is already full (or a mutex its caller does not hold). */
BaseType_t xSemaphoreGive(SemaphoreHandle_t sem);
BaseType_t xSemaphoreTakeRecursive(SemaphoreHandle_t mutex, TickType_t ticks);
BaseType_t xSemaphoreGiveRecursive(SemaphoreHandle_t mutex);
BaseType_t xSemaphoreGiveFromISR(SemaphoreHandle_t sem, BaseType_t *woken);
BaseType_t xSemaphoreTakeFromISR(SemaphoreHandle_t sem, BaseType_t *woken);
UBaseType_t uxSemaphoreGetCount(SemaphoreHandle_t sem);

#ifdef __cplusplus
}
#endif
#endif
