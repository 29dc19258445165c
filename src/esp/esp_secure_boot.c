/* The app side of signed apps (ESP-IDF's secure_boot_signatures_app.c): with
 * CONFIG_SECURE_SIGNED_ON_UPDATE, an update is valid only if one of its signature blocks
 * verifies with a trusted key. Trusted are, as in ESP-IDF, the keys that signed the
 * running app (CONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT) or, with hardware Secure
 * Boot (CONFIG_SECURE_BOOT_V2_ENABLED), the key digests in eFuse that are not revoked. The
 * checks run on the device port's crypto (src/port/device/secure.c, libcrypto); the core only
 * parses. */
#include <inttypes.h>
#include <string.h>

#include "efuse.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_state.h"
#include "hw.h"
#include "otakit/image.h"
#include "sdkconfig.h"
#include "secure.h"

#ifdef CONFIG_SECURE_SIGNED_ON_UPDATE
static const char *TAG = "secure_boot_v2";

static esp_err_t trusted_keys(uint8_t keys[OTAKIT_SIG_BLOCKS_MAX][OTAKIT_SIG_KEY_DIGEST_LEN],
                              unsigned *n)
{
#ifdef CONFIG_SECURE_BOOT_V2_ENABLED
    ESP_LOGI(TAG, "Take trusted digest key(s) from eFuse block(s)");
    otakit_efuse_state_t st;
    const char *why = NULL;
    if (otakit_efuse_file_read(otakit_hw_efuse_path(), &st, &why) != OTAKIT_OK) {
        ESP_LOGE(TAG, "eFuse file %s: %s", otakit_hw_efuse_path(), why ? why : "unreadable");
        return ESP_FAIL;
    }
    *n = otakit_efuse_trusted_keys(&st, keys);
#else
    ESP_LOGI(TAG, "Take trusted digest key(s) from running app");
    const esp_partition_t *run = esp_state()->running;
    *n = 0;
    if (run == NULL || otakit_secure_image_keys(esp_state()->flash, run->address, run->size, keys,
                                                n) != OTAKIT_OK) {
        ESP_LOGE(TAG, "No signatures were found for the running app");
        return ESP_ERR_NOT_FOUND;
    }
#endif
    return *n > 0 ? ESP_OK : ESP_ERR_NOT_FOUND;
}
#endif

esp_err_t esp_secure_check_app(const otakit_part_t *part, uint32_t image_len)
{
#ifdef CONFIG_SECURE_SIGNED_ON_UPDATE
    esp_state_t *s = esp_state();
    if (image_len == 0) {
        otakit_image_opts_t opts = otakit_ota_image_opts(&s->ota, part);
        otakit_image_info_t info;
        if (otakit_image_verify_flash(s->flash, part->offset, &opts, &info, NULL) != OTAKIT_OK) {
            return ESP_ERR_OTA_VALIDATE_FAILED;
        }
        image_len = info.image_len;
    }
    uint8_t keys[OTAKIT_SIG_BLOCKS_MAX][OTAKIT_SIG_KEY_DIGEST_LEN];
    unsigned n = 0;
    if (trusted_keys(keys, &n) != ESP_OK) {
        ESP_LOGE("esp_image", "Secure boot signature verification failed (no trusted key)");
        return ESP_ERR_OTA_VALIDATE_FAILED;
    }
    otakit_sig_result_t r;
    otakit_diag_t d = {0, NULL};
    otakit_err_t err =
        otakit_secure_verify(s->flash, part->offset, part->size, image_len,
                             (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN])keys, n, &r, &d);
    if (err != OTAKIT_OK) {
        ESP_LOGE(TAG, "app at 0x%" PRIx32 ": %s at offset 0x%" PRIx32, part->offset,
                 d.msg ? d.msg : otakit_err_name(err), d.offset);
        ESP_LOGE("esp_image", "Secure boot signature verification failed");
        return ESP_ERR_OTA_VALIDATE_FAILED;
    }
    ESP_LOGI(TAG, "Verifying with %s...", r.scheme == OTAKIT_SIG_RSA3072 ? "RSA-PSS" : "ECDSA");
    ESP_LOGI(TAG, "Signature verified successfully! (block %d)", r.block);
#else
    (void)part;
    (void)image_len;
#endif
    return ESP_OK;
}
