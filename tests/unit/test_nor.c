/* The emulated NOR flash: AND semantics, erase, strict mode, bounds through the core's
 * wrappers, counters and wear, power cuts (BEFORE/AFTER/TORN) with exact bytes for
 * fixed seeds, staying dead until reboot, fail_at, bit rot, the timing model, and the
 * file and memory backends. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "nor.h"
#include "otakit/flash.h"

#define SZ 0x20000u /* 128 KiB: two 64 KiB blocks */

static otakit_nor_t *mem(unsigned flags)
{
    otakit_nor_t *n = NULL;
    CHECK_EQ(otakit_nor_open_mem(&n, SZ, flags), OTAKIT_OK);
    return n;
}

/* Fill [addr, addr+len) with a known pattern straight into the medium. */
static void pattern(otakit_nor_t *n, uint32_t addr, uint32_t len)
{
    uint8_t *d = otakit_nor_data(n);
    for (uint32_t i = addr; i < addr + len; i++) {
        d[i] = (uint8_t)(i * 7 + 1);
    }
}

static int all_ff(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

static void test_and_semantics(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    CHECK_EQ(f->size, SZ);
    CHECK_EQ(f->sector_size, 0x1000);
    CHECK_EQ(f->write_align, 1);
    uint8_t a = 0xF0, b = 0x0F, c = 0x3C, r = 0x55;
    CHECK_EQ(otakit_flash_write(f, 0x100, &a, 1), OTAKIT_OK);
    CHECK_EQ(otakit_flash_read(f, 0x100, &r, 1), OTAKIT_OK);
    CHECK_EQ(r, 0xF0);
    CHECK_EQ(otakit_flash_write(f, 0x100, &b, 1), OTAKIT_OK);
    CHECK_EQ(otakit_flash_read(f, 0x100, &r, 1), OTAKIT_OK);
    CHECK_EQ(r, 0x00);
    /* 0xFF & 0x3C, then 0x3C & 0xF0 */
    CHECK_EQ(otakit_flash_write(f, 0x101, &c, 1), OTAKIT_OK);
    CHECK_EQ(otakit_flash_write(f, 0x101, &a, 1), OTAKIT_OK);
    CHECK_EQ(otakit_nor_data(n)[0x101], 0x30);
    CHECK_EQ(otakit_nor_data(n)[0x102], 0xFF);
    otakit_nor_close(n);
}

static void test_erase_ff(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    pattern(n, 0, SZ);
    CHECK_EQ(otakit_flash_erase(f, 0x1000, 0x1000), OTAKIT_OK);
    const uint8_t *d = otakit_nor_data(n);
    CHECK(all_ff(d + 0x1000, 0x1000));
    CHECK_EQ(d[0x0FFF], (uint8_t)(0x0FFF * 7 + 1));
    CHECK_EQ(d[0x2000], (uint8_t)(0x2000 * 7 + 1));
    int blank = 0;
    CHECK_EQ(otakit_flash_is_blank(f, 0x1000, 0x1000, &blank), OTAKIT_OK);
    CHECK_EQ(blank, 1);
    CHECK_EQ(otakit_flash_erase(f, 0, SZ), OTAKIT_OK);
    CHECK(all_ff(d, SZ));
    otakit_nor_close(n);
}

static void test_strict(void)
{
    otakit_nor_t *n = mem(OTAKIT_NOR_STRICT);
    const otakit_flash_t *f = otakit_nor_flash(n);
    uint8_t v[4] = {0xF0, 0xF0, 0xF0, 0xF0};
    CHECK_EQ(otakit_flash_write(f, 0, v, 4), OTAKIT_OK);
    /* clearing more bits is fine */
    uint8_t w[4] = {0x30, 0xF0, 0xF0, 0xF0};
    CHECK_EQ(otakit_flash_write(f, 0, w, 4), OTAKIT_OK);
    /* byte 2 would set bits 0x0F: the whole write is refused, nothing changes */
    uint8_t x[4] = {0x00, 0x00, 0xFF, 0x00};
    CHECK_EQ(otakit_flash_write(f, 0, x, 4), OTAKIT_ERR_FLASH_OP_FAIL);
    const uint8_t want[4] = {0x30, 0xF0, 0xF0, 0xF0};
    CHECK_MEM(otakit_nor_data(n), want, 4);
    CHECK(!otakit_nor_is_dead(n));
    otakit_nor_stats_t st;
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.writes, 3);
    CHECK_EQ(st.bytes_written, 8);
    /* not strict: the same write ANDs */
    otakit_nor_set_strict(n, false);
    CHECK_EQ(otakit_flash_write(f, 0, x, 4), OTAKIT_OK);
    const uint8_t want2[4] = {0x00, 0x00, 0xF0, 0x00};
    CHECK_MEM(otakit_nor_data(n), want2, 4);
    otakit_nor_close(n);
}

