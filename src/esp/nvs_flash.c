/* nvs.h / nvs_flash.h over the core's NVS engine. As ESP-IDF does, this layer keeps the
 * list of initialised partitions and integer handles (from 1 up), behind one lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "esp_state.h"
#include "nvs_flash.h"

#define MAX_PARTS 8

typedef struct storage {
    bool used;
    char label[NVS_PART_NAME_MAX_SIZE + 1];
    otakit_nvs_t nvs;
    otakit_nvs_page_t *pages;
} storage_t;

typedef struct handle {
    nvs_handle_t id;
    storage_t *st;
    uint8_t ns;
    bool readonly;
} handle_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static storage_t storages[MAX_PARTS];
static handle_t *handles;
static size_t handle_count, handle_cap;
static nvs_handle_t next_handle = 1;

/* Release the lock, passing a result through. */
static esp_err_t unlock_with(esp_err_t err)
{
    pthread_mutex_unlock(&lock);
    return err;
}

static storage_t *find_storage(const char *label)
{
    for (int i = 0; i < MAX_PARTS; i++) {
        if (storages[i].used && strcmp(storages[i].label, label) == 0) {
            return &storages[i];
        }
    }
    return NULL;
}

static handle_t *find_handle(nvs_handle_t id)
{
    for (size_t i = 0; i < handle_count; i++) {
        if (handles[i].id == id) {
            return &handles[i];
        }
    }
    return NULL;
}

static void drop_handles(const storage_t *st)
{
    size_t k = 0;
    for (size_t i = 0; i < handle_count; i++) {
        if (handles[i].st != st) {
            handles[k++] = handles[i];
        }
    }
    handle_count = k;
}

static esp_err_t init_locked(const esp_partition_t *p)
{
    if (find_storage(p->label) != NULL) {
        return ESP_OK;
    }
    if (p->encrypted) {
        return ESP_ERR_NVS_WRONG_ENCRYPTION;
    }
    storage_t *st = NULL;
    for (int i = 0; i < MAX_PARTS && st == NULL; i++) {
        st = storages[i].used ? NULL : &storages[i];
    }
    if (st == NULL) {
        return ESP_ERR_NO_MEM;
    }
    size_t n = p->size / OTAKIT_NVS_PAGE_SIZE;
    st->pages = calloc(n ? n : 1, sizeof(*st->pages));
    if (st->pages == NULL) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = otakit_nvs_init(&st->nvs, esp_state()->flash, p->address, p->size, st->pages, n,
                                    p->readonly);
    if (err != ESP_OK) {
        free(st->pages);
        st->pages = NULL;
        return err;
    }
    snprintf(st->label, sizeof(st->label), "%s", p->label);
    st->used = true;
    return ESP_OK;
}

