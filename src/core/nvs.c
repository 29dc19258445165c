/* ESP-IDF's NVS (format version 2) over the core's flash contract. The structure follows
 * ESP-IDF v5.5's nvs_page.cpp / nvs_pagemanager.cpp / nvs_storage.cpp so that the bytes
 * on flash, the order of flash operations (what makes the format power safe) and the
 * recovery on init are the same. ESP-IDF keeps lists and hash tables on the heap; here
 * every lookup scans the cached entry bitmaps and reads entry headers from flash, and
 * init checks blob indexes against their chunks by scanning, so nothing is allocated. */
#include "otakit/nvs.h"

#include <string.h>

#include "otakit/le.h"

#define ENTRY_COUNT OTAKIT_NVS_ENTRY_COUNT
#define ENTRY_SIZE OTAKIT_NVS_ENTRY_SIZE
#define PAGE_SIZE OTAKIT_NVS_PAGE_SIZE
#define HEADER_OFFSET 0u
#define BITMAP_OFFSET 32u
#define DATA_OFFSET 64u
#define NONE 0xFFFFu /* no entry (ESP-IDF's INVALID_ENTRY) */
#define CHUNK_ANY 0xFFu
#define NS_INDEX 0u
#define NS_ANY 0xFFu
#define VER_0 0x00u
#define VER_1 0x80u
#define VER_ANY 0xFFu
/* Chunks of one blob version: indexes VER_0..VER_0+126 or VER_1..VER_1+126. */
#define CHUNKS_MAX ((CHUNK_ANY - 1u) / 2u)

#define T_U8 0x01u
#define T_SZ 0x21u
#define T_BLOB OTAKIT_NVS_TYPE_BLOB_V1
#define T_BLOB_DATA OTAKIT_NVS_TYPE_BLOB_DATA
#define T_BLOB_IDX OTAKIT_NVS_TYPE_BLOB_IDX
#define T_ANY 0xFFu

/* One 32-byte entry, kept raw and read through accessors (never cast from flash). */
typedef struct item {
    uint8_t raw[32];
} item_t;

static uint8_t it_ns(const item_t *it)
{
    return it->raw[0];
}
static uint8_t it_type(const item_t *it)
{
    return it->raw[1];
}
static uint8_t it_span(const item_t *it)
{
    return it->raw[2];
}
static uint8_t it_chunk(const item_t *it)
{
    return it->raw[3];
}
static const char *it_key(const item_t *it)
{
    return (const char *)it->raw + 8;
}
static uint16_t it_var_size(const item_t *it)
{
    return otakit_le16_get(it->raw + 24);
}
static uint32_t it_var_crc(const item_t *it)
{
    return otakit_le32_get(it->raw + 28);
}
static uint32_t it_blob_size(const item_t *it)
{
    return otakit_le32_get(it->raw + 24);
}
static uint8_t it_blob_count(const item_t *it)
{
    return it->raw[28];
}
static uint8_t it_blob_start(const item_t *it)
{
    return it->raw[29];
}

static bool is_varlen(uint8_t type)
{
    return type == T_BLOB || type == T_SZ || type == T_BLOB_DATA;
}

uint32_t otakit_nvs_crc32(uint32_t crc, const void *buf, size_t len)
{
    /* The ROM's crc32_le inverts on the way in and out: reflected CRC-32 (0xEDB88320).
     * Bitwise, no table: NVS hashes a few hundred bytes per operation. */
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

static uint32_t item_crc(const item_t *it)
{
    uint32_t crc = otakit_nvs_crc32(0xFFFFFFFFu, it->raw, 4);
    return otakit_nvs_crc32(crc, it->raw + 8, 24);
}

void otakit_nvs_entry_seal(uint8_t entry[32])
{
    item_t it;
    memcpy(it.raw, entry, 32);
    otakit_le32_put(entry + 4, item_crc(&it));
}

void otakit_nvs_encode_header(uint8_t out[32], uint32_t state, uint32_t seq, uint8_t version)
{
    memset(out, 0xFF, 32);
    otakit_le32_put(out, state);
    otakit_le32_put(out + 4, seq);
    out[8] = version;
    otakit_le32_put(out + 28, otakit_nvs_crc32(0xFFFFFFFFu, out + 4, 24));
}

/* The type bytes: their integer size (0: not an integer), otakit's short name and the
 * encoding nvs_tool.py prints. */
static const struct type_info {
    uint8_t type;
    uint8_t int_size;
    const char *name, *encoding;
} TYPES[] = {
    {0x01, 1, "u8", "uint8_t"},          {0x11, 1, "i8", "int8_t"},
    {0x02, 2, "u16", "uint16_t"},        {0x12, 2, "i16", "int16_t"},
    {0x04, 4, "u32", "uint32_t"},        {0x14, 4, "i32", "int32_t"},
    {0x08, 8, "u64", "uint64_t"},        {0x18, 8, "i64", "int64_t"},
    {0x21, 0, "str", "string"},          {0x41, 0, "blob", "blob"},
    {0x42, 0, "blob_data", "blob_data"}, {0x48, 0, "blob_index", "blob_index"},
};

static const struct type_info *type_info(unsigned type_byte)
{
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
        if (TYPES[i].type == type_byte) {
            return &TYPES[i];
        }
    }
    return NULL;
}

size_t otakit_nvs_int_size(otakit_nvs_type_t type)
{
    const struct type_info *t = type_info((unsigned)type);
    return t != NULL ? t->int_size : 0;
}

const char *otakit_nvs_type_name(unsigned type_byte)
{
    const struct type_info *t = type_info(type_byte);
    return t != NULL ? t->name : type_byte == 0xFF ? "any" : "unknown";
}

const char *otakit_nvs_encoding_name(unsigned type_byte)
{
    const struct type_info *t = type_info(type_byte);
    return t != NULL ? t->encoding : "unknown";
}

/* Item(nsIndex, datatype, span, key, chunkIdx): key and data 0xFF-filled, key copied
 * NUL-terminated (strncpy semantics: the rest of the 16 bytes is zero). */
static void item_make(item_t *it, uint8_t ns, uint8_t type, uint8_t span, const char *key,
                      uint8_t chunk)
{
    memset(it->raw, 0xFF, sizeof(it->raw));
    it->raw[0] = ns;
    it->raw[1] = type;
    it->raw[2] = span;
    it->raw[3] = chunk;
    memset(it->raw + 8, 0, 16);
    for (size_t i = 0; i < 15 && key[i] != '\0'; i++) {
        it->raw[8 + i] = (uint8_t)key[i];
    }
}

/* An item's key as a C string (16 bytes on flash, at most 15 used). */
static void copy_key(char dst[OTAKIT_NVS_KEY_SIZE], const item_t *it)
{
    memcpy(dst, it_key(it), 15);
    dst[15] = '\0';
}

static size_t key_len(const char *key)
{
    size_t n = 0;
    while (n < OTAKIT_NVS_KEY_SIZE && key[n] != '\0') {
        n++;
    }
    return n;
}

static bool key_eq(const char *key, const item_t *it)
{
    return strncmp(key, it_key(it), OTAKIT_NVS_KEY_SIZE - 1) == 0;
}

/* Item::checkHeaderConsistency: CRC, a known type, span and length within the page. */
static bool item_consistent(const item_t *it, size_t index)
{
    if (otakit_le32_get(it->raw + 4) != item_crc(it)) {
        return false;
    }
    uint8_t span = it_span(it);
    if (otakit_nvs_int_size((otakit_nvs_type_t)it_type(it)) != 0) {
        return span == 1;
    }
    switch (it_type(it)) {
    case T_BLOB_IDX:
        return span == 1 && it_chunk(it) == CHUNK_ANY &&
               it_blob_size(it) <= (uint32_t)(255 / 2) * (ENTRY_COUNT - 1) * ENTRY_SIZE;
    case T_SZ:
    case T_BLOB:
    case T_BLOB_DATA: {
        if (it_type(it) == T_BLOB_DATA && it_chunk(it) == CHUNK_ANY) {
            return false;
        }
        size_t max_size = (ENTRY_COUNT - index - 1) * ENTRY_SIZE;
        if (it_var_size(it) > max_size || span > ENTRY_COUNT - index) {
            return false;
        }
        return span == (it_var_size(it) + ENTRY_SIZE - 1) / ENTRY_SIZE + 1;
    }
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- pages ---- */

static uint32_t page_addr(const otakit_nvs_t *nvs, uint32_t p)
{
    return nvs->offset + p * PAGE_SIZE;
}

static uint32_t entry_addr(const otakit_nvs_t *nvs, uint32_t p, size_t i)
{
    return page_addr(nvs, p) + DATA_OFFSET + (uint32_t)i * ENTRY_SIZE;
}

static unsigned ent_state(const otakit_nvs_page_t *pg, size_t i)
{
    return (pg->bitmap[i / 16] >> ((i % 16) * 2)) & 3u;
}

static void ent_set(otakit_nvs_page_t *pg, size_t i, unsigned st)
{
    unsigned sh = (unsigned)(i % 16) * 2;
    pg->bitmap[i / 16] = (pg->bitmap[i / 16] & ~(3u << sh)) | (st << sh);
}

static otakit_err_t page_fail(otakit_nvs_page_t *pg, otakit_err_t err)
{
    /* As ESP-IDF: after a failed flash operation the page is not trusted any more. */
    pg->state = OTAKIT_NVS_PAGE_INVALID;
    return err;
}

static otakit_err_t write_bitmap_word(otakit_nvs_t *nvs, uint32_t p, size_t w)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    if (nvs->readonly) {
        return OTAKIT_OK; /* inspection: the fix stays in memory */
    }
    uint8_t b[4];
    otakit_le32_put(b, pg->bitmap[w]);
    otakit_err_t err =
        otakit_flash_write(nvs->flash, page_addr(nvs, p) + BITMAP_OFFSET + (uint32_t)w * 4, b, 4);
    return err == OTAKIT_OK ? OTAKIT_OK : page_fail(pg, err);
}

static otakit_err_t alter_entry(otakit_nvs_t *nvs, uint32_t p, size_t i, unsigned st)
{
    ent_set(&nvs->pages[p], i, st);
    return write_bitmap_word(nvs, p, i / 16);
}

/* The range from its end down, one bitmap word per write (ESP-IDF's order: a cut leaves
 * the head entry written and its tail erased, which init treats as erased). */
static otakit_err_t alter_range(otakit_nvs_t *nvs, uint32_t p, size_t begin, size_t end,
                                unsigned st)
{
    size_t word = (end - 1) / 16;
    for (size_t i = end; i-- > begin;) {
        ent_set(&nvs->pages[p], i, st);
        size_t next = i == begin ? (size_t)-1 : (i - 1) / 16;
        if (next != word) {
            otakit_err_t err = write_bitmap_word(nvs, p, word);
            if (err != OTAKIT_OK) {
                return err;
            }
        }
        word = next;
    }
    return OTAKIT_OK;
}

static otakit_err_t read_entry(const otakit_nvs_t *nvs, uint32_t p, size_t i, item_t *it)
{
    return otakit_flash_read(nvs->flash, entry_addr(nvs, p, i), it->raw, ENTRY_SIZE);
}

/* A page in a state whose header and items can be trusted (ESP-IDF: its sequence
 * number is valid). */
static bool page_holds_items(const otakit_nvs_page_t *pg)
{
    return pg->state != OTAKIT_NVS_PAGE_UNINITIALIZED && pg->state != OTAKIT_NVS_PAGE_INVALID &&
           pg->state != OTAKIT_NVS_PAGE_CORRUPT;
}

static otakit_err_t update_first_used(otakit_nvs_t *nvs, uint32_t p, size_t index, size_t span)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    pg->first_used = NONE;
    size_t end = pg->next_free > ENTRY_COUNT ? ENTRY_COUNT : pg->next_free;
    for (size_t i = index + span; i < end; i++) {
        if (ent_state(pg, i) == OTAKIT_NVS_ENTRY_WRITTEN) {
            pg->first_used = (uint16_t)i;
            break;
        }
    }
    return OTAKIT_OK;
}

