#include "program.h"

#include <stdlib.h>
#include <string.h>

#include "image_build.h"

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
    otakit_image_header_t h;
    memset(&h, 0, sizeof(h));
    h.spi_mode = 2;           /* DIO */
    h.spi_speed = 0;          /* 40 MHz */
    h.spi_size = o->spi_size; /* the bootloader checks the partition table against it */
    h.entry_addr = OTAKIT_BOOTLOADER_PROG_LOAD_ADDR;
    h.wp_pin = 0xee;
    h.chip_id = OTAKIT_CHIP_ESP32;
    h.max_chip_rev_full = 399;
    h.hash_appended = 1;

    /* esp_bootloader_desc_t: magic 0x50, reserved[2], secure_version, version u32,
     * idf_ver[32], date_time[24], reserved2[16]. */
    uint8_t d[OTAKIT_BOOTLOADER_DESC_SIZE];
    memset(d, 0, sizeof(d));
    d[0] = 0x50;
    d[4] = (uint8_t)o->version_num;
    d[5] = (uint8_t)(o->version_num >> 8);
    d[6] = (uint8_t)(o->version_num >> 16);
    d[7] = (uint8_t)(o->version_num >> 24);
    put_str(d + 8, 32, o->idf_ver != NULL ? o->idf_ver : "otakit");
    put_str(d + 40, 24, o->date_time);

    uint8_t *seg = NULL;
    uint32_t seg_len = 0;
    otakit_err_t err = otakit_image_program_segment(prog, prog_len, &seg, &seg_len);
    if (err == OTAKIT_OK) {
        const otakit_image_seg_in_t segs[2] = {
            {OTAKIT_BOOTLOADER_DESC_LOAD_ADDR, d, sizeof(d)},
            {OTAKIT_BOOTLOADER_PROG_LOAD_ADDR, seg, seg_len},
        };
        err = otakit_image_assemble(&h, segs, 2, out, out_len);
    }
    free(seg);
    return err;
}
