/* FreeRTOS tasks, delays, event groups, queues and semaphores over host threads
 * (include/esp/freertos/). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esp_state.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "hw.h"
#include "sdkconfig.h"

#ifndef CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP
#define CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP 1
#endif

struct otakit_task {
    TaskFunction_t fn;
    void *arg;
    char name[16];
    pthread_t thread;
};

static _Thread_local struct otakit_task *current_task;

static void *task_main(void *p)
{
    struct otakit_task *t = p;
    current_task = t;
    t->fn(t->arg);
    /* A FreeRTOS task must not return; ESP-IDF aborts. Ending the thread is kinder. */
    return NULL;
}

BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *name, uint32_t stack_depth,
                                   void *arg, UBaseType_t priority, TaskHandle_t *created,
                                   BaseType_t core_id)
{
    (void)stack_depth;
    (void)priority;
    (void)core_id;
    struct otakit_task *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return pdFAIL;
    }
    t->fn = fn;
    t->arg = arg;
    if (name != NULL) {
        strncpy(t->name, name, sizeof(t->name) - 1);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t->thread, &attr, task_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(t);
        return pdFAIL;
    }
    if (created != NULL) {
        *created = t;
    }
    return pdPASS;
}

BaseType_t xTaskCreate(TaskFunction_t fn, const char *name, uint32_t stack_depth, void *arg,
                       UBaseType_t priority, TaskHandle_t *created)
{
    return xTaskCreatePinnedToCore(fn, name, stack_depth, arg, priority, created, tskNO_AFFINITY);
}

void vTaskDelete(TaskHandle_t task)
{
    if (task == NULL || task == current_task) {
        if (current_task == NULL) {
            /* The main task: park it, the other tasks go on (the process must not end). */
            for (;;) {
                pause();
            }
        }
        pthread_exit(NULL);
    }
    /* Deleting another task is not supported on host threads: ignored. */
}

void vTaskDelay(TickType_t ticks)
{
    esp_delay_us((uint64_t)ticks * (1000000u / configTICK_RATE_HZ));
}

TickType_t xTaskGetTickCount(void)
{
    return (TickType_t)(otakit_hw_time_us() / (1000000u / configTICK_RATE_HZ));
}

TaskHandle_t xTaskGetCurrentTaskHandle(void)
{
    return current_task;
}

char *pcTaskGetName(TaskHandle_t task)
{
    static char main_name[] = "main";
    if (task == NULL) {
        task = current_task;
    }
    return task != NULL ? task->name : main_name;
}

/* The end of a wait of ticks, on CLOCK_MONOTONIC. The timeout is device time; waiting
 * for another thread takes real time, so it is only shortened by a speed-up of 1 or
 * more (never made instant). */
static void deadline_after(TickType_t ticks, struct timespec *deadline)
{
    otakit_hw_shared_t *s = otakit_hw_shared();
    int speed = s != NULL ? s->speedup : -1;
    if (speed < 0) {
        speed = CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP;
    }
    if (speed < 1) {
        speed = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, deadline);
    uint64_t us = (uint64_t)ticks * (1000000u / configTICK_RATE_HZ) / (uint64_t)speed;
    deadline->tv_sec += (time_t)(us / 1000000u);
    deadline->tv_nsec += (long)(us % 1000000u) * 1000;
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
}

/* Wait on c (m held) until woken, the deadline, or forever (portMAX_DELAY); 0 for no
 * wait. @return 0 when woken, ETIMEDOUT when the time is up. */
static int wait_until(pthread_cond_t *c, pthread_mutex_t *m, TickType_t ticks,
                      const struct timespec *deadline)
{
    if (ticks == 0) {
        return ETIMEDOUT;
    }
    if (ticks == portMAX_DELAY) {
        return pthread_cond_wait(c, m);
    }
    return pthread_cond_timedwait(c, m, deadline);
}

static void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

/* ---- event groups ---------------------------------------------------------------- */

struct otakit_event_group {
    pthread_mutex_t m;
    pthread_cond_t c;
    EventBits_t bits;
};

EventGroupHandle_t xEventGroupCreate(void)
{
    struct otakit_event_group *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    pthread_mutex_init(&g->m, NULL);
    cond_init_monotonic(&g->c);
    return g;
}

void vEventGroupDelete(EventGroupHandle_t g)
{
    if (g != NULL) {
        pthread_cond_destroy(&g->c);
        pthread_mutex_destroy(&g->m);
        free(g);
    }
}

EventBits_t xEventGroupSetBits(EventGroupHandle_t g, EventBits_t bits)
{
    pthread_mutex_lock(&g->m);
    g->bits |= bits;
    EventBits_t now = g->bits;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
    return now;
}

EventBits_t xEventGroupClearBits(EventGroupHandle_t g, EventBits_t bits)
{
    pthread_mutex_lock(&g->m);
    EventBits_t before = g->bits;
    g->bits &= ~bits;
    pthread_mutex_unlock(&g->m);
    return before;
}