static void test_bounds(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    uint8_t b[16] = {0};
    CHECK_EQ(otakit_flash_erase(f, 0x800, 0x1000), OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(otakit_flash_erase(f, 0x1000, 0x800), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_flash_erase(f, SZ - 0x1000, 0x2000), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_flash_erase(f, SZ, 0x1000), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_flash_write(f, SZ - 8, b, 16), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_flash_read(f, SZ - 8, b, 16), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_flash_read(f, 0xFFFFFFF0u, b, 16), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(otakit_flash_write(f, 0, NULL, 4), OTAKIT_ERR_INVALID_ARG);
    /* the port checks too when called directly */
    CHECK_EQ(f->erase(f->ctx, 0x10, 0x1000), OTAKIT_ERR_INVALID_ARG);
    CHECK_EQ(f->erase(f->ctx, 0, 0x10), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(f->write(f->ctx, SZ - 1, b, 2), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(f->read(f->ctx, SZ, b, 1), OTAKIT_ERR_INVALID_SIZE);
    /* the last byte is reachable */
    CHECK_EQ(otakit_flash_write(f, SZ - 1, b, 1), OTAKIT_OK);
    CHECK_EQ(otakit_nor_data(n)[SZ - 1], 0);
    /* refused calls are not operations and change nothing */
    otakit_nor_stats_t st;
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.ops, 1);
    CHECK_EQ(st.writes, 1);
    CHECK_EQ(st.erases, 0);
    CHECK_EQ(st.reads, 0);
    CHECK(all_ff(otakit_nor_data(n), SZ - 1));
    otakit_nor_close(n);
}

static void test_counters(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    uint8_t b[300];
    memset(b, 0xA5, sizeof(b));
    CHECK_EQ(otakit_flash_write(f, 0x10, b, 300), OTAKIT_OK);
    CHECK_EQ(otakit_flash_write(f, 0x2000, b, 5), OTAKIT_OK);
    CHECK_EQ(otakit_flash_read(f, 0, b, 100), OTAKIT_OK);
    CHECK_EQ(otakit_flash_read(f, 0x10, b, 7), OTAKIT_OK);
    CHECK_EQ(otakit_flash_read(f, 0x10, b, 0), OTAKIT_OK); /* len 0 never reaches the port */
    CHECK_EQ(otakit_flash_erase(f, 0x3000, 0x2000), OTAKIT_OK);
    CHECK_EQ(otakit_flash_erase(f, 0, 0x20000), OTAKIT_OK); /* two blocks */
    otakit_nor_stats_t st;
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.writes, 2);
    CHECK_EQ(st.reads, 2);
    CHECK_EQ(st.erases, 2);
    CHECK_EQ(st.ops, 6);
    CHECK_EQ(st.bytes_written, 305);
    CHECK_EQ(st.bytes_read, 107);
    CHECK_EQ(st.sectors_erased, 2 + 32);
    CHECK_EQ(st.blocks_erased, 2);
    CHECK(st.sim_time_us == 0.0); /* timing model off by default */
    otakit_nor_reset_stats(n);
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.ops, 0);
    CHECK_EQ(st.bytes_written, 0);
    CHECK_EQ(st.sectors_erased, 0);
    otakit_nor_close(n);
}

static void test_wear(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    CHECK_EQ(otakit_flash_erase(f, 0x3000, 0x1000), OTAKIT_OK);
    CHECK_EQ(otakit_flash_erase(f, 0x3000, 0x2000), OTAKIT_OK);
    CHECK_EQ(otakit_flash_erase(f, 0x10000, 0x10000), OTAKIT_OK);
    CHECK_EQ(otakit_nor_sector_erases(n, 2), 0);
    CHECK_EQ(otakit_nor_sector_erases(n, 3), 2);
    CHECK_EQ(otakit_nor_sector_erases(n, 4), 1);
    CHECK_EQ(otakit_nor_sector_erases(n, 5), 0);
    CHECK_EQ(otakit_nor_sector_erases(n, 15), 0);
    for (uint32_t s = 16; s < 32; s++) {
        CHECK_EQ(otakit_nor_sector_erases(n, s), 1);
    }
    CHECK_EQ(otakit_nor_sector_erases(n, 32), 0); /* out of range */
    otakit_nor_reset_stats(n);
    CHECK_EQ(otakit_nor_sector_erases(n, 3), 2); /* wear survives reset_stats */
    otakit_nor_close(n);
}

static const uint8_t NEW8[8] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

static void test_cut_before(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    pattern(n, 0, 0x2000);
    uint8_t before[0x2000];
    memcpy(before, otakit_nor_data(n), sizeof(before));
    otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_BEFORE, 0);
    CHECK_EQ(otakit_flash_write(f, 0x10, NEW8, 8), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(otakit_nor_is_dead(n));
    CHECK_MEM(otakit_nor_data(n), before, sizeof(before));
    otakit_nor_reboot(n);
    CHECK(!otakit_nor_is_dead(n));
    otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_BEFORE, 0);
    CHECK_EQ(otakit_flash_erase(f, 0, 0x2000), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(otakit_nor_is_dead(n));
    CHECK_MEM(otakit_nor_data(n), before, sizeof(before));
    otakit_nor_stats_t st;
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.ops, 2);
    CHECK_EQ(st.bytes_written, 0);
    CHECK_EQ(st.sectors_erased, 0);
    otakit_nor_close(n);
}

