/* Find the program in a verified otakit image, in memory or in flash (program.h has the
 * format). */
#include "program.h"

#include <stdbool.h>
#include <string.h>

#include "otakit/le.h"

/* ESP32's IROM window, where an app's program segment is loaded, and internal IRAM,
 * where a bootloader's is. */
#define IROM_START 0x400C2000u
#define IROM_END 0x40C00000u
#define IRAM_START 0x40070000u
#define IRAM_END 0x400A0000u

/* Whether a segment of data_len bytes whose last 16 bytes are t is a program segment;
 * sets *n to the program length. */
static int trailer_ok(const otakit_image_segment_t *s, const uint8_t t[16], uint32_t *n)
{
    if (memcmp(t, OTAKIT_IMAGE_PROG_MAGIC, 8) != 0 || otakit_le32_get(t + 12) != 0) {
        return 0;
    }
    uint32_t len = otakit_le32_get(t + 8);
    if (len > OTAKIT_IMAGE_PROG_MAX ||
        ((len + 3u) & ~3u) + OTAKIT_IMAGE_PROG_TRAILER_SIZE != s->data_len) {
        return 0;
    }
    *n = len;
    return 1;
}

static int candidate(const otakit_image_segment_t *s)
{
    bool irom = s->load_addr >= IROM_START && s->load_addr < IROM_END;
    bool iram = s->load_addr >= IRAM_START && s->load_addr < IRAM_END;
    return (irom || iram) && s->data_len >= OTAKIT_IMAGE_PROG_TRAILER_SIZE;
}

otakit_err_t otakit_image_program(const uint8_t *img, size_t len, const otakit_image_info_t *info,
                                  const uint8_t **prog, size_t *prog_len)
{
    if (img == NULL || info == NULL || prog == NULL || prog_len == NULL ||
        info->segments_parsed > OTAKIT_IMAGE_MAX_SEGMENTS) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    for (unsigned i = 0; i < info->segments_parsed; i++) {
        const otakit_image_segment_t *s = &info->segments[i];
        uint32_t n;
        if (!candidate(s) || s->data_offset > len || s->data_len > len - s->data_offset) {
            continue;
        }
        const uint8_t *t = img + s->data_offset + s->data_len - OTAKIT_IMAGE_PROG_TRAILER_SIZE;
        if (trailer_ok(s, t, &n)) {
            *prog = img + s->data_offset;
            *prog_len = n;
            return OTAKIT_OK;
        }
    }
    return OTAKIT_ERR_NOT_FOUND;
}

otakit_err_t otakit_image_program_flash(const otakit_flash_t *f, uint32_t addr,
                                        const otakit_image_info_t *info, uint32_t *prog_off,
                                        uint32_t *prog_len)
{
    if (f == NULL || info == NULL || prog_off == NULL || prog_len == NULL ||
        info->segments_parsed > OTAKIT_IMAGE_MAX_SEGMENTS) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    for (unsigned i = 0; i < info->segments_parsed; i++) {
        const otakit_image_segment_t *s = &info->segments[i];
        uint8_t t[OTAKIT_IMAGE_PROG_TRAILER_SIZE];
        uint32_t n;
        if (!candidate(s)) {
            continue;
        }
        uint64_t at = (uint64_t)addr + s->data_offset + s->data_len - sizeof(t);
        if (at > UINT32_MAX) {
            continue;
        }
        otakit_err_t err = otakit_flash_read(f, (uint32_t)at, t, sizeof(t));
        if (err != OTAKIT_OK) {
            return err;
        }
        if (trailer_ok(s, t, &n)) {
            *prog_off = s->data_offset;
            *prog_len = n;
            return OTAKIT_OK;
        }
    }
    return OTAKIT_ERR_NOT_FOUND;
}

otakit_err_t otakit_program_find(const otakit_flash_t *f, uint32_t image_addr,
                                 const otakit_image_info_t *info, uint32_t *addr, uint32_t *len)
{
    uint32_t off;
    otakit_err_t err = otakit_image_program_flash(f, image_addr, info, &off, len);
    if (err == OTAKIT_OK) {
        *addr = image_addr + off;
    }
    return err;
}
