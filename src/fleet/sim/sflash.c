/* Sparse, deduplicated NOR flash for the fleet simulator (sflash.h). */
#include "sflash.h"

#include <stdlib.h>
#include <string.h>

#define SECTOR OTAKIT_SECTOR_SIZE
#define ID_BASE 0u   /* the factory image's sector */
#define ID_ERASED 1u /* all 0xFF */
#define ID_FIRST 2u  /* pool sectors */
#define NO_ID 0u     /* end of a hash chain / free list (pool ids start at 2) */

/* A sector of the pool: its bytes, references, content hash and chain. */
typedef struct pool_entry {
    uint8_t *data;
    uint64_t hash;
    uint32_t refs;
    uint32_t next; /* hash chain of interned sectors, or the free list */
    bool interned;
} pool_entry_t;

struct fleet_store {
    uint8_t *base;
    uint32_t size, sectors;
    uint8_t erased[SECTOR];
    pool_entry_t *pool; /* by sector id (ids below ID_FIRST unused) */
    uint32_t cap, used_ids, free_head;
    uint32_t *buckets;
    uint32_t bucket_mask;
    fleet_store_stats_t st;
};

static uint32_t rng_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint64_t sector_hash(const uint8_t *p)
{
    uint64_t h = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < SECTOR; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDu;
        h ^= h >> 29;
    }
    return h;
}

fleet_store_t *fleet_store_new(const uint8_t *image, uint32_t size)
{
    if (size == 0 || size % SECTOR != 0) {
        return NULL;
    }
    fleet_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->base = malloc(size)) == NULL) {
        free(s);
        return NULL;
    }
    memcpy(s->base, image, size);
    memset(s->erased, 0xFF, sizeof(s->erased));
    s->size = size;
    s->sectors = size / SECTOR;
    s->used_ids = ID_FIRST;
    s->bucket_mask = (1u << 16) - 1u;
    s->buckets = calloc((size_t)s->bucket_mask + 1u, sizeof(uint32_t));
    if (s->buckets == NULL) {
        fleet_store_free(s);
        return NULL;
    }
    return s;
}

void fleet_store_free(fleet_store_t *s)
{
    if (s == NULL) {
        return;
    }
    for (uint32_t i = ID_FIRST; i < s->used_ids; i++) {
        free(s->pool[i].data);
    }
    free(s->pool);
    free(s->buckets);
    free(s->base);
    free(s);
}

void fleet_store_stats(const fleet_store_t *s, fleet_store_stats_t *st)
{
    *st = s->st;
}

static int grow(fleet_store_t *s)
{
    uint32_t cap = s->cap ? s->cap * 2u : 1024u;
    pool_entry_t *pool = realloc(s->pool, cap * sizeof(*pool));
    if (pool == NULL) {
        return -1;
    }
    s->pool = pool;
    s->cap = cap;
    return 0;
}

/* A new private sector holding a copy of src; 0 when out of memory. */
static uint32_t pool_new(fleet_store_t *s, const uint8_t *src)
{
    uint32_t id;
    if (s->free_head != NO_ID) {
        id = s->free_head;
        s->free_head = s->pool[id].next;
    } else {
        if (s->used_ids >= s->cap && grow(s) != 0) {
            return 0;
        }
        id = s->used_ids++;
        s->pool[id].data = malloc(SECTOR);
        if (s->pool[id].data == NULL) {
            s->used_ids--;
            return 0;
        }
    }
    memcpy(s->pool[id].data, src, SECTOR);
    s->pool[id].refs = 1;
    s->pool[id].interned = false;
    s->pool[id].next = NO_ID;
    s->st.pool_sectors++;
    if (s->st.pool_sectors > s->st.peak_pool_sectors) {
        s->st.peak_pool_sectors = s->st.pool_sectors;
    }
    return id;
}

static void unchain(fleet_store_t *s, uint32_t id)
{
    uint32_t *pp = &s->buckets[s->pool[id].hash & s->bucket_mask];
    while (*pp != NO_ID && *pp != id) {
        pp = &s->pool[*pp].next;
    }
    if (*pp == id) {
        *pp = s->pool[id].next;
    }
}

