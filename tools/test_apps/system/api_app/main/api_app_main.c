/* Exercises the ESP-IDF-style API on the virtual device and prints one line per check
 * ("API ok NAME" / "API FAIL NAME: ..."), in three boots:
 *   A  from factory: chip, MAC, time, tasks, partitions (find, read/write/erase, NOR
 *      rules, SHA-256), OTA errors, then copies itself into ota_0, selects it, restarts;
 *   B  from ota_0 (a new image): states, rollback rules, confirms itself, then marks
 *      itself invalid and reboots (rollback);
 *   C  back on factory: the last invalid partition; "API DONE".
 * NVS: phase A erases the "nvs" partition, stores values of every type and checks the
 * API's rules; phase B reads them back after the reboot (read-only handle).
 * tests/e2e/device_api.sh runs it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "esp_chip_info.h"
#include "esp_err.h"
#include "esp_flash.h"
#include "esp_http_client.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_ota_ops.h"
#include "esp_partition.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

static const char *TAG = "api";
static int passed, failed;

static void check(const char *name, int ok, const char *fmt, long long got)
{
    if (ok) {
        passed++;
        printf("API ok %s\n", name);
    } else {
        failed++;
        printf("API FAIL %s: ", name);
        printf(fmt, got);
        printf("\n");
    }
}

#define CHECK(name, cond) check(name, (cond), "%lld", 0)
#define CHECK_ERR(name, call, want)                                                                \
    do {                                                                                           \
        esp_err_t e_ = (call);                                                                     \
        check(name, e_ == (want), "got 0x%llx", (long long)e_);                                    \
    } while (0)

static void summary(const char *phase)
{
    printf("API phase %s: %d passed, %d failed\n", phase, passed, failed);
}

static const esp_partition_t *app(esp_partition_subtype_t st)
{
    return esp_partition_find_first(ESP_PARTITION_TYPE_APP, st, NULL);
}

static EventGroupHandle_t group;

static QueueHandle_t queue;
static SemaphoreHandle_t ready;

/* Sends 1..5 through the queue (it holds 2, so the sender waits for the receiver),
 * then gives the binary semaphore. */
static void producer_fn(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 5; i++) {
        xQueueSend(queue, &i, portMAX_DELAY);
    }
    xSemaphoreGive(ready);
    vTaskDelete(NULL);
}

/* Queues and semaphores: FIFO order, a full queue and an empty one time out, front
 * sends, peek, overwrite, counting and binary semaphores, mutexes and their owners. */
