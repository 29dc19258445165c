/* esp_partition.h over the device's flash, and the layer's per-process state. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "esp_flash_partitions.h"
#include "esp_log.h"
#include "esp_state.h"
#include "hw.h"
#include "otakit/image.h"
#include "sdkconfig.h"

#ifndef CONFIG_PARTITION_TABLE_OFFSET
#define CONFIG_PARTITION_TABLE_OFFSET 0x8000
#endif

static const char *TAG = "esp_partition";

static esp_state_t state;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void esp_state_init(void)
{
    esp_state_t *s = &state;
    if (otakit_hw_attach() != 0) {
        return;
    }
    s->attached = true;
    s->flash = otakit_hw_flash();
    /* As ESP-IDF's load_partitions(): the records and the MD5, not the flash size
     * (only the bootloader checks that, against its image header). */
    otakit_diag_t diag = {0, NULL};
    static uint8_t buf[OTAKIT_PTABLE_MAX_LEN];
    otakit_err_t err = otakit_flash_read(s->flash, CONFIG_PARTITION_TABLE_OFFSET, buf, sizeof(buf));
    if (err == OTAKIT_OK) {
#ifdef CONFIG_PARTITION_TABLE_MD5
        const bool require_md5 = true;
#else
        const bool require_md5 = false;
#endif
        err = otakit_ptable_parse(&s->table, buf, sizeof(buf), 0, require_md5, &diag);
    }
    if (err != OTAKIT_OK) {
        ESP_LOGE(TAG, "partition table at 0x%x: %s (offset 0x%x)",
                 (unsigned)CONFIG_PARTITION_TABLE_OFFSET,
                 diag.msg != NULL ? diag.msg : esp_err_to_name(err), (unsigned)diag.offset);
    } else {
        s->table_ok = true;
        s->count = s->table.count;
        for (size_t i = 0; i < s->count; i++) {
            const otakit_part_t *p = &s->table.parts[i];
            esp_partition_t *e = &s->parts[i];
            e->flash_chip = esp_flash_default_chip;
            e->type = (esp_partition_type_t)p->type;
            e->subtype = (esp_partition_subtype_t)p->subtype;
            e->address = p->offset;
            e->size = p->size;
            e->erase_size = OTAKIT_SECTOR_SIZE;
            memcpy(e->label, p->label, sizeof(e->label));
            e->encrypted = (p->flags & OTAKIT_PART_FLAG_ENCRYPTED) != 0;
            e->readonly = (p->flags & OTAKIT_PART_FLAG_READONLY) != 0;
        }
        uint32_t app = otakit_hw_app_offset();
        for (size_t i = 0; i < s->count; i++) {
            if (s->parts[i].type == ESP_PARTITION_TYPE_APP && s->parts[i].address == app) {
                s->running = &s->parts[i];
            }
        }
    }
    s->ota.flash = s->flash;
    s->ota.table = &s->table;
    s->ota.running = esp_part_core(s->running);
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    s->ota.rollback = true;
#endif
#ifdef CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    s->ota.anti_rollback = true;
#endif
    s->ota.efuse = otakit_hw_efuse();
#ifdef CONFIG_OTAKIT_APP_REQUIRE_SHA256
    s->ota.require_hash = true;
#endif
    s->ota.chip_id = OTAKIT_CHIP_ESP32;
    s->ota.log = otakit_console_sink();
    if (s->running != NULL) {
        otakit_app_desc_t d;
        if (otakit_image_read_desc(s->flash, s->running->address, &d) == OTAKIT_OK) {
            esp_app_desc_from_core(&s->app_desc, &d);
            s->have_desc = true;
        }
    }
}

esp_state_t *esp_state(void)
{
    pthread_once(&once, esp_state_init);
    return &state;
}

const otakit_part_t *esp_part_core(const esp_partition_t *p)
{
    esp_state_t *s = &state;
    if (p == NULL) {
        return NULL;
    }
    if (p >= s->parts && p < s->parts + s->count) {
        return &s->table.parts[p - s->parts];
    }
    for (size_t i = 0; i < s->count; i++) {
        const esp_partition_t *e = &s->parts[i];
        if (e->address == p->address && e->size == p->size && e->type == p->type &&
            e->subtype == p->subtype && strncmp(e->label, p->label, sizeof(e->label)) == 0) {
            return &s->table.parts[i];
        }
    }
    return NULL;
}

