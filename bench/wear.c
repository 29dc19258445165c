/* bench_wear: what one OTA write session costs the flash, for each of otakit's erase
 * policies and for two ESP-IDF behaviours emulated on the same NOR model.
 *
 * Every run builds a fresh virtual device (4 MB, factory + two 1 MiB OTA slots, ota_0 at
 * 0x110000: 64 KiB aligned), optionally flashes an older image into ota_0, resets the
 * counters, then writes the new image into ota_0 in 1024-byte chunks and verifies it:
 *
 *   otakit rows   otakit_update_begin(size argument) + otakit_update_write + otakit_update_end
 *   peer rows     the same erase and program calls ESP-IDF makes, issued straight to the
 *                 flash through otakit_flash_erase / otakit_flash_write, then the same
 *                 image verification esp_ota_end does (otakit_image_verify_flash)
 *
 * All numbers come from the emulator's counters and its timing model
 * (otakit_nor_timing_default): deterministic, no wall clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "fixture.h"
#pragma GCC diagnostic pop

#define FLASH_SIZE 0x400000u
#define SLOT_SIZE 0x100000u
#define CHUNK 1024u
#define SECTOR OTAKIT_SECTOR_SIZE

/* Image lengths: 150 KiB, and 1 MiB - 4 KiB (the slot's last sector stays unused, so
 * "size rounded up" differs from "whole slot"; see the legend). */
#define SMALL_LEN (150u * 1024u)
#define LARGE_LEN (SLOT_SIZE - SECTOR)

typedef enum {
    M_WHOLE = 0, /* otakit, OTAKIT_OTA_SIZE_UNKNOWN */
    M_SIZE,      /* otakit, exact image size */
    M_SEQ,       /* otakit, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES */
    M_IDF_SEQ,   /* peer: ESP-IDF default (native_ota_example v4.4+, esp_https_ota default) */
    M_IDF_BULK,  /* peer: esp_https_ota bulk_flash_erase, OTA_SIZE_UNKNOWN */
    M_COUNT
} method_t;

static const char *const method_name[M_COUNT] = {
    "otakit whole slot (SIZE_UNKNOWN)", "otakit size rounded up (exact size)",
    "otakit sequential (skips blank)",  "peer ESP-IDF default (SEQUENTIAL)",
    "peer ESP-IDF bulk (SIZE_UNKNOWN)",
};

typedef struct {
    otakit_nor_stats_t st;
} result_t;

typedef struct {
    const char *name;
    uint8_t *img;
    size_t len;
} image_t;

static void die(const char *what, otakit_err_t err)
{
    fprintf(stderr, "bench_wear: %s: %s\n", what, otakit_err_name(err));
    exit(1);
}

/* An image of exactly want bytes. With the layout of src/host/image_build.h the image
 * is align16(U + 1) + 32 bytes, U = 0x10030 + align4(n), so n = want - 48 - 0x10030
 * gives want exactly when want is a multiple of 16. */
static image_t make_image(const char *name, const char *version, size_t want, uint32_t seed)
{
    image_t im;
    im.name = name;
    size_t n = want - 48u - (OTAKIT_IMAGE_PROG_DATA_OFFSET + OTAKIT_IMAGE_PROG_TRAILER_SIZE);
    im.img = fx_image("bench_wear", version, 0, n, seed, &im.len);
    if (im.len != want) {
        fprintf(stderr, "bench_wear: built a %zu-byte image, wanted %zu\n", im.len, want);
        exit(1);
    }
    return im;
}

/* esp_ota_write's erase step with OTA_WITH_SEQUENTIAL_WRITES (spec §7.2): W = bytes
 * written so far; if W is sector aligned erase the sectors [W/4096, (W+size-1)/4096],
 * else if the chunk crosses into a new sector erase the sectors after W's. No blank
 * check. With 1024-byte chunks every call erases exactly one sector. */
