/* The device console as a program writes it: ESP-IDF's log lines
 * `I (1234) tag: message` (time in ms since the reset; colour only when the device's
 * console is a terminal), one line per call, on stdout.
 */
#ifndef OTAKIT_SIM_CONSOLE_H
#define OTAKIT_SIM_CONSOLE_H

#include <stdarg.h>

#include "otakit/log.h"

/** Lines above this level are dropped by the sink and by otakit_console_log (default INFO). */
void otakit_console_set_level(otakit_log_level_t max);
otakit_log_level_t otakit_console_level(void);
/** Allow colours (when the device's console is a terminal); default yes. */
void otakit_console_allow_color(int allow);

/** Write one line, unfiltered. fmt has no trailing newline. */
void otakit_console_vline(otakit_log_level_t level, const char *tag, const char *fmt, va_list ap);
/** Write one line if level passes the console level. */
void otakit_console_log(otakit_log_level_t level, const char *tag, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** A sink for the core's otakit_log_t, filtered by the console level. */
otakit_log_t otakit_console_sink(void);

#endif