const esp_partition_t *esp_part_from_core(const otakit_part_t *p)
{
    esp_state_t *s = &state;
    if (p == NULL || p < s->table.parts || p >= s->table.parts + s->count) {
        return NULL;
    }
    return &s->parts[p - s->table.parts];
}

/* A NUL-terminated string into a fixed field that needs no terminator when full. */
static void put_field(char *dst, size_t field, const char *src)
{
    size_t n = strnlen(src, field);
    memcpy(dst, src, n);
}

void esp_app_desc_from_core(esp_app_desc_t *out, const otakit_app_desc_t *d)
{
    memset(out, 0, sizeof(*out));
    out->magic_word = d->magic;
    out->secure_version = d->secure_version;
    put_field(out->version, sizeof(out->version), d->version);
    put_field(out->project_name, sizeof(out->project_name), d->project_name);
    put_field(out->time, sizeof(out->time), d->time);
    put_field(out->date, sizeof(out->date), d->date);
    put_field(out->idf_ver, sizeof(out->idf_ver), d->idf_ver);
    memcpy(out->app_elf_sha256, d->app_elf_sha256, sizeof(out->app_elf_sha256));
    out->min_efuse_blk_rev_full = d->min_efuse_blk_rev_full;
    out->max_efuse_blk_rev_full = d->max_efuse_blk_rev_full;
    out->mmu_page_size = d->mmu_page_size;
}

/* ---- find ------------------------------------------------------------------------ */

struct esp_partition_iterator_opaque_ {
    esp_partition_type_t type;
    esp_partition_subtype_t subtype;
    char label[17];
    bool any_label;
    size_t next; /* index of the next candidate */
    const esp_partition_t *cur;
};

static bool matches(const struct esp_partition_iterator_opaque_ *it, const esp_partition_t *p)
{
    return (it->type == ESP_PARTITION_TYPE_ANY || p->type == it->type) &&
           (it->subtype == ESP_PARTITION_SUBTYPE_ANY || p->subtype == it->subtype) &&
           (it->any_label || strcmp(p->label, it->label) == 0);
}

static bool advance(struct esp_partition_iterator_opaque_ *it)
{
    esp_state_t *s = esp_state();
    while (it->next < s->count) {
        const esp_partition_t *p = &s->parts[it->next++];
        if (matches(it, p)) {
            it->cur = p;
            return true;
        }
    }
    it->cur = NULL;
    return false;
}

esp_partition_iterator_t esp_partition_find(esp_partition_type_t type,
                                            esp_partition_subtype_t subtype, const char *label)
{
    if (type == ESP_PARTITION_TYPE_ANY && subtype != ESP_PARTITION_SUBTYPE_ANY) {
        return NULL; /* as ESP-IDF: a subtype needs a type */
    }
    struct esp_partition_iterator_opaque_ *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        return NULL;
    }
    it->type = type;
    it->subtype = subtype;
    it->any_label = label == NULL;
    if (label != NULL) {
        snprintf(it->label, sizeof(it->label), "%s", label);
    }
    if (!advance(it)) {
        free(it);
        return NULL;
    }
    return it;
}

const esp_partition_t *esp_partition_find_first(esp_partition_type_t type,
                                                esp_partition_subtype_t subtype, const char *label)
{
    esp_partition_iterator_t it = esp_partition_find(type, subtype, label);
    if (it == NULL) {
        return NULL;
    }
    const esp_partition_t *p = esp_partition_get(it);
    esp_partition_iterator_release(it);
    return p;
}

const esp_partition_t *esp_partition_get(esp_partition_iterator_t iterator)
{
    return iterator != NULL ? iterator->cur : NULL;
}

esp_partition_iterator_t esp_partition_next(esp_partition_iterator_t iterator)
{
    if (iterator == NULL) {
        return NULL;
    }
    if (!advance(iterator)) {
        free(iterator);
        return NULL;
    }
    return iterator;
}

