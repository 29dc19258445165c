/* Emulated NOR flash: a file mapped MAP_SHARED (or a malloc'd buffer) behind the core's
 * otakit_flash_t, with the faults power-loss tests need (cuts, failed ops, bit rot),
 * counters, per-sector wear and a timing model. Every decision the header lists is
 * made here; docs/flash.md describes the fault model for users. */
#include "nor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOR_SECTOR 0x1000u
#define NOR_BLOCK 0x10000u
#define NOR_PAGE 0x100u
#define NOR_MAX_SIZE 0xFFFFF000u

struct otakit_nor {
    otakit_flash_t flash;
    uint8_t *data;
    uint32_t size;
    int fd; /* -1 for a memory flash */
    bool readonly;
    bool strict;
    bool dead;

    uint64_t seq;    /* operations that reached a live device since open */
    uint64_t cut_op; /* seq value of the op that is cut; 0 = disarmed */
    otakit_nor_cut_mode_t cut_mode;
    uint32_t cut_seed;
    uint64_t fail_op; /* seq value of the op that fails; 0 = disarmed */

    uint32_t rot_addr, rot_len;
    uint8_t rot_mask;

    otakit_nor_stats_t stats;
    uint32_t epoch; /* writes and erases ever attempted, raw pointers handed out; never reset */
    uint32_t synced_epoch; /* epoch at the last msync (0 at open) */
    uint32_t *wear;        /* erase count per sector */

    bool timing_on;
    otakit_nor_timing_t timing;
};

/* Deterministic stream from the seed (splitmix64): the same seed tears the same way. */
static uint32_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

otakit_nor_timing_t otakit_nor_timing_default(void)
{
    otakit_nor_timing_t t = {
        .sector_erase_us = 45000.0,
        .block_erase_us = 150000.0,
        .page_program_us = 700.0,
        .read_byte_us = 0.05, /* 40 MHz x 4 bits = 20 MB/s */
    };
    return t;
}

static bool in_range(const otakit_nor_t *nor, uint32_t addr, size_t len)
{
    return addr <= nor->size && len <= (size_t)(nor->size - addr);
}

/* What happens to the operation that is about to run. */
enum op_fate { OP_RUN, OP_FAIL_ONLY, OP_CUT };

/* Count the operation and decide its fate. Called only on a live device. */
static enum op_fate op_begin(otakit_nor_t *nor)
{
    nor->seq++;
    nor->stats.ops++;
    if (nor->cut_op != 0 && nor->seq == nor->cut_op) {
        nor->cut_op = 0;
        return OP_CUT; /* a cut on the same op as fail_at wins: the power is gone */
    }
    if (nor->fail_op != 0 && nor->seq == nor->fail_op) {
        nor->fail_op = 0;
        return OP_FAIL_ONLY;
    }
    return OP_RUN;
}

static otakit_err_t die(otakit_nor_t *nor)
{
    nor->dead = true;
    return OTAKIT_ERR_FLASH_OP_FAIL;
}

