/**
 * @file image_build.h
 * @brief Host side of app images: package a program (a Linux ELF executable, or any
 * bytes) as a real ESP32 app image, find the program in a verified image, give it back.
 *
 * Layout written by otakit_image_build (all offsets are image file offsets):
 *
 * | offset  | what |
 * |---------|------|
 * | 0x00000 | image header: magic 0xE9, 3 segments, chip, flash mode/size/freq, entry, wp_pin 0xEE, hash_appended 1 |
 * | 0x00018 | segment 0 header: load 0x3F400020 (DROM), length 0x100 |
 * | 0x00020 | esp_app_desc_t (256 bytes): project, version, secure_version, time, date, idf_ver, SHA-256 of the program |
 * | 0x00120 | segment 1 header: load 0 (padding), length 0xFEF0, zero filled |
 * | 0x10018 | segment 2 header: load 0x400D0020 (IROM), length align4(n) + 16 |
 * | 0x10020 | the program's n bytes, zeros up to a multiple of 4, then the 16-byte program trailer |
 * | U       | 0..15 zero bytes, the checksum byte at P-1 (P = align16(U + 1)) |
 * | P       | SHA-256 of [0, P) |
 *
 * The program segment's data starts at file offset 0x10020, congruent to its load
 * address 0x400D0020 modulo 64 KiB, as ESP-IDF's mapping rule asks.
 *
 * Program trailer (the last 16 bytes of the program segment's data; otakit's own
 * format, nothing in ESP-IDF reads it): bytes 0..7 the ASCII magic "OTAKPROG",
 * 8..11 the program length n (u32 little-endian), 12..15 zero (reserved). A segment is
 * the program segment when its load address is in ESP32's IROM window, it ends with
 * this trailer and its length is exactly align4(n) + 16.
 */
#ifndef OTAKIT_HOST_IMAGE_BUILD_H
#define OTAKIT_HOST_IMAGE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/image.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_IMAGE_DESC_LOAD_ADDR 0x3F400020u
#define OTAKIT_IMAGE_PROG_LOAD_ADDR 0x400D0020u
#define OTAKIT_IMAGE_PROG_DATA_OFFSET 0x10020u
#define OTAKIT_IMAGE_PROG_TRAILER_SIZE 16u
#define OTAKIT_IMAGE_PROG_MAGIC "OTAKPROG"
/** Largest program that fits one segment (segments are < 16 MiB). */
#define OTAKIT_IMAGE_PROG_MAX (OTAKIT_IMAGE_MAX_SEGMENT_LEN - 4u - OTAKIT_IMAGE_PROG_TRAILER_SIZE)

typedef struct otakit_image_build_opts {
    const char *project;     /**< required, at most 32 bytes */
    const char *version;     /**< required, at most 32 bytes */
    uint32_t secure_version; /**< anti-rollback version, default 0 */
    const char *date;        /**< "Nov 24 2026", at most 16 bytes; NULL = empty */
    const char *time;        /**< "12:00:00", at most 16 bytes; NULL = empty */
    const char *idf_ver;     /**< at most 32 bytes; NULL = "otakit" */
    uint16_t chip_id;        /**< default OTAKIT_CHIP_ESP32 */
    uint8_t spi_mode;        /**< default 2 (DIO) */
    uint8_t spi_speed;       /**< default 0 (40 MHz) */
    uint8_t spi_size;        /**< default 2 (4 MB) */
    uint32_t entry_addr;     /**< default OTAKIT_IMAGE_PROG_LOAD_ADDR */
    uint16_t min_chip_rev_full; /**< default 0 */
    uint16_t max_chip_rev_full; /**< default 399 (ESP32 v3.99), as ESP-IDF v5 writes */
} otakit_image_build_opts_t;

/** Fill o with the defaults above (project and version NULL). */
void otakit_image_build_opts_init(otakit_image_build_opts_t *o);

/**
 * @brief Build an app image holding prog (layout above).
 * @param[out] out malloc'd image, freed by the caller; out_len its length.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG for a missing project/version or a string
 *         longer than its field; OTAKIT_ERR_INVALID_SIZE if the program is larger than
 *         OTAKIT_IMAGE_PROG_MAX; OTAKIT_ERR_NO_MEM.
 */
otakit_err_t otakit_image_build(const otakit_image_build_opts_t *o, const uint8_t *prog,
                                size_t prog_len, uint8_t **out, size_t *out_len);

/** One segment for otakit_image_assemble. */
typedef struct otakit_image_seg_in {
    uint32_t load_addr;
    const uint8_t *data;
    uint32_t len; /**< a multiple of 4 */
} otakit_image_seg_in_t;

/**
 * @brief Lay out an image: the header (magic and segment count set here), the segments in
 * order, padding and the checksum byte, and the SHA-256 when h->hash_appended.
 * @param[out] out malloc'd image, freed by the caller.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG (no or more than 16 segments, a length that is
 *         not a multiple of 4); OTAKIT_ERR_NO_MEM.
 */
otakit_err_t otakit_image_assemble(const otakit_image_header_t *h, const otakit_image_seg_in_t *segs,
                                   size_t n, uint8_t **out, size_t *out_len);

/**
 * @brief A program segment's data: the program, zeros to a multiple of 4, the trailer.
 * A segment loaded in IROM (apps) or internal IRAM (bootloaders) with this data is
 * what otakit_image_program finds.
 * @param[out] seg malloc'd, freed by the caller; seg_len its length.
 */
otakit_err_t otakit_image_program_segment(const uint8_t *prog, size_t prog_len, uint8_t **seg,
                                          uint32_t *seg_len);

/**
 * @brief Find the program of an image already verified into info.
 * @param[out] prog points into img; prog_len the program's exact length.
 * @return OTAKIT_OK; OTAKIT_ERR_NOT_FOUND if no segment holds an otakit program (a real
 *         ESP32 image, a bootloader built by ESP-IDF); OTAKIT_ERR_INVALID_ARG.
 */
otakit_err_t otakit_image_program(const uint8_t *img, size_t len, const otakit_image_info_t *info,
                                  const uint8_t **prog, size_t *prog_len);

/**
 * @brief As otakit_image_program, for an image verified in flash at addr: reads the
 * candidate segments' trailers.
 * @param[out] prog_off the program's offset from addr; prog_len its length.
 * @return OTAKIT_OK; OTAKIT_ERR_NOT_FOUND; OTAKIT_ERR_INVALID_ARG; a flash read error.
 */
otakit_err_t otakit_image_program_flash(const otakit_flash_t *f, uint32_t addr,
                                        const otakit_image_info_t *info, uint32_t *prog_off,
                                        uint32_t *prog_len);

/**
 * @brief The date and time to stamp into a new image, in __DATE__/__TIME__ form
 * ("Nov  4 2026", "12:00:00"): from SOURCE_DATE_EPOCH (UTC) when it is set, else now
 * (local time).
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG if SOURCE_DATE_EPOCH is not a number.
 */
otakit_err_t otakit_image_build_datetime(char date[16], char time[16]);

#ifdef __cplusplus
}
#endif
#endif
