/**
 * @file driver/gpio.h
 * @brief ESP-IDF's GPIO driver (esp_driver_gpio) for the virtual ESP32's 40 pins.
 *
 * Input levels come from the host: `otakit device run --gpio 4=0` holds GPIO4 low from
 * power-on, `--gpio 4=0@1500` from 1.5 s of device time on; a pin the host does not drive
 * reads its pull (pull-up 1, pull-down or floating 0), or its own output level when it is
 * an input and an output. Interrupts and the ISR service are not provided: code that calls
 * them fails to link, naming the function.
 */
#ifndef ESP_DRIVER_GPIO_H
#define ESP_DRIVER_GPIO_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GPIO_NUM_NC = -1,
    GPIO_NUM_0 = 0,
    GPIO_NUM_1,
    GPIO_NUM_2,
    GPIO_NUM_3,
    GPIO_NUM_4,
    GPIO_NUM_5,
    GPIO_NUM_6,
    GPIO_NUM_7,
    GPIO_NUM_8,
    GPIO_NUM_9,
    GPIO_NUM_10,
    GPIO_NUM_11,
    GPIO_NUM_12,
    GPIO_NUM_13,
    GPIO_NUM_14,
    GPIO_NUM_15,
    GPIO_NUM_16,
    GPIO_NUM_17,
    GPIO_NUM_18,
    GPIO_NUM_19,
    GPIO_NUM_20,
    GPIO_NUM_21,
    GPIO_NUM_22,
    GPIO_NUM_23,
    GPIO_NUM_25 = 25,
    GPIO_NUM_26,
    GPIO_NUM_27,
    GPIO_NUM_28,
    GPIO_NUM_29,
    GPIO_NUM_30,
    GPIO_NUM_31,
    GPIO_NUM_32,
    GPIO_NUM_33,
    GPIO_NUM_34,
    GPIO_NUM_35,
    GPIO_NUM_36,
    GPIO_NUM_37,
    GPIO_NUM_38,
    GPIO_NUM_39,
    GPIO_NUM_MAX,
} gpio_num_t;

/** The ESP32's pads: 0-39 without 20, 24 and 28-31. */
#define GPIO_PIN_COUNT 40
#define GPIO_IS_VALID_GPIO(n)                                                                      \
    ((n) >= 0 && (n) < GPIO_PIN_COUNT && (n) != 20 && (n) != 24 && ((n) < 28 || (n) > 31))
/** 34-39 are input only. */
#define GPIO_IS_VALID_OUTPUT_GPIO(n) (GPIO_IS_VALID_GPIO(n) && (n) < 34)

#define GPIO_MODE_DEF_DISABLE (0)
#define GPIO_MODE_DEF_INPUT (1u << 0)
#define GPIO_MODE_DEF_OUTPUT (1u << 1)
#define GPIO_MODE_DEF_OD (1u << 2)

typedef enum {
    GPIO_MODE_DISABLE = GPIO_MODE_DEF_DISABLE,
    GPIO_MODE_INPUT = GPIO_MODE_DEF_INPUT,
    GPIO_MODE_OUTPUT = GPIO_MODE_DEF_OUTPUT,
    GPIO_MODE_OUTPUT_OD = GPIO_MODE_DEF_OUTPUT | GPIO_MODE_DEF_OD,
    GPIO_MODE_INPUT_OUTPUT_OD = GPIO_MODE_DEF_INPUT | GPIO_MODE_DEF_OUTPUT | GPIO_MODE_DEF_OD,
    GPIO_MODE_INPUT_OUTPUT = GPIO_MODE_DEF_INPUT | GPIO_MODE_DEF_OUTPUT,
} gpio_mode_t;

typedef enum { GPIO_PULLUP_DISABLE = 0, GPIO_PULLUP_ENABLE = 1 } gpio_pullup_t;
typedef enum { GPIO_PULLDOWN_DISABLE = 0, GPIO_PULLDOWN_ENABLE = 1 } gpio_pulldown_t;

typedef enum {
    GPIO_PULLUP_ONLY,
    GPIO_PULLDOWN_ONLY,
    GPIO_PULLUP_PULLDOWN,
    GPIO_FLOATING,
} gpio_pull_mode_t;

typedef enum {
    GPIO_INTR_DISABLE = 0,
    GPIO_INTR_POSEDGE = 1,
    GPIO_INTR_NEGEDGE = 2,
    GPIO_INTR_ANYEDGE = 3,
    GPIO_INTR_LOW_LEVEL = 4,
    GPIO_INTR_HIGH_LEVEL = 5,
    GPIO_INTR_MAX,
} gpio_int_type_t;

typedef struct {
    uint64_t pin_bit_mask; /**< the pins to set up, bit n = GPIO n */
    gpio_mode_t mode;
    gpio_pullup_t pull_up_en;
    gpio_pulldown_t pull_down_en;
    gpio_int_type_t intr_type; /**< only GPIO_INTR_DISABLE is supported */
} gpio_config_t;

/** Set up every pin of pin_bit_mask. ESP_ERR_INVALID_ARG for an invalid pin, an output mode
 *  on an input-only pin, or an interrupt type (not supported here). */
esp_err_t gpio_config(const gpio_config_t *pGPIOConfig);
/** Back to the reset state: GPIO function, pull-up on, input and output off. */
esp_err_t gpio_reset_pin(gpio_num_t gpio_num);
esp_err_t gpio_set_level(gpio_num_t gpio_num, uint32_t level);
/** The pad's level: the host's drive, else the pin's own output, else its pull.
 *  0 when input is off, as the hardware reads. */
int gpio_get_level(gpio_num_t gpio_num);
esp_err_t gpio_set_direction(gpio_num_t gpio_num, gpio_mode_t mode);
esp_err_t gpio_set_pull_mode(gpio_num_t gpio_num, gpio_pull_mode_t pull);
esp_err_t gpio_pullup_en(gpio_num_t gpio_num);
esp_err_t gpio_pullup_dis(gpio_num_t gpio_num);
esp_err_t gpio_pulldown_en(gpio_num_t gpio_num);
esp_err_t gpio_pulldown_dis(gpio_num_t gpio_num);
esp_err_t gpio_input_enable(gpio_num_t gpio_num);
esp_err_t gpio_output_enable(gpio_num_t gpio_num);
esp_err_t gpio_output_disable(gpio_num_t gpio_num);

#ifdef __cplusplus
}
#endif

#endif /* ESP_DRIVER_GPIO_H */
