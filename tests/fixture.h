/* A virtual device for core tests: an in-memory NOR flash with a partition table
 * (nvs, otadata, phy, optional factory, N OTA slots), images built by the host image
 * builder, and helpers that boot and update through the core API. */
#ifndef OTAKIT_TEST_FIXTURE_H
#define OTAKIT_TEST_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_build.h"
#include "nor.h"
#include "otakit/boot.h"
#include "otakit/otadata.h"
#include "otakit/ptable.h"
#include "otakit/update.h"

typedef struct fx_dev {
    otakit_nor_t *nor;
    const otakit_flash_t *flash;
    otakit_ptable_t table;
    otakit_ota_t ota;
    uint32_t efuse;
    otakit_efuse_t efuse_if;
    otakit_boot_result_t boot;
    const otakit_part_t *factory, *otadata, *nvs;
    bool verbose;
    unsigned boot_attempts; /* CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS (0 = 1) */
    /* The bootloader's port check (Secure Boot V2 signatures), or NULL. */
    bool (*check_app)(void *ctx, const otakit_part_t *part, const otakit_image_info_t *image);
} fx_dev_t;

static inline uint32_t fx_efuse_get(void *ctx)
{
    return ((fx_dev_t *)ctx)->efuse;
}

static inline otakit_err_t fx_efuse_raise(void *ctx, uint32_t v)
{
    fx_dev_t *d = ctx;
    if (v > d->efuse) {
        d->efuse = v;
    }
    return OTAKIT_OK;
}

static inline void fx_log(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt,
                          va_list ap)
{
    fx_dev_t *d = ctx;
    if (!d->verbose) {
        return;
    }
    fprintf(stderr, "%c %s: ", otakit_log_letter(level), tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static inline void fx_part(otakit_part_t *p, const char *label, uint8_t type, uint8_t subtype,
                           uint32_t off, uint32_t size)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->label, sizeof(p->label), "%s", label);
    p->type = type;
    p->subtype = subtype;
    p->offset = off;
    p->size = size;
}

/* Layout: nvs 0x9000/0x4000, otadata 0xd000/0x2000, phy 0xf000, [factory], ota_0.. each
 * slot_size, 64 KiB aligned from 0x10000. */
static inline fx_dev_t *fx_dev_new(uint32_t flash_size, bool factory, unsigned slots,
                                   uint32_t slot_size)
{
    fx_dev_t *d = calloc(1, sizeof(*d));
    otakit_part_t parts[24];
    size_t n = 0;
    fx_part(&parts[n++], "nvs", OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_NVS, 0x9000,
            0x4000);
    fx_part(&parts[n++], "otadata", OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, 0xd000,
            0x2000);
    fx_part(&parts[n++], "phy_init", OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_PHY, 0xf000,
            0x1000);
    uint32_t off = 0x10000;
    if (factory) {
        fx_part(&parts[n++], "factory", OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, off,
                slot_size);
        off += slot_size;
    }
    for (unsigned i = 0; i < slots; i++) {
        char label[16];
        snprintf(label, sizeof(label), "ota_%u", i);
        fx_part(&parts[n++], label, OTAKIT_PART_TYPE_APP, (uint8_t)(OTAKIT_PART_SUBTYPE_OTA_0 + i),
                off, slot_size);
        off += slot_size;
    }
    if (otakit_nor_open_mem(&d->nor, flash_size, OTAKIT_NOR_STRICT) != OTAKIT_OK) {
        abort();
    }
    d->flash = otakit_nor_flash(d->nor);
    uint8_t bin[OTAKIT_PTABLE_MAX_LEN];
    if (otakit_ptable_encode(parts, n, true, bin) != OTAKIT_OK ||
        otakit_flash_write(d->flash, OTAKIT_PTABLE_OFFSET_DEFAULT, bin, sizeof(bin)) != OTAKIT_OK ||
        otakit_ptable_load(&d->table, d->flash, OTAKIT_PTABLE_OFFSET_DEFAULT, NULL) != OTAKIT_OK) {
        abort();
    }
    d->factory =
        otakit_ptable_find(&d->table, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, NULL);
    d->otadata =
        otakit_ptable_find(&d->table, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, NULL);
    d->nvs =
        otakit_ptable_find(&d->table, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_NVS, NULL);
    d->efuse_if.ctx = d;
    d->efuse_if.get = fx_efuse_get;
    d->efuse_if.raise = fx_efuse_raise;
    d->ota.flash = d->flash;
    d->ota.table = &d->table;
    d->ota.chip_id = OTAKIT_CHIP_ESP32;
    d->ota.efuse = &d->efuse_if;
    d->ota.log.fn = fx_log;
    d->ota.log.ctx = d;
    d->verbose = getenv("OTAKIT_TEST_VERBOSE") != NULL;
    return d;
}

