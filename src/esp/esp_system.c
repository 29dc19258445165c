/* esp_system.h, esp_chip_info.h, esp_mac.h, esp_flash.h, esp_timer.h: the chip as the
 * virtual device describes it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_flash.h"
#include "esp_state.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "hw.h"
#include "sdkconfig.h"

#ifndef CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP
#define CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP 1
#endif

#define SHUTDOWN_HANDLERS_NO 5

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static shutdown_handler_t shutdown_handlers[SHUTDOWN_HANDLERS_NO];

esp_err_t esp_register_shutdown_handler(shutdown_handler_t handler)
{
    esp_err_t err = ESP_ERR_NO_MEM;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SHUTDOWN_HANDLERS_NO; i++) {
        if (shutdown_handlers[i] == handler) {
            err = ESP_ERR_INVALID_STATE;
            break;
        }
        if (shutdown_handlers[i] == NULL) {
            shutdown_handlers[i] = handler;
            err = ESP_OK;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_unregister_shutdown_handler(shutdown_handler_t handler)
{
    esp_err_t err = ESP_ERR_INVALID_STATE;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SHUTDOWN_HANDLERS_NO; i++) {
        if (shutdown_handlers[i] == handler) {
            shutdown_handlers[i] = NULL;
            err = ESP_OK;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return err;
}

void esp_restart(void)
{
    for (int i = SHUTDOWN_HANDLERS_NO - 1; i >= 0; i--) {
        if (shutdown_handlers[i] != NULL) {
            shutdown_handlers[i]();
        }
    }
    fflush(stdout);
    if (!otakit_hw_attached()) {
        exit(0);
    }
    otakit_hw_reset(OTAKIT_HW_REQ_RESTART);
}

esp_reset_reason_t esp_reset_reason(void)
{
    switch (otakit_hw_reset_reason()) {
    case OTAKIT_RST_POWERON:
        return ESP_RST_POWERON;
    case OTAKIT_RST_EXT:
        return ESP_RST_EXT;
    case OTAKIT_RST_SW:
        return ESP_RST_SW;
    case OTAKIT_RST_PANIC:
        return ESP_RST_PANIC;
    default:
        return ESP_RST_UNKNOWN;
    }
}

/* A chip has no more than this; the host's heap is not the device's. */
uint32_t esp_get_free_heap_size(void)
{
    return 302720;
}

uint32_t esp_get_free_internal_heap_size(void)
{
    return 302720;
}

uint32_t esp_get_minimum_free_heap_size(void)
{
    return 298148;
}

void esp_system_abort(const char *details)
{
    fflush(stdout);
    if (details != NULL) {
        printf("%s\n", details);
        fflush(stdout);
    }
    abort();
}

const char *esp_get_idf_version(void)
{
    return "v5.5-otakit";
}

void esp_chip_info(esp_chip_info_t *out_info)
{
    if (out_info == NULL) {
        return;
    }
    memset(out_info, 0, sizeof(*out_info));
    out_info->model = CHIP_ESP32;
    out_info->features = CHIP_FEATURE_WIFI_BGN | CHIP_FEATURE_BT | CHIP_FEATURE_BLE;
    out_info->revision = (uint16_t)otakit_hw_chip_revision();
    out_info->cores = (uint8_t)otakit_hw_cores();
}

esp_err_t esp_efuse_mac_get_default(uint8_t *mac)
{
    if (mac == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    otakit_hw_mac(mac);
    return ESP_OK;
}

esp_err_t esp_base_mac_addr_get(uint8_t *mac)
{
    return esp_efuse_mac_get_default(mac);
}

esp_err_t esp_read_mac(uint8_t *mac, esp_mac_type_t type)
{
    if (mac == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    unsigned add;
    switch (type) {
    case ESP_MAC_WIFI_STA:
    case ESP_MAC_BASE:
    case ESP_MAC_EFUSE_FACTORY:
        add = 0;
        break;
    case ESP_MAC_WIFI_SOFTAP:
        add = 1;
        break;
    case ESP_MAC_BT:
        add = 2;
        break;
    case ESP_MAC_ETH:
        add = 3;
        break;
    default:
        return ESP_ERR_INVALID_ARG;
    }
    otakit_hw_mac(mac);
    mac[5] = (uint8_t)(mac[5] + add);
    return ESP_OK;
}

struct esp_flash_t {
    int unused;
};
static esp_flash_t default_chip;
esp_flash_t *esp_flash_default_chip = &default_chip;

esp_err_t esp_flash_get_size(esp_flash_t *chip, uint32_t *out_size)
{
    if (out_size == NULL || (chip != NULL && chip != &default_chip)) {
        return ESP_ERR_INVALID_ARG;
    }
    (void)esp_state();
    *out_size = otakit_hw_flash_size();
    return ESP_OK;
}

uint32_t spi_flash_get_chip_size(void)
{
    (void)esp_state();
    return otakit_hw_flash_size();
}

int64_t esp_timer_get_time(void)
{
    return (int64_t)otakit_hw_time_us();
}

void esp_delay_us(uint64_t us)
{
    otakit_hw_delay_us(us, CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP);
}