esp_err_t nvs_flash_init_partition_ptr(const esp_partition_t *partition)
{
    if (partition == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    return unlock_with(init_locked(partition));
}

esp_err_t nvs_flash_init_partition(const char *partition_label)
{
    if (partition_label == NULL || strlen(partition_label) > NVS_PART_NAME_MAX_SIZE) {
        return ESP_ERR_INVALID_ARG;
    }
    const esp_partition_t *p = esp_partition_find_first(
        ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_NVS, partition_label);
    if (p == NULL) {
        return ESP_ERR_NOT_FOUND;
    }
    return nvs_flash_init_partition_ptr(p);
}

esp_err_t nvs_flash_init(void)
{
    return nvs_flash_init_partition(NVS_DEFAULT_PART_NAME);
}

static esp_err_t deinit_locked(const char *label)
{
    storage_t *st = find_storage(label);
    if (st == NULL) {
        return ESP_ERR_NVS_NOT_INITIALIZED;
    }
    drop_handles(st);
    free(st->pages);
    memset(st, 0, sizeof(*st));
    return ESP_OK;
}

esp_err_t nvs_flash_deinit_partition(const char *partition_label)
{
    if (partition_label == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    return unlock_with(deinit_locked(partition_label));
}

esp_err_t nvs_flash_deinit(void)
{
    return nvs_flash_deinit_partition(NVS_DEFAULT_PART_NAME);
}

esp_err_t nvs_flash_erase_partition_ptr(const esp_partition_t *partition)
{
    if (partition == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    /* Released first when initialised; the erase under the lock too, or another task's
     * nvs_flash_init could load the partition while it is being erased. */
    pthread_mutex_lock(&lock);
    deinit_locked(partition->label);
    return unlock_with(esp_partition_erase_range(partition, 0, partition->size));
}

esp_err_t nvs_flash_erase_partition(const char *part_name)
{
    if (part_name == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    const esp_partition_t *p = esp_partition_find_first(ESP_PARTITION_TYPE_DATA,
                                                        ESP_PARTITION_SUBTYPE_DATA_NVS, part_name);
    if (p == NULL) {
        pthread_mutex_lock(&lock);
        deinit_locked(part_name);
        pthread_mutex_unlock(&lock);
        return ESP_ERR_NOT_FOUND;
    }
    return nvs_flash_erase_partition_ptr(p);
}

esp_err_t nvs_flash_erase(void)
{
    return nvs_flash_erase_partition(NVS_DEFAULT_PART_NAME);
}

esp_err_t nvs_open_from_partition(const char *part_name, const char *namespace_name,
                                  nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    if (out_handle == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&lock);
    esp_err_t err = ESP_OK;
    bool any = false;
    for (int i = 0; i < MAX_PARTS; i++) {
        any |= storages[i].used;
    }
    storage_t *st = part_name != NULL ? find_storage(part_name) : NULL;
    uint8_t ns = 0;
    if (!any) {
        err = ESP_ERR_NVS_NOT_INITIALIZED;
    } else if (st == NULL) {
        err = ESP_ERR_NVS_PART_NOT_FOUND;
    } else if (open_mode == NVS_READWRITE && st->nvs.readonly) {
        err = ESP_ERR_NOT_ALLOWED;
    } else {
        err = otakit_nvs_ns_open(&st->nvs, namespace_name, open_mode == NVS_READWRITE, &ns);
    }
    if (err == ESP_OK && handle_count == handle_cap) {
        size_t cap = handle_cap ? handle_cap * 2 : 8;
        handle_t *h = realloc(handles, cap * sizeof(*h));
        if (h == NULL) {
            err = ESP_ERR_NO_MEM;
        } else {
            handles = h;
            handle_cap = cap;
        }
    }
    if (err == ESP_OK) {
        handle_t *h = &handles[handle_count++];
        h->id = next_handle++;
        h->st = st;
        h->ns = ns;
        h->readonly = open_mode == NVS_READONLY;
        *out_handle = h->id;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t nvs_open(const char *namespace_name, nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    return nvs_open_from_partition(NVS_DEFAULT_PART_NAME, namespace_name, open_mode, out_handle);
}

void nvs_close(nvs_handle_t handle)
{
    pthread_mutex_lock(&lock);
    handle_t *h = find_handle(handle);
    if (h != NULL) {
        *h = handles[--handle_count];
    }
    pthread_mutex_unlock(&lock);
}

/* Look the handle up under the lock; returns with the lock held on ESP_OK. */
static esp_err_t take(nvs_handle_t id, bool write, handle_t **out)
{
    pthread_mutex_lock(&lock);
    handle_t *h = find_handle(id);
    esp_err_t err = h == NULL              ? ESP_ERR_NVS_INVALID_HANDLE
                    : write && h->readonly ? ESP_ERR_NVS_READ_ONLY
                                           : ESP_OK;
    if (err != ESP_OK) {
        pthread_mutex_unlock(&lock);
        return err;
    }
    *out = h;
    return ESP_OK;
}

static esp_err_t set_typed(nvs_handle_t handle, const char *key, otakit_nvs_type_t type,
                           const void *v, size_t n)
{
    handle_t *h;
    esp_err_t err = take(handle, true, &h);
    return err != ESP_OK ? err : unlock_with(otakit_nvs_set(&h->st->nvs, h->ns, key, type, v, n));
}

static esp_err_t get_typed(nvs_handle_t handle, const char *key, otakit_nvs_type_t type, void *v,
                           size_t n)
{
    if (v == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    handle_t *h;
    esp_err_t err = take(handle, false, &h);
    return err != ESP_OK ? err : unlock_with(otakit_nvs_get(&h->st->nvs, h->ns, key, type, v, n));
}

#define SET_GET(suffix, ctype, otype)                                                              \
    esp_err_t nvs_set_##suffix(nvs_handle_t handle, const char *key, ctype value)                  \
    {                                                                                              \
        return set_typed(handle, key, otype, &value, sizeof(value));                               \
    }                                                                                              \
    esp_err_t nvs_get_##suffix(nvs_handle_t handle, const char *key, ctype *out_value)             \
    {                                                                                              \
        return get_typed(handle, key, otype, out_value, sizeof(*out_value));                       \
    }
SET_GET(i8, int8_t, OTAKIT_NVS_I8)
SET_GET(u8, uint8_t, OTAKIT_NVS_U8)
SET_GET(i16, int16_t, OTAKIT_NVS_I16)
SET_GET(u16, uint16_t, OTAKIT_NVS_U16)
SET_GET(i32, int32_t, OTAKIT_NVS_I32)
SET_GET(u32, uint32_t, OTAKIT_NVS_U32)
SET_GET(i64, int64_t, OTAKIT_NVS_I64)
SET_GET(u64, uint64_t, OTAKIT_NVS_U64)
#undef SET_GET

esp_err_t nvs_set_str(nvs_handle_t handle, const char *key, const char *value)
{
    if (value == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    return set_typed(handle, key, OTAKIT_NVS_STR, value, strlen(value) + 1);
}

esp_err_t nvs_set_blob(nvs_handle_t handle, const char *key, const void *value, size_t length)
{
    return set_typed(handle, key, OTAKIT_NVS_BLOB, value, length);
}

/* ESP-IDF's nvs_get_str_or_blob: the size first, then the length rules. */
static esp_err_t get_var(nvs_handle_t handle, const char *key, otakit_nvs_type_t type, void *out,
                         size_t *length)
{
    handle_t *h;
    esp_err_t err = take(handle, false, &h);
    if (err != ESP_OK) {
        return err;
    }
    size_t size = 0;
    err = otakit_nvs_get_size(&h->st->nvs, h->ns, key, type, &size);
    if (err == ESP_OK) {
        if (length == NULL) {
            err = ESP_ERR_NVS_INVALID_LENGTH;
        } else if (out == NULL) {
            *length = size;
        } else if (*length < size) {
            *length = size;
            err = ESP_ERR_NVS_INVALID_LENGTH;
        } else {
            *length = size;
            err = otakit_nvs_get(&h->st->nvs, h->ns, key, type, out, size);
        }
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t nvs_get_str(nvs_handle_t handle, const char *key, char *out_value, size_t *length)
{
    return get_var(handle, key, OTAKIT_NVS_STR, out_value, length);
}

esp_err_t nvs_get_blob(nvs_handle_t handle, const char *key, void *out_value, size_t *length)
{
    return get_var(handle, key, OTAKIT_NVS_BLOB, out_value, length);
}

esp_err_t nvs_find_key(nvs_handle_t handle, const char *key, nvs_type_t *out_type)
{
    handle_t *h;
    esp_err_t err = take(handle, false, &h);
    if (err != ESP_OK) {
        return err;
    }
    otakit_nvs_type_t t;
    err = unlock_with(otakit_nvs_find_key(&h->st->nvs, h->ns, key, &t));
    if (err == ESP_OK && out_type != NULL) {
        *out_type = (nvs_type_t)t;
    }
    return err;
}

esp_err_t nvs_erase_key(nvs_handle_t handle, const char *key)
{
    handle_t *h;
    esp_err_t err = take(handle, true, &h);
    return err != ESP_OK ? err : unlock_with(otakit_nvs_erase_key(&h->st->nvs, h->ns, key));
}

esp_err_t nvs_erase_all(nvs_handle_t handle)
{
    handle_t *h;
    esp_err_t err = take(handle, true, &h);
    return err != ESP_OK ? err : unlock_with(otakit_nvs_erase_ns(&h->st->nvs, h->ns));
}

esp_err_t nvs_commit(nvs_handle_t handle)
{
    handle_t *h;
    esp_err_t err = take(handle, false, &h); /* written already: only the handle is checked */
    return err != ESP_OK ? err : unlock_with(ESP_OK);
}

esp_err_t nvs_get_stats(const char *part_name, nvs_stats_t *nvs_stats)
{
    if (nvs_stats == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    memset(nvs_stats, 0, sizeof(*nvs_stats));
    pthread_mutex_lock(&lock);
    storage_t *st = find_storage(part_name != NULL ? part_name : NVS_DEFAULT_PART_NAME);
    esp_err_t err = ESP_ERR_NVS_NOT_INITIALIZED;
    if (st != NULL) {
        otakit_nvs_stats_t s;
        err = otakit_nvs_stats(&st->nvs, &s);
        if (err == ESP_OK) {
            nvs_stats->used_entries = s.used_entries;
            nvs_stats->free_entries = s.free_entries;
            nvs_stats->available_entries = s.available_entries;
            nvs_stats->total_entries = s.total_entries;
            nvs_stats->namespace_count = s.namespace_count;
        }
    }
    pthread_mutex_unlock(&lock);
    return err;
}

esp_err_t nvs_get_used_entry_count(nvs_handle_t handle, size_t *used_entries)
{
    if (used_entries == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    *used_entries = 0;
    handle_t *h;
    esp_err_t err = take(handle, false, &h);
    return err != ESP_OK ? err
                         : unlock_with(otakit_nvs_ns_entries(&h->st->nvs, h->ns, used_entries));
}
