/**
 * @file nvs.h
 * @brief ESP-IDF's non-volatile storage (NVS, format version 2 as in ESP-IDF v5.5) over
 * the core's flash contract: the same bytes on flash, the same recovery after a power
 * cut, the same error codes.
 *
 * Format (docs/nvs.md): the partition is a run of 4 KiB pages. Each page has a 32-byte
 * header (state, sequence number, version 0xFE, CRC32 of bytes 4..27), a 32-byte entry
 * state bitmap (2 bits per entry: empty 0b11, written 0b10, erased 0b00) and 126 entries
 * of 32 bytes. An item is one entry (namespace index, type, span, chunk index, CRC32,
 * 16-byte key, 8 data bytes) followed, for strings and blob chunks, by span-1 data
 * entries. Namespace 0 maps namespace names to indexes (U8 items). Blobs are stored as
 * BLOB_DATA chunks (one per page) and a BLOB_IDX item (total size, chunk count, version).
 *
 * The caller owns everything: the otakit_nvs_t and one otakit_nvs_page_t per 4 KiB page.
 * The core reads and writes flash only through otakit_flash_*; it allocates nothing.
 *
 * Power loss: every write follows ESP-IDF's order (new item and its bitmap bits first,
 * the old item erased after; a page is marked FREEING before its items are copied and
 * erased). After a cut at any flash operation, otakit_nvs_init succeeds and each key
 * reads its old or its new value: init erases half-written items, the older of two
 * duplicates, blob chunks without a complete index, and finishes an interrupted page
 * reclaim.
 */
#ifndef OTAKIT_NVS_H
#define OTAKIT_NVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"
#include "otakit/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ESP-IDF's nvs.h error codes (same numbers). */
#define OTAKIT_ERR_NVS_BASE 0x1100
#define OTAKIT_ERR_NVS_NOT_INITIALIZED 0x1101
#define OTAKIT_ERR_NVS_NOT_FOUND 0x1102
#define OTAKIT_ERR_NVS_TYPE_MISMATCH 0x1103
#define OTAKIT_ERR_NVS_READ_ONLY 0x1104
#define OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE 0x1105
#define OTAKIT_ERR_NVS_INVALID_NAME 0x1106
#define OTAKIT_ERR_NVS_INVALID_HANDLE 0x1107
#define OTAKIT_ERR_NVS_REMOVE_FAILED 0x1108
#define OTAKIT_ERR_NVS_KEY_TOO_LONG 0x1109
#define OTAKIT_ERR_NVS_PAGE_FULL 0x110a
#define OTAKIT_ERR_NVS_INVALID_STATE 0x110b
#define OTAKIT_ERR_NVS_INVALID_LENGTH 0x110c
#define OTAKIT_ERR_NVS_NO_FREE_PAGES 0x110d
#define OTAKIT_ERR_NVS_VALUE_TOO_LONG 0x110e
#define OTAKIT_ERR_NVS_PART_NOT_FOUND 0x110f
#define OTAKIT_ERR_NVS_NEW_VERSION_FOUND 0x1110
#define OTAKIT_ERR_NVS_XTS_ENCR_FAILED 0x1111
#define OTAKIT_ERR_NVS_XTS_DECR_FAILED 0x1112
#define OTAKIT_ERR_NVS_XTS_CFG_FAILED 0x1113
#define OTAKIT_ERR_NVS_XTS_CFG_NOT_FOUND 0x1114
#define OTAKIT_ERR_NVS_ENCR_NOT_SUPPORTED 0x1115
#define OTAKIT_ERR_NVS_KEYS_NOT_INITIALIZED 0x1116
#define OTAKIT_ERR_NVS_CORRUPT_KEY_PART 0x1117
#define OTAKIT_ERR_NVS_CONTENT_DIFFERS 0x1118
#define OTAKIT_ERR_NVS_WRONG_ENCRYPTION 0x1119