void esp_partition_iterator_release(esp_partition_iterator_t iterator)
{
    free(iterator);
}

const esp_partition_t *esp_partition_verify(const esp_partition_t *partition)
{
    if (partition == NULL) {
        return NULL;
    }
    (void)esp_state();
    return esp_part_from_core(esp_part_core(partition));
}

/* ---- read / write / erase -------------------------------------------------------- */

static esp_err_t check_range(const esp_partition_t *p, size_t offset, size_t size)
{
    if (p == NULL || !esp_state()->attached) {
        return ESP_ERR_INVALID_ARG;
    }
    if (offset > p->size) {
        return ESP_ERR_INVALID_ARG;
    }
    if (size > p->size - offset) {
        return ESP_ERR_INVALID_SIZE;
    }
    return ESP_OK;
}

esp_err_t esp_partition_read(const esp_partition_t *partition, size_t src_offset, void *dst,
                             size_t size)
{
    if (partition != NULL && partition->encrypted) {
        return ESP_ERR_NOT_SUPPORTED; /* no flash encryption on the virtual device */
    }
    return esp_partition_read_raw(partition, src_offset, dst, size);
}

esp_err_t esp_partition_write(const esp_partition_t *partition, size_t dst_offset, const void *src,
                              size_t size)
{
    if (partition != NULL && partition->encrypted) {
        return ESP_ERR_NOT_SUPPORTED; /* no flash encryption on the virtual device */
    }
    return esp_partition_write_raw(partition, dst_offset, src, size);
}

