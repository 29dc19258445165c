#include "program.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "image_build.h"

#define TRAILER OTAKIT_IMAGE_PROG_TRAILER_SIZE

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ESP32 internal RAM windows the ROM loads segments into. */
static int in_iram(uint32_t a)
{
    return a >= 0x40070000u && a < 0x400a0000u;
}

otakit_err_t otakit_program_find(const otakit_flash_t *f, uint32_t image_addr,
                                 const otakit_image_info_t *info, uint32_t *addr, uint32_t *len)
{
    uint32_t off, n;
    otakit_err_t err = otakit_image_program_flash(f, image_addr, info, &off, &n);
    if (err == OTAKIT_OK) {
        *addr = image_addr + off;
        *len = n;
        return OTAKIT_OK;
    }
    if (err != OTAKIT_ERR_NOT_FOUND) {
        return err;
    }
    for (unsigned i = 0; i < info->segments_parsed && i < OTAKIT_IMAGE_MAX_SEGMENTS; i++) {
        const otakit_image_segment_t *s = &info->segments[i];
        if (!in_iram(s->load_addr) || s->data_len < TRAILER) {
            continue;
        }
        uint8_t t[TRAILER];
        err = otakit_flash_read(f, image_addr + s->data_offset + s->data_len - TRAILER, t, TRAILER);
        if (err != OTAKIT_OK) {
            return err;
        }
        n = get32(t + 8);
        if (memcmp(t, OTAKIT_IMAGE_PROG_MAGIC, 8) == 0 && get32(t + 12) == 0 &&
            n <= s->data_len - TRAILER && ((n + 3u) & ~3u) + TRAILER == s->data_len) {
            *addr = image_addr + s->data_offset;
            *len = n;
            return OTAKIT_OK;
        }
    }
    return OTAKIT_ERR_NOT_FOUND;
}

static void put_str(uint8_t *dst, size_t field, const char *s)
{
    if (s != NULL) {
        size_t n = strlen(s);
        memcpy(dst, s, n < field ? n : field - 1);
    }
}

otakit_err_t otakit_program_pack_bootloader(const otakit_bootloader_pack_opts_t *o,
                                            const uint8_t *prog, size_t prog_len, uint8_t **out,
                                            size_t *out_len)
{
    if (o == NULL || prog == NULL || out == NULL || out_len == NULL || prog_len == 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (prog_len > OTAKIT_IMAGE_PROG_MAX || o->spi_size > 7) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    const uint32_t desc_len = OTAKIT_BOOTLOADER_DESC_SIZE;
    const uint32_t prog_seg = (((uint32_t)prog_len + 3u) & ~3u) + TRAILER;
    const uint32_t end = OTAKIT_IMAGE_HEADER_SIZE + 8 + desc_len + 8 + prog_seg;
    const uint32_t p = otakit_image_len_from_end(end, false); /* checksum end */
    const uint32_t total = p + OTAKIT_IMAGE_HASH_LEN;
    uint8_t *img = calloc(1, total);
    if (img == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    otakit_image_header_t h;
    memset(&h, 0, sizeof(h));
    h.magic = OTAKIT_IMAGE_MAGIC;
    h.segment_count = 2;
    h.spi_mode = 2;           /* DIO */
    h.spi_speed = 0;          /* 40 MHz */
    h.spi_size = o->spi_size; /* the bootloader checks the partition table against it */
    h.entry_addr = OTAKIT_BOOTLOADER_PROG_LOAD_ADDR;
    h.wp_pin = 0xee;
    h.chip_id = OTAKIT_CHIP_ESP32;
    h.max_chip_rev_full = 399;
    h.hash_appended = 1;
    otakit_image_header_encode(&h, img);

    uint8_t *q = img + OTAKIT_IMAGE_HEADER_SIZE;
    put32(q, OTAKIT_BOOTLOADER_DESC_LOAD_ADDR);
    put32(q + 4, desc_len);
    uint8_t *d = q + 8;
    /* esp_bootloader_desc_t: magic 0x50, reserved[2], secure_version, version u32,
     * idf_ver[32], date_time[24], reserved2[16]. */
    d[0] = 0x50;
    put32(d + 4, o->version_num);
    put_str(d + 8, 32, o->idf_ver != NULL ? o->idf_ver : "otakit");
    put_str(d + 40, 24, o->date_time);
    q = d + desc_len;
    put32(q, OTAKIT_BOOTLOADER_PROG_LOAD_ADDR);
    put32(q + 4, prog_seg);
    uint8_t *ps = q + 8;
    memcpy(ps, prog, prog_len);
    uint8_t *t = ps + prog_seg - TRAILER;
    memcpy(t, OTAKIT_IMAGE_PROG_MAGIC, 8);
    put32(t + 8, (uint32_t)prog_len);

    uint8_t sum = OTAKIT_IMAGE_CHECKSUM_SEED;
    for (uint32_t i = 0; i < desc_len; i++) {
        sum ^= d[i];
    }
    for (uint32_t i = 0; i < prog_seg; i++) {
        sum ^= ps[i];
    }
    img[p - 1] = sum;
    if (mbedtls_sha256_ret(img, p, img + p, 0) != 0) {
        free(img);
        return OTAKIT_FAIL;
    }
    *out = img;
    *out_len = total;
    return OTAKIT_OK;
}
