/* What esptool v4.11.0's `image_info --version 2` prints for an ESP app image, line for
 * line, from its per-chip tables (chip names and image chip ids, flash frequency codes,
 * memory maps) and its formatting rules (esptool/cmds.py image_info, bin_image.py,
 * targets/<chip>.py of the v4.11.0 tag). */
#ifndef OTAKIT_HOST_ESPTOOL_INFO_H
#define OTAKIT_HOST_ESPTOOL_INFO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "otakit/image.h"

/** One chip as esptool knows it. */
typedef struct otakit_esptool_chip otakit_esptool_chip_t;

/** The chip whose image chip id is id (esptool's IMAGE_CHIP_ID), or NULL. */
const otakit_esptool_chip_t *otakit_esptool_chip(unsigned id);
/** esptool's CHIP_NAME ("ESP32", "ESP32-S3(beta2)", ...). */
const char *otakit_esptool_chip_name(const otakit_esptool_chip_t *chip);
/** The flash frequency of a header's low nibble on that chip ("40m"; "60m" on the
 * ESP32-C2), or NULL where esptool has no name for it. */
const char *otakit_esptool_flash_freq(const otakit_esptool_chip_t *chip, uint8_t bits);
/** The flash size of a header's high nibble ("2MB"), or NULL. */
const char *otakit_esptool_flash_size(uint8_t bits);
/** The memory types covering addr on that chip, joined with ", " as esptool prints them
 * ("BYTE_ACCESSIBLE, DRAM"); "" when none. */
void otakit_esptool_memory_types(const otakit_esptool_chip_t *chip, uint32_t addr, char *out,
                                 size_t n);

/**
 * Print what `esptool.py image_info --version 2 FILE` prints after its version banner,
 * for an image that parsed to the end (info from the verifier, buf the whole file).
 */
void otakit_esptool_image_info(FILE *out, const uint8_t *buf, size_t file_len,
                               const otakit_image_info_t *info);

#endif
