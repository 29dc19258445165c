/* Crashes at start (a load from address 0), as a broken update would: the device panics
 * ("Guru Meditation Error ... LoadProhibited") and resets. */
#include <stdio.h>

#include "esp_log.h"
#include "esp_ota_ops.h"

static const char *TAG = "crash_app";

void app_main(void)
{
    const esp_app_desc_t *d = esp_app_get_description();
    ESP_LOGI(TAG, "crash_app %.32s starting: about to read address 0", d->version);
    int *volatile p = NULL;
    printf("value: %d\n", *p);
}
