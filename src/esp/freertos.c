/* FreeRTOS tasks, delays and event groups over host threads (include/esp/freertos/). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esp_state.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
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
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->c, &ca);
    pthread_condattr_destroy(&ca);
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
    /* The timeout is device time; waiting for another thread takes real time, so it is
     * only shortened by a speed-up of 1 or more (never made instant). */
    otakit_hw_shared_t *s = otakit_hw_shared();
    int speed = s != NULL ? s->speedup : -1;
    if (speed < 0) {
        speed = CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP;
    }
    if (speed < 1) {
        speed = 1;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t us = (uint64_t)ticks * (1000000u / configTICK_RATE_HZ) / (uint64_t)speed;
    deadline.tv_sec += (time_t)(us / 1000000u);
    deadline.tv_nsec += (long)(us % 1000000u) * 1000;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g->m);
    while (!satisfied(g->bits, bits, wait_for_all)) {
        if (ticks == 0) {
            break;
        }
        int rc = ticks == portMAX_DELAY ? pthread_cond_wait(&g->c, &g->m)
                                        : pthread_cond_timedwait(&g->c, &g->m, &deadline);
        if (rc == ETIMEDOUT) {
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