static void queue_checks(void)
{
    queue = xQueueCreate(2, sizeof(int));
    ready = xSemaphoreCreateBinary();
    CHECK("queue and binary semaphore", queue != NULL && ready != NULL);
    int v = 0;
    CHECK("empty queue times out", xQueueReceive(queue, &v, pdMS_TO_TICKS(20)) == errQUEUE_EMPTY);
    CHECK("binary semaphore starts empty", xSemaphoreTake(ready, 0) == pdFALSE);
    CHECK("producer created", xTaskCreate(producer_fn, "producer", 4096, NULL, 5, NULL) == pdPASS);
    int order_ok = 1;
    for (int i = 1; i <= 5; i++) {
        order_ok &= xQueueReceive(queue, &v, portMAX_DELAY) == pdPASS && v == i;
    }
    CHECK("queue: five items in order across a full queue", order_ok);
    CHECK("producer gave the semaphore", xSemaphoreTake(ready, portMAX_DELAY) == pdTRUE);
    int a = 10, b = 20, c = 30;
    xQueueSend(queue, &a, 0);
    CHECK("send to front", xQueueSendToFront(queue, &b, 0) == pdPASS);
    CHECK("full queue times out", xQueueSend(queue, &c, pdMS_TO_TICKS(20)) == errQUEUE_FULL);
    CHECK("waiting 2, space 0",
          uxQueueMessagesWaiting(queue) == 2 && uxQueueSpacesAvailable(queue) == 0);
    CHECK("peek leaves the front",
          xQueuePeek(queue, &v, 0) == pdPASS && v == 20 && uxQueueMessagesWaiting(queue) == 2);
    CHECK("front first, then back", xQueueReceive(queue, &v, 0) == pdPASS && v == 20 &&
                                        xQueueReceive(queue, &v, 0) == pdPASS && v == 10);
    QueueHandle_t mailbox = xQueueCreate(1, sizeof(int));
    xQueueOverwrite(mailbox, &a);
    xQueueOverwrite(mailbox, &c);
    CHECK("overwrite keeps the last", xQueueReceive(mailbox, &v, 0) == pdPASS && v == 30);
    vQueueDelete(mailbox);
    vQueueDelete(queue);
    vSemaphoreDelete(ready);

    SemaphoreHandle_t count = xSemaphoreCreateCounting(3, 2);
    CHECK("counting: 2 of 3", count != NULL && uxSemaphoreGetCount(count) == 2);
    CHECK("counting: two takes, the third times out",
          xSemaphoreTake(count, 0) && xSemaphoreTake(count, 0) && !xSemaphoreTake(count, 0));
    CHECK("counting: gives up to the max", xSemaphoreGive(count) && xSemaphoreGive(count) &&
                                               xSemaphoreGive(count) && !xSemaphoreGive(count));
    vSemaphoreDelete(count);

    SemaphoreHandle_t mutex = xSemaphoreCreateMutex();
    CHECK("mutex starts free", mutex != NULL && xSemaphoreTake(mutex, 0) == pdTRUE);
    CHECK("mutex held: a second take times out",
          xSemaphoreTake(mutex, pdMS_TO_TICKS(10)) == pdFALSE);
    CHECK("mutex given by its holder", xSemaphoreGive(mutex) == pdTRUE);
    CHECK("a free mutex is not given again", xSemaphoreGive(mutex) == pdFALSE);
    vSemaphoreDelete(mutex);

    SemaphoreHandle_t rec = xSemaphoreCreateRecursiveMutex();
    CHECK("recursive: taken twice by its holder",
          xSemaphoreTakeRecursive(rec, 0) == pdTRUE && xSemaphoreTakeRecursive(rec, 0) == pdTRUE);
    CHECK("recursive: still held after one give",
          xSemaphoreGiveRecursive(rec) == pdTRUE && uxSemaphoreGetCount(rec) == 0);
    CHECK("recursive: free after the second give",
          xSemaphoreGiveRecursive(rec) == pdTRUE && uxSemaphoreGetCount(rec) == 1);
    vSemaphoreDelete(rec);
}

static void task_fn(void *arg)
{
    (void)arg;
    vTaskDelay(pdMS_TO_TICKS(50));
    xEventGroupSetBits(group, 0x4);
    vTaskDelete(NULL);
}

