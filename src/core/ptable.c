#include "otakit/ptable.h"

#include <string.h>

#include "otakit/hash.h"
#include "otakit/le.h"

/* The 32-byte record (esp_partition_info_t), for the size check only: every field is
 * decoded and encoded through le.h at these offsets. */
struct ptable_record_layout {
    uint8_t magic[2];  /* 0 */
    uint8_t type;      /* 2 */
    uint8_t subtype;   /* 3 */
    uint8_t offset[4]; /* 4 */
    uint8_t size[4];   /* 8 */
    uint8_t label[16]; /* 12 */
    uint8_t flags[4];  /* 28 */
};
_Static_assert(sizeof(struct ptable_record_layout) == OTAKIT_PTABLE_ENTRY_SIZE,
               "partition record is 32 bytes");

#define REC_MD5_DIGEST 16 /* ESP_PARTITION_MD5_OFFSET */
/* 96, the end marker included. */
#define MAX_RECORDS (OTAKIT_PTABLE_MAX_LEN / OTAKIT_PTABLE_ENTRY_SIZE)

void otakit_ptable_decode_entry(otakit_part_t *p, const uint8_t rec[32])
{
    p->type = rec[2];
    p->subtype = rec[3];
    p->offset = otakit_le32_get(rec + 4);
    p->size = otakit_le32_get(rec + 8);
    memcpy(p->label, rec + 12, 16);
    p->label[16] = '\0';
    p->flags = otakit_le32_get(rec + 28);
}

/* Bytes of the table read from flash at a time: a typical table (up to 15 records, its
 * MD5 record and end marker) in one read, and no 3 KiB buffer on the stack. */
#define LOAD_CHUNK 512u

/* The bootloader's verification (esp_partition_table_verify), over the records of buf
 * (len bytes) or, with flash, of the OTAKIT_PTABLE_MAX_LEN bytes at addr on flash,
 * read LOAD_CHUNK bytes at a time. The MD5 record must match every byte before it:
 * they are hashed as they go by (md5 is started with the first record; a failed start
 * or update is reported only if an MD5 record comes). diag offsets are table offsets. */
static otakit_err_t parse_records(otakit_ptable_t *t, const uint8_t *buf, size_t len,
                                  const otakit_flash_t *flash, uint32_t addr, uint32_t flash_size,
                                  bool require_md5, otakit_diag_t *diag)
{
    uint8_t chunk[LOAD_CHUNK];
    otakit_hash_ctx_t md5;
    bool hashing = otakit_hash_start(&md5, OTAKIT_HASH_MD5) == OTAKIT_OK;
    bool md5_failed = !hashing;
    otakit_err_t err = OTAKIT_ERR_INVALID_STATE;
    const char *msg = "partition table has no terminating entry";
    size_t off = 0;
    t->count = 0;
    t->has_md5 = false;

    /* At most 96 records, the end marker included. */
    for (; off < OTAKIT_PTABLE_MAX_LEN; off += OTAKIT_PTABLE_ENTRY_SIZE) {
        const uint8_t *rec;
        if (flash != NULL) {
            size_t at = off % LOAD_CHUNK;
            otakit_err_t rd = OTAKIT_OK;
            if (at == 0) {
                rd = otakit_flash_read(flash, addr + (uint32_t)off, chunk, sizeof(chunk));
            }
            if (rd != OTAKIT_OK) {
                err = rd;
                msg = "cannot read the partition table";
                break;
            }
            rec = chunk + at;
        } else if (off >= len) {
            msg = "partition table is missing an end-of-table marker";
            break;
        } else if (len - off < OTAKIT_PTABLE_ENTRY_SIZE) {
            err = OTAKIT_ERR_INVALID_SIZE;
            msg = "partition table length must be a multiple of 32 bytes";
            break;
        } else {
            rec = buf + off;
        }
        uint16_t magic = otakit_le16_get(rec);
        if (magic == OTAKIT_PTABLE_MAGIC) {
            otakit_part_t p;
            otakit_ptable_decode_entry(&p, rec);
            if (flash_size != 0 && (p.offset > flash_size || p.size > flash_size - p.offset)) {
                err = OTAKIT_ERR_INVALID_SIZE;
                msg = "partition exceeds flash chip size";
                break;
            }
            /* 96 records with one end marker leave room for 95 partitions: a 96th
             * partition record means there is no terminator. */
            if (t->count >= OTAKIT_PTABLE_MAX_ENTRIES) {
                break;
            }
            t->parts[t->count++] = p;
            if (hashing && otakit_hash_update(&md5, rec, OTAKIT_PTABLE_ENTRY_SIZE) != OTAKIT_OK) {
                md5_failed = true;
            }
        } else if (magic == OTAKIT_PTABLE_MAGIC_MD5) {
            if (t->has_md5) {
                msg = "only one MD5 checksum is allowed";
                break;
            }
            uint8_t digest[16];
            if (hashing) {
                hashing = false;
                md5_failed |= otakit_hash_finish(&md5, md5_failed ? NULL : digest) != OTAKIT_OK;
            }
            if (md5_failed) {
                err = OTAKIT_FAIL;
                msg = "MD5 computation failed";
                break;
            }
            if (memcmp(rec + REC_MD5_DIGEST, digest, sizeof(digest)) != 0) {
                msg = "incorrect MD5 checksum";
                break;
            }
            t->has_md5 = true;
        } else if (magic == 0xFFFFu && rec[2] == 0xFF && rec[3] == 0xFF) {
            if (off == 0) {
                msg = "partition table is empty (end marker first)";
            } else if (require_md5 && !t->has_md5) {
                err = OTAKIT_ERR_NOT_FOUND;
                msg = "no MD5 found in partition table";
            } else {
                err = OTAKIT_OK;
                msg = NULL;
                off = 0;
            }
            break;
        } else {
            msg = "invalid magic number";
            break;
        }
    }
    if (hashing) {
        otakit_hash_finish(&md5, NULL);
    }
    return otakit_diag_set(diag, (uint32_t)off, msg, err);
}