#define OTAKIT_NVS_PAGE_SIZE 0x1000u
#define OTAKIT_NVS_ENTRY_SIZE 32u
#define OTAKIT_NVS_ENTRY_COUNT 126u
/** Key and namespace names: at most 15 characters (16 bytes with the NUL). */
#define OTAKIT_NVS_KEY_SIZE 16u
/** Data bytes one page holds for one item: 125 entries. Also the longest string. */
#define OTAKIT_NVS_CHUNK_MAX (OTAKIT_NVS_ENTRY_SIZE * (OTAKIT_NVS_ENTRY_COUNT - 1u))
#define OTAKIT_NVS_VERSION 0xFEu

/* Page states (header word 0). */
#define OTAKIT_NVS_PAGE_UNINITIALIZED 0xFFFFFFFFu
#define OTAKIT_NVS_PAGE_ACTIVE 0xFFFFFFFEu
#define OTAKIT_NVS_PAGE_FULL 0xFFFFFFFCu
#define OTAKIT_NVS_PAGE_FREEING 0xFFFFFFF8u
#define OTAKIT_NVS_PAGE_CORRUPT 0xFFFFFFF0u
#define OTAKIT_NVS_PAGE_INVALID 0u /**< in memory only: not loaded, or a flash op failed */

/* Entry states (2 bits each in the bitmap). */
#define OTAKIT_NVS_ENTRY_EMPTY 3u
#define OTAKIT_NVS_ENTRY_WRITTEN 2u
#define OTAKIT_NVS_ENTRY_ERASED 0u
#define OTAKIT_NVS_ENTRY_ILLEGAL 1u

/** Item types: ESP-IDF's nvs_type_t values plus the internal blob records. */
typedef enum {
    OTAKIT_NVS_U8 = 0x01,
    OTAKIT_NVS_I8 = 0x11,
    OTAKIT_NVS_U16 = 0x02,
    OTAKIT_NVS_I16 = 0x12,
    OTAKIT_NVS_U32 = 0x04,
    OTAKIT_NVS_I32 = 0x14,
    OTAKIT_NVS_U64 = 0x08,
    OTAKIT_NVS_I64 = 0x18,
    OTAKIT_NVS_STR = 0x21,
    OTAKIT_NVS_BLOB = 0x42, /**< a blob (nvs_type_t NVS_TYPE_BLOB) */
    OTAKIT_NVS_ANY = 0xff,
} otakit_nvs_type_t;

/* Type bytes of the blob records on flash. */
#define OTAKIT_NVS_TYPE_BLOB_V1 0x41u   /**< a version-1 single-page blob (read only) */
#define OTAKIT_NVS_TYPE_BLOB_DATA 0x42u /**< one chunk of a version-2 blob */
#define OTAKIT_NVS_TYPE_BLOB_IDX 0x48u  /**< a version-2 blob's index */

/** One page as the engine tracks it (a cache of its header and bitmap). */
typedef struct otakit_nvs_page {
    uint32_t state;      /**< OTAKIT_NVS_PAGE_* */
    uint32_t seq;        /**< sequence number (valid when listed) */
    uint32_t bitmap[8];  /**< the entry state bitmap as on flash */
    uint32_t free_order; /**< position in the free-page queue */
    uint16_t used, erased;
    uint16_t next_free;  /**< first never-written entry; 0xFFFF unknown (full page) */
    uint16_t first_used; /**< first written entry; 0xFFFF none */
    uint8_t listed;      /**< holds data (or is the page being filled) */
} otakit_nvs_page_t;

/** An NVS partition opened with otakit_nvs_init. */
typedef struct otakit_nvs {
    const otakit_flash_t *flash;
    uint32_t offset; /**< partition start on flash */
    uint32_t page_count;
    otakit_nvs_page_t *pages; /**< caller-owned, page_count entries */
    uint32_t next_seq;        /**< sequence number for the next page activated */
    uint32_t free_clock;      /**< free-page queue counter */
    uint32_t ns_used[8];      /**< namespace indexes in use (bit per index) */
    uint16_t ns_count;        /**< namespaces found or created */
    bool readonly;            /**< never writes flash (no recovery either) */
    bool valid;               /**< init succeeded */
} otakit_nvs_t;

