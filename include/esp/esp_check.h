/**
 * @file esp_check.h
 * @brief ESP-IDF's error-check macros: on failure they log "<function>(<line>): <message>"
 * at error level under the given tag, then return or jump.
 *
 * ESP_RETURN_ON_ERROR(x, tag, fmt, ...)          return x's error
 * ESP_GOTO_ON_ERROR(x, label, tag, fmt, ...)     ret = x's error; goto label
 * ESP_RETURN_ON_FALSE(a, err, tag, fmt, ...)     return err when a is false
 * ESP_GOTO_ON_FALSE(a, err, label, tag, fmt, ...) ret = err; goto label
 * ESP_RETURN_VOID_ON_ERROR / ESP_RETURN_VOID_ON_FALSE: the same in a void function.
 * The GOTO forms need a local `esp_err_t ret` (ESP-IDF's contract).
 */
#ifndef ESP_CHECK_H
#define ESP_CHECK_H

#include "esp_err.h"
#include "esp_log.h"

#define ESP_CHECK_LOG_(tag, format, ...)                                                           \
    ESP_LOGE(tag, "%s(%d): " format, __func__, __LINE__, ##__VA_ARGS__)

#define ESP_RETURN_ON_ERROR(x, log_tag, format, ...)                                               \
    do {                                                                                           \
        esp_err_t err_rc_ = (x);                                                                   \
        if (err_rc_ != ESP_OK) {                                                                   \
            ESP_CHECK_LOG_(log_tag, format, ##__VA_ARGS__);                                        \
            return err_rc_;                                                                        \
        }                                                                                          \
    } while (0)

#define ESP_RETURN_VOID_ON_ERROR(x, log_tag, format, ...)                                          \
    do {                                                                                           \
        esp_err_t err_rc_ = (x);                                                                   \
        if (err_rc_ != ESP_OK) {                                                                   \
            ESP_CHECK_LOG_(log_tag, format, ##__VA_ARGS__);                                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define ESP_GOTO_ON_ERROR(x, goto_tag, log_tag, format, ...)                                       \
    do {                                                                                           \
        esp_err_t err_rc_ = (x);                                                                   \
        if (err_rc_ != ESP_OK) {                                                                   \
            ESP_CHECK_LOG_(log_tag, format, ##__VA_ARGS__);                                        \
            ret = err_rc_;                                                                         \
            goto goto_tag;                                                                         \
        }                                                                                          \
    } while (0)

#define ESP_RETURN_ON_FALSE(a, err_code, log_tag, format, ...)                                     \
    do {                                                                                           \
        if (!(a)) {                                                                                \
            ESP_CHECK_LOG_(log_tag, format, ##__VA_ARGS__);                                        \
            return err_code;                                                                       \
        }                                                                                          \
    } while (0)

#define ESP_RETURN_VOID_ON_FALSE(a, log_tag, format, ...)                                          \
    do {                                                                                           \
        if (!(a)) {                                                                                \
            ESP_CHECK_LOG_(log_tag, format, ##__VA_ARGS__);                                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define ESP_GOTO_ON_FALSE(a, err_code, goto_tag, log_tag, format, ...)                             \
    do {                                                                                           \
        if (!(a)) {                                                                                \
            ESP_CHECK_LOG_(log_tag, format, ##__VA_ARGS__);                                        \
            ret = err_code;                                                                        \
            goto goto_tag;                                                                         \
        }                                                                                          \
    } while (0)

#endif
