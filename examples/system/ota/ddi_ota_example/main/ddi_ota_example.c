/*
 * DDI OTA example: the device side of a hawkBit rollout.
 *
 * The app polls {server}/{tenant}/controller/v1/{controllerId}. When the server offers a
 * deployment, it reports "proceeding", downloads the first artifact into the next OTA
 * slot with esp_https_ota (the byte count is kept in NVS, so a reset resumes the
 * download), checks the artifact's SHA-256 from the deployment, sets the boot partition,
 * reports "installed" and restarts. The new app (PENDING_VERIFY) runs its self-test:
 * passed, it confirms itself and reports success; failed (CONFIG_EXAMPLE_DDI_SELFTEST_GPIO
 * held low), it marks itself invalid and restarts, and the previous app reports the
 * rollback as a failure. What is in progress lives in NVS (namespace "ddi"), so each
 * report is sent once the app that can make it is running.
 *
 * Run-time overrides (the virtual device's environment): OTAKIT_DDI_URL,
 * OTAKIT_DDI_CONTROLLER_ID, OTAKIT_DDI_TOKEN.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ddi_client.h"
#include "driver/gpio.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"

static const char *TAG = "ddi";

/* What the app is doing, kept in NVS across resets. */
enum {
    PH_IDLE = 0,
    PH_DOWNLOADING, /* "act" into "slot", "off" bytes written */
    PH_INSTALLED,   /* boot partition set to "slot"; restarting into it */
    PH_ROLLBACK,    /* the new app failed its self-test: report it */
    PH_REPORT_OK,   /* the new app is confirmed: report it */
    PH_REPORT_FAIL, /* the update failed before it was installed: report it */
};

typedef struct {
    nvs_handle_t nvs;
    uint8_t phase;
    uint64_t action, done;
    uint32_t saved;
} state_t;

static void save_phase(state_t *st, uint8_t phase)
{
    st->phase = phase;
    ESP_ERROR_CHECK(nvs_set_u8(st->nvs, "phase", phase));
    ESP_ERROR_CHECK(nvs_commit(st->nvs));
}

static void on_progress(size_t written, void *arg)
{
    state_t *st = arg;
    if (written - st->saved >= 64 * 1024) {
        if (nvs_set_u32(st->nvs, "off", (uint32_t)written) == ESP_OK &&
            nvs_commit(st->nvs) == ESP_OK) {
            st->saved = (uint32_t)written;
        }
    }
}

