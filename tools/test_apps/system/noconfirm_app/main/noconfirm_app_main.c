/* Starts, says which state its image is in, never confirms it, and restarts: with
 * rollback enabled the bootloader then marks it ABORTED and boots the previous app. */
#include <inttypes.h>
#include <stdio.h>

#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

static const char *TAG = "noconfirm_app";

void app_main(void)
{
    const esp_partition_t *running = esp_ota_get_running_partition();
    const esp_app_desc_t *d = esp_app_get_description();
    esp_ota_img_states_t state = ESP_OTA_IMG_UNDEFINED;
    if (running != NULL) {
        esp_ota_get_state_partition(running, &state);
    }
    ESP_LOGI(TAG, "noconfirm_app %.32s running from %s, state 0x%" PRIx32 "; not confirming it",
             d->version, running != NULL ? running->label : "?", (uint32_t)state);
    vTaskDelay(pdMS_TO_TICKS(1000));
    ESP_LOGW(TAG, "Restarting without confirming the image");
    esp_restart();
}
