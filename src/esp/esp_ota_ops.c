/* esp_ota_ops.h over otakit's update session and boot switching (include/otakit/update.h,
 * include/otakit/ota.h).
 * Sessions live in a small table with handles counting from 1, as ESP-IDF's list. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_state.h"
#include "esp_system.h"
#include "otakit/image.h"

#define MAX_SESSIONS 4

static const char *TAG = "esp_ota_ops";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    esp_ota_handle_t handle; /* 0 = free */
    otakit_update_t u;
} sessions[MAX_SESSIONS];
static esp_ota_handle_t last_handle;
/* What the last esp_ota_end that succeeded verified: esp_ota_set_boot_partition does not
 * read and hash that image again while the flash's write epoch says nothing has been
 * written since (include/otakit/ota.h, otakit_ota_set_boot_verified). */
static otakit_image_proof_t last_proof;

static otakit_ota_t *ota(void)
{
    return &esp_state()->ota;
}

static int find_session(esp_ota_handle_t h)
{
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (h != 0 && sessions[i].handle == h) {
            return i;
        }
    }
    return -1;
}

/* Common part of begin and resume: the partition must be ours; one free slot. */
static esp_err_t open_session(const esp_partition_t *partition, esp_ota_handle_t *out_handle,
                              const otakit_part_t **core, int *slot)
{
    if (partition == NULL || out_handle == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!esp_state()->attached) {
        return ESP_ERR_INVALID_STATE;
    }
    *core = esp_part_core(partition);
    if (*core == NULL) {
        return ESP_ERR_NOT_FOUND;
    }
    *slot = -1;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (sessions[i].handle == 0) {
            *slot = i;
            break;
        }
    }
    return *slot < 0 ? ESP_ERR_NO_MEM : ESP_OK;
}

