/**
 * @file program.h
 * @brief Where an otakit image keeps its Linux program, and how the virtual device finds
 * it at run time (the ROM stage finds the bootloader's, the bootloader an app's). The
 * build-time packers that write these images are in src/host/image_build.h.
 *
 * App images (written by otakit_image_build; all offsets are image file offsets):
 *
 * | offset  | what |
 * |---------|------|
 * | 0x00000 | image header: magic 0xE9, 3 segments, chip, flash mode/size/freq, entry, wp_pin 0xEE,
 * hash_appended 1 | | 0x00018 | segment 0 header: load 0x3F400020 (DROM), length 0x100 | | 0x00020
 * | esp_app_desc_t (256 bytes): project, version, secure_version, time, date, idf_ver, SHA-256 of
 * the program | | 0x00120 | segment 1 header: load 0 (padding), length 0xFEF0, zero filled | |
 * 0x10018 | segment 2 header: load 0x400D0020 (IROM), length align4(n) + 16 | | 0x10020 | the
 * program's n bytes, zeros up to a multiple of 4, then the 16-byte program trailer | | U       |
 * 0..15 zero bytes, the checksum byte at P-1 (P = align16(U + 1)) | | P       | SHA-256 of [0, P) |
 *
 * The program segment's data starts at file offset 0x10020, congruent to its load
 * address 0x400D0020 modulo 64 KiB, as ESP-IDF's mapping rule asks.
 *
 * Program trailer (the last 16 bytes of the program segment's data; otakit's own
 * format, nothing in ESP-IDF reads it): bytes 0..7 the ASCII magic "OTAKPROG",
 * 8..11 the program length n (u32 little-endian), 12..15 zero (reserved). A segment is
 * the program segment when its load address is in ESP32's IROM window, it ends with
 * this trailer and its length is exactly align4(n) + 16.
 *
 * Bootloader images (written by otakit_program_pack_bootloader): the same trailer at the
 * end of a segment loaded into IRAM, as a real second-stage bootloader's code is; no
 * 64 KiB padding, so the image fits the 28 KiB between 0x1000 and the partition table.
 */
#ifndef OTAKIT_DEVICE_PROGRAM_H
#define OTAKIT_DEVICE_PROGRAM_H

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

/** Load address of a bootloader image's program segment (ESP32 IRAM). */
#define OTAKIT_BOOTLOADER_PROG_LOAD_ADDR 0x40080400u
/** Load address of its description segment (ESP32 DRAM, as ESP-IDF's bootloader). */
#define OTAKIT_BOOTLOADER_DESC_LOAD_ADDR 0x3fff0030u
#define OTAKIT_BOOTLOADER_DESC_SIZE 80u

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
 * Find the program of the verified image at image_addr (info from the verifier).
 * @return OTAKIT_OK with *addr (flash address of the program) and *len (its exact
 *         length); OTAKIT_ERR_NOT_FOUND if the image holds no otakit program (real
 *         Xtensa code); flash errors.
 */
otakit_err_t otakit_program_find(const otakit_flash_t *f, uint32_t image_addr,
                                 const otakit_image_info_t *info, uint32_t *addr, uint32_t *len);

#ifdef __cplusplus
}
#endif
#endif
