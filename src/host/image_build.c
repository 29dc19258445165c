/* Package a host program as an ESP32 app image or as a second-stage bootloader image
 * (program.h has the layout). */
#include "image_build.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otakit/hash.h"
#include "otakit/le.h"

/* Segment 0 (the descriptor) ends at 0x120; a zero padding segment fills up to the
 * program segment's header so that its data lands at OTAKIT_IMAGE_PROG_DATA_OFFSET. */
#define DESC_SEG_END (OTAKIT_APP_DESC_OFFSET + OTAKIT_APP_DESC_SIZE)
#define PAD_SEG_LEN                                                                                \
    (OTAKIT_IMAGE_PROG_DATA_OFFSET - OTAKIT_IMAGE_SEGMENT_HEADER_SIZE - DESC_SEG_END -             \
     OTAKIT_IMAGE_SEGMENT_HEADER_SIZE)
_Static_assert(PAD_SEG_LEN % 4 == 0, "padding segment length must be a multiple of 4");
_Static_assert(OTAKIT_IMAGE_PROG_DATA_OFFSET % OTAKIT_MMU_PAGE_SIZE ==
                   OTAKIT_IMAGE_PROG_LOAD_ADDR % OTAKIT_MMU_PAGE_SIZE,
               "program segment must satisfy the mapping rule");

void otakit_image_build_opts_init(otakit_image_build_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->chip_id = OTAKIT_CHIP_ESP32;
    o->spi_mode = 2;  /* DIO */
    o->spi_speed = 0; /* 40 MHz */
    o->spi_size = 2;  /* 4 MB */
    o->entry_addr = OTAKIT_IMAGE_PROG_LOAD_ADDR;
    o->max_chip_rev_full = 399;
}

static int str_fits(const char *s, size_t n)
{
    return s == NULL || strlen(s) <= n;
}