static void release(fleet_store_t *s, uint32_t id)
{
    if (id < ID_FIRST || --s->pool[id].refs > 0) {
        return;
    }
    if (s->pool[id].interned) {
        unchain(s, id);
        s->st.interned--;
    }
    s->st.pool_sectors--;
    s->pool[id].next = s->free_head; /* keep the buffer for the next sector */
    s->free_head = id;
}

static const uint8_t *sector_bytes(const fleet_flash_t *f, uint32_t sector)
{
    uint32_t id = f->map[sector];
    if (id == ID_BASE) {
        return f->store->base + (size_t)sector * SECTOR;
    }
    if (id == ID_ERASED) {
        return f->store->erased;
    }
    return f->store->pool[id].data;
}

/* The sector's bytes, writable by this device alone (copied first when shared). */
static uint8_t *sector_own(fleet_flash_t *f, uint32_t sector)
{
    fleet_store_t *s = f->store;
    uint32_t id = f->map[sector];
    if (id >= ID_FIRST && s->pool[id].refs == 1 && !s->pool[id].interned) {
        return s->pool[id].data;
    }
    uint32_t nid = pool_new(s, sector_bytes(f, sector));
    if (nid == 0) {
        return NULL;
    }
    release(s, id);
    f->map[sector] = nid;
    f->private_sectors++;
    return s->pool[nid].data;
}

static void sector_erase(fleet_flash_t *f, uint32_t sector)
{
    uint32_t id = f->map[sector];
    if (id >= ID_FIRST && f->store->pool[id].refs == 1 && !f->store->pool[id].interned) {
        f->private_sectors--;
    }
    release(f->store, id);
    f->map[sector] = ID_ERASED;
}

void fleet_flash_compact(fleet_flash_t *f)
{
    fleet_store_t *s = f->store;
    for (uint32_t i = 0; i < s->sectors && f->private_sectors > 0; i++) {
        uint32_t id = f->map[i];
        if (id < ID_FIRST || s->pool[id].interned || s->pool[id].refs != 1) {
            continue;
        }
        f->private_sectors--;
        const uint8_t *p = s->pool[id].data;
        if (memcmp(p, s->erased, SECTOR) == 0) {
            release(s, id);
            f->map[i] = ID_ERASED;
            continue;
        }
        if (memcmp(p, s->base + (size_t)i * SECTOR, SECTOR) == 0) {
            release(s, id);
            f->map[i] = ID_BASE;
            continue;
        }
        uint64_t h = sector_hash(p);
        uint32_t *bucket = &s->buckets[h & s->bucket_mask];
        uint32_t hit = *bucket;
        while (hit != NO_ID &&
               (s->pool[hit].hash != h || memcmp(s->pool[hit].data, p, SECTOR) != 0)) {
            hit = s->pool[hit].next;
        }
        if (hit != NO_ID) {
            s->pool[hit].refs++;
            release(s, id);
            f->map[i] = hit;
        } else {
            s->pool[id].hash = h;
            s->pool[id].interned = true;
            s->pool[id].next = *bucket;
            *bucket = id;
            s->st.interned++;
        }
    }
}

/* Counts the operation; true when it is the one to cut (the chip dies after it). */
static bool count_op(fleet_flash_t *f)
{
    f->epoch++;
    f->ops++;
    return f->cut_at != 0 && f->ops == f->cut_at;
}

static void die(fleet_flash_t *f)
{
    f->dead = true;
    f->cut = true;
    f->cut_at = 0;
}

static otakit_err_t sf_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    fleet_flash_t *f = ctx;
    if (f->dead) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    uint8_t *out = dst;
    while (len > 0) {
        uint32_t sector = addr / SECTOR, off = addr % SECTOR;
        size_t n = SECTOR - off < len ? SECTOR - off : len;
        memcpy(out, sector_bytes(f, sector) + off, n);
        out += n;
        addr += (uint32_t)n;
        len -= n;
    }
    return OTAKIT_OK;
}

