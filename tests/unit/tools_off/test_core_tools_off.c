/* The core as a microcontroller port may build it (tests/CMakeLists.txt compiles
 * src/core with -DOTAKIT_TOOLS=0 -DOTAKIT_LOG_MAX_LEVEL=OTAKIT_LOG_INFO for this test, the
 * configuration bench/footprint.sh measures): the name functions answer "unknown", a
 * dry run is refused, debug messages are compiled out, and the parts a device runs
 * (table, image, boot selection) still do their work and their checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "otakit/boot.h"
#include "otakit/image.h"
#include "otakit/log.h"
#include "otakit/otadata.h"
#include "otakit/ptable.h"

#if OTAKIT_TOOLS
#error "this test is built with OTAKIT_TOOLS 0"
#endif

static void test_names_unknown(void)
{
    CHECK_STR(otakit_err_name(OTAKIT_OK), "UNKNOWN ERROR");
    CHECK_STR(otakit_err_name(OTAKIT_ERR_INVALID_SIZE), "UNKNOWN ERROR");
    CHECK(otakit_image_chip_name(OTAKIT_CHIP_ESP32) == NULL);
    CHECK(otakit_ptable_type_name(OTAKIT_PART_TYPE_APP) == NULL);
    CHECK(otakit_ptable_subtype_name(OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_OTA_0) == NULL);
    CHECK_STR(otakit_otadata_state_name(OTAKIT_OTA_IMG_VALID), "UNKNOWN");
}

static int messages[OTAKIT_LOG_VERBOSE + 1];
static void count_sink(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt,
                       va_list ap)
{
    (void)ctx, (void)tag, (void)fmt, (void)ap;
    messages[level]++;
}

static void test_log_cap(void)
{
    otakit_log_t log = {count_sink, NULL};
    memset(messages, 0, sizeof(messages));
    OTAKIT_LOGI(&log, "t", "kept %d", 1);
    OTAKIT_LOGD(&log, "t", "left out %d", 2);
    CHECK_EQ(messages[OTAKIT_LOG_INFO], 1);
    CHECK_EQ(messages[OTAKIT_LOG_DEBUG], 0);
}

/* A flash over RAM holding the two-OTA table at 0x8000 and hello_world in ota_0. */
static uint8_t mem[0x400000];
static otakit_err_t ram_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    (void)ctx;
    memcpy(dst, mem + addr, len);
    return OTAKIT_OK;
}
static otakit_err_t ram_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        mem[addr + i] &= ((const uint8_t *)src)[i];
    }
    return OTAKIT_OK;
}
static otakit_err_t ram_erase(void *ctx, uint32_t addr, size_t len)
{
    (void)ctx;
    memset(mem + addr, 0xFF, len);
    return OTAKIT_OK;
}

static int load(const char *rel, uint32_t addr)
{
    char path[512];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", OTAKIT_VECTORS, rel);
    unsigned char *buf = harness_read_file(path, &len);
    if (buf == NULL || addr + len > sizeof(mem)) {
        free(buf);
        return -1;
    }
    memcpy(mem + addr, buf, len);
    free(buf);
    return 0;
}

static void test_device_parts_work(void)
{
    otakit_flash_t f = {NULL, ram_read, ram_write, ram_erase, sizeof(mem), 0x1000, 1, NULL};
    memset(mem, 0xFF, sizeof(mem));
    CHECK_EQ(load("partition/partitions_two_ota.bin", 0x8000), 0);
    otakit_ptable_t t;
    otakit_diag_t diag = {0, NULL};
    CHECK_EQ(otakit_ptable_load(&t, &f, 0x8000, &diag), OTAKIT_OK);
    CHECK(t.has_md5);
    const otakit_part_t *ota0 = otakit_ptable_ota_slot(&t, 0);
    CHECK(ota0 != NULL);

    /* Nothing in any app slot: no bootable app, and the checks said why. */
    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = &f;
    cfg.chip_id = OTAKIT_CHIP_ANY;
    static otakit_boot_result_t res;
    CHECK_EQ(otakit_boot_select(&cfg, &res), OTAKIT_ERR_NOT_FOUND);
    cfg.dry_run = true;
    CHECK_EQ(otakit_boot_select(&cfg, &res), OTAKIT_ERR_NOT_SUPPORTED);
    cfg.dry_run = false;

    /* ESP-IDF's hello_world in the factory slot: verified and chosen, with the image's
     * description read; one flipped byte of it and it is refused. */
    const otakit_part_t *factory =
        otakit_ptable_find(&t, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, NULL);
    CHECK(factory != NULL);
    CHECK_EQ(load("image/ota_test_firmawares/hello_world.bin", factory->offset), 0);
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    CHECK_EQ(otakit_boot_select(&cfg, &res), OTAKIT_OK);
    CHECK_EQ(res.index, OTAKIT_BOOT_INDEX_FACTORY);
    CHECK(res.image.has_desc);
    CHECK_STR(res.image.desc.project_name, "hello_world");
    CHECK_EQ(res.write_count, 0);
    mem[factory->offset + 0x1000] ^= 0x01;
    CHECK_EQ(otakit_boot_select(&cfg, &res), OTAKIT_ERR_NOT_FOUND);

    /* A broken table is still refused, with the offset of the problem. */
    mem[0x8000 + 0x40] = 0;
    CHECK_EQ(otakit_boot_select(&cfg, &res), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(otakit_ptable_load(&t, &f, 0x8000, &diag), OTAKIT_ERR_INVALID_STATE);
    CHECK_EQ(diag.offset, 0x8040);
}

int main(void)
{
    RUN(test_names_unknown);
    RUN(test_log_cap);
    RUN(test_device_parts_work);
    return harness_done();
}