static otakit_err_t idf_sequential_erase(const otakit_flash_t *f, const otakit_part_t *p,
                                         uint32_t w, uint32_t size)
{
    uint32_t first = w / SECTOR, last = (w + size - 1u) / SECTOR;
    if (w % SECTOR == 0) {
        return otakit_flash_erase(f, p->offset + w, (last - first + 1u) * SECTOR);
    }
    if (first != last) {
        return otakit_flash_erase(f, p->offset + (first + 1u) * SECTOR, (last - first) * SECTOR);
    }
    return OTAKIT_OK;
}

static void run_otakit(fx_dev_t *d, const otakit_part_t *slot, method_t m, const image_t *im)
{
    uint32_t arg = m == M_WHOLE  ? OTAKIT_OTA_SIZE_UNKNOWN
                   : m == M_SIZE ? (uint32_t)im->len
                                 : OTAKIT_OTA_WITH_SEQUENTIAL_WRITES;
    otakit_update_t u;
    otakit_err_t err = otakit_update_begin(&u, &d->ota, slot, arg);
    if (err != OTAKIT_OK) {
        die("otakit_update_begin", err);
    }
    for (size_t off = 0; off < im->len; off += CHUNK) {
        size_t n = im->len - off < CHUNK ? im->len - off : CHUNK;
        err = otakit_update_write(&u, im->img + off, n);
        if (err != OTAKIT_OK) {
            die("otakit_update_write", err);
        }
    }
    err = otakit_update_end(&u);
    if (err != OTAKIT_OK) {
        die("otakit_update_end", err);
    }
}

static void run_peer(fx_dev_t *d, const otakit_part_t *slot, method_t m, const image_t *im)
{
    otakit_err_t err;
    if (m == M_IDF_BULK) {
        /* esp_ota_begin(OTA_SIZE_UNKNOWN): one esp_partition_erase_range over the slot */
        err = otakit_flash_erase(d->flash, slot->offset, slot->size);
        if (err != OTAKIT_OK) {
            die("peer bulk erase", err);
        }
    }
    for (size_t off = 0; off < im->len; off += CHUNK) {
        uint32_t n = (uint32_t)(im->len - off < CHUNK ? im->len - off : CHUNK);
        if (m == M_IDF_SEQ) {
            err = idf_sequential_erase(d->flash, slot, (uint32_t)off, n);
            if (err != OTAKIT_OK) {
                die("peer sequential erase", err);
            }
        }
        err = otakit_flash_write(d->flash, slot->offset + (uint32_t)off, im->img + off, n);
        if (err != OTAKIT_OK) {
            die("peer write", err);
        }
    }
    /* esp_ota_end: esp_image_verify of the slot */
    otakit_image_opts_t opts = otakit_ota_image_opts(&d->ota, slot);
    err = otakit_image_verify_flash(d->flash, slot->offset, &opts, NULL, NULL);
    if (err != OTAKIT_OK) {
        die("peer verify", err);
    }
}

static result_t run(method_t m, const image_t *im, const image_t *old)
{
    fx_dev_t *d = fx_dev_new(FLASH_SIZE, true, 2, SLOT_SIZE);
    const otakit_nor_timing_t timing = otakit_nor_timing_default();
    otakit_nor_set_timing(d->nor, &timing);
    d->ota.running = d->factory;
    const otakit_part_t *slot = fx_slot(d, 0);
    if (old != NULL) {
        fx_flash_image(d, slot, old->img, old->len);
    }
    otakit_nor_reset_stats(d->nor);
    if (m == M_IDF_SEQ || m == M_IDF_BULK) {
        run_peer(d, slot, m, im);
    } else {
        run_otakit(d, slot, m, im);
    }
    result_t r;
    otakit_nor_get_stats(d->nor, &r.st);
    if (!fx_holds(d, slot, im->img, im->len)) {
        fprintf(stderr, "bench_wear: %s: the slot does not hold the new image\n", method_name[m]);
        exit(1);
    }
    fx_dev_free(d);
    return r;
}

