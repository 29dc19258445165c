/**
 * @file log.h
 * @brief The log sink the core writes through. The core formats nothing itself: it
 * hands the sink a level, a tag and a printf format, and the sink (the host port's
 * console, a test's capture buffer) renders ESP-IDF's line `I (1234) tag: message`.
 */
#ifndef OTAKIT_LOG_H
#define OTAKIT_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OTAKIT_LOG_NONE = 0,
    OTAKIT_LOG_ERROR,
    OTAKIT_LOG_WARN,
    OTAKIT_LOG_INFO,
    OTAKIT_LOG_DEBUG,
    OTAKIT_LOG_VERBOSE,
} otakit_log_level_t;

typedef struct otakit_log {
    /** Called for each message; fmt never ends in a newline. NULL fn = silent. */
    void (*fn)(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt, va_list ap);
    void *ctx;
} otakit_log_t;

/** Send one message to a sink (NULL sink or NULL fn: dropped). */
void otakit_log_write(const otakit_log_t *log, otakit_log_level_t level, const char *tag,
                      const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/**
 * The most verbose level the core's messages are compiled in for (ESP-IDF's
 * CONFIG_LOG_MAXIMUM_LEVEL): above it a message and its text are left out of the build.
 * OTAKIT_LOG_VERBOSE (all) by default; a microcontroller port may define it as
 * OTAKIT_LOG_INFO, ESP-IDF's default, or lower.
 */
#ifndef OTAKIT_LOG_MAX_LEVEL
#define OTAKIT_LOG_MAX_LEVEL OTAKIT_LOG_VERBOSE
#endif

#define OTAKIT_LOG_AT(log, level, tag, ...)                                                        \
    do {                                                                                           \
        if ((level) <= OTAKIT_LOG_MAX_LEVEL) {                                                     \
            otakit_log_write((log), (level), (tag), __VA_ARGS__);                                  \
        }                                                                                          \
    } while (0)
#define OTAKIT_LOGE(log, tag, ...) OTAKIT_LOG_AT((log), OTAKIT_LOG_ERROR, (tag), __VA_ARGS__)
#define OTAKIT_LOGW(log, tag, ...) OTAKIT_LOG_AT((log), OTAKIT_LOG_WARN, (tag), __VA_ARGS__)
#define OTAKIT_LOGI(log, tag, ...) OTAKIT_LOG_AT((log), OTAKIT_LOG_INFO, (tag), __VA_ARGS__)
#define OTAKIT_LOGD(log, tag, ...) OTAKIT_LOG_AT((log), OTAKIT_LOG_DEBUG, (tag), __VA_ARGS__)

/** ESP-IDF's letter for a level: 'E', 'W', 'I', 'D', 'V'. */
char otakit_log_letter(otakit_log_level_t level);

#ifdef __cplusplus
}
#endif
#endif
