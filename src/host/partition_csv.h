/**
 * @file partition_csv.h
 * @brief Host side of `otakit partition`: ESP-IDF's partition CSV (the rules of
 * gen_esp32part.py v1.5, spec §3) to a resolved partition list and a binary table,
 * and a binary table back to gen_esp32part.py's CSV text. Allocates; not for the core.
 */
#ifndef OTAKIT_PARTITION_CSV_H
#define OTAKIT_PARTITION_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otakit_partition_csv_options {
    uint32_t table_offset;              /**< --offset, default 0x8000 */
    uint32_t flash_size;                /**< --flash-size in bytes; 0 = not checked */
    bool has_primary_bootloader_offset; /**< --primary-bootloader-offset given */
    uint32_t primary_bootloader_offset;
    bool has_recovery_bootloader_offset; /**< --recovery-bootloader-offset given */
    uint32_t recovery_bootloader_offset;
    bool no_verify; /**< --no-verify: skip the whole-table checks */
} otakit_partition_csv_options_t;

typedef struct otakit_partition_csv_entry {
    otakit_part_t part; /**< resolved; label = the first 16 bytes of the name */
    char *name;         /**< the full name as written in the CSV (UTF-8) */
    unsigned line;      /**< 1-based line number in the CSV */
} otakit_partition_csv_entry_t;

typedef struct otakit_partition_csv {
    otakit_partition_csv_entry_t *entries; /**< in CSV order */
    size_t count;
} otakit_partition_csv_t;

typedef struct otakit_partition_csv_error {
    unsigned line; /**< 1-based CSV line the problem is on; 0 if it is about the whole file */
    char msg[512]; /**< the problem, gen_esp32part.py's wording where it has one */
} otakit_partition_csv_error_t;

/** Defaults: table offset 0x8000, no flash size check, no bootloader offsets, verify on. */
void otakit_partition_csv_options_init(otakit_partition_csv_options_t *opt);

/** gen_esp32part.py's test: input starting with the bytes AA 50 is a binary table. */
bool otakit_partition_csv_is_binary(const uint8_t *buf, size_t len);

/**
 * @brief Parse CSV text (UTF-8, optional UTF-8/16/32 BOM), place offsets, resolve
 * negative sizes, then verify the whole table and check --flash-size.
 * @param opt NULL for the defaults.
 * @return 0 and a table the caller frees with otakit_partition_csv_free, or -1 with
 *         err filled (and nothing to free).
 */
int otakit_partition_csv_parse(const char *text, size_t len,
                               const otakit_partition_csv_options_t *opt,
                               otakit_partition_csv_t *table, otakit_partition_csv_error_t *err);

/**
 * @brief The 0xC00-byte binary table (entries, optional MD5 record, 0xFF padding).
 * @return 0, or -1 with err naming the first entry that does not fit (at most 94
 *         entries with MD5, 95 without).
 */
int otakit_partition_csv_to_binary(const otakit_partition_csv_t *table, bool md5,
                                   uint8_t out[OTAKIT_PTABLE_MAX_LEN],
                                   otakit_partition_csv_error_t *err);

void otakit_partition_csv_free(otakit_partition_csv_t *table);

/**
 * @brief gen_esp32part.py's to_csv(): "# ESP-IDF Partition Table", the column comment,
 * then one "name,type,subtype,0xOFFSET,SIZE,flags" line per partition (sizes as 1M /
 * 16K when they divide, numbers in decimal when a type or subtype has no name).
 * @return malloc'd NUL-terminated text, or NULL if out of memory.
 */
char *otakit_partition_csv_format(const otakit_part_t *parts, size_t n);

/** One partition as a gen_esp32part.py CSV line (no newline), malloc'd; NULL if out of memory. */
char *otakit_partition_csv_format_line(const otakit_part_t *p);

#ifdef __cplusplus
}
#endif
#endif