/** What nvs_get_stats reports. */
typedef struct otakit_nvs_stats {
    size_t used_entries, free_entries, available_entries, total_entries, namespace_count;
} otakit_nvs_stats_t;

/** One stored item, as the iterator returns it. */
typedef struct otakit_nvs_item {
    uint8_t ns;   /**< namespace index (0: the namespace table) */
    uint8_t type; /**< type byte on flash (0x42 for a blob chunk) */
    uint8_t span;
    uint8_t chunk; /**< chunk index, 0xFF when none */
    char key[OTAKIT_NVS_KEY_SIZE];
    uint8_t data[8];      /**< the raw data field */
    uint32_t size;        /**< data length: strings and chunks; a BLOB_IDX's total */
    uint32_t page, entry; /**< where it is: page index in the partition, entry index */
} otakit_nvs_item_t;

/** Iterator position for otakit_nvs_next: zero it to start. */
typedef struct otakit_nvs_iter {
    uint32_t page, entry;
} otakit_nvs_iter_t;

/**
 * @brief Open an NVS partition: load every page, then (unless readonly) recover from an
 * interrupted write as ESP-IDF does and keep one free page.
 * @param pages caller-owned, at least size / 4096 of them.
 * @param readonly true: never write flash (a partition flagged read-only; inspection).
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_ARG (NULLs, offset not page aligned, too few page
 *         slots, a flash that cannot program 4-byte words); OTAKIT_ERR_INVALID_SIZE (size
 *         not a multiple of 4096 or under one page); OTAKIT_ERR_NVS_NO_FREE_PAGES (no
 *         empty page left: erase the partition); OTAKIT_ERR_NVS_NEW_VERSION_FOUND (a page
 *         of a newer format); flash errors, or OTAKIT_ERR_NVS_INVALID_STATE (a flash
 *         error during a search of the recovery): nothing is lost, init again.
 * Power-loss: recovery only completes operations ESP-IDF would; cut again, it resumes.
 */
otakit_err_t otakit_nvs_init(otakit_nvs_t *nvs, const otakit_flash_t *flash, uint32_t offset,
                             uint32_t size, otakit_nvs_page_t *pages, size_t page_slots,
                             bool readonly);

/**
 * @brief The index of a namespace, created when missing and create is true.
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_NOT_FOUND (missing, !create);
 *         OTAKIT_ERR_NVS_KEY_TOO_LONG; OTAKIT_ERR_NVS_INVALID_NAME (NULL);
 *         OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE (254 namespaces, or no room);
 *         OTAKIT_ERR_NVS_READ_ONLY (create on a read-only partition); flash errors.
 */
otakit_err_t otakit_nvs_ns_open(otakit_nvs_t *nvs, const char *name, bool create, uint8_t *ns);

/**
 * @brief Set a key: integers (len = their size), OTAKIT_NVS_STR (len includes the NUL)
 * or OTAKIT_NVS_BLOB. An equal value already stored writes nothing.
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_KEY_TOO_LONG; OTAKIT_ERR_NVS_INVALID_NAME;
 *         OTAKIT_ERR_NVS_VALUE_TOO_LONG (string over 4000 bytes, blob over what the pages
 *         hold); OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE (also a blob that would need more
 *         than 127 chunks); OTAKIT_ERR_NVS_READ_ONLY;
 *         OTAKIT_ERR_NVS_INVALID_STATE (an earlier flash error); flash errors.
 * Power-loss: the key reads its old or its new value after the next init.
 */
otakit_err_t otakit_nvs_set(otakit_nvs_t *nvs, uint8_t ns, const char *key, otakit_nvs_type_t type,
                            const void *data, size_t len);

/**
 * @brief Read a key of the given type into data (len: integers their size; strings
 * and blobs at least the stored length, see otakit_nvs_get_size).
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_NOT_FOUND; OTAKIT_ERR_NVS_TYPE_MISMATCH;
 *         OTAKIT_ERR_NVS_INVALID_LENGTH (buffer too small); flash errors.
 */
otakit_err_t otakit_nvs_get(otakit_nvs_t *nvs, uint8_t ns, const char *key, otakit_nvs_type_t type,
                            void *data, size_t len);

