/**
 * @file image_build.h
 * @brief Host side of otakit images: package a program (a Linux ELF executable, or any
 * bytes) as a real ESP32 app image, or as a second-stage bootloader image.
 *
 * The layout and the program trailer are the device's format: see program.h
 * (src/port/device).
 */
#ifndef OTAKIT_HOST_IMAGE_BUILD_H
#define OTAKIT_HOST_IMAGE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/image.h"
#include "program.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otakit_image_build_opts {
    const char *project;        /**< required, at most 32 bytes */
    const char *version;        /**< required, at most 32 bytes */
    uint32_t secure_version;    /**< anti-rollback version, default 0 */
    const char *date;           /**< "Nov 24 2026", at most 16 bytes; NULL = empty */
    const char *time;           /**< "12:00:00", at most 16 bytes; NULL = empty */
    const char *idf_ver;        /**< at most 32 bytes; NULL = "otakit" */
    uint16_t chip_id;           /**< default OTAKIT_CHIP_ESP32 */
    uint8_t spi_mode;           /**< default 2 (DIO) */
    uint8_t spi_speed;          /**< default 0 (40 MHz) */
    uint8_t spi_size;           /**< default 2 (4 MB) */
    uint32_t entry_addr;        /**< default OTAKIT_IMAGE_PROG_LOAD_ADDR */
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
otakit_err_t otakit_image_assemble(const otakit_image_header_t *h,
                                   const otakit_image_seg_in_t *segs, size_t n, uint8_t **out,
                                   size_t *out_len);

/**
 * @brief A program segment's data: the program, zeros to a multiple of 4, the trailer.
 * A segment loaded in IROM (apps) or internal IRAM (bootloaders) with this data is
 * what otakit_image_program finds.
 * @param[out] seg malloc'd, freed by the caller; seg_len its length.
 */
otakit_err_t otakit_image_program_segment(const uint8_t *prog, size_t prog_len, uint8_t **seg,
                                          uint32_t *seg_len);

typedef struct otakit_bootloader_pack_opts {
    const char *version;   /**< esp_bootloader_desc_t version string source (any text, <= 31) */
    uint32_t version_num;  /**< esp_bootloader_desc_t.version */
    const char *idf_ver;   /**< <= 31 bytes; NULL = "otakit" */
    const char *date_time; /**< <= 23 bytes; NULL = empty */
    uint8_t spi_size; /**< header flash-size field: 0 = 1MB, 1 = 2MB, 2 = 4MB, 3 = 8MB, 4 = 16MB ...
                         7 = 128MB */
} otakit_bootloader_pack_opts_t;

/**
 * Package a program as a second-stage bootloader image: header (ESP32, DIO, 40 MHz,
 * the configured flash size, 2 segments, hash appended), segment 0 = esp_bootloader_desc_t (80
 * bytes, DRAM), segment 1 = the program + zeros to a multiple of 4 + the 16-byte "OTAKPROG" trailer
 * (IRAM), checksum, SHA-256.
 * @param[out] out malloc'd image; out_len its length.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG; OTAKIT_ERR_INVALID_SIZE (program too large);
 *         OTAKIT_ERR_NO_MEM.
 */
otakit_err_t otakit_program_pack_bootloader(const otakit_bootloader_pack_opts_t *o,
                                            const uint8_t *prog, size_t prog_len, uint8_t **out,
                                            size_t *out_len);

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
