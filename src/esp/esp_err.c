#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"

const char *esp_err_to_name(esp_err_t code)
{
    return otakit_err_name(code);
}

const char *esp_err_to_name_r(esp_err_t code, char *buf, size_t buflen)
{
    const char *name = otakit_err_name(code);
    if (buf == NULL || buflen == 0) {
        return name;
    }
    if (strcmp(name, "UNKNOWN ERROR") == 0) {
        snprintf(buf, buflen, "UNKNOWN ERROR 0x%x(%d)", (unsigned)code, (int)code);
    } else {
        snprintf(buf, buflen, "%s", name);
    }
    return buf;
}

static void print_check_failed(const char *msg, esp_err_t rc, const char *file, int line,
                               const char *function, const char *expression)
{
    fflush(stdout);
    printf("%s failed: esp_err_t 0x%x (%s) at 0x%08lx\n", msg, (unsigned)rc, esp_err_to_name(rc),
           (unsigned long)(uintptr_t)__builtin_return_address(0));
    printf("file: \"%s\" line %d\nfunc: %s\nexpression: %s\n", file, line, function, expression);
    fflush(stdout);
}

void _esp_error_check_failed(esp_err_t rc, const char *file, int line, const char *function,
                             const char *expression)
{
    print_check_failed("ESP_ERROR_CHECK", rc, file, line, function, expression);
    abort();
}

void _esp_error_check_failed_without_abort(esp_err_t rc, const char *file, int line,
                                           const char *function, const char *expression)
{
    print_check_failed("ESP_ERROR_CHECK_WITHOUT_ABORT", rc, file, line, function, expression);
}