/* Program [addr, addr+len): AND into the stored bytes. */
static otakit_err_t program(fleet_flash_t *f, uint32_t addr, const uint8_t *src, size_t len)
{
    while (len > 0) {
        uint32_t sector = addr / SECTOR, off = addr % SECTOR;
        size_t n = SECTOR - off < len ? SECTOR - off : len;
        uint8_t *p = sector_own(f, sector);
        if (p == NULL) {
            return OTAKIT_ERR_NO_MEM;
        }
        for (size_t i = 0; i < n; i++) {
            p[off + i] &= src[i];
        }
        src += n;
        addr += (uint32_t)n;
        len -= n;
    }
    return OTAKIT_OK;
}

static otakit_err_t sf_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    fleet_flash_t *f = ctx;
    if (f->dead) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    if (!count_op(f)) {
        return program(f, addr, src, len);
    }
    if (f->cut_mode == FLEET_CUT_AFTER) {
        (void)program(f, addr, src, len);
    } else if (f->cut_mode == FLEET_CUT_TORN) {
        (void)program(f, addr, src, rng_next(&f->rng) % len);
    }
    die(f);
    return OTAKIT_ERR_FLASH_OP_FAIL;
}

static otakit_err_t sf_erase(void *ctx, uint32_t addr, size_t len)
{
    fleet_flash_t *f = ctx;
    if (f->dead) {
        return OTAKIT_ERR_FLASH_OP_FAIL;
    }
    uint32_t first = addr / SECTOR, count = (uint32_t)(len / SECTOR);
    if (!count_op(f)) {
        for (uint32_t i = 0; i < count; i++) {
            sector_erase(f, first + i);
        }
        return OTAKIT_OK;
    }
    if (f->cut_mode == FLEET_CUT_AFTER) {
        for (uint32_t i = 0; i < count; i++) {
            sector_erase(f, first + i);
        }
    } else if (f->cut_mode == FLEET_CUT_TORN) {
        /* Units before k erased, unit k partly (a prefix of 0xFF over what it held). */
        uint32_t k = rng_next(&f->rng) % count;
        for (uint32_t i = 0; i < k; i++) {
            sector_erase(f, first + i);
        }
        uint8_t *p = sector_own(f, first + k);
        if (p != NULL) {
            memset(p, 0xFF, rng_next(&f->rng) % SECTOR);
        }
    }
    die(f);
    return OTAKIT_ERR_FLASH_OP_FAIL;
}

static uint32_t sf_epoch(void *ctx)
{
    return ((fleet_flash_t *)ctx)->epoch;
}

int fleet_flash_init(fleet_flash_t *f, fleet_store_t *s, uint32_t seed)
{
    memset(f, 0, sizeof(*f));
    f->map = calloc(s->sectors, sizeof(uint32_t)); /* all ID_BASE */
    if (f->map == NULL) {
        return -1;
    }
    f->store = s;
    f->rng = seed | 1u;
    f->flash.ctx = f;
    f->flash.read = sf_read;
    f->flash.write = sf_write;
    f->flash.erase = sf_erase;
    f->flash.epoch = sf_epoch;
    f->flash.size = s->size;
    f->flash.sector_size = SECTOR;
    f->flash.write_align = 1;
    return 0;
}

void fleet_flash_deinit(fleet_flash_t *f)
{
    if (f->map == NULL) {
        return;
    }
    for (uint32_t i = 0; i < f->store->sectors; i++) {
        release(f->store, f->map[i]);
    }
    free(f->map);
    f->map = NULL;
}

void fleet_flash_cut_in(fleet_flash_t *f, uint64_t n, fleet_cut_mode_t mode)
{
    f->cut_at = f->ops + (n ? n : 1);
    f->cut_mode = mode;
}

void fleet_flash_reboot(fleet_flash_t *f)
{
    f->dead = false;
    f->cut = false;
    f->cut_at = 0;
    f->epoch++;
}