esp_err_t esp_partition_read_raw(const esp_partition_t *partition, size_t src_offset, void *dst,
                                 size_t size)
{
    if (dst == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = check_range(partition, src_offset, size);
    if (err != ESP_OK || size == 0) {
        return err;
    }
    return otakit_flash_read(esp_state()->flash, partition->address + (uint32_t)src_offset, dst,
                             size);
}

esp_err_t esp_partition_write_raw(const esp_partition_t *partition, size_t dst_offset,
                                  const void *src, size_t size)
{
    if (src == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = check_range(partition, dst_offset, size);
    if (err != ESP_OK || size == 0) {
        return err;
    }
    if (partition->readonly) {
        return ESP_ERR_NOT_ALLOWED;
    }
    return otakit_flash_write(esp_state()->flash, partition->address + (uint32_t)dst_offset, src,
                              size);
}

esp_err_t esp_partition_erase_range(const esp_partition_t *partition, size_t offset, size_t size)
{
    esp_err_t err = check_range(partition, offset, size);
    if (err != ESP_OK) {
        return err;
    }
    if (partition->readonly) {
        return ESP_ERR_NOT_ALLOWED;
    }
    if (offset % OTAKIT_SECTOR_SIZE != 0) {
        return ESP_ERR_INVALID_ARG;
    }
    if (size % OTAKIT_SECTOR_SIZE != 0) {
        return ESP_ERR_INVALID_SIZE;
    }
    if (size == 0) {
        return ESP_OK;
    }
    return otakit_flash_erase(esp_state()->flash, partition->address + (uint32_t)offset, size);
}

/* ---- SHA-256 --------------------------------------------------------------------- */

esp_err_t esp_partition_get_sha256(const esp_partition_t *partition, uint8_t *sha_256)
{
    if (partition == NULL || sha_256 == NULL || !esp_state()->attached) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_state_t *s = esp_state();
    if (partition->type == ESP_PARTITION_TYPE_APP) {
        otakit_image_opts_t opts = {
            .chip_id = OTAKIT_CHIP_ESP32, .max_size = partition->size, .skip_hash = false};
        otakit_image_info_t *info = malloc(sizeof(*info));
        if (info == NULL) {
            return ESP_ERR_NO_MEM;
        }
        otakit_err_t err =
            otakit_image_verify_flash(s->flash, partition->address, &opts, info, NULL);
        if (err == OTAKIT_OK) {
            memcpy(sha_256, info->hash_calc, 32);
        }
        free(info);
        return err;
    }
    otakit_hash_ctx_t ctx;
    esp_err_t err = otakit_hash_start(&ctx, OTAKIT_HASH_SHA256);
    if (err != ESP_OK) {
        return err;
    }
    uint8_t *buf = malloc(OTAKIT_SECTOR_SIZE);
    if (buf == NULL) {
        err = ESP_ERR_NO_MEM;
    }
    for (uint32_t off = 0; err == ESP_OK && off < partition->size; off += OTAKIT_SECTOR_SIZE) {
        uint32_t n =
            partition->size - off < OTAKIT_SECTOR_SIZE ? partition->size - off : OTAKIT_SECTOR_SIZE;
        err = otakit_flash_read(s->flash, partition->address + off, buf, n);
        if (err == ESP_OK) {
            err = otakit_hash_update(&ctx, buf, n);
        }
    }
    esp_err_t fin = otakit_hash_finish(&ctx, err == ESP_OK ? sha_256 : NULL);
    if (err == ESP_OK) {
        err = fin;
    }
    free(buf);
    return err;
}

bool esp_partition_check_identity(const esp_partition_t *partition_1,
                                  const esp_partition_t *partition_2)
{
    uint8_t a[32], b[32];
    return esp_partition_get_sha256(partition_1, a) == ESP_OK &&
           esp_partition_get_sha256(partition_2, b) == ESP_OK && memcmp(a, b, sizeof(a)) == 0;
}

/* ---- esp_flash_partitions.h */

esp_err_t esp_partition_table_verify(const esp_partition_info_t *partition_table, bool log_errors,
                                     int *num_partitions)
{
    if (partition_table == NULL)
        return ESP_ERR_INVALID_ARG;
    static otakit_ptable_t t; /* large; ESP-IDF's verify is not reentrant either */
    otakit_diag_t diag = {0, NULL};
    otakit_err_t err = otakit_ptable_parse(&t, (const uint8_t *)partition_table,
                                           ESP_PARTITION_TABLE_MAX_LEN, 0, false, &diag);
    if (err != OTAKIT_OK) {
        if (log_errors)
            ESP_LOGE(TAG, "partition table: %s (offset 0x%x)",
                     diag.msg != NULL ? diag.msg : esp_err_to_name(err), (unsigned)diag.offset);
        return ESP_ERR_INVALID_STATE;
    }
    for (size_t i = 0; i < t.count; i++) {
        const otakit_part_t *a = &t.parts[i];
        if (a->offset < ESP_PARTITION_TABLE_OFFSET + ESP_PARTITION_TABLE_SIZE &&
            a->offset + a->size > ESP_PARTITION_TABLE_OFFSET) {
            if (log_errors)
                ESP_LOGE(TAG, "partition %s overlaps the partition table", a->label);
            return ESP_ERR_INVALID_STATE;
        }
        for (size_t j = i + 1; j < t.count; j++) {
            const otakit_part_t *b = &t.parts[j];
            if (a->offset < b->offset + b->size && b->offset < a->offset + a->size) {
                if (log_errors)
                    ESP_LOGE(TAG, "partitions %s and %s overlap", a->label, b->label);
                return ESP_ERR_INVALID_STATE;
            }
        }
    }
    if (num_partitions != NULL)
        *num_partitions = (int)t.count;
    return ESP_OK;
}

static bool overlaps(size_t addr, size_t size, size_t start, size_t len)
{
    return addr < start + len && start < addr + size;
}

bool esp_partition_is_flash_region_writable(size_t addr, size_t size)
{
    if (overlaps(addr, size, 0, ESP_PARTITION_TABLE_OFFSET + ESP_PARTITION_TABLE_SIZE))
        return false;
    esp_state_t *s = esp_state();
    for (size_t i = 0; s->table_ok && i < s->count; i++) {
        const esp_partition_t *p = &s->parts[i];
        if (p->readonly && overlaps(addr, size, p->address, p->size))
            return false;
    }
    return true;
}

bool esp_partition_main_flash_region_safe(size_t addr, size_t size)
{
    if (overlaps(addr, size, 0, ESP_PARTITION_TABLE_OFFSET + ESP_PARTITION_TABLE_SIZE))
        return false;
    const esp_partition_t *run = esp_state()->running;
    return run == NULL || !overlaps(addr, size, run->address, run->size);
}