/* NVS in phase A: a fresh partition, every type, the length rules, stats, erase. */
static void nvs_phase_a(void)
{
    CHECK("nvs err values", ESP_ERR_NVS_NOT_FOUND == 0x1102 &&
                                ESP_ERR_NVS_NO_FREE_PAGES == 0x110d &&
                                ESP_ERR_NVS_NEW_VERSION_FOUND == 0x1110);
    CHECK("nvs err name",
          strcmp(esp_err_to_name(ESP_ERR_NVS_NOT_FOUND), "ESP_ERR_NVS_NOT_FOUND") == 0);
    nvs_handle_t h;
    CHECK_ERR("nvs_open before init", nvs_open("api", NVS_READWRITE, &h),
              ESP_ERR_NVS_NOT_INITIALIZED);
    CHECK_ERR("nvs_flash_erase", nvs_flash_erase(), ESP_OK);
    CHECK_ERR("nvs_flash_init", nvs_flash_init(), ESP_OK);
    CHECK_ERR("nvs_flash_init_partition unknown", nvs_flash_init_partition("nope"),
              ESP_ERR_NOT_FOUND);
    CHECK_ERR("nvs_open unknown partition",
              nvs_open_from_partition("nope", "api", NVS_READWRITE, &h),
              ESP_ERR_NVS_PART_NOT_FOUND);
    CHECK_ERR("nvs_open missing namespace read-only", nvs_open("api", NVS_READONLY, &h),
              ESP_ERR_NVS_NOT_FOUND);
    CHECK_ERR("nvs_open", nvs_open("api", NVS_READWRITE, &h), ESP_OK);
    CHECK_ERR("nvs_set_i8", nvs_set_i8(h, "i8", -8), ESP_OK);
    CHECK_ERR("nvs_set_u8", nvs_set_u8(h, "u8", 0xF8), ESP_OK);
    CHECK_ERR("nvs_set_i16", nvs_set_i16(h, "i16", -1600), ESP_OK);
    CHECK_ERR("nvs_set_u16", nvs_set_u16(h, "u16", 0xF160), ESP_OK);
    CHECK_ERR("nvs_set_i32", nvs_set_i32(h, "i32", -320000), ESP_OK);
    CHECK_ERR("nvs_set_u32", nvs_set_u32(h, "boots", 1), ESP_OK);
    CHECK_ERR("nvs_set_i64", nvs_set_i64(h, "i64", INT64_MIN), ESP_OK);
    CHECK_ERR("nvs_set_u64", nvs_set_u64(h, "u64", UINT64_MAX), ESP_OK);
    CHECK_ERR("nvs_set_str", nvs_set_str(h, "url", "http://127.0.0.1:8070/hello-world.bin"),
              ESP_OK);
    static uint8_t blob[6000];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7);
    }
    CHECK_ERR("nvs_set_blob over two pages", nvs_set_blob(h, "blob", blob, sizeof(blob)), ESP_OK);
    CHECK_ERR("nvs_commit", nvs_commit(h), ESP_OK);
    int8_t i8 = 0;
    uint64_t u64 = 0;
    CHECK_ERR("nvs_get_i8", nvs_get_i8(h, "i8", &i8), ESP_OK);
    CHECK("i8 value", i8 == -8);
    CHECK_ERR("nvs_get_u64", nvs_get_u64(h, "u64", &u64), ESP_OK);
    CHECK("u64 value", u64 == UINT64_MAX);
    uint32_t u32;
    CHECK_ERR("get under another type", nvs_get_u32(h, "u8", &u32), ESP_ERR_NVS_NOT_FOUND);
    size_t len = 0;
    CHECK_ERR("nvs_get_str length query", nvs_get_str(h, "url", NULL, &len), ESP_OK);
    CHECK("string length with the NUL", len == strlen("http://127.0.0.1:8070/hello-world.bin") + 1);
    char small[8];
    len = sizeof(small);
    CHECK_ERR("nvs_get_str short buffer", nvs_get_str(h, "url", small, &len),
              ESP_ERR_NVS_INVALID_LENGTH);
    CHECK("short buffer gets the length",
          len == strlen("http://127.0.0.1:8070/hello-world.bin") + 1);
    CHECK_ERR("nvs_get_str NULL length", nvs_get_str(h, "url", small, NULL),
              ESP_ERR_NVS_INVALID_LENGTH);
    CHECK_ERR("nvs_set_str key too long", nvs_set_str(h, "0123456789abcdef", "x"),
              ESP_ERR_NVS_KEY_TOO_LONG);
    nvs_type_t t;
    CHECK_ERR("nvs_find_key blob", nvs_find_key(h, "blob", &t), ESP_OK);
    CHECK("blob type", t == NVS_TYPE_BLOB);
    CHECK_ERR("nvs_set_u8 temp", nvs_set_u8(h, "temp", 1), ESP_OK);
    CHECK_ERR("nvs_erase_key", nvs_erase_key(h, "temp"), ESP_OK);
    CHECK_ERR("erased key", nvs_find_key(h, "temp", &t), ESP_ERR_NVS_NOT_FOUND);
    nvs_stats_t st;
    CHECK_ERR("nvs_get_stats", nvs_get_stats(NULL, &st), ESP_OK);
    CHECK("stats: 4 pages", st.total_entries == 4 * 126 && st.namespace_count == 1);
    CHECK("stats: used + free = total", st.used_entries + st.free_entries == st.total_entries);
    size_t used = 0;
    CHECK_ERR("nvs_get_used_entry_count", nvs_get_used_entry_count(h, &used), ESP_OK);
    CHECK("used entries in api", used > 190 && used == st.used_entries - 1);
    nvs_close(h);
    CHECK_ERR("closed handle", nvs_set_u8(h, "u8", 1), ESP_ERR_NVS_INVALID_HANDLE);
    nvs_handle_t other;
    CHECK_ERR("nvs_open scratch", nvs_open("scratch", NVS_READWRITE, &other), ESP_OK);
    CHECK_ERR("scratch value", nvs_set_u32(other, "x", 5), ESP_OK);
    CHECK_ERR("nvs_erase_all", nvs_erase_all(other), ESP_OK);
    CHECK_ERR("erased by erase_all", nvs_get_u32(other, "x", &u32), ESP_ERR_NVS_NOT_FOUND);
    nvs_close(other);
    CHECK_ERR("nvs_flash_deinit", nvs_flash_deinit(), ESP_OK);
    CHECK_ERR("nvs_flash_deinit twice", nvs_flash_deinit(), ESP_ERR_NVS_NOT_INITIALIZED);
}

