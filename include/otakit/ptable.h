/**
 * @file ptable.h
 * @brief ESP-IDF's binary partition table (spec §2): 32-byte 0x50AA records, one
 * 0xEBEB MD5 record, an all-0xFF end marker, at most 0xC00 bytes.
 */
#ifndef OTAKIT_PTABLE_H
#define OTAKIT_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/diag.h"
#include "otakit/err.h"
#include "otakit/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_PTABLE_OFFSET_DEFAULT 0x8000u
#define OTAKIT_PTABLE_MAX_LEN 0xC00u
#define OTAKIT_PTABLE_ENTRY_SIZE 32u
#define OTAKIT_PTABLE_MAX_ENTRIES 95u /* records before the end marker, MD5 record excluded */
#define OTAKIT_PTABLE_MAGIC 0x50AAu
#define OTAKIT_PTABLE_MAGIC_MD5 0xEBEBu

/* Types and subtypes (spec §2.3). */
#define OTAKIT_PART_TYPE_APP 0x00
#define OTAKIT_PART_TYPE_DATA 0x01
#define OTAKIT_PART_TYPE_BOOTLOADER 0x02
#define OTAKIT_PART_TYPE_PARTITION_TABLE 0x03
#define OTAKIT_PART_TYPE_ANY 0xFF
#define OTAKIT_PART_SUBTYPE_FACTORY 0x00
#define OTAKIT_PART_SUBTYPE_OTA_0 0x10
#define OTAKIT_PART_SUBTYPE_OTA_15 0x1F
#define OTAKIT_PART_SUBTYPE_TEST 0x20
#define OTAKIT_PART_SUBTYPE_DATA_OTA 0x00
#define OTAKIT_PART_SUBTYPE_DATA_PHY 0x01
#define OTAKIT_PART_SUBTYPE_DATA_NVS 0x02
#define OTAKIT_PART_SUBTYPE_ANY 0xFF
#define OTAKIT_PART_FLAG_ENCRYPTED 0x1u
#define OTAKIT_PART_FLAG_READONLY 0x2u

/** Whether an app subtype is an OTA slot (0x10..0x1F). */
#define OTAKIT_PART_IS_OTA(type, subtype)                                                          \
    ((type) == OTAKIT_PART_TYPE_APP && ((subtype)&0xF0) == 0x10)

typedef struct otakit_part {
    uint8_t type;
    uint8_t subtype;
    uint32_t offset;
    uint32_t size;
    char label[17]; /**< up to 16 bytes, always NUL terminated here */
    uint32_t flags;
} otakit_part_t;

typedef struct otakit_ptable {
    otakit_part_t parts[OTAKIT_PTABLE_MAX_ENTRIES];
    size_t count;
    bool has_md5;
} otakit_ptable_t;

/**
 * @brief Parse and verify a binary table as the bootloader does (spec §2.4).
 *
 * Stops at the first all-0xFF record. One MD5 record is allowed and must match the
 * records before it; with require_md5 the table must have one (the app's default).
 * @param flash_size when non-zero, every partition must fit in this many bytes.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_STATE for a bad magic, a bad or second MD5
 *         record, no end marker; OTAKIT_ERR_INVALID_SIZE for a partition past flash_size
 *         or a length that is not a multiple of 32; OTAKIT_ERR_NOT_FOUND if require_md5
 *         and no MD5 record. diag names the offset and the problem.
 */
otakit_err_t otakit_ptable_parse(otakit_ptable_t *t, const uint8_t *buf, size_t len,
                                 uint32_t flash_size, bool require_md5, otakit_diag_t *diag);

/** Read OTAKIT_PTABLE_MAX_LEN bytes at offset and parse them (flash_size = flash->size). */
otakit_err_t otakit_ptable_load(otakit_ptable_t *t, const otakit_flash_t *flash, uint32_t offset,
                                otakit_diag_t *diag);

/**
 * @brief Encode n records, an optional MD5 record and 0xFF padding into out.
 * @param out OTAKIT_PTABLE_MAX_LEN bytes.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_SIZE if the records (and MD5) do not fit
 *         below 0xC00 bytes (at most 94 with MD5, 95 without).
 */
otakit_err_t otakit_ptable_encode(const otakit_part_t *parts, size_t n, bool md5,
                                  uint8_t out[OTAKIT_PTABLE_MAX_LEN]);

/** Decode / encode one 32-byte 0x50AA record (no checks beyond the layout). */
void otakit_ptable_decode_entry(otakit_part_t *p, const uint8_t rec[32]);
void otakit_ptable_encode_entry(const otakit_part_t *p, uint8_t rec[32]);

/**
 * @brief First partition matching type, subtype and label (label NULL = any; type or
 * subtype OTAKIT_PART_*_ANY = any), in table order. NULL if none.
 */
const otakit_part_t *otakit_ptable_find(const otakit_ptable_t *t, uint8_t type, uint8_t subtype,
                                        const char *label);

/** The partition whose range contains addr, or NULL. */
const otakit_part_t *otakit_ptable_find_by_addr(const otakit_ptable_t *t, uint32_t addr);

/** App side count: ota_0, ota_1, ... up to the first missing subtype (spec §5.5). */
unsigned otakit_ptable_ota_count(const otakit_ptable_t *t);
/** Bootloader side count: every app partition with an OTA subtype. */
unsigned otakit_ptable_ota_count_all(const otakit_ptable_t *t);
/** The app partition of OTA slot i (subtype 0x10 + i), or NULL. */
const otakit_part_t *otakit_ptable_ota_slot(const otakit_ptable_t *t, unsigned i);

/** Names of types and subtypes as gen_esp32part.py spells them ("app", "ota_0", "nvs"); NULL if
 * none. */
const char *otakit_ptable_type_name(uint8_t type);
const char *otakit_ptable_subtype_name(uint8_t type, uint8_t subtype);

#ifdef __cplusplus
}
#endif
#endif
