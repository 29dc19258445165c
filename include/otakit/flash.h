/**
 * @file flash.h
 * @brief The flash device contract every port implements, and the checked wrappers
 * the core uses to reach it.
 *
 * NOR rules: erase sets whole sectors to 0xFF; a write can only clear bits (the
 * stored byte becomes old AND new). A port reports the geometry; the core never
 * touches the device except through otakit_flash_read/write/erase, which check
 * bounds and alignment before calling the port.
 */
#ifndef OTAKIT_FLASH_H
#define OTAKIT_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_SECTOR_SIZE 0x1000u

typedef struct otakit_flash {
    void *ctx;
    /** Read len bytes at addr. */
    otakit_err_t (*read)(void *ctx, uint32_t addr, void *dst, size_t len);
    /** Program len bytes at addr: stored = stored AND src. */
    otakit_err_t (*write)(void *ctx, uint32_t addr, const void *src, size_t len);
    /** Erase [addr, addr+len), both sector aligned, to 0xFF. */
    otakit_err_t (*erase)(void *ctx, uint32_t addr, size_t len);
    uint32_t size;        /**< bytes */
    uint32_t sector_size; /**< erase unit, normally 0x1000 */
    uint32_t write_align; /**< program alignment in bytes, 1 for byte-programmable NOR */
    /**
     * Optional: a count that changes whenever anything writes or erases this flash,
     * through the core or not (the port's driver counts). The core compares two
     * readings to know that nothing was written in between, and then trusts a
     * verification it made itself (otakit_ota_set_boot_verified); NULL = never trust,
     * always verify again.
     */
    uint32_t (*epoch)(void *ctx);
} otakit_flash_t;

/**
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_SIZE if the range passes the end of flash;
 *         OTAKIT_ERR_INVALID_ARG for a NULL buffer; the port's error otherwise.
 */
otakit_err_t otakit_flash_read(const otakit_flash_t *f, uint32_t addr, void *dst, size_t len);
/** @return as otakit_flash_read; OTAKIT_ERR_INVALID_ARG if not write_align aligned. */
otakit_err_t otakit_flash_write(const otakit_flash_t *f, uint32_t addr, const void *src,
                                size_t len);
/**
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG if addr is not sector aligned;
 *         OTAKIT_ERR_INVALID_SIZE if len is not sector aligned or the range passes the end.
 */
otakit_err_t otakit_flash_erase(const otakit_flash_t *f, uint32_t addr, size_t len);

/**
 * @brief Whether [addr, addr+len) reads as all 0xFF. Reads through a small stack buffer.
 * @param[out] blank set to 1 when every byte is 0xFF.
 */
otakit_err_t otakit_flash_is_blank(const otakit_flash_t *f, uint32_t addr, size_t len, int *blank);

/**
 * @brief Read the port's write epoch (otakit_flash_t.epoch).
 * @return true with *epoch set, or false if the port keeps none.
 */
bool otakit_flash_epoch(const otakit_flash_t *f, uint32_t *epoch);

#ifdef __cplusplus
}
#endif
#endif
