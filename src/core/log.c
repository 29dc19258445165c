#include "otakit/log.h"

#include <stddef.h>

void otakit_log_write(const otakit_log_t *log, otakit_log_level_t level, const char *tag,
                      const char *fmt, ...)
{
    if (log == NULL || log->fn == NULL) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    log->fn(log->ctx, level, tag, fmt, ap);
    va_end(ap);
}

char otakit_log_letter(otakit_log_level_t level)
{
    static const char letters[] = "NEWIDV";
    return (level >= OTAKIT_LOG_NONE && level <= OTAKIT_LOG_VERBOSE) ? letters[level] : '?';
}