static void test_cut_after(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_AFTER, 0);
    CHECK_EQ(otakit_flash_write(f, 0x10, NEW8, 8), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(otakit_nor_is_dead(n));
    CHECK_MEM(otakit_nor_data(n) + 0x10, NEW8, 8);
    otakit_nor_reboot(n);
    pattern(n, 0x1000, 0x2000);
    otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_AFTER, 0);
    CHECK_EQ(otakit_flash_erase(f, 0x1000, 0x2000), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(otakit_nor_is_dead(n));
    CHECK(all_ff(otakit_nor_data(n) + 0x1000, 0x2000));
    CHECK_MEM(otakit_nor_data(n) + 0x10, NEW8, 8); /* sector 0 untouched */
    otakit_nor_close(n);
}

/* Whether `got` is a prefix state of programming `src` over `old`: bytes before some k
 * done, byte k partially (a subset of its bits cleared), the rest untouched. */
static int is_write_prefix(const uint8_t *old, const uint8_t *src, const uint8_t *got, size_t len)
{
    size_t k = 0;
    while (k < len && got[k] == (old[k] & src[k])) {
        k++;
    }
    if (k < len) {
        /* partial byte: between old and old&src, bitwise */
        uint8_t done = old[k] & src[k];
        if ((got[k] & done) != done || (got[k] & (uint8_t)~old[k]) != 0) {
            return 0;
        }
        k++;
    }
    return memcmp(got + k, old + k, len - k) == 0;
}