/* NVS in phase B: phase A's values survived the reboot. */
static void nvs_phase_b(void)
{
    nvs_handle_t h;
    CHECK_ERR("nvs_flash_init after reboot", nvs_flash_init(), ESP_OK);
    CHECK_ERR("nvs_open read-only", nvs_open("api", NVS_READONLY, &h), ESP_OK);
    CHECK_ERR("read-only handle refuses set", nvs_set_u32(h, "boots", 2), ESP_ERR_NVS_READ_ONLY);
    int16_t i16 = 0;
    int64_t i64 = 0;
    uint32_t boots = 0;
    CHECK_ERR("persisted i16", nvs_get_i16(h, "i16", &i16), ESP_OK);
    CHECK("i16 value", i16 == -1600);
    CHECK_ERR("persisted i64", nvs_get_i64(h, "i64", &i64), ESP_OK);
    CHECK("i64 value", i64 == INT64_MIN);
    CHECK_ERR("persisted u32", nvs_get_u32(h, "boots", &boots), ESP_OK);
    CHECK("u32 value", boots == 1);
    static uint8_t blob[6000];
    size_t len = sizeof(blob);
    CHECK_ERR("persisted blob", nvs_get_blob(h, "blob", blob, &len), ESP_OK);
    int ok = len == sizeof(blob);
    for (size_t i = 0; ok && i < len; i++) {
        ok = blob[i] == (uint8_t)(i * 7);
    }
    CHECK("blob bytes", ok);
    nvs_close(h);
    CHECK_ERR("nvs_open read-write", nvs_open("api", NVS_READWRITE, &h), ESP_OK);
    CHECK_ERR("count the boot", nvs_set_u32(h, "boots", 2), ESP_OK);
    nvs_close(h);
}

/* Wi-Fi power save (esp_wifi_set_ps, which ESP-IDF's native_ota_example calls): kept,
 * ESP-IDF's default MIN_MODEM, refused before esp_wifi_init and for an unknown type. */
static void wifi_ps_checks(void)
{
    wifi_ps_type_t ps = WIFI_PS_MAX_MODEM;
    CHECK_ERR("wifi ps before init", esp_wifi_set_ps(WIFI_PS_NONE), ESP_ERR_WIFI_NOT_INIT);
    wifi_init_config_t cfg = WIFI_INIT_CONFIG_DEFAULT();
    CHECK_ERR("wifi init", esp_wifi_init(&cfg), ESP_OK);
    CHECK("wifi ps default MIN_MODEM", esp_wifi_get_ps(&ps) == ESP_OK && ps == WIFI_PS_MIN_MODEM);
    CHECK_ERR("wifi ps NONE", esp_wifi_set_ps(WIFI_PS_NONE), ESP_OK);
    CHECK("wifi ps reads NONE", esp_wifi_get_ps(&ps) == ESP_OK && ps == WIFI_PS_NONE);
    CHECK_ERR("wifi ps unknown type", esp_wifi_set_ps((wifi_ps_type_t)7), ESP_ERR_INVALID_ARG);
    CHECK_ERR("wifi ps NULL", esp_wifi_get_ps(NULL), ESP_ERR_INVALID_ARG);
    CHECK_ERR("wifi deinit", esp_wifi_deinit(), ESP_OK);
}