/* The new app's self-test: the image verifies, and the self-test GPIO is not held low. */
static bool self_test(const esp_partition_t *running)
{
    uint8_t sha[32];
    if (esp_partition_get_sha256(running, sha) != ESP_OK) {
        ESP_LOGE(TAG, "Self-test: the running image does not verify");
        return false;
    }
    gpio_config_t io = {
        .mode = GPIO_MODE_INPUT,
        .pin_bit_mask = 1ULL << CONFIG_EXAMPLE_DDI_SELFTEST_GPIO,
        .pull_up_en = GPIO_PULLUP_ENABLE,
        .pull_down_en = GPIO_PULLDOWN_DISABLE,
        .intr_type = GPIO_INTR_DISABLE,
    };
    if (gpio_config(&io) != ESP_OK) {
        return false;
    }
    vTaskDelay(2000 / portTICK_PERIOD_MS);
    bool ok = gpio_get_level(CONFIG_EXAMPLE_DDI_SELFTEST_GPIO) != 0;
    gpio_reset_pin(CONFIG_EXAMPLE_DDI_SELFTEST_GPIO);
    if (!ok) {
        ESP_LOGE(TAG, "Self-test: GPIO %d is held low", CONFIG_EXAMPLE_DDI_SELFTEST_GPIO);
    }
    return ok;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

/* Report the end of the action in NVS, if one is waiting; true when nothing is left. */
static bool report_result(ddi_client_handle_t client, state_t *st)
{
    const char *detail = NULL;
    otakit_ddi_finished_t fin = OTAKIT_DDI_FINISHED_FAILURE;
    switch (st->phase) {
    case PH_REPORT_OK:
        fin = OTAKIT_DDI_FINISHED_SUCCESS;
        detail = "updated: the new app passed its self-test and is confirmed";
        break;
    case PH_ROLLBACK:
        detail = "rolled back: the new app failed its self-test";
        break;
    case PH_REPORT_FAIL:
        detail = "update failed before install";
        break;
    default:
        return true;
    }
    if (ddi_client_send_feedback(client, st->action, OTAKIT_DDI_EXEC_CLOSED, fin, 3, 3, detail) !=
        ESP_OK) {
        return false;
    }
    ESP_LOGI(TAG, "action %" PRIu64 " closed: %s (%s)", st->action, otakit_ddi_finished_name(fin),
             detail);
    st->done = st->action;
    ESP_ERROR_CHECK(nvs_set_u64(st->nvs, "done", st->done));
    save_phase(st, PH_IDLE);
    return true;
}

/* Take the offered action: download, check, install, restart. Returns on failure. */
static void update(ddi_client_handle_t client, state_t *st, uint64_t action)
{
    static ddi_deployment_t dep; /* large: not on the task's stack */
    if (ddi_client_get_deployment(client, action, &dep) != ESP_OK) {
        return;
    }
    const otakit_ddi_chunk_t *chunk = NULL;
    const ddi_artifact_t *art = otakit_ddi_first_artifact(&dep, &chunk);
    ddi_client_install_config_t inst = {.progress = on_progress, .progress_arg = st};
    if (st->phase == PH_DOWNLOADING && st->action == action) {
        uint32_t off = 0;
        if (nvs_get_u32(st->nvs, "off", &off) == ESP_OK) {
            inst.resume_from = off;
        }
    }
    st->action = action;
    st->saved = (uint32_t)inst.resume_from;
    ESP_ERROR_CHECK(nvs_set_u64(st->nvs, "act", action));
    save_phase(st, PH_DOWNLOADING);
    if (art == NULL) {
        save_phase(st, PH_REPORT_FAIL);
        return;
    }
    ESP_LOGI(TAG, "Deployment %" PRIu64 ": %s %s, %s (%" PRIu64 " bytes)", action, chunk->part,
             chunk->version, art->filename, art->size);
    ddi_client_send_feedback(client, action, OTAKIT_DDI_EXEC_PROCEEDING, OTAKIT_DDI_FINISHED_NONE,
                             1, 3, "downloading");
    esp_err_t err = ddi_client_install(client, art, &inst);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "Update failed: %s", esp_err_to_name(err));
        char detail[96];
        snprintf(detail, sizeof(detail), "update failed: %s", esp_err_to_name(err));
        if (ddi_client_send_feedback(client, action, OTAKIT_DDI_EXEC_CLOSED,
                                     OTAKIT_DDI_FINISHED_FAILURE, 3, 3, detail) == ESP_OK) {
            ESP_LOGI(TAG, "action %" PRIu64 " closed: failure (%s)", action, detail);
            st->done = action;
            ESP_ERROR_CHECK(nvs_set_u64(st->nvs, "done", action));
            save_phase(st, PH_IDLE);
        } else {
            save_phase(st, PH_REPORT_FAIL);
        }
        return;
    }
    ESP_ERROR_CHECK(nvs_set_u32(st->nvs, "slot", esp_ota_get_boot_partition()->address));
    save_phase(st, PH_INSTALLED);
    ddi_client_send_feedback(client, action, OTAKIT_DDI_EXEC_PROCEEDING, OTAKIT_DDI_FINISHED_NONE,
                             2, 3, "installed, SHA-256 verified; rebooting");
    ESP_LOGI(TAG, "Prepare to restart system!");
    esp_restart();
}