static void test_cut_torn_write(void)
{
    uint8_t old[8];
    memset(old, 0xFF, sizeof(old));
    /* seed 1 (pinned): 4 bytes done, byte 4 cleared 0xAA of its 0xBB, rest untouched */
    {
        otakit_nor_t *n = mem(0);
        otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_TORN, 1);
        CHECK_EQ(otakit_flash_write(otakit_nor_flash(n), 0x10, NEW8, 8), OTAKIT_ERR_FLASH_OP_FAIL);
        CHECK(otakit_nor_is_dead(n));
        const uint8_t want[8] = {0x00, 0x11, 0x22, 0x33, 0x55, 0xFF, 0xFF, 0xFF};
        CHECK_MEM(otakit_nor_data(n) + 0x10, want, 8);
        otakit_nor_stats_t st;
        otakit_nor_get_stats(n, &st);
        CHECK_EQ(st.bytes_written, 4);
        otakit_nor_close(n);
    }
    int differs = 0;
    for (uint32_t seed = 0; seed < 64; seed++) {
        uint8_t first[8];
        for (int rep = 0; rep < 2; rep++) {
            otakit_nor_t *n = mem(0);
            otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_TORN, seed);
            CHECK_EQ(otakit_flash_write(otakit_nor_flash(n), 0x10, NEW8, 8),
                     OTAKIT_ERR_FLASH_OP_FAIL);
            const uint8_t *got = otakit_nor_data(n) + 0x10;
            CHECK(is_write_prefix(old, NEW8, got, 8));
            CHECK(memcmp(got, NEW8, 8) != 0); /* a torn write never completes */
            CHECK(all_ff(otakit_nor_data(n), 0x10));
            CHECK(all_ff(otakit_nor_data(n) + 0x18, SZ - 0x18));
            if (rep == 0) {
                memcpy(first, got, 8);
                differs += memcmp(got, old, 8) != 0;
            } else {
                CHECK_MEM(first, got, 8); /* same seed, same tear */
            }
            otakit_nor_close(n);
        }
    }
    CHECK(differs > 0);
}

static void test_cut_torn_erase(void)
{
    /* seed 1 (pinned): sector 0 erased up to 0xda1, the rest keeps its old bytes */
    {
        otakit_nor_t *n = mem(0);
        pattern(n, 0, 0x3000);
        otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_TORN, 1);
        CHECK_EQ(otakit_flash_erase(otakit_nor_flash(n), 0, 0x2000), OTAKIT_ERR_FLASH_OP_FAIL);
        CHECK(otakit_nor_is_dead(n));
        const uint8_t *d = otakit_nor_data(n);
        CHECK(all_ff(d, 0xda1));
        int ok = 1;
        for (uint32_t i = 0xda1; i < 0x3000; i++) {
            ok &= d[i] == (uint8_t)(i * 7 + 1);
        }
        CHECK(ok);
        otakit_nor_stats_t st;
        otakit_nor_get_stats(n, &st);
        CHECK_EQ(st.sectors_erased, 0);
        CHECK_EQ(otakit_nor_sector_erases(n, 0), 1); /* it took an erase pulse */
        CHECK_EQ(otakit_nor_sector_erases(n, 1), 0);
        otakit_nor_close(n);
    }
    /* seed 2 (pinned): sector 0 erased up to 0x610, the rest old bytes with random bits set */
    {
        otakit_nor_t *n = mem(0);
        pattern(n, 0, 0x3000);
        otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_TORN, 2);
        CHECK_EQ(otakit_flash_erase(otakit_nor_flash(n), 0, 0x2000), OTAKIT_ERR_FLASH_OP_FAIL);
        const uint8_t *d = otakit_nor_data(n);
        CHECK(all_ff(d, 0x610));
        CHECK(d[0x610] != 0xFF);
        int superset = 1, changed = 0, rest_old = 1;
        for (uint32_t i = 0x610; i < 0x1000; i++) {
            uint8_t o = (uint8_t)(i * 7 + 1);
            superset &= (d[i] & o) == o;
            changed += d[i] != o;
        }
        for (uint32_t i = 0x1000; i < 0x3000; i++) {
            rest_old &= d[i] == (uint8_t)(i * 7 + 1);
        }
        CHECK(superset);
        CHECK(changed > 0);
        CHECK(rest_old);
        otakit_nor_close(n);
    }
    /* every seed: sectors before the torn one erased, its head 0xFF, the rest of it has at
     * least the old bits, later sectors untouched; same seed, same result */
    int differs = 0;
    for (uint32_t seed = 0; seed < 64; seed++) {
        otakit_nor_t *n = mem(0), *m = mem(0);
        pattern(n, 0, 0x5000);
        pattern(m, 0, 0x5000);
        otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_TORN, seed);
        otakit_nor_cut_at(m, 1, OTAKIT_NOR_CUT_TORN, seed);
        CHECK_EQ(otakit_flash_erase(otakit_nor_flash(n), 0x1000, 0x3000), OTAKIT_ERR_FLASH_OP_FAIL);
        CHECK_EQ(otakit_flash_erase(otakit_nor_flash(m), 0x1000, 0x3000), OTAKIT_ERR_FLASH_OP_FAIL);
        const uint8_t *d = otakit_nor_data(n);
        CHECK_MEM(d, otakit_nor_data(m), SZ);
        uint32_t i = 0x1000;
        while (i < 0x4000 && d[i] == 0xFF) {
            i++;
        }
        uint32_t torn_end = (i / 0x1000 + 1) * 0x1000;
        int ok = 1;
        for (uint32_t j = i; j < 0x5000; j++) {
            uint8_t o = (uint8_t)(j * 7 + 1);
            ok &= j < torn_end ? (d[j] & o) == o : d[j] == o;
        }
        for (uint32_t j = 0; j < 0x1000; j++) {
            ok &= d[j] == (uint8_t)(j * 7 + 1);
        }
        CHECK(ok);
        CHECK(i < 0x4000); /* never the whole range */
        differs += i > 0x1000;
        otakit_nor_close(n);
        otakit_nor_close(m);
    }
    CHECK(differs > 0);
}