static void phase_a(void)
{
    const esp_partition_t *factory = app(ESP_PARTITION_SUBTYPE_APP_FACTORY);
    const esp_partition_t *ota0 = app(ESP_PARTITION_SUBTYPE_APP_OTA_0);
    const esp_partition_t *ota1 = app(ESP_PARTITION_SUBTYPE_APP_OTA_1);
    const esp_partition_t *nvs =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_NVS, NULL);

    /* Error codes and names. */
    CHECK("err 0x104 value", ESP_ERR_INVALID_SIZE == 0x104);
    CHECK("err 0x1503 value", ESP_ERR_OTA_VALIDATE_FAILED == 0x1503);
    CHECK("err name", strcmp(esp_err_to_name(0x104), "ESP_ERR_INVALID_SIZE") == 0);
    /* esp-tls's codes (esp_tls_errors.h, ESP-IDF v5.5) */
    CHECK("tls handshake value", ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED == 0x801A);
    CHECK("tls crt parse value", ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED == 0x8015);
    CHECK("tls connect value", ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST == 0x8004);
    CHECK("tls timeout value", ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT == 0x8006);
    CHECK("tls handshake name",
          strcmp(esp_err_to_name(0x801A), "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED") == 0);
    CHECK("tls crt parse name",
          strcmp(esp_err_to_name(0x8015), "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED") == 0);
    CHECK("tls last error of no client",
          esp_http_client_get_and_clear_last_tls_error(NULL, NULL, NULL) == ESP_FAIL);
    char buf[64];
    CHECK("err name_r unknown",
          strstr(esp_err_to_name_r(0x7777, buf, sizeof(buf)), "UNKNOWN ERROR") != NULL);

    /* The chip. */
    esp_chip_info_t ci;
    esp_chip_info(&ci);
    CHECK("chip model", ci.model == CHIP_ESP32);
    CHECK("chip cores", ci.cores == 2);
    CHECK("chip revision", ci.revision == 300);
    uint32_t fsize = 0;
    CHECK_ERR("flash size call", esp_flash_get_size(NULL, &fsize), ESP_OK);
    CHECK("flash size 4MB", fsize == 0x400000);
    CHECK("reset reason power-on", esp_reset_reason() == ESP_RST_POWERON);
    uint8_t base[6], sta[6], ap[6];
    CHECK_ERR("efuse mac", esp_efuse_mac_get_default(base), ESP_OK);
    CHECK_ERR("sta mac", esp_read_mac(sta, ESP_MAC_WIFI_STA), ESP_OK);
    CHECK_ERR("softap mac", esp_read_mac(ap, ESP_MAC_WIFI_SOFTAP), ESP_OK);
    CHECK("mac given by the device",
          base[0] == 0x24 && base[3] == 0x12 && base[4] == 0x34 && base[5] == 0x56);
    CHECK("sta = base", memcmp(sta, base, 6) == 0);
    CHECK("softap = base + 1", memcmp(ap, base, 5) == 0 && ap[5] == base[5] + 1);
    CHECK_ERR("read_mac NULL", esp_read_mac(NULL, ESP_MAC_WIFI_STA), ESP_ERR_INVALID_ARG);

    /* Device time: delays count in full even when the device runs them faster. */
    int64_t t0 = esp_timer_get_time();
    TickType_t k0 = xTaskGetTickCount();
    vTaskDelay(pdMS_TO_TICKS(500));
    CHECK("vTaskDelay 500 ms of device time", esp_timer_get_time() - t0 >= 500000);
    CHECK("tick count", xTaskGetTickCount() - k0 >= 50);

    /* Tasks and event groups. */
    group = xEventGroupCreate();
    CHECK("event group", group != NULL);
    EventBits_t bits = xEventGroupWaitBits(group, 0x1, pdFALSE, pdFALSE, pdMS_TO_TICKS(20));
    CHECK("wait times out", (bits & 0x1) == 0);
    CHECK("task created", xTaskCreate(task_fn, "api_task", 4096, NULL, 5, NULL) == pdPASS);
    bits = xEventGroupWaitBits(group, 0x4, pdTRUE, pdTRUE, portMAX_DELAY);
    CHECK("task set the bit", (bits & 0x4) != 0);
    CHECK("bit cleared on exit", (xEventGroupGetBits(group) & 0x4) == 0);
    queue_checks();

    /* Partitions. */
    CHECK("factory found", factory != NULL && factory->address == 0x10000 &&
                               factory->size == 0x100000 && strcmp(factory->label, "factory") == 0);
    CHECK("ota_0 found", ota0 != NULL && ota0->address == 0x110000);
    CHECK("ota_1 found", ota1 != NULL && ota1->address == 0x210000);
    CHECK("nvs found",
          nvs != NULL && nvs->address == 0x9000 && nvs->size == 0x4000 && nvs->erase_size == 4096);
    CHECK("find by label", esp_partition_find_first(ESP_PARTITION_TYPE_ANY,
                                                    ESP_PARTITION_SUBTYPE_ANY, "phy_init") != NULL);
    CHECK("subtype needs a type",
          esp_partition_find(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_APP_OTA_0, NULL) ==
              NULL);
    int ndata = 0;
    for (esp_partition_iterator_t it =
             esp_partition_find(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, NULL);
         it != NULL; it = esp_partition_next(it)) {
        ndata++;
    }
    CHECK("3 data partitions", ndata == 3);
    CHECK("verify returns ours", esp_partition_verify(factory) == factory);
    esp_partition_t copy = *factory;
    CHECK("verify an equal copy", esp_partition_verify(&copy) == factory);
    copy.address += 0x1000;
    CHECK("verify a stranger", esp_partition_verify(&copy) == NULL);

    uint8_t w[8] = {'o', 't', 'a', 'k', 'i', 't', 0x0f, 0xf0}, r[8];
    CHECK_ERR("erase nvs sector", esp_partition_erase_range(nvs, 0, 0x1000), ESP_OK);
    CHECK_ERR("write nvs", esp_partition_write(nvs, 0, w, sizeof(w)), ESP_OK);
    CHECK_ERR("read nvs", esp_partition_read(nvs, 0, r, sizeof(r)), ESP_OK);
    CHECK("read back", memcmp(r, w, sizeof(w)) == 0);
    uint8_t swap[2] = {0xf0, 0x0f};
    CHECK_ERR("write over written bytes", esp_partition_write(nvs, 6, swap, 2), ESP_OK);
    CHECK_ERR("read nvs again", esp_partition_read(nvs, 6, r, 2), ESP_OK);
    CHECK("NOR: write only clears bits", r[0] == 0x00 && r[1] == 0x00);
    CHECK_ERR("erase unaligned offset", esp_partition_erase_range(nvs, 1, 0x1000),
              ESP_ERR_INVALID_ARG);
    CHECK_ERR("erase unaligned size", esp_partition_erase_range(nvs, 0, 0x800),
              ESP_ERR_INVALID_SIZE);
    CHECK_ERR("erase past the end", esp_partition_erase_range(nvs, 0x3000, 0x2000),
              ESP_ERR_INVALID_SIZE);
    CHECK_ERR("write past the end", esp_partition_write(nvs, 0x3ffe, w, 4), ESP_ERR_INVALID_SIZE);
    CHECK_ERR("read offset past the end", esp_partition_read(nvs, 0x5000, r, 1),
              ESP_ERR_INVALID_ARG);
    CHECK_ERR("read NULL partition", esp_partition_read(NULL, 0, r, 1), ESP_ERR_INVALID_ARG);
    CHECK_ERR("erase nvs back", esp_partition_erase_range(nvs, 0, 0x1000), ESP_OK);
    uint8_t sha[32], sha2[32];
    CHECK_ERR("sha256 of the running app", esp_partition_get_sha256(factory, sha), ESP_OK);
    CHECK_ERR("sha256 of nvs", esp_partition_get_sha256(nvs, sha2), ESP_OK);
    CHECK("app and data hashes differ", memcmp(sha, sha2, 32) != 0);
    CHECK("identity with itself", esp_partition_check_identity(factory, factory));
    nvs_phase_a();

    /* OTA queries from factory with blank otadata. */
    const esp_partition_t *running = esp_ota_get_running_partition();
    CHECK("running = factory", running == factory);
    CHECK("boot = factory", esp_ota_get_boot_partition() == factory);
    CHECK("next of factory = ota_0", esp_ota_get_next_update_partition(NULL) == ota0);
    CHECK("next of ota_0 = ota_1", esp_ota_get_next_update_partition(ota0) == ota1);
    CHECK("next of ota_1 = ota_0", esp_ota_get_next_update_partition(ota1) == ota0);
    CHECK("2 OTA slots", esp_ota_get_app_partition_count() == 2);
    const esp_app_desc_t *me = esp_app_get_description();
    CHECK("own description",
          me->magic_word == ESP_APP_DESC_MAGIC_WORD && strcmp(me->project_name, "api_app") == 0);
    esp_app_desc_t d;
    CHECK_ERR("description of factory", esp_ota_get_partition_description(factory, &d), ESP_OK);
    CHECK("same version", strncmp(d.version, me->version, sizeof(d.version)) == 0);
    CHECK_ERR("description of blank ota_0", esp_ota_get_partition_description(ota0, &d),
              ESP_ERR_NOT_FOUND);
    CHECK_ERR("description of nvs", esp_ota_get_partition_description(nvs, &d),
              ESP_ERR_NOT_SUPPORTED);
    esp_ota_img_states_t st;
    CHECK_ERR("state of factory", esp_ota_get_state_partition(factory, &st), ESP_ERR_NOT_SUPPORTED);
    CHECK_ERR("state of unselected ota_0", esp_ota_get_state_partition(ota0, &st),
              ESP_ERR_NOT_FOUND);
    CHECK("no last invalid", esp_ota_get_last_invalid_partition() == NULL);

    /* OTA write sessions. */
    esp_ota_handle_t h = 0;
    CHECK_ERR("begin on factory", esp_ota_begin(factory, OTA_SIZE_UNKNOWN, &h),
              ESP_ERR_INVALID_ARG);
    CHECK_ERR("begin too large (err=0x104)", esp_ota_begin(ota0, 0x200000, &h),
              ESP_ERR_INVALID_SIZE);
    CHECK_ERR("begin NULL", esp_ota_begin(NULL, OTA_SIZE_UNKNOWN, &h), ESP_ERR_INVALID_ARG);
    CHECK_ERR("write unknown handle", esp_ota_write(12345, w, 4), ESP_ERR_INVALID_ARG);
    CHECK_ERR("end unknown handle", esp_ota_end(12345), ESP_ERR_NOT_FOUND);
    CHECK_ERR("abort unknown handle", esp_ota_abort(12345), ESP_ERR_NOT_FOUND);

    CHECK_ERR("begin ota_1", esp_ota_begin(ota1, OTA_WITH_SEQUENTIAL_WRITES, &h), ESP_OK);
    CHECK("handle from 1", h >= 1);
    uint8_t zero[4] = {0};
    CHECK_ERR("first byte not 0xE9", esp_ota_write(h, zero, sizeof(zero)),
              ESP_ERR_OTA_VALIDATE_FAILED);
    CHECK_ERR("abort", esp_ota_abort(h), ESP_OK);
    CHECK_ERR("end nothing written", (esp_ota_begin(ota1, OTA_SIZE_UNKNOWN, &h), esp_ota_end(h)),
              ESP_ERR_INVALID_ARG);

    /* Copy ourselves into ota_1 with one corrupted byte: the end refuses it. */
    static uint8_t chunk[4096];
    CHECK_ERR("begin corrupt copy", esp_ota_begin(ota1, OTA_SIZE_UNKNOWN, &h), ESP_OK);
    esp_err_t err = ESP_OK;
    for (uint32_t off = 0; err == ESP_OK && off < factory->size; off += sizeof(chunk)) {
        err = esp_partition_read(factory, off, chunk, sizeof(chunk));
        if (off == 0x20000) {
            chunk[100] ^= 0x40;
        }
        if (err == ESP_OK) {
            err = esp_ota_write(h, chunk, sizeof(chunk));
        }
    }
    CHECK("corrupt copy written", err == ESP_OK);
    CHECK_ERR("corrupt copy does not verify", esp_ota_end(h), ESP_ERR_OTA_VALIDATE_FAILED);
    CHECK_ERR("set_boot on a corrupt image", esp_ota_set_boot_partition(ota1),
              ESP_ERR_OTA_VALIDATE_FAILED);

    /* A good copy into ota_0, selected for the next boot. */
    CHECK_ERR("begin copy", esp_ota_begin(ota0, OTA_SIZE_UNKNOWN, &h), ESP_OK);
    err = ESP_OK;
    for (uint32_t off = 0; err == ESP_OK && off < factory->size; off += sizeof(chunk)) {
        err = esp_partition_read(factory, off, chunk, sizeof(chunk));
        if (err == ESP_OK) {
            err = esp_ota_write(h, chunk, sizeof(chunk));
        }
    }
    CHECK("copy written", err == ESP_OK);
    CHECK_ERR("write past the slot end", esp_ota_write(h, chunk, 1), ESP_ERR_INVALID_SIZE);
    CHECK_ERR("copy verifies", esp_ota_end(h), ESP_OK);
    CHECK("copy identical", esp_partition_check_identity(factory, ota0));
    CHECK_ERR("description of ota_0", esp_ota_get_partition_description(ota0, &d), ESP_OK);
    CHECK_ERR("set_boot ota_0", esp_ota_set_boot_partition(ota0), ESP_OK);
    CHECK("boot = ota_0", esp_ota_get_boot_partition() == ota0);
    CHECK_ERR("state of ota_0", esp_ota_get_state_partition(ota0, &st), ESP_OK);
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    CHECK("ota_0 NEW", st == ESP_OTA_IMG_NEW);
#else
    CHECK("ota_0 UNDEFINED", st == ESP_OTA_IMG_UNDEFINED);
