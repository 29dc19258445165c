/**
 * @file boot.h
 * @brief The second-stage bootloader's decision (spec §6): verify the table, read
 * otadata, apply the rollback transitions, pick a slot, verify its image, fall back.
 */
#ifndef OTAKIT_BOOT_H
#define OTAKIT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/efuse.h"
#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/image.h"
#include "otakit/log.h"
#include "otakit/otadata.h"
#include "otakit/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_BOOT_INDEX_FACTORY (-1)
#define OTAKIT_BOOT_INDEX_TEST (-2)
#define OTAKIT_BOOT_INDEX_INVALID (-99)
#define OTAKIT_BOOT_MAX_WRITES 8

typedef enum {
    OTAKIT_BOOT_PIN_NONE = 0,
    OTAKIT_BOOT_PIN_FACTORY_RESET, /**< CONFIG_BOOTLOADER_FACTORY_RESET pin held */
    OTAKIT_BOOT_PIN_TEST,          /**< CONFIG_BOOTLOADER_APP_TEST pin held */
} otakit_boot_pin_t;

typedef struct otakit_boot_cfg {
    const otakit_flash_t *flash;
    uint32_t ptable_offset; /**< 0 = 0x8000 */
    /** The chip size the partition table is checked against: what the bootloader image
     * header says (its flash-size field), as ESP-IDF's bootloader checks it; 0 = the
     * flash device's own size. */
    uint32_t flash_size;
    bool rollback; /**< CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    /** CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS: boots an unconfirmed app gets before
     * it is rolled back (counted in its otadata entry's seq_label); 0 or 1 = ESP-IDF's one
     * trial boot. */
    unsigned boot_attempts;
    bool anti_rollback;          /**< CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    const otakit_efuse_t *efuse; /**< needed with anti_rollback */
    int32_t chip_id;             /**< OTAKIT_CHIP_ESP32 for the virtual device */
    bool require_hash;           /**< CONFIG_OTAKIT_APP_REQUIRE_SHA256: refuse apps without
                                      the appended SHA-256 */
    bool dry_run;                /**< decide and report the writes, change nothing (a
                                      tool's mode: OTAKIT_ERR_NOT_SUPPORTED when the core is
                                      built with OTAKIT_TOOLS 0, err.h) */
    otakit_boot_pin_t pin;
    /** Data partitions the factory-reset request erases (by label). */
    const char *const *reset_labels;
    size_t reset_label_count;
    bool reset_erase_otadata; /**< CONFIG_BOOTLOADER_OTA_DATA_ERASE */
    /**
     * The port's check of an app that verified and passed anti-rollback (the signature
     * check of Secure Boot V2, which needs crypto the core does not have): false refuses
     * the app, as a failed verification does, and the search goes on. NULL = none.
     */
    bool (*check_app)(void *ctx, const otakit_part_t *part, const otakit_image_info_t *image);
    void *check_app_ctx;
    otakit_log_t log;
} otakit_boot_cfg_t;

/** One flash change the decision makes (or would make, in a dry run). */
typedef struct otakit_boot_write {
    uint32_t addr; /**< flash address of the otadata copy or erased partition */
    uint32_t len;  /**< bytes erased (0: the entry programmed over, a boot counted) */
    int copy;      /**< otadata copy 0/1, or -1 for a partition erase */
    uint32_t seq;  /**< entry written (copy >= 0) */
    uint32_t state;
    const char *what; /**< "PENDING_VERIFY->ABORTED", "PENDING_VERIFY boot counted",
                         "NEW->PENDING_VERIFY", "initial fix-up", "factory reset" */
} otakit_boot_write_t;

typedef struct otakit_boot_result {
    otakit_ptable_t table;
    int index;                 /**< chosen: OTA slot 0..15, FACTORY, TEST */
    const otakit_part_t *part; /**< into table; NULL if nothing bootable */
    otakit_image_info_t image; /**< the booted image */
    /** The flash changes made or, in a dry run, that would be made; always empty when
     * the core is built with OTAKIT_TOOLS 0 (err.h). */
    otakit_boot_write_t writes[OTAKIT_BOOT_MAX_WRITES];
    size_t write_count;
} otakit_boot_result_t;

/**
 * @brief Run the bootloader's decision.
 * @return OTAKIT_OK with res->part set; OTAKIT_ERR_INVALID_STATE if the partition table
 *         does not verify or cannot be read; OTAKIT_ERR_NOT_FOUND if no partition holds a bootable
 * app; flash errors (a power cut during an otadata write). Power-loss: every write is an otadata
 * rewrite of one copy (erase, then program).
 */
otakit_err_t otakit_boot_select(const otakit_boot_cfg_t *cfg, otakit_boot_result_t *res);

#ifdef __cplusplus
}
#endif
#endif