static inline void fx_dev_free(fx_dev_t *d)
{
    otakit_nor_close(d->nor);
    free(d);
}

static inline const otakit_part_t *fx_slot(fx_dev_t *d, unsigned i)
{
    return otakit_ptable_ota_slot(&d->table, i);
}

/* An image whose program is prog_len pseudo-random bytes from seed. Caller frees. */
static inline uint8_t *fx_image(const char *project, const char *version, uint32_t secure_version,
                                size_t prog_len, uint32_t seed, size_t *len)
{
    uint8_t *prog = malloc(prog_len ? prog_len : 1);
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < prog_len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        prog[i] = (uint8_t)x;
    }
    otakit_image_build_opts_t o;
    otakit_image_build_opts_init(&o);
    o.project = project;
    o.version = version;
    o.secure_version = secure_version;
    o.date = "Nov 24 2026";
    o.time = "12:00:00";
    uint8_t *img = NULL;
    if (otakit_image_build(&o, prog, prog_len, &img, len) != OTAKIT_OK) {
        abort();
    }
    free(prog);
    return img;
}

/* Write an image straight into a partition (as a flasher would). */
static inline void fx_flash_image(fx_dev_t *d, const otakit_part_t *p, const uint8_t *img,
                                  size_t len)
{
    uint32_t sz = (uint32_t)((len + 0xFFF) & ~(size_t)0xFFF);
    if (otakit_flash_erase(d->flash, p->offset, sz) != OTAKIT_OK ||
        otakit_flash_write(d->flash, p->offset, img, len) != OTAKIT_OK) {
        abort();
    }
}

/* The table's own record for a partition found by offset (boot results hold copies). */
static inline const otakit_part_t *fx_by_offset(fx_dev_t *d, uint32_t offset)
{
    for (size_t i = 0; i < d->table.count; i++) {
        if (d->table.parts[i].offset == offset) {
            return &d->table.parts[i];
        }
    }
    return NULL;
}

/* Power on: the bootloader's decision; sets ota.running to the chosen partition. */
static inline otakit_err_t fx_boot(fx_dev_t *d, otakit_boot_pin_t pin)
{
    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = d->flash;
    cfg.rollback = d->ota.rollback;
    cfg.boot_attempts = d->boot_attempts;
    cfg.anti_rollback = d->ota.anti_rollback;
    cfg.efuse = &d->efuse_if;
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    cfg.pin = pin;
    static const char *const reset_labels[] = {"nvs"};
    cfg.reset_labels = reset_labels;
    cfg.reset_label_count = 1;
    cfg.reset_erase_otadata = true;
    cfg.log = d->ota.log;
    cfg.check_app = d->check_app;
    cfg.check_app_ctx = d;
    d->ota.running = NULL;
    otakit_err_t err = otakit_boot_select(&cfg, &d->boot);
    if (err == OTAKIT_OK) {
        d->ota.running = fx_by_offset(d, d->boot.part->offset);
    }
    return err;
}

/* The app side of an update: begin, write in chunks, end, set boot. */
static inline otakit_err_t fx_update(fx_dev_t *d, const otakit_part_t *target, const uint8_t *img,
                                     size_t len, uint32_t size_arg, size_t chunk)
{
    otakit_update_t u;
    otakit_err_t err = otakit_update_begin(&u, &d->ota, target, size_arg);
    for (size_t off = 0; err == OTAKIT_OK && off < len; off += chunk) {
        err = otakit_update_write(&u, img + off, len - off < chunk ? len - off : chunk);
    }
    if (err == OTAKIT_OK) {
        err = otakit_update_end(&u);
    } else {
        otakit_update_abort(&u);
    }
    if (err == OTAKIT_OK) {
        err = otakit_ota_set_boot_verified(&d->ota, target, &u.proof); /* as esp_ota_ops does */
    }
    return err;
}

/* Whether partition p holds exactly img. */
static inline bool fx_holds(fx_dev_t *d, const otakit_part_t *p, const uint8_t *img, size_t len)
{
    return p != NULL && len <= p->size &&
           memcmp(otakit_nor_data(d->nor) + p->offset, img, len) == 0;
}

#endif