static void test_cut_counting_and_dead(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    uint8_t b[4];
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_OK); /* before the arming: not counted */
    otakit_nor_cut_at(n, 3, OTAKIT_NOR_CUT_AFTER, 0);
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_OK);
    CHECK_EQ(otakit_flash_write(f, 0, NEW8, 4), OTAKIT_OK);
    CHECK(!otakit_nor_is_dead(n));
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_ERR_FLASH_OP_FAIL); /* op 3: a read */
    CHECK(otakit_nor_is_dead(n));
    /* dead: everything fails and is not counted */
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK_EQ(otakit_flash_write(f, 0x100, NEW8, 4), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK_EQ(otakit_flash_erase(f, 0x1000, 0x1000), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK_EQ(otakit_nor_data(n)[0x100], 0xFF);
    otakit_nor_stats_t st;
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.ops, 4);
    otakit_nor_reboot(n);
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_OK);
    CHECK_MEM(b, NEW8, 4);
    /* reboot disarms a pending cut */
    otakit_nor_cut_at(n, 2, OTAKIT_NOR_CUT_BEFORE, 0);
    otakit_nor_reboot(n);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_OK);
    }
    /* n = 0 disarms */
    otakit_nor_cut_at(n, 1, OTAKIT_NOR_CUT_BEFORE, 0);
    otakit_nor_cut_at(n, 0, OTAKIT_NOR_CUT_BEFORE, 0);
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_OK);
    CHECK(!otakit_nor_is_dead(n));
    otakit_nor_close(n);
}

static void test_cut_on_read_modes(void)
{
    for (int mode = OTAKIT_NOR_CUT_BEFORE; mode <= OTAKIT_NOR_CUT_TORN; mode++) {
        otakit_nor_t *n = mem(0);
        uint8_t b[4] = {1, 2, 3, 4};
        otakit_nor_cut_at(n, 1, (otakit_nor_cut_mode_t)mode, 9);
        CHECK_EQ(otakit_flash_read(otakit_nor_flash(n), 0, b, 4), OTAKIT_ERR_FLASH_OP_FAIL);
        CHECK(otakit_nor_is_dead(n));
        CHECK(all_ff(otakit_nor_data(n), SZ));
        otakit_nor_close(n);
    }
}

