/*
 * The default event loop: a queue and one thread that runs the handlers, like
 * ESP-IDF's sys_evt task. Handlers may post events and (un)register handlers; a
 * handler removed while an event is being dispatched may still see that one event.
 */
#include "esp_event.h"

#include "netif_sim.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ev_handler {
    esp_event_base_t base;
    int32_t id;
    esp_event_handler_t fn;
    void *arg;
    struct ev_handler *next;
};

struct ev_item {
    esp_event_base_t base;
    int32_t id;
    void *data;
    struct ev_item *next;
};

/* ESP-IDF keeps the default loop in a per-process global too. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t idle_cv; /* signalled when the queue is empty and no handler runs */
    pthread_t thread;
    bool exists;
    bool stopping;
    bool dispatching;
    struct ev_handler *handlers;
    struct ev_item *head;
    struct ev_item *tail;
} loop = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .cv = PTHREAD_COND_INITIALIZER,
          .idle_cv = PTHREAD_COND_INITIALIZER};

static bool matches(const struct ev_handler *h, esp_event_base_t base, int32_t id)
{
    return (h->base == ESP_EVENT_ANY_BASE || h->base == base) &&
           (h->id == ESP_EVENT_ANY_ID || h->id == id);
}

static void *loop_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&loop.mu);
    for (;;) {
        while (!loop.head && !loop.stopping) {
            pthread_cond_wait(&loop.cv, &loop.mu);
        }
        if (!loop.head) {
            break;
        }
        struct ev_item *it = loop.head;
        loop.dispatching = true;
        loop.head = it->next;
        if (!loop.head) {
            loop.tail = NULL;
        }
        size_t n = 0;
        for (struct ev_handler *h = loop.handlers; h; h = h->next) {
            n += matches(h, it->base, it->id);
        }
        struct ev_handler *snap = n ? calloc(n, sizeof(*snap)) : NULL;
        size_t k = 0;
        for (struct ev_handler *h = loop.handlers; h && snap; h = h->next) {
            if (matches(h, it->base, it->id)) {
                snap[k++] = *h;
            }
        }
        pthread_mutex_unlock(&loop.mu);
        for (size_t i = 0; i < k; i++) {
            snap[i].fn(snap[i].arg, it->base, it->id, it->data);
        }
        free(snap);
        free(it->data);
        free(it);
        pthread_mutex_lock(&loop.mu);
        loop.dispatching = false;
        if (!loop.head) {
            pthread_cond_broadcast(&loop.idle_cv);
        }
    }
    loop.dispatching = false;
    pthread_cond_broadcast(&loop.idle_cv);
    pthread_mutex_unlock(&loop.mu);
    return NULL;
}

void event_sim_wait_idle(void)
{
    pthread_mutex_lock(&loop.mu);
    while (loop.exists && !pthread_equal(loop.thread, pthread_self()) &&
           (loop.head != NULL || loop.dispatching)) {
        pthread_cond_wait(&loop.idle_cv, &loop.mu);
    }
    pthread_mutex_unlock(&loop.mu);
}

esp_err_t esp_event_loop_create_default(void)
{
    pthread_mutex_lock(&loop.mu);
    if (loop.exists) {
        pthread_mutex_unlock(&loop.mu);
        return ESP_ERR_INVALID_STATE;
    }
    loop.stopping = false;
    if (pthread_create(&loop.thread, NULL, loop_main, NULL) != 0) {
        pthread_mutex_unlock(&loop.mu);
        return ESP_ERR_NO_MEM;
    }
    loop.exists = true;
    pthread_mutex_unlock(&loop.mu);
    return ESP_OK;
}

esp_err_t esp_event_loop_delete_default(void)
{
    pthread_mutex_lock(&loop.mu);
    if (!loop.exists) {
        pthread_mutex_unlock(&loop.mu);
        return ESP_ERR_INVALID_STATE;
    }
    loop.stopping = true;
    loop.exists = false;
    pthread_cond_broadcast(&loop.cv);
    pthread_t t = loop.thread;
    pthread_mutex_unlock(&loop.mu);
    if (pthread_equal(t, pthread_self())) {
        pthread_detach(t);
    } else {
        pthread_join(t, NULL);
    }
    pthread_mutex_lock(&loop.mu);
    while (loop.handlers) {
        struct ev_handler *h = loop.handlers;
        loop.handlers = h->next;
        free(h);
    }
    pthread_mutex_unlock(&loop.mu);
    return ESP_OK;
}