#endif
    wifi_ps_checks();
    esp_log_level_set(TAG, ESP_LOG_WARN);
    ESP_LOGI(TAG, "this info line is filtered out");
    ESP_LOGW(TAG, "log level set: warnings still show");
    esp_log_level_set(TAG, ESP_LOG_INFO);
    summary("A");
    ESP_LOGI(TAG, "restarting into ota_0");
    esp_restart();
}

static void phase_b(void)
{
    const esp_partition_t *factory = app(ESP_PARTITION_SUBTYPE_APP_FACTORY);
    const esp_partition_t *ota0 = app(ESP_PARTITION_SUBTYPE_APP_OTA_0);
    const esp_partition_t *ota1 = app(ESP_PARTITION_SUBTYPE_APP_OTA_1);
    esp_ota_img_states_t st;
    esp_ota_handle_t h;
    CHECK("reset reason software", esp_reset_reason() == ESP_RST_SW);
    CHECK("running = ota_0", esp_ota_get_running_partition() == ota0);
    CHECK_ERR("state of ota_0", esp_ota_get_state_partition(ota0, &st), ESP_OK);
    CHECK("next update = ota_1", esp_ota_get_next_update_partition(NULL) == ota1);
    nvs_phase_b();
    CHECK_ERR("begin on the running slot", esp_ota_begin(ota0, OTA_SIZE_UNKNOWN, &h),
              ESP_ERR_OTA_PARTITION_CONFLICT);
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    CHECK("ota_0 PENDING_VERIFY", st == ESP_OTA_IMG_PENDING_VERIFY);
    CHECK_ERR("begin while unconfirmed", esp_ota_begin(ota1, OTA_SIZE_UNKNOWN, &h),
              ESP_ERR_OTA_ROLLBACK_INVALID_STATE);
    CHECK("rollback possible", esp_ota_check_rollback_is_possible());
    CHECK_ERR("confirm", esp_ota_mark_app_valid_cancel_rollback(), ESP_OK);
    CHECK_ERR("state after confirm", esp_ota_get_state_partition(ota0, &st), ESP_OK);
    CHECK("ota_0 VALID", st == ESP_OTA_IMG_VALID);
    CHECK_ERR("begin after confirm", esp_ota_begin(ota1, OTA_SIZE_UNKNOWN, &h), ESP_OK);
    CHECK_ERR("abort it", esp_ota_abort(h), ESP_OK);
#endif
    (void)factory;
    summary("B");
    ESP_LOGW(TAG, "marking ota_0 invalid: rolling back");
    esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
    CHECK_ERR("mark invalid and reboot returned", err, ESP_OK);
    summary("B (no reboot)");
}

static void phase_c(void)
{
    const esp_partition_t *factory = app(ESP_PARTITION_SUBTYPE_APP_FACTORY);
    const esp_partition_t *ota0 = app(ESP_PARTITION_SUBTYPE_APP_OTA_0);
    esp_ota_img_states_t st;
    CHECK("running = factory after rollback", esp_ota_get_running_partition() == factory);
    CHECK("last invalid = ota_0", esp_ota_get_last_invalid_partition() == ota0);
    CHECK_ERR("state of ota_0", esp_ota_get_state_partition(ota0, &st), ESP_OK);
    CHECK("ota_0 INVALID", st == ESP_OTA_IMG_INVALID);
    CHECK_ERR("confirm from factory", esp_ota_mark_app_valid_cancel_rollback(), ESP_FAIL);
    summary("C");
    printf("API DONE\n");
    fflush(stdout);
}

void app_main(void)
{
    const esp_partition_t *running = esp_ota_get_running_partition();
    if (running != NULL && running->subtype == ESP_PARTITION_SUBTYPE_APP_OTA_0) {
        phase_b();
    } else if (esp_ota_get_last_invalid_partition() != NULL) {
        phase_c();
    } else {
        phase_a();
    }
}