/* Page::eraseEntryAndSpan */
static otakit_err_t erase_entry_span(otakit_nvs_t *nvs, uint32_t p, size_t index)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    size_t span = 1;
    otakit_err_t err;
    if (ent_state(pg, index) == OTAKIT_NVS_ENTRY_WRITTEN) {
        item_t it;
        err = read_entry(nvs, p, index, &it);
        if (err != OTAKIT_OK) {
            return err;
        }
        if (!item_consistent(&it, index)) {
            pg->used--;
            pg->erased++;
            err = alter_entry(nvs, p, index, OTAKIT_NVS_ENTRY_ERASED);
        } else {
            span = it_span(&it);
            for (size_t i = index + span; i-- > index;) {
                if (ent_state(pg, i) == OTAKIT_NVS_ENTRY_WRITTEN) {
                    pg->used--;
                }
                pg->erased++;
            }
            err = span == 1 ? alter_entry(nvs, p, index, OTAKIT_NVS_ENTRY_ERASED)
                            : alter_range(nvs, p, index, index + span, OTAKIT_NVS_ENTRY_ERASED);
        }
    } else {
        err = alter_entry(nvs, p, index, OTAKIT_NVS_ENTRY_ERASED);
    }
    if (err != OTAKIT_OK) {
        return err;
    }
    if (index == pg->first_used) {
        update_first_used(nvs, p, index, span);
    }
    /* a full page's next free entry stays unknown (ESP-IDF's INVALID_ENTRY compares high) */
    if (pg->next_free != NONE && index + span > pg->next_free) {
        pg->next_free = (uint16_t)(index + span);
    }
    return OTAKIT_OK;
}

/* What a search looks for (Page::findItem's arguments). */
typedef struct query {
    uint8_t ns;
    uint8_t type;
    const char *key;
    uint8_t chunk;
    uint8_t chunk_start;
} query_t;

/* Page::findItem. ESP-IDF starts a keyed search at the first entry whose hash of
 * (ns, key, chunk index) matches; without a hash list the same effect is to consider
 * only entries with that exact chunk index. From *index on; sets *index and *it. */
static otakit_err_t page_find(otakit_nvs_t *nvs, uint32_t p, const query_t *q, size_t *index,
                              item_t *it)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    if (!page_holds_items(pg) || *index >= ENTRY_COUNT) {
        return OTAKIT_ERR_NVS_NOT_FOUND;
    }
    size_t start = pg->first_used;
    if (*index > pg->first_used) {
        start = *index;
    }
    size_t end = pg->next_free > ENTRY_COUNT ? ENTRY_COUNT : pg->next_free;
    bool hashed =
        q->ns != NS_ANY && q->key != NULL && (q->type != T_BLOB_DATA || q->chunk != CHUNK_ANY);
    size_t next;
    for (size_t i = start; i < end; i = next) {
        next = i + 1;
        if (ent_state(pg, i) != OTAKIT_NVS_ENTRY_WRITTEN) {
            continue;
        }
        otakit_err_t err = read_entry(nvs, p, i, it);
        if (err != OTAKIT_OK) {
            return page_fail(pg, err);
        }
        if (!item_consistent(it, i)) {
            err = erase_entry_span(nvs, p, i);
            if (err != OTAKIT_OK) {
                return page_fail(pg, err);
            }
            continue;
        }
        if (is_varlen(it_type(it))) {
            next = i + it_span(it);
        }
        if (hashed && it_chunk(it) != q->chunk) {
            continue;
        }
        if (q->ns != NS_ANY && it_ns(it) != q->ns) {
            continue;
        }
        if (q->key != NULL && !key_eq(q->key, it)) {
            continue;
        }
        if (q->chunk != CHUNK_ANY && q->type == T_BLOB_DATA && it_chunk(it) != q->chunk) {
            continue;
        }
        if (q->chunk == CHUNK_ANY && q->type == T_BLOB_DATA && it_type(it) != T_BLOB_DATA) {
            continue;
        }
        if (q->chunk == CHUNK_ANY && q->type == T_BLOB && it_type(it) == T_BLOB_IDX) {
            return OTAKIT_ERR_NVS_TYPE_MISMATCH;
        }
        if (q->chunk == CHUNK_ANY && q->type == T_BLOB && it_type(it) == T_BLOB_DATA) {
            continue;
        }
        if (q->type == T_BLOB_IDX && it_chunk(it) != CHUNK_ANY) {
            continue;
        }
        if (q->type == T_BLOB_IDX && q->chunk_start != VER_ANY &&
            it_blob_start(it) != q->chunk_start) {
            continue;
        }
        if (q->type != T_ANY && it_type(it) != q->type) {
            if (q->key == NULL && q->ns == NS_ANY && q->chunk == CHUNK_ANY) {
                continue;
            }
            *index = i;
            return OTAKIT_ERR_NVS_TYPE_MISMATCH;
        }
        *index = i;
        return OTAKIT_OK;
    }
    return OTAKIT_ERR_NVS_NOT_FOUND;
}

static query_t mkq(uint8_t ns, uint8_t type, const char *key, uint8_t chunk, uint8_t chunk_start)
{
    query_t q = {ns, type, key, chunk, chunk_start};
    return q;
}

static otakit_err_t page_erase_item(otakit_nvs_t *nvs, uint32_t p, const query_t *q)
{
    size_t index = 0;
    item_t it;
    otakit_err_t err = page_find(nvs, p, q, &index, &it);
    if (err != OTAKIT_OK) {
        return err;
    }
    return erase_entry_span(nvs, p, index);
}

static otakit_err_t page_initialize(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    uint8_t h[32];
    otakit_nvs_encode_header(h, OTAKIT_NVS_PAGE_ACTIVE, pg->seq, OTAKIT_NVS_VERSION);
    otakit_err_t err =
        otakit_flash_write(nvs->flash, page_addr(nvs, p) + HEADER_OFFSET, h, sizeof(h));
    if (err != OTAKIT_OK) {
        return page_fail(pg, err);
    }
    pg->state = OTAKIT_NVS_PAGE_ACTIVE;
    pg->next_free = 0;
    memset(pg->bitmap, 0xFF, sizeof(pg->bitmap));
    return OTAKIT_OK;
}

/* Page::writeEntry: the entry, then its bitmap bits. */
static otakit_err_t write_entry(otakit_nvs_t *nvs, uint32_t p, const item_t *it)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    if (pg->next_free >= ENTRY_COUNT) {
        return OTAKIT_ERR_NVS_PAGE_FULL;
    }
    otakit_err_t err =
        otakit_flash_write(nvs->flash, entry_addr(nvs, p, pg->next_free), it->raw, ENTRY_SIZE);
    if (err != OTAKIT_OK) {
        return page_fail(pg, err);
    }
    err = alter_entry(nvs, p, pg->next_free, OTAKIT_NVS_ENTRY_WRITTEN);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (pg->first_used == NONE) {
        pg->first_used = pg->next_free;
    }
    pg->used++;
    pg->next_free++;
    return OTAKIT_OK;
}

/* Page::writeEntryData: whole data entries in one write, then their bitmap bits. */
static otakit_err_t write_entry_data(otakit_nvs_t *nvs, uint32_t p, const uint8_t *data,
                                     size_t size)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    size_t count = size / ENTRY_SIZE;
    otakit_err_t err =
        otakit_flash_write(nvs->flash, entry_addr(nvs, p, pg->next_free), data, size);
    if (err != OTAKIT_OK) {
        return page_fail(pg, err);
    }
    err = alter_range(nvs, p, pg->next_free, pg->next_free + count, OTAKIT_NVS_ENTRY_WRITTEN);
    if (err != OTAKIT_OK) {
        return err;
    }
    pg->used = (uint16_t)(pg->used + count);
    pg->next_free = (uint16_t)(pg->next_free + count);
    return OTAKIT_OK;
}

