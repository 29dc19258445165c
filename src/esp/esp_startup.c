/* What ESP-IDF's startup code prints before app_main (cpu_start, app_init, efuse_init,
 * spi_flash, main_task), from the running app's description. */
#include <inttypes.h>
#include <string.h>

#include "console.h"
#include "esp_app_desc.h"
#include "esp_log.h"
#include "esp_state.h"
#include "hw.h"
#include "otakit/ptable.h"
#include "sdkconfig.h"

/* esp_flash_init_default_chip: the size in the bootloader's image header (what the ROM
 * and the bootloader set up, the build's CONFIG_ESPTOOLPY_FLASHSIZE) against the chip's
 * real size. ESP-IDF logs this line and then stops at an assert; the app here goes on, so
 * the seed's symptom (esp_ota_begin's 0x104 when a slot runs off the chip) still shows.
 * (ESP-IDF's warning for a larger chip is left out: this layer uses the chip's size.) */
static void check_flash_size(void)
{
    uint32_t header_size = otakit_hw_header_flash_size();
    uint32_t chip_size = otakit_hw_flash_size();
    if (header_size == 0) {
        return; /* no bootloader header to compare with */
    }
    if (chip_size < header_size) {
        ESP_LOGE("spi_flash",
                 "Detected size(%" PRIu32 "k) smaller than the size in the binary image "
                 "header(%" PRIu32 "k). Probe failed.",
                 chip_size / 1024, header_size / 1024);
    }
}

void esp_startup_banner(void)
{
#if !defined(CONFIG_LOG_COLORS)
    otakit_console_allow_color(0);
#endif
    esp_state_t *s = esp_state();
    ESP_LOGI("cpu_start", "Pro cpu up.");
    ESP_LOGI("cpu_start", "Starting app cpu, entry point is 0x%08" PRIx32, (uint32_t)0x400810ecu);
    ESP_LOGI("cpu_start", "App cpu up.");
    ESP_LOGI("cpu_start", "Pro cpu start user code");
    ESP_LOGI("cpu_start", "cpu freq: 160000000 Hz");
    if (s->have_desc) {
        const esp_app_desc_t *d = &s->app_desc;
        char sha[17];
        esp_app_get_elf_sha256(sha, sizeof(sha));
        ESP_LOGI("app_init", "Application information:");
        ESP_LOGI("app_init", "Project name:     %.32s", d->project_name);
        ESP_LOGI("app_init", "App version:      %.32s", d->version);
#ifdef CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
        ESP_LOGI("app_init", "Secure version:   %" PRIu32, d->secure_version);
#endif
        ESP_LOGI("app_init", "Compile time:     %.16s %.16s", d->date, d->time);
        ESP_LOGI("app_init", "ELF file SHA256:  %s...", sha);
        ESP_LOGI("app_init", "ESP-IDF:          %.32s", d->idf_ver);
    }
    uint32_t rev = otakit_hw_chip_revision();
    ESP_LOGI("efuse_init", "Min chip rev:     v0.0");
    ESP_LOGI("efuse_init", "Max chip rev:     v3.99 ");
    ESP_LOGI("efuse_init", "Chip rev:         v%" PRIu32 ".%" PRIu32, rev / 100, rev % 100);
    ESP_LOGI("spi_flash", "detected chip: generic");
    ESP_LOGI("spi_flash", "flash io: dio");
    check_flash_size();
    if (s->running == NULL) {
        ESP_LOGE("cpu_start", "running partition at 0x%" PRIx32 " is not in the partition table",
                 otakit_hw_app_offset());
    }
    ESP_LOGI("main_task", "Started on CPU0");
    ESP_LOGI("main_task", "Calling app_main()");
}