esp_err_t esp_ota_begin(const esp_partition_t *partition, size_t image_size,
                        esp_ota_handle_t *out_handle)
{
    const otakit_part_t *core;
    int slot;
    pthread_mutex_lock(&lock);
    esp_err_t err = open_session(partition, out_handle, &core, &slot);
    if (err == ESP_OK) {
        uint32_t size = image_size > 0xffffffffu ? 0xffffffffu : (uint32_t)image_size;
        err = otakit_update_begin(&sessions[slot].u, ota(), core, size);
    }
    if (err == ESP_OK) {
        sessions[slot].handle = ++last_handle;
        *out_handle = sessions[slot].handle;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_ota_resume(const esp_partition_t *partition, const size_t erase_size,
                         const size_t image_offset, esp_ota_handle_t *out_handle)
{
    const otakit_part_t *core;
    int slot;
    pthread_mutex_lock(&lock);
    esp_err_t err = open_session(partition, out_handle, &core, &slot);
    if (err == ESP_OK) {
        otakit_erase_policy_t policy = OTAKIT_ERASE_SIZE;
        uint32_t size = erase_size > 0xffffffffu ? 0xffffffffu : (uint32_t)erase_size;
        if (size == OTA_WITH_SEQUENTIAL_WRITES) {
            policy = OTAKIT_ERASE_SEQUENTIAL;
        } else if (size == 0 || size == OTA_SIZE_UNKNOWN) {
            policy = OTAKIT_ERASE_WHOLE;
            size = OTAKIT_OTA_SIZE_UNKNOWN;
        }
        uint32_t off = image_offset > 0xffffffffu ? 0xffffffffu : (uint32_t)image_offset;
        err = otakit_update_resume(&sessions[slot].u, ota(), core, policy, size, off);
    }
    if (err == ESP_OK) {
        sessions[slot].handle = ++last_handle;
        *out_handle = sessions[slot].handle;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_ota_write(esp_ota_handle_t handle, const void *data, size_t size)
{
    if (data == NULL) {
        ESP_LOGE(TAG, "write data is invalid");
        return ESP_ERR_INVALID_ARG;
    }
    if (size == 0) {
        return ESP_OK;
    }
    pthread_mutex_lock(&lock);
    int i = find_session(handle);
    esp_err_t err = ESP_ERR_INVALID_ARG;
    if (i < 0) {
        ESP_LOGE(TAG, "not found the handle");
    } else {
        err = otakit_update_write(&sessions[i].u, data, size);
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_ota_end(esp_ota_handle_t handle)
{
    pthread_mutex_lock(&lock);
    int i = find_session(handle);
    esp_err_t err = ESP_ERR_NOT_FOUND;
    if (i >= 0) {
        err = otakit_update_end(&sessions[i].u);
        if (err == ESP_OK) {
            /* CONFIG_SECURE_SIGNED_ON_UPDATE: a valid image is not enough. */
            err = esp_secure_check_app(sessions[i].u.part, sessions[i].u.proof.image_len);
        }
        if (err == ESP_OK) {
            last_proof = sessions[i].u.proof;
        }
        sessions[i].handle = 0;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_ota_abort(esp_ota_handle_t handle)
{
    pthread_mutex_lock(&lock);
    int i = find_session(handle);
    esp_err_t err = ESP_ERR_NOT_FOUND;
    if (i >= 0) {
        otakit_update_abort(&sessions[i].u);
        sessions[i].handle = 0;
        err = ESP_OK;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition)
{
    if (partition == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    const otakit_part_t *core = esp_part_core(partition);
    if (core == NULL || !esp_state()->attached) {
        return ESP_ERR_NOT_FOUND;
    }
    esp_err_t err = esp_secure_check_app(core, 0);
    if (err != ESP_OK) {
        return err;
    }
    pthread_mutex_lock(&lock);
    otakit_image_proof_t proof = last_proof;
    pthread_mutex_unlock(&lock);
    return otakit_ota_set_boot_verified(ota(), core, &proof);
}

const esp_partition_t *esp_ota_get_boot_partition(void)
{
    if (!esp_state()->attached) {
        return NULL;
    }
    return esp_part_from_core(otakit_ota_get_boot(ota()));
}

const esp_partition_t *esp_ota_get_running_partition(void)
{
    return esp_state()->running;
}

const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from)
{
    if (!esp_state()->attached) {
        return NULL;
    }
    const otakit_part_t *start = start_from != NULL ? esp_part_core(start_from) : NULL;
    if (start_from != NULL && start == NULL) {
        return NULL;
    }
    return esp_part_from_core(otakit_ota_next_update(ota(), start));
}

esp_err_t esp_ota_get_partition_description(const esp_partition_t *partition,
                                            esp_app_desc_t *app_desc)
{
    if (partition == NULL || app_desc == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (partition->type != ESP_PARTITION_TYPE_APP) {
        return ESP_ERR_NOT_SUPPORTED;
    }
    if (!esp_state()->attached) {
        return ESP_ERR_INVALID_STATE;
    }
    otakit_app_desc_t d;
    esp_err_t err = otakit_image_read_desc(esp_state()->flash, partition->address, &d);
    if (err == ESP_OK) {
        esp_app_desc_from_core(app_desc, &d);
    }
    return err;
}

uint8_t esp_ota_get_app_partition_count(void)
{
    esp_state_t *s = esp_state();
    return s->table_ok ? (uint8_t)otakit_ptable_ota_count(&s->table) : 0;
}

esp_err_t esp_ota_mark_app_valid_cancel_rollback(void)
{
    if (!esp_state()->attached) {
        return ESP_FAIL;
    }
    return otakit_ota_mark_valid(ota());
}

esp_err_t esp_ota_mark_app_invalid_rollback(void)
{
    if (!esp_state()->attached) {
        return ESP_FAIL;
    }
    return otakit_ota_mark_invalid(ota());
}

esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void)
{
    esp_err_t err = esp_ota_mark_app_invalid_rollback();
    if (err != ESP_OK) {
        return err;
    }
    esp_restart();
}

const esp_partition_t *esp_ota_get_last_invalid_partition(void)
{
    if (!esp_state()->attached) {
        return NULL;
    }
    return esp_part_from_core(otakit_ota_last_invalid(ota()));
}

esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition,
                                      esp_ota_img_states_t *ota_state)
{
    if (partition == NULL || ota_state == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    const otakit_part_t *core = esp_part_core(partition);
    if (core == NULL || !esp_state()->attached) {
        return ESP_ERR_NOT_FOUND;
    }
    uint32_t st;
    esp_err_t err = otakit_ota_get_state(ota(), core, &st);
    if (err == ESP_OK) {
        *ota_state = (esp_ota_img_states_t)st;
    }
    return err;
}

esp_err_t esp_ota_erase_last_boot_app_partition(void)
{
    if (!esp_state()->attached) {
        return ESP_FAIL;
    }
    return otakit_ota_erase_last_boot_app(ota());
}

bool esp_ota_check_rollback_is_possible(void)
{
    return esp_state()->attached && otakit_ota_rollback_possible(ota());
}

/* ---- the running app's description ------------------------------------------------ */

const esp_app_desc_t *esp_app_get_description(void)
{
    return &esp_state()->app_desc;
}

const esp_app_desc_t *esp_ota_get_app_description(void)
{
    return esp_app_get_description();
}

int esp_app_get_elf_sha256(char *dst, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    if (dst == NULL || size == 0) {
        return 0;
    }
    const esp_app_desc_t *d = esp_app_get_description();
    size_t n = (size - 1) / 2;
    if (n > sizeof(d->app_elf_sha256)) {
        n = sizeof(d->app_elf_sha256);
    }
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = hex[d->app_elf_sha256[i] >> 4];
        dst[2 * i + 1] = hex[d->app_elf_sha256[i] & 0xf];
    }
    dst[2 * n] = '\0';
    return (int)(2 * n);
}

int esp_ota_get_app_elf_sha256(char *dst, size_t size)
{
    return esp_app_get_elf_sha256(dst, size);
}