/** @brief Stored length of a string (with its NUL) or blob. Errors as otakit_nvs_get. */
otakit_err_t otakit_nvs_get_size(otakit_nvs_t *nvs, uint8_t ns, const char *key,
                                 otakit_nvs_type_t type, size_t *len);

/** @brief The type of a key (OTAKIT_NVS_BLOB for blobs). @return OK or NOT_FOUND. */
otakit_err_t otakit_nvs_find_key(otakit_nvs_t *nvs, uint8_t ns, const char *key,
                                 otakit_nvs_type_t *type);

/**
 * @brief Erase one key of any type (a blob with all its chunks).
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_NOT_FOUND; OTAKIT_ERR_NVS_READ_ONLY; flash errors.
 * Power-loss: the key is either still there with its value or gone.
 */
otakit_err_t otakit_nvs_erase_key(otakit_nvs_t *nvs, uint8_t ns, const char *key);

/**
 * @brief Erase every key of a namespace (the namespace itself stays).
 * Power-loss: each key is either still there or gone.
 */
otakit_err_t otakit_nvs_erase_ns(otakit_nvs_t *nvs, uint8_t ns);

/** @brief Entry counts as nvs_get_stats gives them. */
otakit_err_t otakit_nvs_stats(otakit_nvs_t *nvs, otakit_nvs_stats_t *st);

/** @brief Entries used by a namespace's items (nvs_get_used_entry_count). */
otakit_err_t otakit_nvs_ns_entries(otakit_nvs_t *nvs, uint8_t ns, size_t *entries);

/**
 * @brief The name of a namespace index.
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_NOT_FOUND.
 */
otakit_err_t otakit_nvs_ns_name(otakit_nvs_t *nvs, uint8_t ns, char name[OTAKIT_NVS_KEY_SIZE]);

/**
 * @brief The next written, consistent item in physical order (page 0 first), as
 * ESP-IDF's nvs_tool.py lists them: namespace records, values, blob chunks and indexes.
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_NOT_FOUND at the end.
 */
otakit_err_t otakit_nvs_next(otakit_nvs_t *nvs, otakit_nvs_iter_t *it, otakit_nvs_item_t *item);

/**
 * @brief The data of a string or blob chunk returned by otakit_nvs_next (len >= size).
 * @return OTAKIT_OK; OTAKIT_ERR_NVS_INVALID_LENGTH; OTAKIT_ERR_INVALID_CRC (the data,
 *         copied all the same, does not match its CRC); OTAKIT_ERR_INVALID_ARG (not a
 *         variable-length item).
 */
otakit_err_t otakit_nvs_read_item_data(otakit_nvs_t *nvs, const otakit_nvs_item_t *item, void *data,
                                       size_t len);

/** CRC32 as the ESP32 ROM's esp_rom_crc32_le(crc, buf, len) (zlib.crc32 likewise). */
uint32_t otakit_nvs_crc32(uint32_t crc, const void *buf, size_t len);

/** Byte size of an integer type (1, 2, 4, 8), 0 for others. */
size_t otakit_nvs_int_size(otakit_nvs_type_t type);

/** "u8", "i8", ... "str", "blob", "blob_data", "blob_index" for a type byte; "any". */
const char *otakit_nvs_type_name(unsigned type_byte);

/** nvs_tool.py's encoding of a type byte: "uint8_t" ... "string", "blob", "blob_data",
 * "blob_index"; "unknown". */
const char *otakit_nvs_encoding_name(unsigned type_byte);

/**
 * @brief Encode a page header (state ACTIVE/FULL, seq, version, CRC): what a writer of
 * NVS images (the partition generator) puts at the start of a page.
 */
void otakit_nvs_encode_header(uint8_t out[32], uint32_t state, uint32_t seq, uint8_t version);

/** @brief Fill in an entry's header CRC (bytes 4..7) from its other bytes. */
void otakit_nvs_entry_seal(uint8_t entry[32]);

#ifdef __cplusplus
}
#endif
#endif