int main(void)
{
    image_t small = make_image("150 KiB", "2.0.0-small", SMALL_LEN, 1);
    image_t large = make_image("1020 KiB", "2.0.0-large", LARGE_LEN, 2);
    image_t old_small = make_image("150 KiB", "1.0.0-small", SMALL_LEN, 3);
    image_t old_large = make_image("1020 KiB", "1.0.0-large", LARGE_LEN, 4);
    const image_t *images[2] = {&small, &large};
    const image_t *olds[2] = {&old_large, &old_small}; /* the older image of the other size */

    printf("bench_wear: one OTA write session into a 1 MiB slot (ota_0 at 0x110000), NOR timing "
           "model\n");
    printf(
        "images: 150 KiB = %zu bytes; 1020 KiB = %zu bytes (1 MiB - 4 KiB: the largest image that\n"
        "leaves the slot's last sector unused; an image of exactly 1 MiB also fits)\n\n",
        small.len, large.len);
    printf("%-9s %-15s %-36s %8s %6s %10s %12s %9s\n", "image", "start", "method", "sectors",
           "blocks", "KiB prog", "sim time ms", "ratio");
    printf("%-9s %-15s %-36s %8s %6s %10s %12s %9s\n", "---------", "---------------",
           "------------------------------------", "--------", "------", "----------",
           "------------", "---------");
    for (int i = 0; i < 2; i++) {
        for (int s = 0; s < 2; s++) {
            const image_t *old = s == 0 ? NULL : olds[i];
            char start[32];
            snprintf(start, sizeof(start), "%s", old ? "" : "blank");
            if (old) {
                snprintf(start, sizeof(start), "holds %s", old->name);
            }
            result_t r[M_COUNT];
            for (int m = 0; m < M_COUNT; m++) {
                r[m] = run((method_t)m, images[i], old);
            }
            double base = r[M_IDF_SEQ].st.sim_time_us;
            for (int m = 0; m < M_COUNT; m++) {
                printf("%-9s %-15s %-36s %8llu %6llu %10.1f %12.1f %9.3f\n", images[i]->name, start,
                       method_name[m], (unsigned long long)r[m].st.sectors_erased,
                       (unsigned long long)r[m].st.blocks_erased,
                       (double)r[m].st.bytes_written / 1024.0, r[m].st.sim_time_us / 1000.0,
                       base > 0 ? r[m].st.sim_time_us / base : 0.0);
            }
        }
    }
    printf(
        "\nlegend:\n"
        "  sectors   4 KiB sectors erased (a 64 KiB block erase counts 16)\n"
        "  blocks    64 KiB block erases among them (one erase call over an aligned 64 KiB range)\n"
        "  KiB prog  bytes programmed / 1024 (the image, in 1024-byte chunks)\n"
        "  sim time  NOR timing model: 45 ms per sector erase, 150 ms per block erase, 0.7 ms per\n"
        "            256-byte page programmed, 0.05 us per byte read; includes the end-of-session\n"
        "            image verification (reads the image) and, for otakit sequential, its blank "
        "checks\n"
        "  ratio     sim time / sim time of the ESP-IDF default row for the same image and start\n"
        "  otakit    otakit_update_begin with OTAKIT_OTA_SIZE_UNKNOWN / the exact size /\n"
        "            OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, then otakit_update_write, "
        "otakit_update_end\n"
        "  peer ESP-IDF default  esp_ota_begin(OTA_WITH_SEQUENTIAL_WRITES) as native_ota_example\n"
        "            (v4.4+) and esp_https_ota without bulk_flash_erase use it: esp_ota_write "
        "erases\n"
        "            each sector when first touched, one single-sector erase call each, no blank "
        "check\n"
        "  peer ESP-IDF bulk     esp_https_ota with bulk_flash_erase / "
        "esp_ota_begin(OTA_SIZE_UNKNOWN):\n"
        "            one esp_partition_erase_range over the whole slot (blocks where aligned)\n"
        "  peers are emulated by issuing ESP-IDF's erase and write calls to the same emulated "
        "flash\n");
    free(small.img);
    free(large.img);
    free(old_small.img);
    free(old_large.img);
    return 0;
}
