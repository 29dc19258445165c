/**
 * @file queue.h
 * @brief FreeRTOS queues over a mutex and two condition variables: fixed-size items
 * copied in and out, FIFO, blocking with a timeout in device time (portMAX_DELAY:
 * forever). The FromISR forms behave as the task forms with no wait (the virtual device
 * has no interrupts). Semaphores (semphr.h) are queues of zero-size items, as in
 * FreeRTOS.
 */
#ifndef OTAKIT_FREERTOS_QUEUE_H
#define OTAKIT_FREERTOS_QUEUE_H

#include "freertos/FreeRTOS.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otakit_queue *QueueHandle_t;

/** A queue of length items of item_size bytes (0: a semaphore), empty; NULL if out of memory or
 * length is 0. */
QueueHandle_t xQueueCreate(UBaseType_t length, UBaseType_t item_size);
void vQueueDelete(QueueHandle_t queue);
/** Copy item to the back; wait up to ticks for room. @return pdPASS, or errQUEUE_FULL. */
BaseType_t xQueueSendToBack(QueueHandle_t queue, const void *item, TickType_t ticks);
/** Copy item to the front (it is received next). @return pdPASS, or errQUEUE_FULL. */
BaseType_t xQueueSendToFront(QueueHandle_t queue, const void *item, TickType_t ticks);
#define xQueueSend(q, item, ticks) xQueueSendToBack((q), (item), (ticks))
/** Length-1 queues: replace the item, never wait. @return pdPASS. */
BaseType_t xQueueOverwrite(QueueHandle_t queue, const void *item);
/** Take the front item into buf; wait up to ticks for one. @return pdPASS, or errQUEUE_EMPTY. */
BaseType_t xQueueReceive(QueueHandle_t queue, void *buf, TickType_t ticks);
/** As xQueueReceive, leaving the item in the queue. */
BaseType_t xQueuePeek(QueueHandle_t queue, void *buf, TickType_t ticks);
UBaseType_t uxQueueMessagesWaiting(QueueHandle_t queue);
UBaseType_t uxQueueSpacesAvailable(QueueHandle_t queue);
/** Empty the queue. @return pdPASS. */
BaseType_t xQueueReset(QueueHandle_t queue);
BaseType_t xQueueSendFromISR(QueueHandle_t queue, const void *item, BaseType_t *woken);
BaseType_t xQueueReceiveFromISR(QueueHandle_t queue, void *buf, BaseType_t *woken);

#ifdef __cplusplus
}
#endif
#endif