esp_err_t esp_event_handler_instance_register(esp_event_base_t event_base, int32_t event_id,
                                              esp_event_handler_t event_handler,
                                              void *event_handler_arg,
                                              esp_event_handler_instance_t *instance)
{
    if (!event_handler || (event_base == ESP_EVENT_ANY_BASE && event_id != ESP_EVENT_ANY_ID)) {
        return ESP_ERR_INVALID_ARG;
    }
    struct ev_handler *h = calloc(1, sizeof(*h));
    if (!h) {
        return ESP_ERR_NO_MEM;
    }
    h->base = event_base;
    h->id = event_id;
    h->fn = event_handler;
    h->arg = event_handler_arg;
    pthread_mutex_lock(&loop.mu);
    if (!loop.exists) {
        pthread_mutex_unlock(&loop.mu);
        free(h);
        return ESP_ERR_INVALID_STATE;
    }
    struct ev_handler **pp = &loop.handlers;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = h;
    pthread_mutex_unlock(&loop.mu);
    if (instance) {
        *instance = h;
    }
    return ESP_OK;
}

esp_err_t esp_event_handler_register(esp_event_base_t event_base, int32_t event_id,
                                     esp_event_handler_t event_handler, void *event_handler_arg)
{
    return esp_event_handler_instance_register(event_base, event_id, event_handler,
                                               event_handler_arg, NULL);
}

static esp_err_t unregister(esp_event_base_t base, int32_t id, esp_event_handler_t fn,
                            void *instance)
{
    pthread_mutex_lock(&loop.mu);
    for (struct ev_handler **pp = &loop.handlers; *pp; pp = &(*pp)->next) {
        struct ev_handler *h = *pp;
        if (h->base == base && h->id == id && (instance ? (void *)h == instance : h->fn == fn)) {
            *pp = h->next;
            free(h);
            pthread_mutex_unlock(&loop.mu);
            return ESP_OK;
        }
    }
    pthread_mutex_unlock(&loop.mu);
    return ESP_ERR_NOT_FOUND;
}

esp_err_t esp_event_handler_unregister(esp_event_base_t event_base, int32_t event_id,
                                       esp_event_handler_t event_handler)
{
    if (!event_handler) {
        return ESP_ERR_INVALID_ARG;
    }
    return unregister(event_base, event_id, event_handler, NULL);
}

esp_err_t esp_event_handler_instance_unregister(esp_event_base_t event_base, int32_t event_id,
                                                esp_event_handler_instance_t instance)
{
    if (!instance) {
        return ESP_ERR_INVALID_ARG;
    }
    return unregister(event_base, event_id, NULL, instance);
}

esp_err_t esp_event_post(esp_event_base_t event_base, int32_t event_id, const void *event_data,
                         size_t event_data_size, uint32_t ticks_to_wait)
{
    (void)ticks_to_wait;
    if (event_base == ESP_EVENT_ANY_BASE || event_id == ESP_EVENT_ANY_ID ||
        (event_data_size && !event_data)) {
        return ESP_ERR_INVALID_ARG;
    }
    struct ev_item *it = calloc(1, sizeof(*it));
    if (!it) {
        return ESP_ERR_NO_MEM;
    }
    if (event_data_size) {
        /* At least 8 zeroed bytes: a handler that reads a wider type than was posted
         * (ESP-IDF's advanced_https_ota reads the 2-byte chip revision as a 4-byte
         * esp_chip_id_t) reads zeros, not past the copy. */
        it->data = calloc(1, event_data_size < 8 ? 8 : event_data_size);
        if (!it->data) {
            free(it);
            return ESP_ERR_NO_MEM;
        }
        memcpy(it->data, event_data, event_data_size);
    }
    it->base = event_base;
    it->id = event_id;
    pthread_mutex_lock(&loop.mu);
    if (!loop.exists) {
        pthread_mutex_unlock(&loop.mu);
        free(it->data);
        free(it);
        return ESP_ERR_INVALID_STATE;
    }
    if (loop.tail) {
        loop.tail->next = it;
    } else {
        loop.head = it;
    }
    loop.tail = it;
    pthread_cond_signal(&loop.cv);
    pthread_mutex_unlock(&loop.mu);
    return ESP_OK;
}