otakit_err_t otakit_ptable_parse(otakit_ptable_t *t, const uint8_t *buf, size_t len,
                                 uint32_t flash_size, bool require_md5, otakit_diag_t *diag)
{
    if (t == NULL || (buf == NULL && len != 0)) {
        return otakit_diag_set(diag, 0, "invalid argument", OTAKIT_ERR_INVALID_ARG);
    }
    return parse_records(t, buf, len, NULL, 0, flash_size, require_md5, diag);
}

otakit_err_t otakit_ptable_read(otakit_ptable_t *t, const otakit_flash_t *flash, uint32_t offset,
                                uint32_t flash_size, otakit_diag_t *diag)
{
    if (t == NULL || flash == NULL) {
        return otakit_diag_set(diag, 0, "invalid argument", OTAKIT_ERR_INVALID_ARG);
    }
    otakit_err_t err = parse_records(t, NULL, 0, flash, offset, flash_size, false, diag);
    if (err != OTAKIT_OK && diag != NULL) {
        diag->offset += offset; /* report flash addresses */
    }
    return err;
}

otakit_err_t otakit_ptable_load(otakit_ptable_t *t, const otakit_flash_t *flash, uint32_t offset,
                                otakit_diag_t *diag)
{
    return otakit_ptable_read(t, flash, offset, flash ? flash->size : 0, diag);
}

#if OTAKIT_TOOLS
void otakit_ptable_encode_entry(const otakit_part_t *p, uint8_t rec[32])
{
    otakit_le16_put(rec, OTAKIT_PTABLE_MAGIC);
    rec[2] = p->type;
    rec[3] = p->subtype;
    otakit_le32_put(rec + 4, p->offset);
    otakit_le32_put(rec + 8, p->size);
    /* gen_esp32part.py packs the name as "16s": NUL padded, no terminator at 16. */
    size_t n = 0;
    while (n < 16 && p->label[n] != '\0') {
        n++;
    }
    memset(rec + 12, 0, 16);
    memcpy(rec + 12, p->label, n);
    otakit_le32_put(rec + 28, p->flags);
}

static int md5_of(const uint8_t *buf, size_t len, uint8_t digest[16])
{
    return otakit_hash_buf(OTAKIT_HASH_MD5, buf, len, digest) == OTAKIT_OK ? 0 : -1;
}