otakit_err_t otakit_image_program_segment(const uint8_t *prog, size_t prog_len, uint8_t **seg,
                                          uint32_t *seg_len)
{
    if ((prog == NULL && prog_len > 0) || seg == NULL || seg_len == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (prog_len > OTAKIT_IMAGE_PROG_MAX) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    uint32_t padded = ((uint32_t)prog_len + 3u) & ~3u;
    uint8_t *d = calloc(1, padded + OTAKIT_IMAGE_PROG_TRAILER_SIZE);
    if (d == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    if (prog_len > 0) {
        memcpy(d, prog, prog_len);
    }
    memcpy(d + padded, OTAKIT_IMAGE_PROG_MAGIC, 8);
    otakit_le32_put(d + padded + 8, (uint32_t)prog_len);
    *seg = d;
    *seg_len = padded + OTAKIT_IMAGE_PROG_TRAILER_SIZE;
    return OTAKIT_OK;
}

otakit_err_t otakit_image_assemble(const otakit_image_header_t *h,
                                   const otakit_image_seg_in_t *segs, size_t n, uint8_t **out,
                                   size_t *out_len)
{
    if (h == NULL || segs == NULL || out == NULL || out_len == NULL || n == 0 ||
        n > OTAKIT_IMAGE_MAX_SEGMENTS) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    uint64_t end = OTAKIT_IMAGE_HEADER_SIZE;
    for (size_t i = 0; i < n; i++) {
        if (segs[i].len % 4 || segs[i].len >= OTAKIT_IMAGE_MAX_SEGMENT_LEN ||
            (segs[i].data == NULL && segs[i].len)) {
            return OTAKIT_ERR_INVALID_ARG;
        }
        end += OTAKIT_IMAGE_SEGMENT_HEADER_SIZE + segs[i].len;
    }
    if (end > 0x7FFFFFFFu) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    uint32_t p_end = otakit_image_len_from_end((uint32_t)end, false);
    size_t total = p_end + (h->hash_appended ? OTAKIT_IMAGE_HASH_LEN : 0);
    uint8_t *img = calloc(1, total);
    if (img == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    otakit_image_header_t hh = *h;
    hh.magic = OTAKIT_IMAGE_MAGIC;
    hh.segment_count = (uint8_t)n;
    otakit_image_header_encode(&hh, img);
    /* Checksum: seed XOR every segment data byte (headers excluded). */
    uint8_t ck = OTAKIT_IMAGE_CHECKSUM_SEED;
    uint8_t *p = img + OTAKIT_IMAGE_HEADER_SIZE;
    for (size_t i = 0; i < n; i++) {
        otakit_le32_put(p, segs[i].load_addr);
        otakit_le32_put(p + 4, segs[i].len);
        p += OTAKIT_IMAGE_SEGMENT_HEADER_SIZE;
        if (segs[i].len > 0) {
            memcpy(p, segs[i].data, segs[i].len);
        }
        for (uint32_t k = 0; k < segs[i].len; k++) {
            ck ^= p[k];
        }
        p += segs[i].len;
    }
    img[p_end - 1] = ck;
    if (h->hash_appended &&
        otakit_hash_buf(OTAKIT_HASH_SHA256, img, p_end, img + p_end) != OTAKIT_OK) {
        free(img);
        return OTAKIT_FAIL;
    }
    *out = img;
    *out_len = total;
    return OTAKIT_OK;
}

otakit_err_t otakit_image_build(const otakit_image_build_opts_t *o, const uint8_t *prog,
                                size_t prog_len, uint8_t **out, size_t *out_len)
{
    if (o == NULL || out == NULL || out_len == NULL || (prog == NULL && prog_len > 0) ||
        o->project == NULL || o->version == NULL || !str_fits(o->project, 32) ||
        !str_fits(o->version, 32) || !str_fits(o->date, 16) || !str_fits(o->time, 16) ||
        !str_fits(o->idf_ver, 32)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (prog_len > OTAKIT_IMAGE_PROG_MAX) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    otakit_image_header_t h;
    memset(&h, 0, sizeof(h));
    h.spi_mode = o->spi_mode;
    h.spi_speed = o->spi_speed;
    h.spi_size = o->spi_size;
    h.entry_addr = o->entry_addr;
    h.wp_pin = 0xEE; /* disabled, as esptool writes */
    h.chip_id = o->chip_id;
    h.min_chip_rev = (uint8_t)(o->min_chip_rev_full / 100);
    h.min_chip_rev_full = o->min_chip_rev_full;
    h.max_chip_rev_full = o->max_chip_rev_full;
    h.hash_appended = 1;

    otakit_app_desc_t d;
    memset(&d, 0, sizeof(d));
    d.magic = OTAKIT_APP_DESC_MAGIC;
    d.secure_version = o->secure_version;
    strcpy(d.project_name, o->project);
    strcpy(d.version, o->version);
    strcpy(d.date, o->date ? o->date : "");
    strcpy(d.time, o->time ? o->time : "");
    strcpy(d.idf_ver, o->idf_ver ? o->idf_ver : "otakit");
    if (otakit_hash_buf(OTAKIT_HASH_SHA256, prog, prog_len, d.app_elf_sha256) != OTAKIT_OK) {
        return OTAKIT_FAIL;
    }
    uint8_t desc[OTAKIT_APP_DESC_SIZE];
    otakit_app_desc_encode(&d, desc);
    uint8_t *seg = NULL, *pad = calloc(1, PAD_SEG_LEN);
    uint32_t seg_len = 0;
    otakit_err_t err =
        pad ? otakit_image_program_segment(prog, prog_len, &seg, &seg_len) : OTAKIT_ERR_NO_MEM;
    if (err == OTAKIT_OK) {
        const otakit_image_seg_in_t segs[3] = {
            {OTAKIT_IMAGE_DESC_LOAD_ADDR, desc, OTAKIT_APP_DESC_SIZE},
            {0, pad, PAD_SEG_LEN}, /* zeros, so the program lands at PROG_DATA_OFFSET */
            {OTAKIT_IMAGE_PROG_LOAD_ADDR, seg, seg_len},
        };
        err = otakit_image_assemble(&h, segs, 3, out, out_len);
    }
    free(seg);
    free(pad);
    return err;
}

otakit_err_t otakit_image_build_datetime(char date[16], char time_out[16])
{
    time_t t;
    struct tm tm;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde != NULL && *sde != '\0') {
        char *end;
        errno = 0;
        long long v = strtoll(sde, &end, 10);
        if (errno != 0 || *end != '\0' || v < 0) {
            return OTAKIT_ERR_INVALID_ARG;
        }
        t = (time_t)v;
        if (gmtime_r(&t, &tm) == NULL) {
            return OTAKIT_ERR_INVALID_ARG;
        }
    } else {
        t = time(NULL);
        if (localtime_r(&t, &tm) == NULL) {
            return OTAKIT_FAIL;
        }
    }
    /* __DATE__ form, C locale month names whatever the environment says. */
    static const char MONTHS[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    /* Bounded fields (the compiler cannot see the ranges): "Mmm dd yyyy", "hh:mm:ss". */
    snprintf(date, 16, "%s %2u %04u", MONTHS[(unsigned)tm.tm_mon % 12], (unsigned)tm.tm_mday % 32u,
             (unsigned)(tm.tm_year + 1900) % 10000u);
    snprintf(time_out, 16, "%02u:%02u:%02u", (unsigned)tm.tm_hour % 24u, (unsigned)tm.tm_min % 60u,
             (unsigned)tm.tm_sec % 61u);
    return OTAKIT_OK;
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