void app_main(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    ESP_ERROR_CHECK(example_connect());

    state_t st = {0};
    ESP_ERROR_CHECK(nvs_open("ddi", NVS_READWRITE, &st.nvs));
    nvs_get_u8(st.nvs, "phase", &st.phase);
    nvs_get_u64(st.nvs, "act", &st.action);
    nvs_get_u64(st.nvs, "done", &st.done);

    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_app_desc_t desc;
    ESP_ERROR_CHECK(esp_ota_get_partition_description(running, &desc));
    ESP_LOGI(TAG, "Running %s %s from %s", desc.project_name, desc.version, running->label);
    esp_ota_img_states_t state;
    if (esp_ota_get_state_partition(running, &state) == ESP_OK &&
        state == ESP_OTA_IMG_PENDING_VERIFY) {
        ESP_LOGI(TAG, "New app (PENDING_VERIFY): running the self-test");
        if (!self_test(running)) {
            ESP_LOGE(TAG, "Self-test failed: rolling back");
            save_phase(&st, PH_ROLLBACK);
            esp_ota_mark_app_invalid_rollback_and_reboot();
        }
        ESP_ERROR_CHECK(esp_ota_mark_app_valid_cancel_rollback());
        ESP_LOGI(TAG, "Self-test passed: app confirmed");
        save_phase(&st, PH_REPORT_OK);
    } else if (st.phase == PH_INSTALLED) {
        /* Back without a pending new app: confirmed already (a reset in between), or the
         * bootloader did not keep it. */
        uint32_t slot = 0;
        nvs_get_u32(st.nvs, "slot", &slot);
        save_phase(&st, running->address == slot ? PH_REPORT_OK : PH_ROLLBACK);
    }

    ddi_client_config_t cfg = {
        .server_url = env_or("OTAKIT_DDI_URL", CONFIG_EXAMPLE_DDI_SERVER_URL),
        .tenant = CONFIG_EXAMPLE_DDI_TENANT,
        .controller_id = env_or("OTAKIT_DDI_CONTROLLER_ID", CONFIG_EXAMPLE_DDI_CONTROLLER_ID),
        .target_token =
            env_or("OTAKIT_DDI_TOKEN",
                   CONFIG_EXAMPLE_DDI_TARGET_TOKEN[0] ? CONFIG_EXAMPLE_DDI_TARGET_TOKEN : NULL),
    };
    ddi_client_handle_t client = ddi_client_init(&cfg);
    if (client == NULL) {
        ESP_LOGE(TAG, "no DDI client");
        return;
    }
    ESP_LOGI(TAG, "Polling %s as %s", cfg.server_url, cfg.controller_id);
    bool config_sent = false;
    for (int i = 0; CONFIG_EXAMPLE_DDI_POLLS == 0 || i < CONFIG_EXAMPLE_DDI_POLLS; i++) {
        uint32_t sleep_s = 10;
        ddi_base_t base;
        if (report_result(client, &st) && ddi_client_poll(client, &base) == ESP_OK) {
            sleep_s = base.sleep_s;
            if (base.has_config_data && !config_sent) {
                const char *keys[] = {"project", "version"};
                const char *vals[] = {desc.project_name, desc.version};
                config_sent = ddi_client_put_config(client, keys, vals, 2) == ESP_OK;
            }
            if (base.has_deployment && base.deployment_action != st.done) {
                update(client, &st, base.deployment_action);
                continue; /* a failure was reported (or will be): poll again */
            }
            ESP_LOGI(TAG, "No deployment; next poll in %" PRIu32 " s", sleep_s);
        }
        vTaskDelay(sleep_s * 1000 / portTICK_PERIOD_MS);
    }
    ESP_LOGI(TAG, "Stopped after %d polls", CONFIG_EXAMPLE_DDI_POLLS);
    ddi_client_cleanup(client);
}