static void test_fail_at(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    otakit_nor_fail_at(n, 2);
    CHECK_EQ(otakit_flash_write(f, 0, NEW8, 8), OTAKIT_OK);
    CHECK_EQ(otakit_flash_erase(f, 0, 0x1000), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(!otakit_nor_is_dead(n));
    CHECK_MEM(otakit_nor_data(n), NEW8, 8); /* the failed erase did nothing */
    CHECK_EQ(otakit_flash_erase(f, 0, 0x1000), OTAKIT_OK);
    CHECK(all_ff(otakit_nor_data(n), 8));
    otakit_nor_fail_at(n, 1);
    CHECK_EQ(otakit_flash_write(f, 0, NEW8, 8), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(all_ff(otakit_nor_data(n), 8));
    CHECK_EQ(otakit_flash_write(f, 0, NEW8, 8), OTAKIT_OK);
    otakit_nor_stats_t st;
    otakit_nor_get_stats(n, &st);
    CHECK_EQ(st.ops, 5);
    CHECK_EQ(st.writes, 3);
    CHECK_EQ(st.bytes_written, 16);
    CHECK_EQ(st.sectors_erased, 1);
    otakit_nor_close(n);
}

/* The write epoch moves on every write and erase that reaches the device (failed and
 * cut ones too) and when the raw bytes are handed out, never on a read or a refused
 * call, and reset_stats leaves it alone. */
static void test_epoch(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    uint32_t e0, e1;
    uint8_t b[4] = {0};
    CHECK(otakit_flash_epoch(f, &e0));
    CHECK_EQ(otakit_flash_read(f, 0, b, 4), OTAKIT_OK);
    /* refused before the port is called */
    CHECK_EQ(otakit_flash_write(f, 0x2000000, b, 4), OTAKIT_ERR_INVALID_SIZE);
    CHECK(otakit_flash_epoch(f, &e1));
    CHECK_EQ(e1, e0);
    CHECK_EQ(otakit_flash_write(f, 0, b, 4), OTAKIT_OK);
    CHECK(otakit_flash_epoch(f, &e1));
    CHECK(e1 != e0);
    otakit_nor_reset_stats(n);
    CHECK(otakit_flash_epoch(f, &e0));
    CHECK_EQ(e0, e1);
    CHECK_EQ(otakit_flash_erase(f, 0, 0x1000), OTAKIT_OK);
    CHECK(otakit_flash_epoch(f, &e1));
    CHECK(e1 != e0);
    otakit_nor_fail_at(n, 1);
    CHECK_EQ(otakit_flash_write(f, 0, b, 4), OTAKIT_ERR_FLASH_OP_FAIL);
    CHECK(otakit_flash_epoch(f, &e0));
    CHECK(e0 != e1);
    (void)otakit_nor_data(n);
    CHECK(otakit_flash_epoch(f, &e1));
    CHECK(e1 != e0);
    otakit_flash_t no_epoch = *f;
    no_epoch.epoch = NULL;
    CHECK(!otakit_flash_epoch(&no_epoch, &e0));
    otakit_nor_close(n);
}

static void test_bitrot(void)
{
    otakit_nor_t *n = mem(0);
    const otakit_flash_t *f = otakit_nor_flash(n);
    uint8_t z[16] = {0}, b[16];
    CHECK_EQ(otakit_flash_write(f, 0x100, z, 16), OTAKIT_OK);
    otakit_nor_bitrot(n, 0x104, 4, 0x81);
    CHECK_EQ(otakit_flash_read(f, 0x100, b, 16), OTAKIT_OK);
    for (int i = 0; i < 16; i++) {
        CHECK_EQ(b[i], (i >= 4 && i < 8) ? 0x81 : 0x00);
    }
    /* a read that starts inside the range */
    CHECK_EQ(otakit_flash_read(f, 0x106, b, 4), OTAKIT_OK);
    CHECK_EQ(b[0], 0x81);
    CHECK_EQ(b[1], 0x81);
    CHECK_EQ(b[2], 0x00);
    /* the medium itself is intact */
    CHECK_MEM(otakit_nor_data(n) + 0x100, z, 16);
    /* it stays across a reboot; len 0 disarms */
    otakit_nor_reboot(n);
    CHECK_EQ(otakit_flash_read(f, 0x104, b, 1), OTAKIT_OK);
    CHECK_EQ(b[0], 0x81);
    otakit_nor_bitrot(n, 0, 0, 0);
    CHECK_EQ(otakit_flash_read(f, 0x100, b, 16), OTAKIT_OK);
    CHECK_MEM(b, z, 16);
    otakit_nor_close(n);
}

static void test_timing(void)
{
    otakit_nor_timing_t t = otakit_nor_timing_default();
    CHECK(t.sector_erase_us == 45000.0);
    CHECK(t.block_erase_us == 150000.0);
    CHECK(t.page_program_us == 700.0);
    CHECK(t.read_byte_us == 0.05);

    otakit_nor_t *n = NULL;
    CHECK_EQ(otakit_nor_open_mem(&n, 0x400000, 0), OTAKIT_OK);
    const otakit_flash_t *f = otakit_nor_flash(n);
    otakit_nor_set_timing(n, &t);
    otakit_nor_stats_t st;
    /* 1 MiB as one range: 16 block erases */
    CHECK_EQ(otakit_flash_erase(f, 0x100000, 0x100000), OTAKIT_OK);
    otakit_nor_get_stats(n, &st);
    CHECK(st.sim_time_us == 16 * 150000.0);
    CHECK_EQ(st.blocks_erased, 16);
    CHECK_EQ(st.sectors_erased, 256);
    /* the same 1 MiB sector by sector: 256 sector erases */
    otakit_nor_reset_stats(n);
    for (uint32_t a = 0x100000; a < 0x200000; a += 0x1000) {
        CHECK_EQ(otakit_flash_erase(f, a, 0x1000), OTAKIT_OK);
    }
    otakit_nor_get_stats(n, &st);
    CHECK(st.sim_time_us == 256 * 45000.0);
    CHECK_EQ(st.blocks_erased, 0);
    CHECK_EQ(st.sectors_erased, 256);
    /* 0x8000..0x30000: 8 sectors up to the block boundary, then 2 blocks */
    otakit_nor_reset_stats(n);
    CHECK_EQ(otakit_flash_erase(f, 0x8000, 0x28000), OTAKIT_OK);
    otakit_nor_get_stats(n, &st);
    CHECK(st.sim_time_us == 8 * 45000.0 + 2 * 150000.0);
    CHECK_EQ(st.sectors_erased, 40);
    CHECK_EQ(st.blocks_erased, 2);
    /* writes cost per 256-byte page touched */
    static uint8_t buf[1024];
    memset(buf, 0, sizeof(buf));
    otakit_nor_reset_stats(n);
    CHECK_EQ(otakit_flash_write(f, 0x0, buf, 256), OTAKIT_OK);   /* 1 page */
    CHECK_EQ(otakit_flash_write(f, 0x380, buf, 256), OTAKIT_OK); /* 2 pages */
    CHECK_EQ(otakit_flash_write(f, 0x5FF, buf, 2), OTAKIT_OK);   /* 2 pages */
    CHECK_EQ(otakit_flash_write(f, 0x700, buf, 1), OTAKIT_OK);   /* 1 page */
    otakit_nor_get_stats(n, &st);
    CHECK(st.sim_time_us > 6 * 700.0 - 1e-6 && st.sim_time_us < 6 * 700.0 + 1e-6);
    /* reads: 20 MB/s */
    otakit_nor_reset_stats(n);
    CHECK_EQ(otakit_flash_read(f, 0, buf, 1000), OTAKIT_OK);
    otakit_nor_get_stats(n, &st);
    CHECK(st.sim_time_us > 50.0 - 1e-9 && st.sim_time_us < 50.0 + 1e-9);
    /* off again */
    otakit_nor_set_timing(n, NULL);
    otakit_nor_reset_stats(n);
    CHECK_EQ(otakit_flash_erase(f, 0, 0x10000), OTAKIT_OK);
    otakit_nor_get_stats(n, &st);
    CHECK(st.sim_time_us == 0.0);
    otakit_nor_close(n);
}

static void test_file_backend(void)
{
    char dir[] = "/tmp/otakit-nor-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128], bad[128];
    snprintf(path, sizeof(path), "%s/flash.bin", dir);
    snprintf(bad, sizeof(bad), "%s/bad.bin", dir);

    otakit_nor_t *n = NULL;
    CHECK_EQ(otakit_nor_open(&n, path, 0x10000, 0), OTAKIT_ERR_NOT_FOUND);
    CHECK(n == NULL);
    CHECK_EQ(otakit_nor_open(&n, path, 0x10001, OTAKIT_NOR_CREATE), OTAKIT_ERR_INVALID_SIZE);
    CHECK_EQ(access(path, F_OK), -1); /* a refused size creates nothing */
    CHECK_EQ(otakit_nor_open(&n, path, 0x10000, OTAKIT_NOR_CREATE), OTAKIT_OK);
    if (n == NULL) {
        return;
    }
    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_size, 0x10000);
    CHECK_EQ(otakit_nor_size(n), 0x10000);
    CHECK(all_ff(otakit_nor_data(n), 0x10000));
    const otakit_flash_t *f = otakit_nor_flash(n);
    CHECK_EQ(otakit_flash_write(f, 0x1234, NEW8, 8), OTAKIT_OK);
    CHECK_EQ(otakit_flash_erase(f, 0x2000, 0x1000), OTAKIT_OK);
    otakit_nor_close(n);

    /* on disk, then through a second open (an existing file keeps its size) */
    size_t len = 0;
    unsigned char *disk = harness_read_file(path, &len);
    CHECK_EQ(len, 0x10000);
    if (disk != NULL) {
        CHECK_MEM(disk + 0x1234, NEW8, 8);
        CHECK(all_ff(disk, 0x1234));
        free(disk);
    }
    CHECK_EQ(otakit_nor_open(&n, path, 0x400000, OTAKIT_NOR_CREATE), OTAKIT_OK);
    CHECK_EQ(otakit_nor_size(n), 0x10000);
    uint8_t b[8];
    CHECK_EQ(otakit_flash_read(otakit_nor_flash(n), 0x1234, b, 8), OTAKIT_OK);
    CHECK_MEM(b, NEW8, 8);
    otakit_nor_close(n);

    /* read-only: reads work, writes and erases are not allowed and change nothing */
    CHECK_EQ(otakit_nor_open(&n, path, 0, OTAKIT_NOR_READONLY), OTAKIT_OK);
    f = otakit_nor_flash(n);
    CHECK_EQ(otakit_flash_read(f, 0x1234, b, 8), OTAKIT_OK);
    CHECK_MEM(b, NEW8, 8);
    CHECK_EQ(otakit_flash_write(f, 0, NEW8, 8), OTAKIT_ERR_NOT_ALLOWED);
    CHECK_EQ(otakit_flash_erase(f, 0, 0x1000), OTAKIT_ERR_NOT_ALLOWED);
    otakit_nor_close(n);
    disk = harness_read_file(path, &len);
    if (disk != NULL) {
        CHECK(all_ff(disk, 0x1234));
        free(disk);
    }

    /* a file whose size is not whole sectors */
    FILE *fp = fopen(bad, "wb");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fwrite(NEW8, 1, 8, fp);
        fclose(fp);
    }
    CHECK_EQ(otakit_nor_open(&n, bad, 0, 0), OTAKIT_ERR_INVALID_SIZE);

    unlink(path);
    unlink(bad);
    rmdir(dir);
}