/* Page::writeItem */
static otakit_err_t page_write_item(otakit_nvs_t *nvs, uint32_t p, uint8_t ns, uint8_t type,
                                    const char *key, const void *data, size_t size, uint8_t chunk)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    otakit_err_t err;
    if (pg->state == OTAKIT_NVS_PAGE_INVALID) {
        return OTAKIT_ERR_NVS_INVALID_STATE;
    }
    if (pg->state == OTAKIT_NVS_PAGE_UNINITIALIZED) {
        err = page_initialize(nvs, p);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    if (pg->state == OTAKIT_NVS_PAGE_FULL) {
        return OTAKIT_ERR_NVS_PAGE_FULL;
    }
    if (key_len(key) > OTAKIT_NVS_KEY_SIZE - 1) {
        return OTAKIT_ERR_NVS_KEY_TOO_LONG;
    }
    if (size > OTAKIT_NVS_CHUNK_MAX) {
        return OTAKIT_ERR_NVS_VALUE_TOO_LONG;
    }
    if (!is_varlen(type) && size > 8) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    size_t entries = 1;
    if (is_varlen(type)) {
        entries += (size + ENTRY_SIZE - 1) / ENTRY_SIZE;
    }
    if (pg->next_free == NONE || pg->next_free + entries > ENTRY_COUNT) {
        return OTAKIT_ERR_NVS_PAGE_FULL;
    }
    item_t it;
    item_make(&it, ns, type, (uint8_t)entries, key, chunk);
    if (!is_varlen(type)) {
        memcpy(it.raw + 24, data, size);
        otakit_le32_put(it.raw + 4, item_crc(&it));
        return write_entry(nvs, p, &it);
    }
    const uint8_t *src = data;
    otakit_le32_put(it.raw + 28, otakit_nvs_crc32(0xFFFFFFFFu, src, size));
    otakit_le16_put(it.raw + 24, (uint16_t)size);
    otakit_le16_put(it.raw + 26, 0xFFFF);
    otakit_le32_put(it.raw + 4, item_crc(&it));
    err = write_entry(nvs, p, &it);
    if (err != OTAKIT_OK) {
        return err;
    }
    size_t rest = size % ENTRY_SIZE;
    size_t left = size - rest;
    if (left > 0) {
        err = write_entry_data(nvs, p, src, left);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    if (rest > 0) {
        memset(it.raw, 0xFF, sizeof(it.raw));
        memcpy(it.raw, src + left, rest);
        err = write_entry(nvs, p, &it);
    }
    return err;
}

/* The data entries of a string or blob chunk in one pass, copied to dst and/or compared
 * with cmp, their CRC checked: OTAKIT_ERR_NVS_CONTENT_DIFFERS on a mismatch of either. */
static otakit_err_t page_var_data(otakit_nvs_t *nvs, uint32_t p, const item_t *it, size_t index,
                                  uint8_t *dst, const uint8_t *cmp)
{
    size_t left = it_var_size(it);
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = index + 1, off = 0; i < index + it_span(it); i++) {
        item_t di;
        otakit_err_t err = read_entry(nvs, p, i, &di);
        if (err != OTAKIT_OK) {
            return err;
        }
        size_t n = left < ENTRY_SIZE ? left : ENTRY_SIZE;
        if (cmp != NULL && memcmp(cmp + off, di.raw, n) != 0) {
            return OTAKIT_ERR_NVS_CONTENT_DIFFERS;
        }
        if (dst != NULL) {
            memcpy(dst + off, di.raw, n);
        }
        crc = otakit_nvs_crc32(crc, di.raw, n);
        left -= n;
        off += n;
    }
    return crc == it_var_crc(it) ? OTAKIT_OK : OTAKIT_ERR_NVS_CONTENT_DIFFERS;
}

/* Page::readVariableLengthItemData (dst has room for the item's size). A CRC mismatch
 * erases the item, as ESP-IDF does, and reads as not found. */
static otakit_err_t page_read_var(otakit_nvs_t *nvs, uint32_t p, const item_t *it, size_t index,
                                  uint8_t *dst, bool erase_bad)
{
    otakit_err_t err = page_var_data(nvs, p, it, index, dst, NULL);
    if (err != OTAKIT_ERR_NVS_CONTENT_DIFFERS) {
        return err;
    }
    if (erase_bad) {
        err = erase_entry_span(nvs, p, index);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    return OTAKIT_ERR_NVS_NOT_FOUND;
}

/* Page::cmpItem for variable-length data: entry by entry, no buffer. */
static otakit_err_t page_cmp_var(otakit_nvs_t *nvs, uint32_t p, const item_t *it, size_t index,
                                 const uint8_t *data, size_t size)
{
    if (size != it_var_size(it) || otakit_nvs_crc32(0xFFFFFFFFu, data, size) != it_var_crc(it)) {
        return OTAKIT_ERR_NVS_CONTENT_DIFFERS;
    }
    return page_var_data(nvs, p, it, index, NULL, data);
}

static otakit_err_t page_mark(otakit_nvs_t *nvs, uint32_t p, uint32_t state)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    uint8_t b[4];
    otakit_le32_put(b, state);
    otakit_err_t err = otakit_flash_write(nvs->flash, page_addr(nvs, p) + HEADER_OFFSET, b, 4);
    if (err != OTAKIT_OK) {
        return page_fail(pg, err);
    }
    pg->state = state;
    return OTAKIT_OK;
}

static otakit_err_t page_mark_full(otakit_nvs_t *nvs, uint32_t p)
{
    if (nvs->pages[p].state != OTAKIT_NVS_PAGE_ACTIVE) {
        return OTAKIT_ERR_NVS_INVALID_STATE;
    }
    return page_mark(nvs, p, OTAKIT_NVS_PAGE_FULL);
}

static otakit_err_t page_erase(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    otakit_err_t err = otakit_flash_erase(nvs->flash, page_addr(nvs, p), PAGE_SIZE);
    if (err != OTAKIT_OK) {
        return page_fail(pg, err);
    }
    pg->used = pg->erased = 0;
    pg->first_used = pg->next_free = NONE;
    pg->state = OTAKIT_NVS_PAGE_UNINITIALIZED;
    memset(pg->bitmap, 0xFF, sizeof(pg->bitmap));
    return OTAKIT_OK;
}

/* Page::getVarDataTailroom */
static size_t page_tailroom(const otakit_nvs_page_t *pg)
{
    if (pg->state == OTAKIT_NVS_PAGE_UNINITIALIZED) {
        return OTAKIT_NVS_CHUNK_MAX;
    }
    if (pg->state == OTAKIT_NVS_PAGE_FULL) {
        return 0;
    }
    return pg->next_free < ENTRY_COUNT - 1 ? (ENTRY_COUNT - pg->next_free - 1) * ENTRY_SIZE : 0;
}

