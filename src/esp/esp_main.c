/* main() of every app: attach to the virtual device, print ESP-IDF's startup lines, run
 * app_main(). When app_main returns the main task ends but the chip keeps running (other
 * tasks, the idle task), as on ESP-IDF: this thread then waits for ever. Kept alone in
 * this file so a program with its own main() never pulls it in. */
#include <unistd.h>

#include "esp_err.h"
#include "esp_log.h"
#include "esp_state.h"
#include "hw.h"

int main(void)
{
    if (otakit_hw_attach() != 0) {
        return 2;
    }
    otakit_hw_set_stage(OTAKIT_HW_STAGE_APP);
    esp_startup_banner();
    app_main();
    ESP_LOGI("main_task", "Returned from app_main()");
    for (;;) {
        pause();
    }
}