static void test_mem_backend(void)
{
    otakit_nor_t *n = NULL;
    CHECK_EQ(otakit_nor_open_mem(&n, 0x1001, 0), OTAKIT_ERR_INVALID_SIZE);
    CHECK(n == NULL);
    CHECK_EQ(otakit_nor_open_mem(&n, 0, 0), OTAKIT_OK);
    CHECK_EQ(otakit_nor_size(n), OTAKIT_NOR_DEFAULT_SIZE);
    CHECK_EQ(otakit_nor_flash(n)->size, OTAKIT_NOR_DEFAULT_SIZE);
    CHECK(all_ff(otakit_nor_data(n), OTAKIT_NOR_DEFAULT_SIZE));
    CHECK_EQ(otakit_nor_sync(n), OTAKIT_OK);
    otakit_nor_close(n);
    otakit_nor_close(NULL);
}

int main(void)
{
    RUN(test_and_semantics);
    RUN(test_erase_ff);
    RUN(test_strict);
    RUN(test_bounds);
    RUN(test_counters);
    RUN(test_wear);
    RUN(test_cut_before);
    RUN(test_cut_after);
    RUN(test_cut_torn_write);
    RUN(test_cut_torn_erase);
    RUN(test_cut_counting_and_dead);
    RUN(test_cut_on_read_modes);
    RUN(test_fail_at);
    RUN(test_bitrot);
    RUN(test_epoch);
    RUN(test_timing);
    RUN(test_file_backend);
    RUN(test_mem_backend);
    return harness_done();
}
