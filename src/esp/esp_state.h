/* Per-process state of the ESP-IDF-style layer (as ESP-IDF keeps it): the flash, the
 * parsed partition table, the esp_partition_t records, the running partition, the
 * device view the OTA calls use. Private to src/esp. */
#ifndef OTAKIT_ESP_STATE_H
#define OTAKIT_ESP_STATE_H

#include <stdbool.h>

#include "esp_app_desc.h"
#include "esp_partition.h"
#include "otakit/ptable.h"
#include "otakit/update.h"

typedef struct esp_state {
    bool attached; /* on a device */
    bool table_ok; /* the partition table parsed */
    const otakit_flash_t *flash;
    otakit_ptable_t table;
    esp_partition_t parts[OTAKIT_PTABLE_MAX_ENTRIES];
    size_t count;
    const esp_partition_t *running;
    otakit_ota_t ota;
    esp_app_desc_t app_desc;
    bool have_desc;
} esp_state_t;

/** The state, set up on first use (thread-safe). */
esp_state_t *esp_state(void);
/** The table record of an esp_partition_t of ours (or an equal one), or NULL. */
const otakit_part_t *esp_part_core(const esp_partition_t *p);
/** Our esp_partition_t for a table record, or NULL. */
const esp_partition_t *esp_part_from_core(const otakit_part_t *p);
/** otakit_app_desc_t -> esp_app_desc_t. */
void esp_app_desc_from_core(esp_app_desc_t *out, const otakit_app_desc_t *d);
/** The startup lines ESP-IDF prints before app_main (cpu_start, app_init, main_task). */
void esp_startup_banner(void);
/**
 * With CONFIG_SECURE_SIGNED_ON_UPDATE: whether the app in part (image_len bytes, 0 = read
 * it from flash to find out) carries a signature of a trusted key (esp_secure_boot.c).
 * @return ESP_OK (also without the option); ESP_ERR_OTA_VALIDATE_FAILED
 */
esp_err_t esp_secure_check_app(const otakit_part_t *part, uint32_t image_len);
/** Device-time delay honouring the device's (or CONFIG's) speed-up. */
void esp_delay_us(uint64_t us);

#endif
