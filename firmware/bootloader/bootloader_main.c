/* The second-stage bootloader of the virtual ESP32: a host program the ROM stage runs
 * from the image at 0x1000. It runs the bootloader's decision (otakit_boot_select, the
 * core's port of ESP-IDF's bootloader_utility.c) with this build's sdkconfig, prints
 * ESP-IDF's bootloader lines, and runs the chosen app's program in its place. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "efuse.h"
#include "hw.h"
#include "otakit/boot.h"
#include "program.h"
#include "sdkconfig.h"
#include "secure.h"

#ifndef CONFIG_BOOTLOADER_LOG_LEVEL
#define CONFIG_BOOTLOADER_LOG_LEVEL 3
#endif
#ifndef CONFIG_PARTITION_TABLE_OFFSET
#define CONFIG_PARTITION_TABLE_OFFSET 0x8000
#endif
#ifndef CONFIG_BOOTLOADER_DATA_FACTORY_RESET
#define CONFIG_BOOTLOADER_DATA_FACTORY_RESET ""
#endif

#define TAG "boot"
#define LOGI(...) otakit_console_log(OTAKIT_LOG_INFO, TAG, __VA_ARGS__)
#define LOGE(...) otakit_console_log(OTAKIT_LOG_ERROR, TAG, __VA_ARGS__)

#define MAX_RESET_LABELS 8

static otakit_boot_result_t res; /* large: keep it off the stack */

static const char *const FLASH_SIZE_NAMES[] = {"1MB",  "2MB",  "4MB",  "8MB",
                                               "16MB", "32MB", "64MB", "128MB"};

#ifdef CONFIG_BOOTLOADER_FACTORY_RESET
/* CONFIG_BOOTLOADER_DATA_FACTORY_RESET: "nvs, phy_init" -> labels. */
static size_t split_labels(char *buf, const char *labels[MAX_RESET_LABELS])
{
    size_t n = 0;
    for (char *tok = strtok(buf, ", "); tok != NULL && n < MAX_RESET_LABELS;
         tok = strtok(NULL, ", ")) {
        labels[n++] = tok;
    }
    return n;
}
#endif

static int mapped(uint32_t a)
{
    return (a >= 0x3f400000u && a < 0x3f800000u) || (a >= 0x400c2000u && a < 0x40c00000u);
}

#ifdef CONFIG_SECURE_BOOT_V2_ENABLED
/* Secure Boot V2: the key digests burned in eFuse and not revoked. */
static uint8_t trusted[OTAKIT_EFUSE_KEY_BLOCKS][OTAKIT_EFUSE_DIGEST_LEN];
static unsigned n_trusted;

static void read_trusted_keys(void)
{
    otakit_efuse_state_t st;
    const char *why = NULL;
    if (otakit_efuse_file_read(otakit_hw_efuse_path(), &st, &why) != OTAKIT_OK) {
        LOGE("eFuse file %s: %s", otakit_hw_efuse_path(), why ? why : "unreadable");
        return;
    }
    n_trusted = otakit_efuse_trusted_keys(&st, trusted);
    if (n_trusted == 0) {
        otakit_console_log(OTAKIT_LOG_ERROR, "secure_boot_v2",
                           "no key digest in eFuse (or all revoked): no app can boot; burn one "
                           "with `otakit efuse burn-key-digest`");
    }
}

/* Like ESP-IDF's bootloader with Secure Boot V2: every app must carry a signature block
 * made by a key whose digest is in eFuse and not revoked. */
