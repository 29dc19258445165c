/**
 * @file esp_log.h
 * @brief ESP-IDF's logging: `I (1234) tag: message` lines on the device console (time in
 * ms since the reset; colour only when the console is a terminal), filtered per tag.
 *
 * The default level is CONFIG_LOG_DEFAULT_LEVEL (sdkconfig.h); esp_log_level_set()
 * changes it per tag ("*" = all tags).
 */
#ifndef ESP_LOG_H
#define ESP_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_LOG_NONE = 0,
    ESP_LOG_ERROR,
    ESP_LOG_WARN,
    ESP_LOG_INFO,
    ESP_LOG_DEBUG,
    ESP_LOG_VERBOSE,
} esp_log_level_t;

/** Set the level of a tag ("*" sets every tag's and the default). */
void esp_log_level_set(const char *tag, esp_log_level_t level);
/** The level a tag logs at. */
esp_log_level_t esp_log_level_get(const char *tag);

/** Milliseconds since the reset (device time). */
uint32_t esp_log_timestamp(void);
/** Same as esp_log_timestamp (ESP-IDF's early variant). */
uint32_t esp_log_early_timestamp(void);
/** "HH:MM:SS.sss" of the device time since the reset (static buffer). */
char *esp_log_system_timestamp(void);

/**
 * @brief Print fmt as is (no prefix, no newline added) when level passes tag's level.
 * ESP-IDF's low-level call; the ESP_LOGx macros build the whole line.
 */
void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void esp_log_writev(esp_log_level_t level, const char *tag, const char *format, va_list args);

/** One ESP-IDF log line: "L (ms) tag: " + message + "\n", coloured on a terminal. */
void esp_log_line(esp_log_level_t level, const char *tag, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Hex dump of a buffer, 16 bytes a line, at the given level. */
void esp_log_buffer_hex_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                 esp_log_level_t level);

#define ESP_LOGE(tag, ...) esp_log_line(ESP_LOG_ERROR, tag, __VA_ARGS__)
#define ESP_LOGW(tag, ...) esp_log_line(ESP_LOG_WARN, tag, __VA_ARGS__)
#define ESP_LOGI(tag, ...) esp_log_line(ESP_LOG_INFO, tag, __VA_ARGS__)
#define ESP_LOGD(tag, ...) esp_log_line(ESP_LOG_DEBUG, tag, __VA_ARGS__)
#define ESP_LOGV(tag, ...) esp_log_line(ESP_LOG_VERBOSE, tag, __VA_ARGS__)
#define ESP_EARLY_LOGE ESP_LOGE
#define ESP_EARLY_LOGW ESP_LOGW
#define ESP_EARLY_LOGI ESP_LOGI
#define ESP_EARLY_LOGD ESP_LOGD
#define ESP_EARLY_LOGV ESP_LOGV
#define ESP_DRAM_LOGE ESP_LOGE
#define ESP_DRAM_LOGW ESP_LOGW
#define ESP_DRAM_LOGI ESP_LOGI
#define ESP_LOG_LEVEL(level, tag, ...) esp_log_line(level, tag, __VA_ARGS__)
#define ESP_LOG_LEVEL_LOCAL ESP_LOG_LEVEL
#define ESP_LOG_BUFFER_HEX_LEVEL(tag, buffer, buff_len, level)                                     \
    esp_log_buffer_hex_internal(tag, buffer, buff_len, level)
#define ESP_LOG_BUFFER_HEX(tag, buffer, buff_len)                                                  \
    esp_log_buffer_hex_internal(tag, buffer, buff_len, ESP_LOG_INFO)

#ifdef __cplusplus
}
#endif
#endif
