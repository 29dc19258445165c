/* driver/gpio.h over the virtual device: each pin's mode, pulls and output latch live in
 * the app's process (as in the chip's registers, reset at every boot); the levels the host
 * drives come from the device's shared block (otakit_hw_gpio_input). */
#include <pthread.h>

#include "driver/gpio.h"
#include "esp_log.h"
#include "hw.h"

static const char *TAG = "gpio";

typedef struct pin_state {
    unsigned mode; /* GPIO_MODE_DEF_* bits */
    bool pull_up, pull_down;
    bool out; /* output latch */
} pin_state_t;

static pin_state_t pins[GPIO_PIN_COUNT];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool valid(gpio_num_t n, const char *what)
{
    if (!GPIO_IS_VALID_GPIO(n)) {
        ESP_LOGE(TAG, "%s: GPIO %d is not a GPIO of this chip", what, (int)n);
        return false;
    }
    return true;
}

static esp_err_t set_mode(gpio_num_t n, unsigned mode)
{
    if ((mode & GPIO_MODE_DEF_OUTPUT) && !GPIO_IS_VALID_OUTPUT_GPIO(n)) {
        ESP_LOGE(TAG, "GPIO_NUM_%d can only be input", (int)n);
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    pins[n].mode = mode;
    pthread_mutex_unlock(&lock);
    return ESP_OK;
}

esp_err_t gpio_config(const gpio_config_t *c)
{
    if (c == NULL)
        return ESP_ERR_INVALID_ARG;
    if (c->pin_bit_mask == 0 || (c->pin_bit_mask >> GPIO_PIN_COUNT) != 0) {
        ESP_LOGE(TAG, "GPIO_PIN mask error");
        return ESP_ERR_INVALID_ARG;
    }
    if (c->intr_type != GPIO_INTR_DISABLE) {
        ESP_LOGE(TAG, "GPIO interrupts are not supported on the virtual device");
        return ESP_ERR_NOT_SUPPORTED;
    }
    for (int n = 0; n < GPIO_PIN_COUNT; n++) {
        if (!(c->pin_bit_mask & ((uint64_t)1 << n)))
            continue;
        if (!valid((gpio_num_t)n, "gpio_config"))
            return ESP_ERR_INVALID_ARG;
        esp_err_t err = set_mode((gpio_num_t)n, (unsigned)c->mode);
        if (err != ESP_OK)
            return err;
        pthread_mutex_lock(&lock);
        pins[n].pull_up = c->pull_up_en == GPIO_PULLUP_ENABLE;
        pins[n].pull_down = c->pull_down_en == GPIO_PULLDOWN_ENABLE;
        pthread_mutex_unlock(&lock);
        ESP_LOGI(TAG,
                 "GPIO[%d]| InputEn: %d| OutputEn: %d| OpenDrain: %d| Pullup: %d| Pulldown: %d| "
                 "Intr:%d ",
                 n, !!(c->mode & GPIO_MODE_DEF_INPUT), !!(c->mode & GPIO_MODE_DEF_OUTPUT),
                 !!(c->mode & GPIO_MODE_DEF_OD), pins[n].pull_up, pins[n].pull_down,
                 (int)c->intr_type);
    }
    return ESP_OK;
}

esp_err_t gpio_reset_pin(gpio_num_t n)
{
    if (!valid(n, "gpio_reset_pin"))
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    pins[n] = (pin_state_t){.mode = GPIO_MODE_DEF_DISABLE, .pull_up = true};
    pthread_mutex_unlock(&lock);
    return ESP_OK;
}

esp_err_t gpio_set_level(gpio_num_t n, uint32_t level)
{
    if (!GPIO_IS_VALID_OUTPUT_GPIO(n)) {
        ESP_LOGE(TAG, "gpio_set_level(%d): GPIO output gpio_num error", (int)n);
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    pins[n].out = level != 0;
    bool driving = pins[n].mode & GPIO_MODE_DEF_OUTPUT;
    pthread_mutex_unlock(&lock);
    otakit_hw_gpio_output((unsigned)n, driving && level != 0);
    return ESP_OK;
}

int gpio_get_level(gpio_num_t n)
{
    if (!GPIO_IS_VALID_GPIO(n))
        return 0;
    pthread_mutex_lock(&lock);
    pin_state_t p = pins[n];
    pthread_mutex_unlock(&lock);
    if (!(p.mode & GPIO_MODE_DEF_INPUT))
        return 0;
    int host = otakit_hw_gpio_input((unsigned)n);
    if (host >= 0)
        return host;
    if (p.mode & GPIO_MODE_DEF_OUTPUT)
        return p.out;
    return p.pull_up ? 1 : 0;
}

esp_err_t gpio_set_direction(gpio_num_t n, gpio_mode_t mode)
{
    if (!valid(n, "gpio_set_direction"))
        return ESP_ERR_INVALID_ARG;
    return set_mode(n, (unsigned)mode);
}

static esp_err_t set_pulls(gpio_num_t n, int up, int down)
{
    if (!valid(n, "gpio pull"))
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    if (up >= 0)
        pins[n].pull_up = up;
    if (down >= 0)
        pins[n].pull_down = down;
    pthread_mutex_unlock(&lock);
    return ESP_OK;
}

esp_err_t gpio_set_pull_mode(gpio_num_t n, gpio_pull_mode_t pull)
{
    switch (pull) {
    case GPIO_PULLUP_ONLY:
        return set_pulls(n, 1, 0);
    case GPIO_PULLDOWN_ONLY:
        return set_pulls(n, 0, 1);
    case GPIO_PULLUP_PULLDOWN:
        return set_pulls(n, 1, 1);
    case GPIO_FLOATING:
        return set_pulls(n, 0, 0);
    }
    return ESP_ERR_INVALID_ARG;
}

esp_err_t gpio_pullup_en(gpio_num_t n)
{
    return set_pulls(n, 1, -1);
}
esp_err_t gpio_pullup_dis(gpio_num_t n)
{
    return set_pulls(n, 0, -1);
}
esp_err_t gpio_pulldown_en(gpio_num_t n)
{
    return set_pulls(n, -1, 1);
}
esp_err_t gpio_pulldown_dis(gpio_num_t n)
{
    return set_pulls(n, -1, 0);
}

static esp_err_t change_mode(gpio_num_t n, unsigned set, unsigned clear)
{
    if (!valid(n, "gpio mode"))
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    unsigned mode = (pins[n].mode | set) & ~clear;
    pthread_mutex_unlock(&lock);
    return set_mode(n, mode);
}

esp_err_t gpio_input_enable(gpio_num_t n)
{
    return change_mode(n, GPIO_MODE_DEF_INPUT, 0);
}
esp_err_t gpio_output_enable(gpio_num_t n)
{
    return change_mode(n, GPIO_MODE_DEF_OUTPUT, 0);
}
esp_err_t gpio_output_disable(gpio_num_t n)
{
    return change_mode(n, 0, GPIO_MODE_DEF_OUTPUT | GPIO_MODE_DEF_OD);
}