static bool check_signature(void *ctx, const otakit_part_t *part, const otakit_image_info_t *img)
{
    (void)ctx;
    otakit_sig_result_t r;
    otakit_diag_t d = {0, NULL};
    otakit_err_t err =
        n_trusted == 0
            ? OTAKIT_ERR_INVALID_ARG
            : otakit_secure_verify(otakit_hw_flash(), part->offset, part->size, img->image_len,
                                   (const uint8_t(*)[32])trusted, n_trusted, &r, &d);
    if (err != OTAKIT_OK) {
        otakit_console_log(OTAKIT_LOG_ERROR, "secure_boot_v2",
                           "app at 0x%" PRIx32 ": %s at offset 0x%" PRIx32, part->offset,
                           d.msg ? d.msg : "no trusted key digest in eFuse", d.offset);
        otakit_console_log(OTAKIT_LOG_ERROR, "esp_image",
                           "Secure boot signature verification failed");
        return false;
    }
    otakit_console_log(OTAKIT_LOG_INFO, "secure_boot_v2", "Verifying with %s...",
                       r.scheme == OTAKIT_SIG_RSA3072 ? "RSA-PSS" : "ECDSA");
    otakit_console_log(OTAKIT_LOG_INFO, "secure_boot_v2",
                       "Signature verified successfully! (block %d)", r.block);
    return true;
}
#endif