otakit_err_t otakit_ptable_encode(const otakit_part_t *parts, size_t n, bool md5,
                                  uint8_t out[OTAKIT_PTABLE_MAX_LEN])
{
    /* gen_esp32part.py: entries (+ MD5 record) must stay below 0xC00 bytes, so at
     * least one all-0xFF end marker follows. */
    size_t records = n + (md5 ? 1u : 0u);
    if (out == NULL || (parts == NULL && n != 0)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (n > MAX_RECORDS || records >= MAX_RECORDS) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    memset(out, 0xFF, OTAKIT_PTABLE_MAX_LEN);
    for (size_t i = 0; i < n; i++) {
        otakit_ptable_encode_entry(&parts[i], out + i * OTAKIT_PTABLE_ENTRY_SIZE);
    }
    if (md5) {
        uint8_t *rec = out + n * OTAKIT_PTABLE_ENTRY_SIZE;
        otakit_le16_put(rec, OTAKIT_PTABLE_MAGIC_MD5); /* EB EB, then 14 x FF already there */
        if (md5_of(out, n * OTAKIT_PTABLE_ENTRY_SIZE, rec + REC_MD5_DIGEST) != 0) {
            return OTAKIT_FAIL;
        }
    }
    return OTAKIT_OK;
}
#endif

const otakit_part_t *otakit_ptable_find(const otakit_ptable_t *t, uint8_t type, uint8_t subtype,
                                        const char *label)
{
    if (t == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < t->count && i < OTAKIT_PTABLE_MAX_ENTRIES; i++) {
        const otakit_part_t *p = &t->parts[i];
        if (type != OTAKIT_PART_TYPE_ANY && p->type != type) {
            continue;
        }
        if (subtype != OTAKIT_PART_SUBTYPE_ANY && p->subtype != subtype) {
            continue;
        }
        /* esp_partition_find compares at most the 16 label bytes. */
        if (label != NULL && strncmp(label, p->label, 16) != 0) {
            continue;
        }
        return p;
    }
    return NULL;
}

const otakit_part_t *otakit_ptable_find_by_addr(const otakit_ptable_t *t, uint32_t addr)
{
    if (t == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < t->count && i < OTAKIT_PTABLE_MAX_ENTRIES; i++) {
        const otakit_part_t *p = &t->parts[i];
        if (addr >= p->offset && (uint64_t)addr < (uint64_t)p->offset + p->size) {
            return p;
        }
    }
    return NULL;
}

const otakit_part_t *otakit_ptable_ota_slot(const otakit_ptable_t *t, unsigned i)
{
    if (i >= 16) {
        return NULL;
    }
    return otakit_ptable_find(t, OTAKIT_PART_TYPE_APP, (uint8_t)(OTAKIT_PART_SUBTYPE_OTA_0 + i),
                              NULL);
}

unsigned otakit_ptable_ota_count(const otakit_ptable_t *t)
{
    unsigned n = 0;
    while (n < 16 && otakit_ptable_ota_slot(t, n) != NULL) {
        n++;
    }
    return n;
}

unsigned otakit_ptable_ota_count_all(const otakit_ptable_t *t)
{
    unsigned n = 0;
    if (t == NULL) {
        return 0;
    }
    for (size_t i = 0; i < t->count && i < OTAKIT_PTABLE_MAX_ENTRIES; i++) {
        if (OTAKIT_PART_IS_OTA(t->parts[i].type, t->parts[i].subtype)) {
            n++;
        }
    }
    return n;
}

#if OTAKIT_TOOLS
const char *otakit_ptable_type_name(uint8_t type)
{
    switch (type) {
    case OTAKIT_PART_TYPE_APP:
        return "app";
    case OTAKIT_PART_TYPE_DATA:
        return "data";
    case OTAKIT_PART_TYPE_BOOTLOADER:
        return "bootloader";
    case OTAKIT_PART_TYPE_PARTITION_TABLE:
        return "partition_table";
    default:
        return NULL;
    }
}

static const char *const OTA_NAMES[16] = {
    "ota_0", "ota_1", "ota_2",  "ota_3",  "ota_4",  "ota_5",  "ota_6",  "ota_7",
    "ota_8", "ota_9", "ota_10", "ota_11", "ota_12", "ota_13", "ota_14", "ota_15",
};

const char *otakit_ptable_subtype_name(uint8_t type, uint8_t subtype)
{
    switch (type) {
    case OTAKIT_PART_TYPE_APP:
        if (subtype == OTAKIT_PART_SUBTYPE_FACTORY) {
            return "factory";
        }
        if (OTAKIT_PART_IS_OTA(type, subtype)) {
            return OTA_NAMES[subtype & 0x0F];
        }
        if (subtype == OTAKIT_PART_SUBTYPE_TEST) {
            return "test";
        }
        if (subtype == 0x30) {
            return "tee_0";
        }
        if (subtype == 0x31) {
            return "tee_1";
        }
        return NULL;
    case OTAKIT_PART_TYPE_DATA:
        switch (subtype) {
        case 0x00:
            return "ota";
        case 0x01:
            return "phy";
        case 0x02:
            return "nvs";
        case 0x03:
            return "coredump";
        case 0x04:
            return "nvs_keys";
        case 0x05:
            return "efuse";
        case 0x06:
            return "undefined";
        case 0x80:
            return "esphttpd";
        case 0x81:
            return "fat";
        case 0x82:
            return "spiffs";
        case 0x83:
            return "littlefs";
        case 0x90:
            return "tee_ota";
        default:
            return NULL;
        }
    case OTAKIT_PART_TYPE_BOOTLOADER:
        switch (subtype) {
        case 0x00:
            return "primary";
        case 0x01:
            return "ota";
        case 0x02:
            return "recovery";
        default:
            return NULL;
        }
    case OTAKIT_PART_TYPE_PARTITION_TABLE:
        switch (subtype) {
        case 0x00:
            return "primary";
        case 0x01:
            return "ota";
        default:
            return NULL;
        }
    default:
        return NULL;
    }
}
#else
const char *otakit_ptable_type_name(uint8_t type)
{
    (void)type;
    return NULL;
}

const char *otakit_ptable_subtype_name(uint8_t type, uint8_t subtype)
{
    (void)type;
    (void)subtype;
    return NULL;
}
#endif
