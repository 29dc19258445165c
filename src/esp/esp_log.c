#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "esp_log.h"
#include "hw.h"
#include "sdkconfig.h"

#ifndef CONFIG_LOG_DEFAULT_LEVEL
#define CONFIG_LOG_DEFAULT_LEVEL 3
#endif

#define MAX_TAGS 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static esp_log_level_t default_level = (esp_log_level_t)CONFIG_LOG_DEFAULT_LEVEL;
static struct {
    char tag[32];
    esp_log_level_t level;
} tags[MAX_TAGS];
static size_t ntags;

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    if (tag == NULL) {
        return;
    }
    pthread_mutex_lock(&lock);
    if (strcmp(tag, "*") == 0) {
        default_level = level;
        for (size_t i = 0; i < ntags; i++) {
            tags[i].level = level;
        }
    } else {
        size_t i = 0;
        while (i < ntags && strcmp(tags[i].tag, tag) != 0) {
            i++;
        }
        if (i == ntags && ntags < MAX_TAGS && strlen(tag) < sizeof(tags[0].tag)) {
            strcpy(tags[ntags].tag, tag);
            ntags++;
        }
        if (i < ntags) {
            tags[i].level = level;
        }
    }
    pthread_mutex_unlock(&lock);
}

esp_log_level_t esp_log_level_get(const char *tag)
{
    esp_log_level_t level;
    pthread_mutex_lock(&lock);
    level = default_level;
    for (size_t i = 0; tag != NULL && i < ntags; i++) {
        if (strcmp(tags[i].tag, tag) == 0) {
            level = tags[i].level;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return level;
}

uint32_t esp_log_timestamp(void)
{
    return (uint32_t)(otakit_hw_time_us() / 1000u);
}

uint32_t esp_log_early_timestamp(void)
{
    return esp_log_timestamp();
}

char *esp_log_system_timestamp(void)
{
    static _Thread_local char buf[24];
    uint64_t ms = otakit_hw_time_us() / 1000u;
    snprintf(buf, sizeof(buf), "%02u:%02u:%02u.%03u", (unsigned)(ms / 3600000u % 100u),
             (unsigned)(ms / 60000u % 60u), (unsigned)(ms / 1000u % 60u), (unsigned)(ms % 1000u));
    return buf;
}

static bool passes(esp_log_level_t level, const char *tag)
{
    return level != ESP_LOG_NONE && level <= esp_log_level_get(tag);
}

void esp_log_writev(esp_log_level_t level, const char *tag, const char *format, va_list args)
{
    if (!passes(level, tag)) {
        return;
    }
    flockfile(stdout);
    vfprintf(stdout, format, args);
    fflush(stdout);
    funlockfile(stdout);
}

void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    esp_log_writev(level, tag, format, ap);
    va_end(ap);
}

void esp_log_line(esp_log_level_t level, const char *tag, const char *format, ...)
{
    if (!passes(level, tag)) {
        return;
    }
    va_list ap;
    va_start(ap, format);
    otakit_console_vline((otakit_log_level_t)level, tag, format, ap);
    va_end(ap);
}

void esp_log_buffer_hex_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                 esp_log_level_t level)
{
    const uint8_t *p = buffer;
    for (uint16_t off = 0; off < buff_len; off += 16) {
        char line[16 * 3 + 1];
        size_t n = 0;
        for (uint16_t i = off; i < buff_len && i < off + 16; i++) {
            n += (size_t)snprintf(line + n, sizeof(line) - n, i == off ? "%02x" : " %02x", p[i]);
        }
        esp_log_line(level, tag, "%s", line);
    }
}