EventBits_t xEventGroupGetBits(EventGroupHandle_t g)
{
    pthread_mutex_lock(&g->m);
    EventBits_t b = g->bits;
    pthread_mutex_unlock(&g->m);
    return b;
}

static int satisfied(EventBits_t have, EventBits_t want, BaseType_t all)
{
    return all ? (have & want) == want : (have & want) != 0;
}

EventBits_t xEventGroupWaitBits(EventGroupHandle_t g, EventBits_t bits, BaseType_t clear_on_exit,
                                BaseType_t wait_for_all, TickType_t ticks)
{
    struct timespec deadline;
    deadline_after(ticks, &deadline);
    pthread_mutex_lock(&g->m);
    while (!satisfied(g->bits, bits, wait_for_all)) {
        if (wait_until(&g->c, &g->m, ticks, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    EventBits_t result = g->bits;
    if (clear_on_exit && satisfied(result, bits, wait_for_all)) {
        g->bits &= ~bits;
    }
    pthread_mutex_unlock(&g->m);
    return result;
}

/* ---- queues and semaphores ------------------------------------------------------- */

struct otakit_queue {
    pthread_mutex_t m;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    UBaseType_t length;
    UBaseType_t item_size;
    UBaseType_t count;
    UBaseType_t head; /* index of the front item */
    bool mutex;       /* a (recursive) mutex: only its holder gives it */
    pthread_t holder;
    UBaseType_t depth; /* recursive takes by the holder */
    uint8_t buf[];
};

QueueHandle_t xQueueCreate(UBaseType_t length, UBaseType_t item_size)
{
    if (length == 0 || (item_size != 0 && length > SIZE_MAX / item_size)) {
        return NULL;
    }
    struct otakit_queue *q = calloc(1, sizeof(*q) + (size_t)length * item_size);
    if (q == NULL) {
        return NULL;
    }
    pthread_mutex_init(&q->m, NULL);
    cond_init_monotonic(&q->not_empty);
    cond_init_monotonic(&q->not_full);
    q->length = length;
    q->item_size = item_size;
    return q;
}

void vQueueDelete(QueueHandle_t q)
{
    if (q != NULL) {
        pthread_cond_destroy(&q->not_empty);
        pthread_cond_destroy(&q->not_full);
        pthread_mutex_destroy(&q->m);
        free(q);
    }
}

/* Semaphores' items are 0 bytes and their buffers NULL: copy nothing then. */
static void copy_item(void *dst, const void *src, size_t n)
{
    if (n != 0) {
        memcpy(dst, src, n);
    }
}

static uint8_t *slot(struct otakit_queue *q, UBaseType_t i)
{
    return q->buf + (size_t)((q->head + i) % q->length) * q->item_size;
}

static BaseType_t queue_put(QueueHandle_t q, const void *item, TickType_t ticks, bool front)
{
    struct timespec deadline;
    deadline_after(ticks, &deadline);
    pthread_mutex_lock(&q->m);
    while (q->count == q->length) {
        if (wait_until(&q->not_full, &q->m, ticks, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&q->m);
            return errQUEUE_FULL;
        }
    }
    if (front) {
        q->head = (q->head + q->length - 1) % q->length;
        copy_item(slot(q, 0), item, q->item_size);
    } else {
        copy_item(slot(q, q->count), item, q->item_size);
    }
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->m);
    return pdPASS;
}

static BaseType_t queue_get(QueueHandle_t q, void *buf, TickType_t ticks, bool remove)
{
    struct timespec deadline;
    deadline_after(ticks, &deadline);
    pthread_mutex_lock(&q->m);
    while (q->count == 0) {
        if (wait_until(&q->not_empty, &q->m, ticks, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&q->m);
            return errQUEUE_EMPTY;
        }
    }
    copy_item(buf, slot(q, 0), q->item_size);
    if (remove) {
        q->head = (q->head + 1) % q->length;
        q->count--;
        pthread_cond_signal(&q->not_full);
    } else {
        pthread_cond_signal(&q->not_empty); /* another peeker or receiver may go on */
    }
    pthread_mutex_unlock(&q->m);
    return pdPASS;
}

BaseType_t xQueueSendToBack(QueueHandle_t q, const void *item, TickType_t ticks)
{
    return queue_put(q, item, ticks, false);
}

BaseType_t xQueueSendToFront(QueueHandle_t q, const void *item, TickType_t ticks)
{
    return queue_put(q, item, ticks, true);
}

BaseType_t xQueueOverwrite(QueueHandle_t q, const void *item)
{
    pthread_mutex_lock(&q->m);
    if (q->count == q->length) {
        copy_item(slot(q, q->count - 1), item, q->item_size);
    } else {
        copy_item(slot(q, q->count), item, q->item_size);
        q->count++;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->m);
    return pdPASS;
}

BaseType_t xQueueReceive(QueueHandle_t q, void *buf, TickType_t ticks)
{
    return queue_get(q, buf, ticks, true);
}

BaseType_t xQueuePeek(QueueHandle_t q, void *buf, TickType_t ticks)
{
    return queue_get(q, buf, ticks, false);
}

UBaseType_t uxQueueMessagesWaiting(QueueHandle_t q)
{
    pthread_mutex_lock(&q->m);
    UBaseType_t n = q->count;
    pthread_mutex_unlock(&q->m);
    return n;
}

UBaseType_t uxQueueSpacesAvailable(QueueHandle_t q)
{
    pthread_mutex_lock(&q->m);
    UBaseType_t n = q->length - q->count;
    pthread_mutex_unlock(&q->m);
    return n;
}

BaseType_t xQueueReset(QueueHandle_t q)
{
    pthread_mutex_lock(&q->m);
    q->count = 0;
    q->head = 0;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->m);
    return pdPASS;
}

BaseType_t xQueueSendFromISR(QueueHandle_t q, const void *item, BaseType_t *woken)
{
    if (woken != NULL) {
        *woken = pdFALSE;
    }
    return queue_put(q, item, 0, false);
}

BaseType_t xQueueReceiveFromISR(QueueHandle_t q, void *buf, BaseType_t *woken)
{
    if (woken != NULL) {
        *woken = pdFALSE;
    }
    return queue_get(q, buf, 0, true);
}

SemaphoreHandle_t xSemaphoreCreateBinary(void)
{
    return xQueueCreate(1, 0);
}

SemaphoreHandle_t xSemaphoreCreateCounting(UBaseType_t max, UBaseType_t initial)
{
    if (initial > max) {
        return NULL;
    }
    SemaphoreHandle_t s = xQueueCreate(max, 0);
    if (s != NULL) {
        s->count = initial;
    }
    return s;
}

SemaphoreHandle_t xSemaphoreCreateMutex(void)
{
    SemaphoreHandle_t s = xQueueCreate(1, 0);
    if (s != NULL) {
        s->count = 1;
        s->mutex = true;
    }
    return s;
}

SemaphoreHandle_t xSemaphoreCreateRecursiveMutex(void)
{
    return xSemaphoreCreateMutex();
}

BaseType_t xSemaphoreTake(SemaphoreHandle_t s, TickType_t ticks)
{
    if (queue_get(s, NULL, ticks, true) != pdPASS) {
        return pdFALSE;
    }
    if (s->mutex) {
        pthread_mutex_lock(&s->m);
        s->holder = pthread_self();
        s->depth = 1;
        pthread_mutex_unlock(&s->m);
    }
    return pdTRUE;
}

BaseType_t xSemaphoreGive(SemaphoreHandle_t s)
{
    if (s->mutex) {
        pthread_mutex_lock(&s->m);
        bool held = s->count == 0 && pthread_equal(s->holder, pthread_self());
        if (held) {
            s->depth = 0;
        }
        pthread_mutex_unlock(&s->m);
        if (!held) {
            return pdFALSE;
        }
    }
    return queue_put(s, NULL, 0, false) == pdPASS ? pdTRUE : pdFALSE;
}

BaseType_t xSemaphoreTakeRecursive(SemaphoreHandle_t s, TickType_t ticks)
{
    pthread_mutex_lock(&s->m);
    if (s->count == 0 && s->depth > 0 && pthread_equal(s->holder, pthread_self())) {
        s->depth++;
        pthread_mutex_unlock(&s->m);
        return pdTRUE;
    }
    pthread_mutex_unlock(&s->m);
    return xSemaphoreTake(s, ticks);
}

BaseType_t xSemaphoreGiveRecursive(SemaphoreHandle_t s)
{
    pthread_mutex_lock(&s->m);
    bool held = s->count == 0 && s->depth > 0 && pthread_equal(s->holder, pthread_self());
    if (held && s->depth > 1) {
        s->depth--;
        pthread_mutex_unlock(&s->m);
        return pdTRUE;
    }
    pthread_mutex_unlock(&s->m);
    return held ? xSemaphoreGive(s) : pdFALSE;
}

BaseType_t xSemaphoreGiveFromISR(SemaphoreHandle_t s, BaseType_t *woken)
{
    if (woken != NULL) {
        *woken = pdFALSE;
    }
    return queue_put(s, NULL, 0, false) == pdPASS ? pdTRUE : pdFALSE;
}

BaseType_t xSemaphoreTakeFromISR(SemaphoreHandle_t s, BaseType_t *woken)
{
    if (woken != NULL) {
        *woken = pdFALSE;
    }
    return queue_get(s, NULL, 0, true) == pdPASS ? pdTRUE : pdFALSE;
}

UBaseType_t uxSemaphoreGetCount(SemaphoreHandle_t s)
{
    return uxQueueMessagesWaiting(s);
}