int main(void)
{
    if (otakit_hw_attach() != 0) {
        return 2;
    }
    otakit_hw_set_stage(OTAKIT_HW_STAGE_BOOTLOADER);
    otakit_console_set_level((otakit_log_level_t)CONFIG_BOOTLOADER_LOG_LEVEL);
    const otakit_flash_t *flash = otakit_hw_flash();
    uint32_t rev = otakit_hw_chip_revision();

    /* Like ESP-IDF's bootloader_print_banner: the banner comes from this image's own
     * esp_bootloader_desc_t (at 0x20: idf_ver at +8, date_time at +40), read with the
     * header in one flash read. */
    uint8_t hdr[0x20 + 80];
    bool have_hdr = otakit_flash_read(flash, 0x1000, hdr, sizeof(hdr)) == OTAKIT_OK;
    if (have_hdr && hdr[0x20] == 0x50) {
        LOGI("ESP-IDF %.32s 2nd stage bootloader", (const char *)hdr + 0x20 + 8);
        LOGI("compile time %.24s", (const char *)hdr + 0x20 + 40);
    } else {
        LOGI("ESP-IDF %s 2nd stage bootloader", "v5.5-otakit");
    }
    LOGI("Multicore bootloader");
    LOGI("chip revision: v%" PRIu32 ".%" PRIu32, rev / 100, rev % 100);
    otakit_console_log(OTAKIT_LOG_INFO, "boot.esp32", "SPI Speed      : 40MHz");
    otakit_console_log(OTAKIT_LOG_INFO, "boot.esp32", "SPI Mode       : DIO");
    /* Like ESP-IDF's bootloader_init, read our own image header: its flash-size field
     * is the chip size the partition table is checked against. */
    uint32_t header_flash_size = 0;
    const char *size_name = "?";
    if (have_hdr) {
        unsigned code = hdr[3] >> 4;
        if (code < 8) {
            header_flash_size = 0x100000u << code;
            size_name = FLASH_SIZE_NAMES[code];
        }
    }
    otakit_console_log(OTAKIT_LOG_INFO, "boot.esp32", "SPI Flash Size : %s", size_name);
    LOGI("Enabling RNG early entropy source...");

    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = flash;
    cfg.ptable_offset = CONFIG_PARTITION_TABLE_OFFSET;
    cfg.flash_size = header_flash_size;
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
    cfg.rollback = true;
#ifdef CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS
    cfg.boot_attempts = CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS;
#endif
#endif
#ifdef CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    cfg.anti_rollback = true;
    cfg.efuse = otakit_hw_efuse(); /* only then: without it no eFuse code is linked */
#endif
#ifdef CONFIG_SECURE_BOOT_V2_ENABLED
    read_trusted_keys();
    cfg.check_app = check_signature;
#endif
    cfg.chip_id = OTAKIT_CHIP_ESP32;
#ifdef CONFIG_OTAKIT_APP_REQUIRE_SHA256
    cfg.require_hash = true;
#endif
    cfg.log = otakit_console_sink();
    uint32_t pin = otakit_hw_shared()->hold_pin;
#ifdef CONFIG_BOOTLOADER_FACTORY_RESET
    char reset_buf[128];
    const char *labels[MAX_RESET_LABELS];
    if (pin == OTAKIT_HW_PIN_FACTORY) {
        snprintf(reset_buf, sizeof(reset_buf), "%s", CONFIG_BOOTLOADER_DATA_FACTORY_RESET);
        size_t nlabels = split_labels(reset_buf, labels);
        cfg.pin = OTAKIT_BOOT_PIN_FACTORY_RESET;
        cfg.reset_labels = labels;
        cfg.reset_label_count = nlabels;
#ifdef CONFIG_BOOTLOADER_OTA_DATA_ERASE
        cfg.reset_erase_otadata = true;
#endif
    }
#endif
#ifdef CONFIG_BOOTLOADER_APP_TEST
    if (pin == OTAKIT_HW_PIN_TEST) {
        cfg.pin = OTAKIT_BOOT_PIN_TEST;
    }
#endif
    if (pin != OTAKIT_HW_PIN_NONE && cfg.pin == OTAKIT_BOOT_PIN_NONE) {
        otakit_console_log(OTAKIT_LOG_WARN, TAG,
                           "GPIO %s pin held, but this bootloader was built without %s",
                           pin == OTAKIT_HW_PIN_FACTORY ? "factory-reset" : "test-app",
                           pin == OTAKIT_HW_PIN_FACTORY ? "CONFIG_BOOTLOADER_FACTORY_RESET"
                                                        : "CONFIG_BOOTLOADER_APP_TEST");
    }

    otakit_err_t err = otakit_boot_select(&cfg, &res);
    if (err != OTAKIT_OK || res.part == NULL) {
        if (err == OTAKIT_ERR_INVALID_STATE) {
            LOGE("load partition table error!");
        }
        otakit_hw_reset(OTAKIT_HW_REQ_BOOT_RESET);
    }
    const otakit_part_t *part = res.part;
    const otakit_image_info_t *img = &res.image;
    for (unsigned i = 0; i < img->segments_parsed; i++) {
        const otakit_image_segment_t *s = &img->segments[i];
        otakit_console_log(OTAKIT_LOG_INFO, "esp_image",
                           "segment %u: paddr=%08" PRIx32 " vaddr=%08" PRIx32 " size=%05" PRIx32
                           "h (%6" PRIu32 ") %s",
                           i, part->offset + s->data_offset, s->load_addr, s->data_len, s->data_len,
                           s->load_addr == 0      ? ""
                           : mapped(s->load_addr) ? "map"
                                                  : "load");
    }

    uint32_t paddr, plen;
    err = otakit_program_find(flash, part->offset, img, &paddr, &plen);
    if (err == OTAKIT_ERR_NOT_FOUND) {
        const otakit_app_desc_t *d = &img->desc;
        if (img->has_desc) {
            LOGI("App in partition '%s' at 0x%" PRIx32
                 ": project %s, version %s, ESP-IDF %s, built %s %s, "
                 "secure_version %" PRIu32,
                 part->label, part->offset, d->project_name, d->version, d->idf_ver, d->date,
                 d->time, d->secure_version);
        }
        LOGE("The image in partition '%s' at 0x%" PRIx32
             " is real ESP32 (Xtensa) code: the virtual device "
             "cannot execute Xtensa code",
             part->label, part->offset);
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "the app in partition '%s' at 0x%" PRIx32 " (%s %s) is Xtensa code, which the "
                 "virtual device cannot execute",
                 part->label, part->offset, img->has_desc ? d->project_name : "no app description",
                 img->has_desc ? d->version : "");
        otakit_hw_halt(msg);
    }
    if (err != OTAKIT_OK) {
        LOGE("Failed to read the app at 0x%" PRIx32 " (%s)", part->offset, otakit_err_name(err));
        otakit_hw_reset(OTAKIT_HW_REQ_BOOT_RESET);
    }
    LOGI("Disabling RNG early entropy source...");
    otakit_hw_set_app(part->offset, part->size);
    otakit_hw_exec_flash(paddr, plen, img->has_desc ? img->desc.project_name : "app");
    LOGE("Failed to start the app at 0x%" PRIx32 ": %s", part->offset, strerror(errno));
    otakit_hw_reset(OTAKIT_HW_REQ_BOOT_RESET);
}
