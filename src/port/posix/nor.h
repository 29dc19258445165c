/**
 * @file nor.h
 * @brief Emulated NOR flash for the host: a file (mmap'd, MAP_SHARED) or memory behind
 * the core's otakit_flash_t contract, with fault injection, counters and a timing model.
 *
 * NOR rules: erase sets 4 KiB sectors (or aligned 64 KiB blocks) to 0xFF; a write
 * clears bits only (stored = stored AND data). In strict mode a write that would set a
 * bit fails with OTAKIT_ERR_FLASH_OP_FAIL, like ESP-IDF's erase check.
 *
 * Power cuts: otakit_nor_cut_at(n, mode) arms a cut at the n-th operation counted from
 * now (reads, writes and erases all count; n = 1 is the next operation):
 * BEFORE (op n never happens), AFTER (op n completes), TORN (op n is half done: a
 * prefix of a write; an erase that leaves part of the sector erased and the rest old or
 * random). After the cut the device is dead: every operation fails with
 * OTAKIT_ERR_FLASH_OP_FAIL until otakit_nor_reboot().
 *
 * Decisions (docs/flash.md has the whole fault model):
 * - the operation that is cut always returns OTAKIT_ERR_FLASH_OP_FAIL, AFTER included,
 *   so the caller stops at the cut as the real code would (it never sees the return);
 * - operations on a dead device fail without being counted; ops, and the numbering
 *   used by cut_at/fail_at, count every call that reached a live device;
 * - an erase range is done in units, largest first: an aligned 64 KiB block when the
 *   range covers it whole (one block erase on the timing model, 16 sectors_erased),
 *   else a 4 KiB sector (as esp_flash_erase_region does);
 * - strict mode checks the whole write before programming: a refused write changes
 *   nothing;
 * - bit rot belongs to the medium: it stays armed across otakit_nor_reboot().
 */
#ifndef OTAKIT_PORT_NOR_H
#define OTAKIT_PORT_NOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/flash.h"

typedef struct otakit_nor otakit_nor_t;

#define OTAKIT_NOR_DEFAULT_SIZE 0x400000u /* 4 MB */

typedef enum {
    OTAKIT_NOR_CUT_BEFORE = 0,
    OTAKIT_NOR_CUT_AFTER,
    OTAKIT_NOR_CUT_TORN,
} otakit_nor_cut_mode_t;

typedef struct otakit_nor_stats {
    uint64_t reads, writes, erases;     /**< operations */
    uint64_t bytes_read, bytes_written; /**< bytes */
    uint64_t sectors_erased;            /**< 4 KiB sectors erased (a block erase counts 16) */
    uint64_t ops;                       /**< reads + writes + erases */
    double sim_time_us;                 /**< simulated time on the timing model */
    uint64_t blocks_erased;             /**< 64 KiB block erases among sectors_erased */
} otakit_nor_stats_t;

/** Per-operation costs, in microseconds. */
typedef struct otakit_nor_timing {
    double sector_erase_us; /**< 4 KiB sector erase, default 45000 */
    double block_erase_us;  /**< 64 KiB block erase, default 150000 */
    double page_program_us; /**< 256-byte page program, default 700 */
    double read_byte_us;    /**< per byte read: 40 MHz QIO = 4 bits/clock -> 0.05 us/byte */
} otakit_nor_timing_t;

/** ESP32 module defaults: 45 ms sector erase, 150 ms block erase, 0.7 ms page, 40 MHz QIO reads. */
otakit_nor_timing_t otakit_nor_timing_default(void);

#define OTAKIT_NOR_CREATE 0x1u /**< create the file (all 0xFF) when it is missing */
#define OTAKIT_NOR_STRICT 0x2u /**< a write that would set a bit fails */
/** Open the file read-only (PROT_READ): write and erase fail with OTAKIT_ERR_NOT_ALLOWED
 * and the otakit_nor_data() bytes must not be modified. */
#define OTAKIT_NOR_READONLY 0x4u

/**
 * @brief Open a flash file; with OTAKIT_NOR_CREATE a missing file is made `size` bytes
 * of 0xFF (size 0 = 4 MB). An existing file keeps its size (size ignored unless 0).
 * @return OTAKIT_OK; OTAKIT_ERR_NOT_FOUND (missing, no CREATE); OTAKIT_ERR_INVALID_SIZE
 *         (size not a multiple of 4 KiB); OTAKIT_FAIL (I/O error, errno kept).
 */
otakit_err_t otakit_nor_open(otakit_nor_t **out, const char *path, uint32_t size, unsigned flags);
/** A flash in memory, all 0xFF. */
otakit_err_t otakit_nor_open_mem(otakit_nor_t **out, uint32_t size, unsigned flags);
/** msync a file-backed flash (close does it too) when this handle changed it (a write, an
 * erase, a raw pointer handed out, the file created) since the last sync; no-op in memory. */
otakit_err_t otakit_nor_sync(otakit_nor_t *nor);
void otakit_nor_close(otakit_nor_t *nor);

/** The core's view of this device (valid until close). */
const otakit_flash_t *otakit_nor_flash(otakit_nor_t *nor);
/** Direct pointer to the contents (for tests and tools that inspect bytes). Counts as a
 * change for the write epoch (otakit_flash_t.epoch), since the caller may write through
 * it. The epoch counts every write and erase that reaches the device (also failed and
 * cut ones) and is never reset; another process writing the same file is not seen. */
uint8_t *otakit_nor_data(otakit_nor_t *nor);
uint32_t otakit_nor_size(const otakit_nor_t *nor);
void otakit_nor_set_strict(otakit_nor_t *nor, bool strict);

/** Arm a power cut at the n-th operation from now (0 disarms). `seed` drives TORN's randomness. */
void otakit_nor_cut_at(otakit_nor_t *nor, uint64_t n, otakit_nor_cut_mode_t mode, uint32_t seed);
/** Whether a cut has happened (the device is dead). */
bool otakit_nor_is_dead(const otakit_nor_t *nor);
/** Power back on: the device works again, faults disarmed, contents as the cut left them. */
void otakit_nor_reboot(otakit_nor_t *nor);
/** Make the n-th operation from now fail with OTAKIT_ERR_FLASH_OP_FAIL without a cut. */
void otakit_nor_fail_at(otakit_nor_t *nor, uint64_t n);
/** Flip bits on read in [addr, addr+len): each read byte there is XORed with mask. len 0
 * disarms. Either changes the write epoch. */
void otakit_nor_bitrot(otakit_nor_t *nor, uint32_t addr, uint32_t len, uint8_t mask);

void otakit_nor_get_stats(const otakit_nor_t *nor, otakit_nor_stats_t *st);
void otakit_nor_reset_stats(otakit_nor_t *nor);
/** Erase count of one 4 KiB sector (wear) since open; reset_stats keeps it. 0 out of range. */
uint32_t otakit_nor_sector_erases(const otakit_nor_t *nor, uint32_t sector_index);
/** Turn the timing model on (timing != NULL) or off. */
void otakit_nor_set_timing(otakit_nor_t *nor, const otakit_nor_timing_t *timing);

#endif
