/**
 * @file sflash.h
 * @brief Sparse NOR flash for many virtual devices in one process, behind the core's
 * otakit_flash_t contract.
 *
 * Every device sees its own chip, but stores only the sectors it changed: a device's
 * map gives, per 4 KiB sector, the factory image's sector (shared read-only by all
 * devices of a store), the erased sector (0xFF), or a sector in the store's pool. A
 * sector that several devices hold with the same bytes (the same firmware, the same
 * otadata entry) is kept once: fleet_flash_compact() interns a device's changed sectors
 * by content, and a write to a shared sector copies it first. 10,000 devices that took
 * the same 1 MiB image hold it once.
 *
 * NOR rules as src/port/posix/nor.h: erase sets sectors to 0xFF, a write ANDs. Power
 * cuts follow that emulator's model for writes and erases (reads are not counted): a cut
 * armed at operation n fails op n with OTAKIT_ERR_FLASH_OP_FAIL and leaves it not done
 * (BEFORE), done (AFTER) or half done (TORN: a prefix of a write; for an erase, the units
 * before a random one erased, that one partly erased, the rest untouched); afterwards
 * every operation fails until fleet_flash_reboot().
 */
#ifndef OTAKIT_FLEET_SFLASH_H
#define OTAKIT_FLEET_SFLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/flash.h"

typedef struct fleet_store fleet_store_t;

typedef enum {
    FLEET_CUT_BEFORE = 0,
    FLEET_CUT_AFTER,
    FLEET_CUT_TORN,
} fleet_cut_mode_t;

typedef struct fleet_flash {
    otakit_flash_t flash; /**< what the core is given; ctx points here */
    fleet_store_t *store;
    uint32_t *map; /**< sector ids, one per sector */
    uint32_t epoch;
    uint64_t ops;    /**< writes + erases that reached a live chip */
    uint64_t cut_at; /**< op number (1-based, counted in ops) to cut at; 0 = none */
    fleet_cut_mode_t cut_mode;
    bool dead; /**< cut: every op fails until fleet_flash_reboot */
    bool cut;  /**< a cut happened since the last fleet_flash_reboot */
    uint32_t rng;
    uint32_t private_sectors; /**< sectors only this device holds, not interned */
} fleet_flash_t;

/** Counters of a store. */
typedef struct fleet_store_stats {
    uint64_t pool_sectors; /**< sectors held in the pool (shared ones once) */
    uint64_t interned;     /**< of which interned (shared by content) */
    uint64_t peak_pool_sectors;
} fleet_store_stats_t;

/**
 * @brief A store over a factory image (size bytes, a multiple of 4 KiB; copied).
 * @return NULL when out of memory or the size is not sector aligned.
 */
fleet_store_t *fleet_store_new(const uint8_t *image, uint32_t size);
void fleet_store_free(fleet_store_t *s);
void fleet_store_stats(const fleet_store_t *s, fleet_store_stats_t *st);

/** @brief A device's chip: the factory image. @return 0, or -1 when out of memory. */
int fleet_flash_init(fleet_flash_t *f, fleet_store_t *s, uint32_t seed);
/** Release a device's sectors. */
void fleet_flash_deinit(fleet_flash_t *f);
/** Arm a cut at the n-th write or erase from now (n >= 1). */
void fleet_flash_cut_in(fleet_flash_t *f, uint64_t n, fleet_cut_mode_t mode);
/** Power on again after a cut (the chip keeps what it holds; any armed cut is dropped). */
void fleet_flash_reboot(fleet_flash_t *f);
/** Intern the sectors only this device holds, so that equal ones are kept once. */
void fleet_flash_compact(fleet_flash_t *f);

#endif