/* Page::copyItems: every written entry of `from`, in order, appended to `to`. */
static otakit_err_t page_copy(otakit_nvs_t *nvs, uint32_t from, uint32_t to)
{
    otakit_nvs_page_t *src = &nvs->pages[from];
    if (src->first_used == NONE) {
        return OTAKIT_ERR_NVS_NOT_FOUND;
    }
    otakit_err_t err;
    if (nvs->pages[to].state == OTAKIT_NVS_PAGE_UNINITIALIZED) {
        err = page_initialize(nvs, to);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    size_t i = src->first_used;
    while (i < ENTRY_COUNT) {
        if (ent_state(src, i) != OTAKIT_NVS_ENTRY_WRITTEN) {
            i++;
            continue;
        }
        item_t it;
        err = read_entry(nvs, from, i, &it);
        if (err != OTAKIT_OK) {
            return err;
        }
        err = write_entry(nvs, to, &it);
        if (err != OTAKIT_OK) {
            return err;
        }
        size_t span = it_span(&it) ? it_span(&it) : 1;
        size_t end = i + span;
        if (end > ENTRY_COUNT) {
            return OTAKIT_FAIL; /* load erased inconsistent items: cannot happen */
        }
        for (size_t k = i + 1; k < end; k++) {
            err = read_entry(nvs, from, k, &it);
            if (err == OTAKIT_OK) {
                err = write_entry(nvs, to, &it);
            }
            if (err != OTAKIT_OK) {
                return err;
            }
        }
        i = end;
    }
    return OTAKIT_OK;
}

/* A one-byte digest of (ns, key, chunk) for the duplicate scan in page_load_entries. */
static uint8_t item_hash(const item_t *it)
{
    uint8_t h[19];
    h[0] = it_ns(it);
    memcpy(h + 1, it_key(it), 16);
    h[17] = it_chunk(it);
    h[18] = 0;
    uint32_t c = otakit_nvs_crc32(0xFFFFFFFFu, h, 18);
    uint8_t v = (uint8_t)(c ^ (c >> 8) ^ (c >> 16) ^ (c >> 24));
    return v == 0 ? 1 : v; /* 0 marks "no live item" */
}

static bool same_slot(const item_t *a, const item_t *b)
{
    return it_ns(a) == it_ns(b) && it_chunk(a) == it_chunk(b) &&
           strncmp(it_key(a), it_key(b), OTAKIT_NVS_KEY_SIZE - 1) == 0;
}

/* Read entry i of a page being loaded; an inconsistent header is erased with its span
 * (*ok false). */
static otakit_err_t load_item(otakit_nvs_t *nvs, uint32_t p, size_t i, item_t *it, bool *ok)
{
    otakit_err_t err = read_entry(nvs, p, i, it);
    *ok = err == OTAKIT_OK && item_consistent(it, i);
    if (err == OTAKIT_OK && !*ok) {
        err = erase_entry_span(nvs, p, i);
    }
    return err;
}

/* Whether entries [from, to) are all written: a variable-length item whose tail is not
 * was cut while being written or erased. */
static bool span_written(const otakit_nvs_page_t *pg, size_t from, size_t to)
{
    for (size_t j = from; j < to; j++) {
        if (ent_state(pg, j) != OTAKIT_NVS_ENTRY_WRITTEN) {
            return false;
        }
    }
    return true;
}

/* The bitmap, the counts and the first used entry. */
static otakit_err_t load_bitmap(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    uint8_t b[32];
    otakit_err_t err =
        otakit_flash_read(nvs->flash, page_addr(nvs, p) + BITMAP_OFFSET, b, sizeof(b));
    if (err != OTAKIT_OK) {
        return err;
    }
    for (int w = 0; w < 8; w++) {
        pg->bitmap[w] = otakit_le32_get(b + 4 * w);
    }
    pg->used = pg->erased = 0;
    for (size_t i = 0; i < ENTRY_COUNT; i++) {
        unsigned st = ent_state(pg, i);
        if (st == OTAKIT_NVS_ENTRY_WRITTEN) {
            if (pg->first_used == NONE) {
                pg->first_used = (uint16_t)i;
            }
            pg->used++;
        } else if (st == OTAKIT_NVS_ENTRY_ERASED) {
            pg->erased++;
        }
    }
    return OTAKIT_OK;
}

/* The active page's next free entry. An entry written before the cut that its bitmap
 * bits never reached: its first word is not blank. Mark it erased and move on. */
static otakit_err_t load_next_free(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    for (size_t i = 0; i < ENTRY_COUNT; i++) {
        if (ent_state(pg, i) == OTAKIT_NVS_ENTRY_EMPTY) {
            pg->next_free = (uint16_t)i;
            break;
        }
    }
    while (pg->next_free < ENTRY_COUNT) {
        uint8_t w[4];
        otakit_err_t err = otakit_flash_read(nvs->flash, entry_addr(nvs, p, pg->next_free), w, 4);
        if (err != OTAKIT_OK) {
            return err;
        }
        if (otakit_le32_get(w) == 0xFFFFFFFFu) {
            break;
        }
        unsigned old = ent_state(pg, pg->next_free);
        err = alter_entry(nvs, p, pg->next_free, OTAKIT_NVS_ENTRY_ERASED);
        if (err != OTAKIT_OK) {
            return err;
        }
        pg->next_free++;
        if (old == OTAKIT_NVS_ENTRY_WRITTEN) {
            pg->used--;
        }
        pg->erased++;
    }
    return OTAKIT_OK;
}

/* The entry before i holding the same (namespace, key, chunk index), or i. hash[] has
 * the digests of the live items before i. */
static otakit_err_t find_duplicate(otakit_nvs_t *nvs, uint32_t p, const uint8_t *hash, uint8_t h,
                                   const item_t *it, size_t i, size_t *dup)
{
    *dup = i;
    for (size_t j = 0; j < i; j++) {
        if (hash[j] != h) {
            continue;
        }
        item_t other;
        otakit_err_t err = read_entry(nvs, p, j, &other);
        if (err != OTAKIT_OK) {
            return err;
        }
        if (same_slot(&other, it)) {
            *dup = j;
            break;
        }
    }
    return OTAKIT_OK;
}

/* The last item of the active page against an earlier one of the same key and type.
 * ESP-IDF v5.5 searches a blob chunk here with any chunk index, which can erase a chunk
 * of the blob's previous version on the same page and lose the key when the cut came
 * before the new index was written; the chunk index is matched exactly here. */
static otakit_err_t erase_older_of_last(otakit_nvs_t *nvs, uint32_t p, size_t last)
{
    item_t lit;
    otakit_err_t err = read_entry(nvs, p, last, &lit);
    if (err != OTAKIT_OK || ent_state(&nvs->pages[p], last) != OTAKIT_NVS_ENTRY_WRITTEN ||
        !item_consistent(&lit, last)) {
        return err;
    }
    char key[OTAKIT_NVS_KEY_SIZE];
    copy_key(key, &lit);
    query_t q = mkq(it_ns(&lit), it_type(&lit), key, it_chunk(&lit), VER_ANY);
    size_t idx = 0;
    item_t dit;
    if (page_find(nvs, p, &q, &idx, &dit) == OTAKIT_OK && idx < last) {
        return erase_entry_span(nvs, p, idx);
    }
    return OTAKIT_OK;
}

/* The active page: variable-length items written whole, and no two live items for one
 * key: the older of a duplicate (the new value was written, the old not yet erased)
 * goes. */
static otakit_err_t load_active(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    otakit_err_t err = load_next_free(nvs, p);
    if (err != OTAKIT_OK) {
        return err;
    }
    uint8_t hash[ENTRY_COUNT];
    memset(hash, 0, sizeof(hash));
    size_t last = NONE;
    size_t end = pg->next_free > ENTRY_COUNT ? ENTRY_COUNT : pg->next_free;
    size_t span;
    for (size_t i = 0; i < end; i += span) {
        span = 1;
        unsigned st = ent_state(pg, i);
        if (st == OTAKIT_NVS_ENTRY_ERASED) {
            last = NONE;
            continue;
        }
        if (st == OTAKIT_NVS_ENTRY_ILLEGAL) {
            last = NONE;
            err = erase_entry_span(nvs, p, i);
            if (err != OTAKIT_OK) {
                return err;
            }
            continue;
        }
        last = i;
        item_t it;
        bool ok;
        err = load_item(nvs, p, i, &it, &ok);
        if (err != OTAKIT_OK) {
            return err;
        }
        if (!ok) {
            continue;
        }
        size_t dup;
        hash[i] = item_hash(&it);
        err = find_duplicate(nvs, p, hash, hash[i], &it, i, &dup);
        if (err != OTAKIT_OK) {
            return err;
        }
        if (is_varlen(it_type(&it))) {
            span = it_span(&it);
            if (!span_written(pg, i, i + span)) {
                hash[i] = 0;
                last = NONE;
                err = erase_entry_span(nvs, p, i);
                if (err != OTAKIT_OK) {
                    return err;
                }
                continue;
            }
        }
        if (dup < i) {
            hash[dup] = 0;
            err = erase_entry_span(nvs, p, dup);
            if (err != OTAKIT_OK) {
                return err;
            }
        }
    }
    return last != NONE ? erase_older_of_last(nvs, p, last) : OTAKIT_OK;
}

/* A full or freeing page: inconsistent items and half-written variable-length ones go. */
static otakit_err_t load_full(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    for (size_t i = pg->first_used; i < ENTRY_COUNT; i++) {
        if (ent_state(pg, i) != OTAKIT_NVS_ENTRY_WRITTEN) {
            continue;
        }
        item_t it;
        bool ok;
        otakit_err_t err = load_item(nvs, p, i, &it, &ok);
        if (err != OTAKIT_OK) {
            return err;
        }
        if (!ok) {
            continue;
        }
        size_t span = it_span(&it);
        if (is_varlen(it_type(&it)) && !span_written(pg, i + 1, i + span)) {
            err = erase_entry_span(nvs, p, i);
            if (err != OTAKIT_OK) {
                return err;
            }
        }
        i += span - 1;
    }
    return OTAKIT_OK;
}

/* Page::mLoadEntryTable. Any flash error leaves the page INVALID: init fails rather
 * than run without the page's items (ESP-IDF drops the result of some of these erases). */
static otakit_err_t page_load_entries(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    otakit_err_t err = load_bitmap(nvs, p);
    if (err == OTAKIT_OK && pg->state == OTAKIT_NVS_PAGE_ACTIVE) {
        err = load_active(nvs, p);
    } else if (err == OTAKIT_OK) {
        err = load_full(nvs, p);
    }
    return err == OTAKIT_OK ? OTAKIT_OK : page_fail(pg, err);
}

/* Page::load */
static otakit_err_t page_load(otakit_nvs_t *nvs, uint32_t p)
{
    otakit_nvs_page_t *pg = &nvs->pages[p];
    memset(pg, 0, sizeof(*pg));
    pg->state = OTAKIT_NVS_PAGE_INVALID;
    pg->seq = 0xFFFFFFFFu;
    pg->first_used = pg->next_free = NONE;
    memset(pg->bitmap, 0xFF, sizeof(pg->bitmap));
    uint8_t h[32];
    otakit_err_t err = otakit_flash_read(nvs->flash, page_addr(nvs, p), h, sizeof(h));
    if (err != OTAKIT_OK) {
        return err;
    }
    uint32_t state = otakit_le32_get(h);
    if (state == OTAKIT_NVS_PAGE_UNINITIALIZED) {
        int blank = 0;
        err = otakit_flash_is_blank(nvs->flash, page_addr(nvs, p), PAGE_SIZE, &blank);
        if (err != OTAKIT_OK) {
            return err;
        }
        /* not empty after all: keep it for diagnostics, erase it before reuse */
        pg->state = blank ? OTAKIT_NVS_PAGE_UNINITIALIZED : OTAKIT_NVS_PAGE_CORRUPT;
        return OTAKIT_OK;
    }
    if (otakit_le32_get(h + 28) != otakit_nvs_crc32(0xFFFFFFFFu, h + 4, 24)) {
        pg->state = OTAKIT_NVS_PAGE_CORRUPT;
        return OTAKIT_OK;
    }
    pg->seq = otakit_le32_get(h + 4);
    if (h[8] < OTAKIT_NVS_VERSION) {
        return OTAKIT_ERR_NVS_NEW_VERSION_FOUND;
    }
    if (state == OTAKIT_NVS_PAGE_ACTIVE || state == OTAKIT_NVS_PAGE_FULL ||
        state == OTAKIT_NVS_PAGE_FREEING) {
        pg->state = state;
        return page_load_entries(nvs, p);
    }
    pg->state = OTAKIT_NVS_PAGE_CORRUPT;
    return OTAKIT_OK;
}

/* ---------------------------------------------------------- page manager ---- */

/* The listed pages in sequence order (ties in physical order), as ESP-IDF's page list. */
static uint32_t pm_first(const otakit_nvs_t *nvs)
{
    uint32_t best = nvs->page_count;
    for (uint32_t i = 0; i < nvs->page_count; i++) {
        if (nvs->pages[i].listed &&
            (best == nvs->page_count || nvs->pages[i].seq < nvs->pages[best].seq)) {
            best = i;
        }
    }
    return best;
}

static uint32_t pm_next(const otakit_nvs_t *nvs, uint32_t cur)
{
    uint32_t cs = nvs->pages[cur].seq;
    uint32_t best = nvs->page_count;
    for (uint32_t i = 0; i < nvs->page_count; i++) {
        const otakit_nvs_page_t *pg = &nvs->pages[i];
        if (!pg->listed || i == cur) {
            continue;
        }
        bool after = pg->seq > cs || (pg->seq == cs && i > cur);
        if (!after) {
            continue;
        }
        if (best == nvs->page_count || pg->seq < nvs->pages[best].seq ||
            (pg->seq == nvs->pages[best].seq && i < best)) {
            best = i;
        }
    }
    return best;
}

#define PM_FOREACH(nvs, p)                                                                         \
    for (uint32_t p = pm_first(nvs); p < (nvs)->page_count; p = pm_next(nvs, p))

/* The back of the list: the page being written. */
static uint32_t pm_last(const otakit_nvs_t *nvs)
{
    uint32_t last = nvs->page_count;
    PM_FOREACH(nvs, p)
    {
        last = p;
    }
    return last;
}

static size_t pm_free_count(const otakit_nvs_t *nvs)
{
    size_t n = 0;
    for (uint32_t i = 0; i < nvs->page_count; i++) {
        n += !nvs->pages[i].listed;
    }
    return n;
}

static void pm_release(otakit_nvs_t *nvs, uint32_t p)
{
    nvs->pages[p].listed = 0;
    nvs->pages[p].free_order = ++nvs->free_clock;
}

/* PageManager::activatePage: the free page that has waited longest becomes the back of
 * the list with the next sequence number (its header is written with its first item). */
static otakit_err_t pm_activate(otakit_nvs_t *nvs)
{
    uint32_t best = nvs->page_count;
    for (uint32_t i = 0; i < nvs->page_count; i++) {
        if (!nvs->pages[i].listed &&
            (best == nvs->page_count || nvs->pages[i].free_order < nvs->pages[best].free_order)) {
            best = i;
        }
    }
    if (best == nvs->page_count) {
        return OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    otakit_nvs_page_t *pg = &nvs->pages[best];
    if (pg->state == OTAKIT_NVS_PAGE_CORRUPT) {
        otakit_err_t err = page_erase(nvs, best);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    pg->listed = 1;
    pg->seq = nvs->next_seq++;
    return OTAKIT_OK;
}

/* The second half of a reclaim (victim marked FREEING): its written entries onto a newly
 * activated page, then it is erased and joins the free pages. */
static otakit_err_t pm_move_out(otakit_nvs_t *nvs, uint32_t victim)
{
    otakit_err_t err = pm_activate(nvs);
    if (err != OTAKIT_OK) {
        return err;
    }
    err = page_copy(nvs, victim, pm_last(nvs));
    if (err != OTAKIT_OK && err != OTAKIT_ERR_NVS_NOT_FOUND) {
        return err;
    }
    err = page_erase(nvs, victim);
    if (err != OTAKIT_OK) {
        return err;
    }
    pm_release(nvs, victim);
    return OTAKIT_OK;
}

/* PageManager::requestNewPage: with one free page left, reclaim the page with the most
 * unused entries first. Order (what makes it power safe): mark it FREEING, start the new
 * page, copy its written entries, erase it. Init finishes the job after a cut. */
static otakit_err_t pm_request_page(otakit_nvs_t *nvs)
{
    size_t nfree = pm_free_count(nvs);
    if (nfree == 0) {
        return OTAKIT_ERR_NVS_INVALID_STATE;
    }
    if (nfree >= 2) {
        return pm_activate(nvs);
    }
    uint32_t victim = nvs->page_count;
    size_t most = 0;
    PM_FOREACH(nvs, p)
    {
        size_t unused = ENTRY_COUNT - nvs->pages[p].used;
        if (unused > most) {
            most = unused;
            victim = p;
        }
    }
    if (most == 0) {
        return OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    otakit_nvs_page_t *vp = &nvs->pages[victim];
    if (vp->state != OTAKIT_NVS_PAGE_FULL && vp->state != OTAKIT_NVS_PAGE_ACTIVE) {
        return OTAKIT_ERR_NVS_INVALID_STATE;
    }
    otakit_err_t err = page_mark(nvs, victim, OTAKIT_NVS_PAGE_FREEING);
    return err == OTAKIT_OK ? pm_move_out(nvs, victim) : err;
}

/* The page being written is done: mark it full (unless it is) and get the next one. */
static otakit_err_t pm_next_page(otakit_nvs_t *nvs, uint32_t p)
{
    if (nvs->pages[p].state != OTAKIT_NVS_PAGE_FULL) {
        otakit_err_t err = page_mark_full(nvs, p);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    return pm_request_page(nvs);
}

/* Erase the first item matching q on the pages listed before `last` (not one being
 * freed). Whether one was. */
static bool erase_before(otakit_nvs_t *nvs, uint32_t last, const query_t *q)
{
    PM_FOREACH(nvs, p)
    {
        if (p == last) {
            break;
        }
        if (nvs->pages[p].state != OTAKIT_NVS_PAGE_FREEING &&
            page_erase_item(nvs, p, q) == OTAKIT_OK) {
            return true;
        }
    }
    return false;
}

/* PageManager::load */
static otakit_err_t pm_load(otakit_nvs_t *nvs)
{
    nvs->free_clock = 0;
    for (uint32_t i = 0; i < nvs->page_count; i++) {
        otakit_err_t err = page_load(nvs, i);
        if (err != OTAKIT_OK) {
            return err;
        }
        otakit_nvs_page_t *pg = &nvs->pages[i];
        pg->listed = page_holds_items(pg);
        pg->free_order = pg->listed ? 0 : ++nvs->free_clock;
    }
    uint32_t last = pm_last(nvs);
    if (last == nvs->page_count) {
        nvs->next_seq = 0;
        return pm_activate(nvs);
    }
    nvs->next_seq = nvs->pages[last].seq + 1;
    if (nvs->readonly) {
        return OTAKIT_OK;
    }
    /* A cut after a new value was written but before the old one was erased leaves a
     * duplicate: the last item of the last page is the new one; erase the older. */
    size_t index = 0;
    bool any = false;
    item_t it, found;
    query_t all = mkq(NS_ANY, T_ANY, NULL, CHUNK_ANY, VER_ANY);
    while (page_find(nvs, last, &all, &index, &found) == OTAKIT_OK) {
        it = found;
        index += it_span(&found);
        any = true;
    }
    if (any) {
        char key[OTAKIT_NVS_KEY_SIZE];
        copy_key(key, &it);
        query_t q = mkq(it_ns(&it), it_type(&it), key, it_chunk(&it), VER_ANY);
        if (!erase_before(nvs, last, &q) && it_type(&it) == T_BLOB_IDX) {
            q.type = T_BLOB; /* the previous value may be a version-1 blob */
            erase_before(nvs, last, &q);
        }
    }
    /* A cut while a page was being reclaimed: discard the partial copy and redo it. */
    PM_FOREACH(nvs, p)
    {
        if (nvs->pages[p].state != OTAKIT_NVS_PAGE_FREEING) {
            continue;
        }
        uint32_t np = pm_last(nvs);
        if (nvs->pages[np].state == OTAKIT_NVS_PAGE_ACTIVE) {
            otakit_err_t err = page_erase(nvs, np);
            if (err != OTAKIT_OK) {
                return err;
            }
            pm_release(nvs, np);
        }
        otakit_err_t err = pm_move_out(nvs, p);
        if (err != OTAKIT_OK) {
            return err;
        }
        break;
    }
    if (pm_free_count(nvs) == 0) {
        return OTAKIT_ERR_NVS_NO_FREE_PAGES;
    }
    return OTAKIT_OK;
}

/* -------------------------------------------------------------- storage ---- */

/* An item found in the store: its page, its entry and its header. */
typedef struct found {
    uint32_t page;
    size_t index;
    item_t it;
} found_t;

/* A walk over the items a query matches, page by page in list order (Storage's loops
 * over the page list with Page::findItem). Zero it to start; items may be erased
 * between steps. */
typedef struct walk {
    found_t at;
    size_t next;
    bool started;
} walk_t;

static bool st_walk(otakit_nvs_t *nvs, const query_t *q, walk_t *w)
{
    if (!w->started) {
        w->started = true;
        w->at.page = pm_first(nvs);
        w->next = 0;
    }
    for (; w->at.page < nvs->page_count; w->at.page = pm_next(nvs, w->at.page), w->next = 0) {
        size_t i = w->next;
        if (page_find(nvs, w->at.page, q, &i, &w->at.it) == OTAKIT_OK) {
            w->at.index = i;
            w->next = i + it_span(&w->at.it);
            return true;
        }
    }
    return false;
}

/* Storage::findItem: the first page (in sequence order) where the page search succeeds. */
static otakit_err_t st_find(otakit_nvs_t *nvs, const query_t *q, found_t *f)
{
    walk_t w = {.started = false};
    if (!st_walk(nvs, q, &w)) {
        return OTAKIT_ERR_NVS_NOT_FOUND;
    }
    *f = w.at;
    return OTAKIT_OK;
}

static otakit_err_t st_erase_found(otakit_nvs_t *nvs, const found_t *f)
{
    return erase_entry_span(nvs, f->page, f->index);
}

/* Erase the first item a query matches: OTAKIT_ERR_NVS_NOT_FOUND when there is none. */
static otakit_err_t st_erase_first(otakit_nvs_t *nvs, const query_t *q)
{
    found_t f;
    otakit_err_t err = st_find(nvs, q, &f);
    return err == OTAKIT_OK ? st_erase_found(nvs, &f) : err;
}

static bool ns_is_used(const otakit_nvs_t *nvs, uint8_t ns)
{
    return (nvs->ns_used[ns / 32] >> (ns % 32)) & 1u;
}

static void ns_mark(otakit_nvs_t *nvs, uint8_t ns)
{
    nvs->ns_used[ns / 32] |= 1u << (ns % 32);
}

/* Sum of the chunks of one blob version (Storage::eraseMismatchedBlobIndexes). */
static void blob_observed(otakit_nvs_t *nvs, uint8_t ns, const char *key, uint8_t start,
                          uint32_t *size, uint32_t *count)
{
    *size = 0;
    *count = 0;
    uint8_t limit = start == VER_0 ? VER_1 : VER_ANY;
    query_t q = mkq(NS_ANY, T_BLOB_DATA, NULL, CHUNK_ANY, VER_ANY);
    walk_t w = {.started = false};
    while (st_walk(nvs, &q, &w)) {
        const item_t *it = &w.at.it;
        if (it_ns(it) == ns && key_eq(key, it) && it_chunk(it) >= start && it_chunk(it) < limit) {
            *size += it_var_size(it);
            (*count)++;
        }
    }
}

/* Whether a blob chunk belongs to a live index (Storage::eraseOrphanDataBlobs). */
static bool chunk_has_index(otakit_nvs_t *nvs, const item_t *chunk)
{
    query_t q = mkq(NS_ANY, T_BLOB_IDX, NULL, CHUNK_ANY, VER_ANY);
    walk_t w = {.started = false};
    while (st_walk(nvs, &q, &w)) {
        const item_t *it = &w.at.it;
        if (it_ns(it) == it_ns(chunk) && key_eq(it_key(chunk), it) &&
            it_chunk(chunk) >= it_blob_start(it) &&
            it_chunk(chunk) < it_blob_start(it) + it_blob_count(it)) {
            return true;
        }
    }
    return false;
}

/* Storage::init after the page manager: namespaces, then blob indexes whose chunks do
 * not add up, then chunks that no index claims. */
static otakit_err_t st_load(otakit_nvs_t *nvs)
{
    memset(nvs->ns_used, 0, sizeof(nvs->ns_used));
    nvs->ns_count = 0;
    query_t nsq = mkq(NS_INDEX, T_U8, NULL, CHUNK_ANY, VER_ANY);
    walk_t w = {.started = false};
    while (st_walk(nvs, &nsq, &w)) {
        ns_mark(nvs, w.at.it.raw[24]);
        nvs->ns_count++;
    }
    ns_mark(nvs, 0);
    ns_mark(nvs, 255);
    if (nvs->readonly) {
        return OTAKIT_OK;
    }
    query_t idxq = mkq(NS_ANY, T_BLOB_IDX, NULL, CHUNK_ANY, VER_ANY);
    w = (walk_t){.started = false};
    while (st_walk(nvs, &idxq, &w)) {
        const item_t *it = &w.at.it;
        char key[OTAKIT_NVS_KEY_SIZE];
        copy_key(key, it);
        uint32_t size, count;
        blob_observed(nvs, it_ns(it), key, it_blob_start(it), &size, &count);
        found_t f;
        query_t q = mkq(it_ns(it), T_BLOB_IDX, key, CHUNK_ANY, it_blob_start(it));
        if ((size != it_blob_size(it) || count != it_blob_count(it)) &&
            st_find(nvs, &q, &f) == OTAKIT_OK) {
            otakit_err_t err = st_erase_found(nvs, &f);
            if (err != OTAKIT_OK) {
                return err;
            }
        }
    }
    query_t chq = mkq(NS_ANY, T_BLOB_DATA, NULL, CHUNK_ANY, VER_ANY);
    w = (walk_t){.started = false};
    while (st_walk(nvs, &chq, &w)) {
        otakit_err_t err = chunk_has_index(nvs, &w.at.it) ? OTAKIT_OK : st_erase_found(nvs, &w.at);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_nvs_init(otakit_nvs_t *nvs, const otakit_flash_t *flash, uint32_t offset,
                             uint32_t size, otakit_nvs_page_t *pages, size_t page_slots,
                             bool readonly)
{
    if (nvs == NULL || flash == NULL || pages == NULL || offset % PAGE_SIZE != 0 ||
        flash->write_align > 4) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    memset(nvs, 0, sizeof(*nvs));
    if (size % PAGE_SIZE != 0 || size < PAGE_SIZE) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    if (page_slots < size / PAGE_SIZE) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    nvs->flash = flash;
    nvs->offset = offset;
    nvs->page_count = size / PAGE_SIZE;
    nvs->pages = pages;
    nvs->readonly = readonly;
    otakit_err_t err = pm_load(nvs);
    if (err == OTAKIT_OK) {
        err = st_load(nvs);
    }
    /* A flash error in a search during recovery leaves its page INVALID (as ESP-IDF):
     * its items would be missing for the whole session. Init again instead. */
    for (uint32_t i = 0; i < nvs->page_count && err == OTAKIT_OK; i++) {
        if (pages[i].state == OTAKIT_NVS_PAGE_INVALID) {
            err = OTAKIT_ERR_NVS_INVALID_STATE;
        }
    }
    nvs->valid = err == OTAKIT_OK;
    return err;
}

static otakit_err_t check_ready(const otakit_nvs_t *nvs, bool write)
{
    if (nvs == NULL || !nvs->valid) {
        return OTAKIT_ERR_NVS_NOT_INITIALIZED;
    }
    if (write && nvs->readonly) {
        return OTAKIT_ERR_NVS_READ_ONLY;
    }
    return OTAKIT_OK;
}

/* An initialised partition (writable when `write`) and a valid key. */
static otakit_err_t check_args(const otakit_nvs_t *nvs, const char *key, bool write)
{
    otakit_err_t err = check_ready(nvs, write);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (key == NULL) {
        return OTAKIT_ERR_NVS_INVALID_NAME;
    }
    return key_len(key) > OTAKIT_NVS_KEY_SIZE - 1 ? OTAKIT_ERR_NVS_KEY_TOO_LONG : OTAKIT_OK;
}

/* Storage::writeMultiPageBlob: one chunk per page as tailroom allows, then the index. */
static otakit_err_t st_write_blob(otakit_nvs_t *nvs, uint8_t ns, const char *key,
                                  const uint8_t *data, size_t size, uint8_t chunk_start)
{
    uint32_t max_pages = nvs->page_count - 1;
    if (max_pages > CHUNKS_MAX) {
        max_pages = CHUNKS_MAX;
    }
    if (size > (size_t)max_pages * OTAKIT_NVS_CHUNK_MAX) {
        return OTAKIT_ERR_NVS_VALUE_TOO_LONG;
    }
    uint8_t count = 0;
    size_t remaining = size, offset = 0;
    otakit_err_t err = OTAKIT_OK;
    for (;;) {
        uint32_t p = pm_last(nvs);
        otakit_nvs_page_t *pg = &nvs->pages[p];
        size_t tailroom = page_tailroom(pg);
        if (count == 0 && (tailroom < size || (tailroom == 0 && size == 0)) &&
            tailroom < OTAKIT_NVS_CHUNK_MAX / 10) {
            /* the first chunk would be too small: start on a fresh page */
            err = pm_next_page(nvs, p);
            if (err != OTAKIT_OK) {
                return err;
            }
            if (page_tailroom(&nvs->pages[pm_last(nvs)]) == tailroom) {
                return OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
            }
            continue;
        } else if (tailroom == 0) {
            err = OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
            break;
        }
        if (count == CHUNKS_MAX) {
            /* Pages that reclaim leaves nearly full take a small chunk each; past this
             * the indexes would run into the other version's (ESP-IDF does not check). */
            err = OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
            break;
        }
        size_t chunk = remaining > tailroom ? tailroom : remaining;
        remaining -= chunk;
        err = page_write_item(nvs, p, ns, T_BLOB_DATA, key, data + offset, chunk,
                              (uint8_t)(chunk_start + count));
        count++;
        if (err != OTAKIT_OK) {
            break;
        }
        if (remaining || tailroom - chunk < ENTRY_SIZE) {
            err = pm_next_page(nvs, p);
            if (err != OTAKIT_OK) {
                break;
            }
        }
        offset += chunk;
        if (!remaining) {
            uint8_t idx[8];
            memset(idx, 0xFF, sizeof(idx));
            otakit_le32_put(idx, (uint32_t)size);
            idx[4] = count;
            idx[5] = chunk_start;
            err = page_write_item(nvs, pm_last(nvs), ns, T_BLOB_IDX, key, idx, sizeof(idx),
                                  CHUNK_ANY);
            if (err == OTAKIT_ERR_NVS_PAGE_FULL) {
                err = OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
            }
            break;
        }
    }
    if (err != OTAKIT_OK) {
        /* Take back the chunks written so far, wherever a reclaim has moved them (init
         * removes any left as orphans). */
        for (uint8_t k = 0; k < count; k++) {
            query_t q = mkq(ns, T_BLOB_DATA, key, (uint8_t)(chunk_start + k), VER_ANY);
            (void)st_erase_first(nvs, &q); /* a failure: the orphan stays */
        }
    }
    return err;
}

/* The index of a (version-2) blob. */
static otakit_err_t st_find_blob_index(otakit_nvs_t *nvs, uint8_t ns, const char *key, found_t *f)
{
    query_t q = mkq(ns, T_BLOB_IDX, key, CHUNK_ANY, VER_ANY);
    return st_find(nvs, &q, f);
}

/* The chunk of a blob found by its index (idx), with the bytes left to the blob's end:
 * OTAKIT_ERR_NVS_INVALID_LENGTH when the chunk is longer. */
static otakit_err_t st_find_chunk(otakit_nvs_t *nvs, uint8_t ns, const char *key, const item_t *idx,
                                  uint8_t k, size_t left, found_t *f)
{
    query_t q = mkq(ns, T_BLOB_DATA, key, (uint8_t)(it_blob_start(idx) + k), VER_ANY);
    otakit_err_t err = st_find(nvs, &q, f);
    if (err == OTAKIT_OK && it_var_size(&f->it) > left) {
        err = OTAKIT_ERR_NVS_INVALID_LENGTH;
    }
    return err;
}

/* Storage::cmpMultiPageBlob */
static otakit_err_t st_cmp_blob(otakit_nvs_t *nvs, uint8_t ns, const char *key, const uint8_t *data,
                                size_t size)
{
    found_t idx;
    otakit_err_t err = st_find_blob_index(nvs, ns, key, &idx);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (size != it_blob_size(&idx.it)) {
        return OTAKIT_ERR_NVS_CONTENT_DIFFERS;
    }
    size_t offset = 0;
    for (uint8_t k = 0; k < it_blob_count(&idx.it); k++) {
        found_t c;
        if (st_find_chunk(nvs, ns, key, &idx.it, k, size - offset, &c) != OTAKIT_OK) {
            return OTAKIT_ERR_NVS_CONTENT_DIFFERS;
        }
        err = page_cmp_var(nvs, c.page, &c.it, c.index, data + offset, it_var_size(&c.it));
        if (err != OTAKIT_OK) {
            return err;
        }
        offset += it_var_size(&c.it);
    }
    return offset == size ? OTAKIT_OK : OTAKIT_ERR_NVS_CONTENT_DIFFERS;
}

/* Storage::eraseMultiPageBlob: the index first (its chunks become orphans init would
 * remove), then the chunks: of its version, or (VER_ANY) every one of the key. */
static otakit_err_t st_erase_blob(otakit_nvs_t *nvs, uint8_t ns, const char *key,
                                  uint8_t chunk_start)
{
    found_t idx;
    query_t q = mkq(ns, T_BLOB_IDX, key, CHUNK_ANY, chunk_start);
    otakit_err_t err = st_find(nvs, &q, &idx);
    if (err == OTAKIT_OK) {
        err = st_erase_found(nvs, &idx);
    }
    if (err != OTAKIT_OK) {
        return err;
    }
    if (chunk_start == VER_ANY) {
        err = st_erase_first(nvs, &q); /* the other version's index */
        if (err != OTAKIT_OK && err != OTAKIT_ERR_NVS_NOT_FOUND) {
            return err;
        }
        query_t cq = mkq(ns, T_BLOB_DATA, key, CHUNK_ANY, VER_ANY);
        walk_t w = {.started = false};
        while (st_walk(nvs, &cq, &w)) {
            err = st_erase_found(nvs, &w.at);
            if (err != OTAKIT_OK) {
                return err;
            }
        }
        return OTAKIT_OK;
    }
    uint8_t lo = chunk_start == VER_1 ? VER_1 : VER_0;
    for (unsigned c = lo; c < (unsigned)lo + it_blob_count(&idx.it) && c < CHUNK_ANY; c++) {
        query_t cq = mkq(ns, T_BLOB_DATA, key, (uint8_t)c, VER_ANY);
        err = st_erase_first(nvs, &cq);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    return OTAKIT_OK;
}

/* The new value of a key, not a blob (Storage::writeItem's write): on the page being
 * written, or on the next one. */
static otakit_err_t st_write_value(otakit_nvs_t *nvs, uint8_t ns, uint8_t type, const char *key,
                                   const void *data, size_t size)
{
    uint32_t p = pm_last(nvs);
    otakit_err_t err = page_write_item(nvs, p, ns, type, key, data, size, CHUNK_ANY);
    if (err == OTAKIT_ERR_NVS_PAGE_FULL) {
        err = pm_next_page(nvs, p);
        if (err == OTAKIT_OK) {
            err = page_write_item(nvs, pm_last(nvs), ns, type, key, data, size, CHUNK_ANY);
        }
    }
    return err == OTAKIT_ERR_NVS_PAGE_FULL ? OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE : err;
}

/* Whether the stored value (found with the same type) equals the new one. */
static bool st_same_value(otakit_nvs_t *nvs, const found_t *old, uint8_t type, const void *data,
                          size_t size)
{
    if (is_varlen(type)) {
        return page_cmp_var(nvs, old->page, &old->it, old->index, data, size) == OTAKIT_OK;
    }
    return size == otakit_nvs_int_size((otakit_nvs_type_t)type) &&
           memcmp(old->it.raw + 24, data, size) == 0;
}

/* Storage::writeItem: write the new value, then erase the old one. */
static otakit_err_t st_write(otakit_nvs_t *nvs, uint8_t ns, uint8_t type, const char *key,
                             const void *data, size_t size)
{
    found_t old;
    query_t q = mkq(ns, type == T_BLOB_DATA ? T_BLOB_IDX : type, key, CHUNK_ANY, VER_ANY);
    bool matched = st_find(nvs, &q, &old) == OTAKIT_OK;
    bool found = matched;
    if (!found) {
        query_t any = mkq(ns, T_ANY, key, CHUNK_ANY, VER_ANY);
        found = st_find(nvs, &any, &old) == OTAKIT_OK;
    }
    uint32_t old_seq = found ? nvs->pages[old.page].seq : 0xFFFFFFFFu;
    otakit_err_t err;
    if (type == T_BLOB_DATA) {
        uint8_t next = VER_0;
        if (matched) {
            if (st_cmp_blob(nvs, ns, key, data, size) == OTAKIT_OK) {
                return OTAKIT_OK;
            }
            next = it_blob_start(&old.it) == VER_1 ? VER_0 : VER_1;
        }
        err = st_write_blob(nvs, ns, key, data, size, next);
        err = err == OTAKIT_ERR_NVS_PAGE_FULL ? OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE : err;
    } else {
        if (matched && st_same_value(nvs, &old, type, data, size)) {
            return OTAKIT_OK;
        }
        err = st_write_value(nvs, ns, type, key, data, size);
    }
    if (err != OTAKIT_OK || !found) {
        return err;
    }
    if (it_type(&old.it) == T_BLOB_IDX) {
        err = st_erase_blob(nvs, ns, key, it_blob_start(&old.it));
        return err == OTAKIT_ERR_FLASH_OP_FAIL ? OTAKIT_ERR_NVS_REMOVE_FAILED : err;
    }
    /* The reclaim of a page during the write may have moved the old value. */
    otakit_nvs_page_t *fpg = &nvs->pages[old.page];
    bool moved = (fpg->state != OTAKIT_NVS_PAGE_ACTIVE && fpg->state != OTAKIT_NVS_PAGE_FULL) ||
                 !fpg->listed || fpg->seq != old_seq;
    if (moved) {
        query_t again = mkq(ns, it_type(&old.it), key, CHUNK_ANY, VER_ANY);
        err = st_find(nvs, &again, &old);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    err = st_erase_found(nvs, &old);
    return err == OTAKIT_ERR_FLASH_OP_FAIL ? OTAKIT_ERR_NVS_REMOVE_FAILED : err;
}

otakit_err_t otakit_nvs_ns_open(otakit_nvs_t *nvs, const char *name, bool create, uint8_t *ns)
{
    otakit_err_t err = check_ready(nvs, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (name == NULL || ns == NULL) {
        return OTAKIT_ERR_NVS_INVALID_NAME;
    }
    found_t f;
    query_t q = mkq(NS_INDEX, T_U8, name, CHUNK_ANY, VER_ANY);
    if (st_find(nvs, &q, &f) == OTAKIT_OK) {
        *ns = f.it.raw[24];
        return OTAKIT_OK;
    }
    if (!create) {
        return OTAKIT_ERR_NVS_NOT_FOUND;
    }
    if (nvs->readonly) {
        return OTAKIT_ERR_NVS_READ_ONLY;
    }
    if (key_len(name) > OTAKIT_NVS_KEY_SIZE - 1) {
        return OTAKIT_ERR_NVS_KEY_TOO_LONG;
    }
    unsigned idx;
    for (idx = 1; idx < 255; idx++) {
        if (!ns_is_used(nvs, (uint8_t)idx)) {
            break;
        }
    }
    if (idx == 255) {
        return OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    uint8_t v = (uint8_t)idx;
    err = st_write(nvs, NS_INDEX, T_U8, name, &v, 1);
    if (err != OTAKIT_OK) {
        return err;
    }
    ns_mark(nvs, v);
    nvs->ns_count++;
    *ns = v;
    return OTAKIT_OK;
}

static uint8_t api_type(otakit_nvs_type_t type)
{
    return type == OTAKIT_NVS_BLOB ? T_BLOB_DATA : (uint8_t)type;
}

otakit_err_t otakit_nvs_set(otakit_nvs_t *nvs, uint8_t ns, const char *key, otakit_nvs_type_t type,
                            const void *data, size_t len)
{
    otakit_err_t err = check_args(nvs, key, true);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (data == NULL && len > 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (type == OTAKIT_NVS_STR) {
        if (len > OTAKIT_NVS_CHUNK_MAX) {
            return OTAKIT_ERR_NVS_VALUE_TOO_LONG;
        }
    } else if (type != OTAKIT_NVS_BLOB && otakit_nvs_int_size(type) != len) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    static const uint8_t empty = 0;
    return st_write(nvs, ns, api_type(type), key, data != NULL ? data : &empty, len);
}

/* Storage::readMultiPageBlob */
static otakit_err_t st_read_blob(otakit_nvs_t *nvs, uint8_t ns, const char *key, uint8_t *data,
                                 size_t size)
{
    found_t idx;
    otakit_err_t err = st_find_blob_index(nvs, ns, key, &idx);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (size < it_blob_size(&idx.it)) {
        return OTAKIT_ERR_NVS_INVALID_LENGTH;
    }
    size = it_blob_size(&idx.it);
    size_t offset = 0;
    for (uint8_t k = 0; k < it_blob_count(&idx.it); k++) {
        found_t c;
        err = st_find_chunk(nvs, ns, key, &idx.it, k, size - offset, &c);
        if (err != OTAKIT_OK) {
            break;
        }
        err = page_read_var(nvs, c.page, &c.it, c.index, data + offset, !nvs->readonly);
        if (err != OTAKIT_OK) {
            return err;
        }
        offset += it_var_size(&c.it);
    }
    if (err == OTAKIT_OK && offset != size) {
        err = OTAKIT_ERR_NVS_NOT_FOUND;
    }
    if ((err == OTAKIT_ERR_NVS_NOT_FOUND || err == OTAKIT_ERR_NVS_INVALID_LENGTH) &&
        !nvs->readonly) {
        (void)st_erase_blob(nvs, ns, key, VER_ANY); /* a blob with a missing chunk is gone */
    }
    return err;
}

otakit_err_t otakit_nvs_get(otakit_nvs_t *nvs, uint8_t ns, const char *key, otakit_nvs_type_t type,
                            void *data, size_t len)
{
    otakit_err_t err = check_args(nvs, key, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (data == NULL && len > 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    uint8_t dummy;
    if (data == NULL) {
        data = &dummy; /* an empty string or blob into no buffer */
    }
    uint8_t t = (uint8_t)type;
    if (type == OTAKIT_NVS_BLOB) {
        err = st_read_blob(nvs, ns, key, data, len);
        if (err != OTAKIT_ERR_NVS_NOT_FOUND) {
            return err;
        }
        t = T_BLOB; /* a version-1 blob */
    }
    found_t f;
    query_t q = mkq(ns, t, key, CHUNK_ANY, VER_ANY);
    /* As ESP-IDF: a key stored under another type reads as not found. */
    err = st_find(nvs, &q, &f);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (!is_varlen(t)) {
        if (len != otakit_nvs_int_size(type)) {
            return OTAKIT_ERR_NVS_TYPE_MISMATCH;
        }
        memcpy(data, f.it.raw + 24, len);
        return OTAKIT_OK;
    }
    if (len < it_var_size(&f.it)) {
        return OTAKIT_ERR_NVS_INVALID_LENGTH;
    }
    return page_read_var(nvs, f.page, &f.it, f.index, data, !nvs->readonly);
}

otakit_err_t otakit_nvs_get_size(otakit_nvs_t *nvs, uint8_t ns, const char *key,
                                 otakit_nvs_type_t type, size_t *len)
{
    otakit_err_t err = check_args(nvs, key, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (len == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    found_t f;
    uint8_t t = (uint8_t)type;
    if (type == OTAKIT_NVS_BLOB) {
        if (st_find_blob_index(nvs, ns, key, &f) == OTAKIT_OK) {
            *len = it_blob_size(&f.it);
            return OTAKIT_OK;
        }
        t = T_BLOB; /* a version-1 blob */
    }
    query_t q = mkq(ns, t, key, CHUNK_ANY, VER_ANY);
    err = st_find(nvs, &q, &f);
    if (err != OTAKIT_OK) {
        return err;
    }
    *len = is_varlen(t) ? it_var_size(&f.it) : otakit_nvs_int_size(type);
    return OTAKIT_OK;
}

/* The item of a key, whatever its type, after the argument checks. */
static otakit_err_t find_key(otakit_nvs_t *nvs, uint8_t ns, const char *key, bool write, found_t *f)
{
    otakit_err_t err = check_args(nvs, key, write);
    if (err == OTAKIT_OK) {
        query_t q = mkq(ns, T_ANY, key, CHUNK_ANY, VER_ANY);
        err = st_find(nvs, &q, f);
    }
    return err;
}

otakit_err_t otakit_nvs_find_key(otakit_nvs_t *nvs, uint8_t ns, const char *key,
                                 otakit_nvs_type_t *type)
{
    found_t f;
    otakit_err_t err = find_key(nvs, ns, key, false, &f);
    if (err == OTAKIT_OK && type != NULL) {
        uint8_t t = it_type(&f.it);
        *type = (t == T_BLOB_IDX || t == T_BLOB) ? OTAKIT_NVS_BLOB : (otakit_nvs_type_t)t;
    }
    return err;
}

otakit_err_t otakit_nvs_erase_key(otakit_nvs_t *nvs, uint8_t ns, const char *key)
{
    found_t f;
    otakit_err_t err = find_key(nvs, ns, key, true, &f);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (it_type(&f.it) == T_BLOB_IDX) {
        return st_erase_blob(nvs, ns, key, it_blob_start(&f.it));
    }
    return st_erase_found(nvs, &f);
}

otakit_err_t otakit_nvs_erase_ns(otakit_nvs_t *nvs, uint8_t ns)
{
    otakit_err_t err = check_ready(nvs, true);
    if (err != OTAKIT_OK) {
        return err;
    }
    query_t q = mkq(ns, T_ANY, NULL, CHUNK_ANY, VER_ANY);
    PM_FOREACH(nvs, p)
    {
        for (;;) {
            err = page_erase_item(nvs, p, &q);
            if (err == OTAKIT_ERR_NVS_NOT_FOUND) {
                break;
            }
            if (err != OTAKIT_OK) {
                return err;
            }
        }
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_nvs_stats(otakit_nvs_t *nvs, otakit_nvs_stats_t *st)
{
    if (st == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    memset(st, 0, sizeof(*st));
    otakit_err_t err = check_ready(nvs, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    st->namespace_count = nvs->ns_count;
    for (uint32_t i = 0; i < nvs->page_count; i++) {
        const otakit_nvs_page_t *pg = &nvs->pages[i];
        st->total_entries += ENTRY_COUNT;
        if (!pg->listed || pg->state == OTAKIT_NVS_PAGE_UNINITIALIZED ||
            pg->state == OTAKIT_NVS_PAGE_CORRUPT) {
            st->free_entries += ENTRY_COUNT;
        } else if (pg->state == OTAKIT_NVS_PAGE_FULL || pg->state == OTAKIT_NVS_PAGE_ACTIVE ||
                   pg->state == OTAKIT_NVS_PAGE_FREEING) {
            st->used_entries += pg->used;
            st->free_entries += ENTRY_COUNT - pg->used;
        } else {
            return OTAKIT_ERR_NVS_INVALID_STATE;
        }
    }
    st->available_entries = st->free_entries >= ENTRY_COUNT ? st->free_entries - ENTRY_COUNT : 0;
    return OTAKIT_OK;
}

otakit_err_t otakit_nvs_ns_entries(otakit_nvs_t *nvs, uint8_t ns, size_t *entries)
{
    if (entries == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    *entries = 0;
    otakit_err_t err = check_ready(nvs, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    query_t q = mkq(ns, T_ANY, NULL, CHUNK_ANY, VER_ANY);
    walk_t w = {.started = false};
    while (st_walk(nvs, &q, &w)) {
        *entries += it_span(&w.at.it);
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_nvs_ns_name(otakit_nvs_t *nvs, uint8_t ns, char name[OTAKIT_NVS_KEY_SIZE])
{
    otakit_err_t err = check_ready(nvs, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    query_t q = mkq(NS_INDEX, T_U8, NULL, CHUNK_ANY, VER_ANY);
    walk_t w = {.started = false};
    while (st_walk(nvs, &q, &w)) {
        if (w.at.it.raw[24] == ns) {
            copy_key(name, &w.at.it);
            return OTAKIT_OK;
        }
    }
    return OTAKIT_ERR_NVS_NOT_FOUND;
}

otakit_err_t otakit_nvs_next(otakit_nvs_t *nvs, otakit_nvs_iter_t *iter, otakit_nvs_item_t *out)
{
    otakit_err_t err = check_ready(nvs, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    query_t q = mkq(NS_ANY, T_ANY, NULL, CHUNK_ANY, VER_ANY);
    for (; iter->page < nvs->page_count; iter->page++, iter->entry = 0) {
        size_t i = iter->entry;
        item_t it;
        if (page_find(nvs, iter->page, &q, &i, &it) != OTAKIT_OK) {
            continue;
        }
        memset(out, 0, sizeof(*out));
        out->ns = it_ns(&it);
        out->type = it_type(&it);
        out->span = it_span(&it);
        out->chunk = it_chunk(&it);
        copy_key(out->key, &it);
        memcpy(out->data, it.raw + 24, 8);
        out->size = it_type(&it) == T_BLOB_IDX ? it_blob_size(&it)
                    : is_varlen(it_type(&it))
                        ? it_var_size(&it)
                        : (uint32_t)otakit_nvs_int_size((otakit_nvs_type_t)it_type(&it));
        out->page = iter->page;
        out->entry = (uint32_t)i;
        iter->entry = (uint32_t)(i + it_span(&it));
        return OTAKIT_OK;
    }
    return OTAKIT_ERR_NVS_NOT_FOUND;
}

otakit_err_t otakit_nvs_read_item_data(otakit_nvs_t *nvs, const otakit_nvs_item_t *item, void *data,
                                       size_t len)
{
    otakit_err_t err = check_ready(nvs, false);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (item == NULL || item->page >= nvs->page_count || item->entry >= ENTRY_COUNT) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    item_t it;
    err = read_entry(nvs, item->page, item->entry, &it);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (!is_varlen(it_type(&it)) || !item_consistent(&it, item->entry)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (len < it_var_size(&it) || (data == NULL && it_var_size(&it) > 0)) {
        return OTAKIT_ERR_NVS_INVALID_LENGTH;
    }
    uint8_t dummy;
    err = page_read_var(nvs, item->page, &it, item->entry, data != NULL ? data : &dummy, false);
    return err == OTAKIT_ERR_NVS_NOT_FOUND ? OTAKIT_ERR_INVALID_CRC : err;
}
