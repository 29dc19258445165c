#include "console.h"

#include <inttypes.h>
#include <stdio.h>

#include "hw.h"

static otakit_log_level_t console_level = OTAKIT_LOG_INFO;
static int color_allowed = 1;

void otakit_console_allow_color(int allow)
{
    color_allowed = allow;
}

void otakit_console_set_level(otakit_log_level_t max)
{
    console_level = max;
}

otakit_log_level_t otakit_console_level(void)
{
    return console_level;
}

static const char *level_color(otakit_log_level_t level)
{
    switch (level) {
    case OTAKIT_LOG_ERROR:
        return "\033[0;31m";
    case OTAKIT_LOG_WARN:
        return "\033[0;33m";
    case OTAKIT_LOG_INFO:
        return "\033[0;32m";
    default:
        return NULL;
    }
}

void otakit_console_vline(otakit_log_level_t level, const char *tag, const char *fmt, va_list ap)
{
    const char *color = color_allowed && otakit_hw_color() ? level_color(level) : NULL;
    uint32_t ms = (uint32_t)(otakit_hw_time_us() / 1000u);
    flockfile(stdout);
    if (color != NULL) {
        fputs(color, stdout);
    }
    fprintf(stdout, "%c (%" PRIu32 ") %s: ", otakit_log_letter(level), ms, tag);
    vfprintf(stdout, fmt, ap);
    if (color != NULL) {
        fputs("\033[0m", stdout);
    }
    fputc('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);
}

void otakit_console_log(otakit_log_level_t level, const char *tag, const char *fmt, ...)
{
    if (level == OTAKIT_LOG_NONE || level > console_level) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    otakit_console_vline(level, tag, fmt, ap);
    va_end(ap);
}

static void sink_fn(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt,
                    va_list ap)
{
    (void)ctx;
    if (level == OTAKIT_LOG_NONE || level > console_level) {
        return;
    }
    otakit_console_vline(level, tag, fmt, ap);
}

otakit_log_t otakit_console_sink(void)
{
    otakit_log_t log = {sink_fn, NULL};
    return log;
}