static otakit_err_t nor_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    otakit_nor_t *nor = ctx;
    if (dst == NULL && len > 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (!in_range(nor, addr, len)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    if (nor->dead) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    nor->stats.reads++;
    switch (op_begin(nor)) {
    case OP_CUT:
        return die(nor); /* every mode: a read just loses the power */
    case OP_FAIL_ONLY:
        return OTAKIT_ERR_FLASH_OP_FAIL;
    case OP_RUN:
        break;
    }
    memcpy(dst, nor->data + addr, len);
    if (nor->rot_len > 0) {
        uint64_t lo = addr > nor->rot_addr ? addr : nor->rot_addr;
        uint64_t hi_a = (uint64_t)addr + len, hi_r = (uint64_t)nor->rot_addr + nor->rot_len;
        uint64_t hi = hi_a < hi_r ? hi_a : hi_r;
        for (uint64_t a = lo; a < hi; a++) {
            ((uint8_t *)dst)[a - addr] ^= nor->rot_mask;
        }
    }
    nor->stats.bytes_read += len;
    if (nor->timing_on) {
        nor->stats.sim_time_us += (double)len * nor->timing.read_byte_us;
    }
    return OTAKIT_OK;
}

/* Pages of 256 bytes touched by [addr, addr+len), len > 0. */
static uint64_t pages_touched(uint32_t addr, size_t len)
{
    return ((uint64_t)addr + len - 1) / NOR_PAGE - addr / NOR_PAGE + 1;
}

/* Program n bytes (AND) and account for them; a torn byte after them (extra = 1) costs
 * its page too. */
static void program(otakit_nor_t *nor, uint32_t addr, const uint8_t *src, size_t n, size_t extra)
{
    uint8_t *d = nor->data + addr;
    for (size_t i = 0; i < n; i++) {
        d[i] &= src[i];
    }
    nor->stats.bytes_written += n;
    if (nor->timing_on && n + extra > 0) {
        nor->stats.sim_time_us +=
            (double)pages_touched(addr, n + extra) * nor->timing.page_program_us;
    }
}

/* A torn write: a prefix of len-1 bytes at most is programmed, and the byte after it
 * may have cleared only some of the bits it was going to clear. */
static void program_torn(otakit_nor_t *nor, uint32_t addr, const uint8_t *src, size_t len,
                         uint32_t seed)
{
    uint64_t rs = seed;
    size_t keep = (size_t)(rng_next(&rs) % len);
    bool partial = rng_next(&rs) & 1u;
    uint8_t bits = (uint8_t)rng_next(&rs);
    program(nor, addr, src, keep, partial ? 1 : 0);
    if (partial) {
        uint8_t *d = nor->data + addr + keep;
        uint8_t to_clear = (uint8_t)(*d & ~src[keep]);
        uint8_t cleared = to_clear & bits;
        if (cleared == to_clear && cleared != 0) {
            cleared &= (uint8_t)(cleared - 1); /* never all of them: the byte stays torn */
        }
        *d &= (uint8_t)~cleared;
    }
}

/* The start of a write or an erase whose range is checked: refused on a read-only or dead
 * device, else counted (in *ops) and given its fate. Returns OTAKIT_OK to go on with
 * *fate, or the error to return (a cut BEFORE the operation has already killed the
 * device). */
static otakit_err_t change_begin(otakit_nor_t *nor, uint64_t *ops, enum op_fate *fate)
{
    if (nor->readonly) {
        return OTAKIT_ERR_NOT_ALLOWED;
    }
    if (nor->dead) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    (*ops)++;
    nor->epoch++;
    *fate = op_begin(nor);
    if (*fate == OP_FAIL_ONLY) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    if (*fate == OP_CUT && nor->cut_mode == OTAKIT_NOR_CUT_BEFORE) {
        return die(nor);
    }
    return OTAKIT_OK;
}

static otakit_err_t nor_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    otakit_nor_t *nor = ctx;
    if (src == NULL && len > 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (!in_range(nor, addr, len)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    enum op_fate fate;
    otakit_err_t err = change_begin(nor, &nor->stats.writes, &fate);
    if (err != OTAKIT_OK) {
        return err;
    }
    const uint8_t *s = src;
    if (nor->strict) {
        const uint8_t *d = nor->data + addr;
        for (size_t i = 0; i < len; i++) {
            if ((uint8_t)(s[i] & ~d[i]) != 0) {
                /* checked before programming: a refused write changes nothing */
                return fate == OP_CUT ? die(nor) : OTAKIT_ERR_FLASH_OP_FAIL;
            }
        }
    }
    if (fate == OP_CUT) {
        if (nor->cut_mode == OTAKIT_NOR_CUT_TORN && len > 0) {
            program_torn(nor, addr, s, len, nor->cut_seed);
        } else {
            program(nor, addr, s, len, 0);
        }
        return die(nor);
    }
    program(nor, addr, s, len, 0);
    return OTAKIT_OK;
}

/* The erase unit at addr for a range ending at end: an aligned block when the range
 * covers it whole, else a sector. */
static uint32_t erase_unit(uint32_t addr, uint64_t end)
{
    return (addr % NOR_BLOCK == 0 && end - addr >= NOR_BLOCK) ? NOR_BLOCK : NOR_SECTOR;
}

/* Erase one unit fully and account for it. */
static void erase_whole(otakit_nor_t *nor, uint32_t addr, uint32_t unit)
{
    memset(nor->data + addr, 0xFF, unit);
    for (uint32_t s = addr / NOR_SECTOR; s < (addr + unit) / NOR_SECTOR; s++) {
        nor->wear[s]++;
    }
    nor->stats.sectors_erased += unit / NOR_SECTOR;
    if (unit == NOR_BLOCK) {
        nor->stats.blocks_erased++;
    }
    if (nor->timing_on) {
        nor->stats.sim_time_us +=
            unit == NOR_BLOCK ? nor->timing.block_erase_us : nor->timing.sector_erase_us;
    }
}

/* A torn erase: the units before unit k are erased, unit k has its first p bytes at
 * 0xFF and the rest either old data or old data with random bits set (an erase only
 * raises bits), units after k are untouched. */
static void erase_torn(otakit_nor_t *nor, uint32_t addr, size_t len, uint32_t seed)
{
    uint64_t end = (uint64_t)addr + len;
    uint32_t units = 0;
    for (uint64_t a = addr; a < end; a += erase_unit((uint32_t)a, end)) {
        units++;
    }
    uint64_t rs = seed;
    uint32_t k = rng_next(&rs) % units;
    uint32_t a = addr;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t unit = erase_unit(a, end);
        erase_whole(nor, a, unit);
        a += unit;
    }
    uint32_t unit = erase_unit(a, end);
    uint32_t p = rng_next(&rs) % unit;
    bool noisy = rng_next(&rs) & 1u;
    uint8_t *d = nor->data + a;
    memset(d, 0xFF, p);
    if (noisy) {
        for (uint32_t i = p; i < unit; i++) {
            d[i] |= (uint8_t)rng_next(&rs);
        }
    }
    /* the sectors of the torn unit took an erase pulse: they wear, but are not erased */
    for (uint32_t s = a / NOR_SECTOR; s < (a + unit) / NOR_SECTOR; s++) {
        nor->wear[s]++;
    }
    if (nor->timing_on) {
        nor->stats.sim_time_us +=
            unit == NOR_BLOCK ? nor->timing.block_erase_us : nor->timing.sector_erase_us;
    }
}

static otakit_err_t nor_erase(void *ctx, uint32_t addr, size_t len)
{
    otakit_nor_t *nor = ctx;
    if (addr % NOR_SECTOR) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (len % NOR_SECTOR || !in_range(nor, addr, len)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    enum op_fate fate;
    otakit_err_t err = change_begin(nor, &nor->stats.erases, &fate);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (fate == OP_CUT && nor->cut_mode == OTAKIT_NOR_CUT_TORN && len > 0) {
        erase_torn(nor, addr, len, nor->cut_seed);
        return die(nor);
    }
    uint64_t end = (uint64_t)addr + len;
    for (uint64_t a = addr; a < end;) {
        uint32_t unit = erase_unit((uint32_t)a, end);
        erase_whole(nor, (uint32_t)a, unit);
        a += unit;
    }
    return fate == OP_CUT ? die(nor) : OTAKIT_OK;
}

static uint32_t nor_epoch(void *ctx)
{
    return ((const otakit_nor_t *)ctx)->epoch;
}

static otakit_err_t nor_new(otakit_nor_t **out, uint32_t size, unsigned flags)
{
    otakit_nor_t *nor = calloc(1, sizeof(*nor));
    if (nor == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    nor->wear = calloc(size / NOR_SECTOR, sizeof(uint32_t));
    if (nor->wear == NULL) {
        free(nor);
        return OTAKIT_ERR_NO_MEM;
    }
    nor->fd = -1;
    nor->size = size;
    nor->strict = (flags & OTAKIT_NOR_STRICT) != 0;
    nor->readonly = (flags & OTAKIT_NOR_READONLY) != 0;
    nor->timing = otakit_nor_timing_default();
    nor->flash.ctx = nor;
    nor->flash.read = nor_read;
    nor->flash.write = nor_write;
    nor->flash.erase = nor_erase;
    nor->flash.size = size;
    nor->flash.sector_size = NOR_SECTOR;
    nor->flash.write_align = 1;
    nor->flash.epoch = nor_epoch;
    *out = nor;
    return OTAKIT_OK;
}

otakit_err_t otakit_nor_open_mem(otakit_nor_t **out, uint32_t size, unsigned flags)
{
    if (out == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (size == 0) {
        size = OTAKIT_NOR_DEFAULT_SIZE;
    }
    if (size % NOR_SECTOR) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    otakit_nor_t *nor;
    otakit_err_t err = nor_new(&nor, size, flags & ~OTAKIT_NOR_READONLY);
    if (err != OTAKIT_OK) {
        return err;
    }
    nor->data = malloc(size);
    if (nor->data == NULL) {
        free(nor->wear);
        free(nor);
        return OTAKIT_ERR_NO_MEM;
    }
    memset(nor->data, 0xFF, size);
    *out = nor;
    return OTAKIT_OK;
}

/* Make a new flash file of size bytes of 0xFF. Returns the fd, or -1 (errno set). */
static int create_file(const char *path, uint32_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -1;
    }
    uint8_t *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return -1;
    }
    memset(p, 0xFF, size);
    munmap(p, size);
    return fd;
}

otakit_err_t otakit_nor_open(otakit_nor_t **out, const char *path, uint32_t size, unsigned flags)
{
    if (out == NULL || path == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (size == 0) {
        size = OTAKIT_NOR_DEFAULT_SIZE;
    }
    if (size % NOR_SECTOR) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    bool ro = (flags & OTAKIT_NOR_READONLY) != 0;
    int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    bool created = false;
    if (fd < 0 && errno == ENOENT && (flags & OTAKIT_NOR_CREATE)) {
        fd = create_file(path, size);
        created = fd >= 0;
        if (fd < 0 && errno == EEXIST) { /* someone else made it meanwhile */
            fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        }
    }
    if (fd < 0) {
        return errno == ENOENT ? OTAKIT_ERR_NOT_FOUND : OTAKIT_FAIL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return OTAKIT_FAIL;
    }
    if (st.st_size <= 0 || st.st_size % NOR_SECTOR || (uint64_t)st.st_size > NOR_MAX_SIZE) {
        close(fd);
        return OTAKIT_ERR_INVALID_SIZE;
    }
    size = (uint32_t)st.st_size;
    void *p = mmap(NULL, size, ro ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        errno = e;
        return OTAKIT_FAIL;
    }
    otakit_nor_t *nor;
    otakit_err_t err = nor_new(&nor, size, flags);
    if (err != OTAKIT_OK) {
        munmap(p, size);
        close(fd);
        return err;
    }
    nor->data = p;
    nor->fd = fd;
    if (created) {
        nor->epoch++; /* the new file's bytes are to be flushed at close, as written ones */
    }
    *out = nor;
    return OTAKIT_OK;
}

otakit_err_t otakit_nor_sync(otakit_nor_t *nor)
{
    if (nor == NULL || nor->fd < 0 || nor->readonly) {
        return OTAKIT_OK;
    }
    /* Nothing written through this handle since the last sync (no write, no erase, no
     * raw pointer handed out): nothing of ours to flush. An msync(MS_SYNC) of an
     * unchanged mapping still waits for the file system (a few ms on a virtual disk),
     * which every open that only reads, such as a device's power-on, paid at close. */
    if (nor->epoch == nor->synced_epoch) {
        return OTAKIT_OK;
    }
    if (msync(nor->data, nor->size, MS_SYNC) != 0) {
        return OTAKIT_FAIL;
    }
    nor->synced_epoch = nor->epoch;
    return OTAKIT_OK;
}

void otakit_nor_close(otakit_nor_t *nor)
{
    if (nor == NULL) {
        return;
    }
    if (nor->fd >= 0) {
        otakit_nor_sync(nor);
        munmap(nor->data, nor->size);
        close(nor->fd);
    } else {
        free(nor->data);
    }
    free(nor->wear);
    free(nor);
}

const otakit_flash_t *otakit_nor_flash(otakit_nor_t *nor)
{
    return &nor->flash;
}

uint8_t *otakit_nor_data(otakit_nor_t *nor)
{
    nor->epoch++; /* the caller may write through the pointer */
    return nor->data;
}

uint32_t otakit_nor_size(const otakit_nor_t *nor)
{
    return nor->size;
}

void otakit_nor_set_strict(otakit_nor_t *nor, bool strict)
{
    nor->strict = strict;
}

void otakit_nor_cut_at(otakit_nor_t *nor, uint64_t n, otakit_nor_cut_mode_t mode, uint32_t seed)
{
    nor->cut_op = n == 0 ? 0 : nor->seq + n;
    nor->cut_mode = mode;
    nor->cut_seed = seed;
}

bool otakit_nor_is_dead(const otakit_nor_t *nor)
{
    return nor->dead;
}

void otakit_nor_reboot(otakit_nor_t *nor)
{
    nor->dead = false;
    nor->cut_op = 0;
    nor->fail_op = 0;
}

void otakit_nor_fail_at(otakit_nor_t *nor, uint64_t n)
{
    nor->fail_op = n == 0 ? 0 : nor->seq + n;
}

void otakit_nor_bitrot(otakit_nor_t *nor, uint32_t addr, uint32_t len, uint8_t mask)
{
    nor->epoch++; /* reads now return other bytes */
    nor->rot_addr = addr;
    nor->rot_len = len;
    nor->rot_mask = mask;
}

void otakit_nor_get_stats(const otakit_nor_t *nor, otakit_nor_stats_t *st)
{
    *st = nor->stats;
}

void otakit_nor_reset_stats(otakit_nor_t *nor)
{
    memset(&nor->stats, 0, sizeof(nor->stats));
}

uint32_t otakit_nor_sector_erases(const otakit_nor_t *nor, uint32_t sector_index)
{
    return sector_index < nor->size / NOR_SECTOR ? nor->wear[sector_index] : 0;
}

void otakit_nor_set_timing(otakit_nor_t *nor, const otakit_nor_timing_t *timing)
{
    nor->timing_on = timing != NULL;
    if (timing != NULL) {
        nor->timing = *timing;
    }
}
