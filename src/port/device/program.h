/* Where an otakit image keeps its Linux program.
 *
 * App images (src/host/image_build.h): the flash-mapped IROM segment that ends with the
 * "OTAKPROG" trailer. Bootloader images (firmware/bootloader, written by
 * otakit_program_pack_bootloader): the same trailer at the end of a segment loaded into
 * IRAM, as a real second-stage bootloader's code is; no 64 KiB padding, so the image
 * fits the 28 KiB between 0x1000 and the partition table.
 */
#ifndef OTAKIT_SIM_PROGRAM_H
#define OTAKIT_SIM_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "otakit/flash.h"
#include "otakit/image.h"

/** Load address of a bootloader image's program segment (ESP32 IRAM). */
#define OTAKIT_BOOTLOADER_PROG_LOAD_ADDR 0x40080400u
/** Load address of its description segment (ESP32 DRAM, as ESP-IDF's bootloader). */
#define OTAKIT_BOOTLOADER_DESC_LOAD_ADDR 0x3fff0030u
#define OTAKIT_BOOTLOADER_DESC_SIZE 80u

/**
 * Find the program of the verified image at image_addr (info from the verifier).
 * @return OTAKIT_OK with *addr (flash address of the program) and *len (its exact
 *         length); OTAKIT_ERR_NOT_FOUND if the image holds no otakit program (real
 *         Xtensa code); flash errors.
 */
otakit_err_t otakit_program_find(const otakit_flash_t *f, uint32_t image_addr,
                                 const otakit_image_info_t *info, uint32_t *addr, uint32_t *len);

typedef struct otakit_bootloader_pack_opts {
    const char *version;   /**< esp_bootloader_desc_t version string source (any text, <= 31) */
    uint32_t version_num;  /**< esp_bootloader_desc_t.version */
    const char *idf_ver;   /**< <= 31 bytes; NULL = "otakit" */
    const char *date_time; /**< <= 23 bytes; NULL = empty */
    uint8_t spi_size; /**< header flash-size field: 0 = 1MB, 1 = 2MB, 2 = 4MB, 3 = 8MB, 4 = 16MB */
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

#endif
