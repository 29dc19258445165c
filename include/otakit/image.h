/**
 * @file image.h
 * @brief ESP app image (spec §4): header, segments, app description, checksum and the
 * appended SHA-256, with a streaming verifier that takes bytes as they arrive.
 */
#ifndef OTAKIT_IMAGE_H
#define OTAKIT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/diag.h"
#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_IMAGE_MAGIC 0xE9u
#define OTAKIT_IMAGE_HEADER_SIZE 24u
#define OTAKIT_IMAGE_SEGMENT_HEADER_SIZE 8u
#define OTAKIT_IMAGE_MAX_SEGMENTS 16u
#define OTAKIT_IMAGE_CHECKSUM_SEED 0xEFu
#define OTAKIT_IMAGE_HASH_LEN 32u
#define OTAKIT_IMAGE_MAX_SEGMENT_LEN 0x1000000u /* 16 MiB */
#define OTAKIT_APP_DESC_OFFSET 0x20u
#define OTAKIT_APP_DESC_SIZE 256u
#define OTAKIT_APP_DESC_MAGIC 0xABCD5432u
#define OTAKIT_MMU_PAGE_SIZE 0x10000u

/* esp_chip_id_t */
#define OTAKIT_CHIP_ESP32 0x0000u
#define OTAKIT_CHIP_ESP32S2 0x0002u
#define OTAKIT_CHIP_ESP32C3 0x0005u
#define OTAKIT_CHIP_ESP32S3 0x0009u
#define OTAKIT_CHIP_ESP32C2 0x000Cu
#define OTAKIT_CHIP_ESP32C6 0x000Du
#define OTAKIT_CHIP_ESP32H2 0x0010u
#define OTAKIT_CHIP_ESP32P4 0x0012u
#define OTAKIT_CHIP_ESP32C61 0x0014u
#define OTAKIT_CHIP_ESP32C5 0x0017u
#define OTAKIT_CHIP_INVALID 0xFFFFu
/** Pass as otakit_image_opts_t.chip_id to accept any chip. */
#define OTAKIT_CHIP_ANY (-1)

typedef struct otakit_image_header {
    uint8_t magic;
    uint8_t segment_count;
    uint8_t spi_mode;  /**< 0 QIO, 1 QOUT, 2 DIO, 3 DOUT, 4 FAST_READ, 5 SLOW_READ */
    uint8_t spi_speed; /**< low nibble of byte 3 */
    uint8_t spi_size;  /**< high nibble of byte 3: 0 = 1MB ... 7 = 128MB */
    uint32_t entry_addr;
    uint8_t wp_pin;
    uint8_t spi_pin_drv[3];
    uint16_t chip_id;
    uint8_t min_chip_rev;
    uint16_t min_chip_rev_full;
    uint16_t max_chip_rev_full;
    uint8_t reserved[4];
    uint8_t hash_appended;
} otakit_image_header_t;

typedef struct otakit_image_segment {
    uint32_t load_addr;
    uint32_t data_len;
    uint32_t data_offset; /**< file offset of the segment's data */
} otakit_image_segment_t;

/** esp_app_desc_t, decoded; strings always NUL terminated. */
typedef struct otakit_app_desc {
    uint32_t magic;
    uint32_t secure_version;
    char version[33];
    char project_name[33];
    char time[17];
    char date[17];
    char idf_ver[33];
    uint8_t app_elf_sha256[32];
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size;
} otakit_app_desc_t;

typedef struct otakit_image_opts {
    int32_t chip_id;   /**< expected chip id, or OTAKIT_CHIP_ANY */
    uint32_t max_size; /**< partition size the image must fit in; 0 = no limit */
    bool skip_hash;    /**< do not check the appended SHA-256 (bootloader images) */
} otakit_image_opts_t;

/** What a verification found; filled as far as parsing got, also on failure. */
typedef struct otakit_image_info {
    otakit_image_header_t header;
    otakit_image_segment_t segments[OTAKIT_IMAGE_MAX_SEGMENTS];
    uint8_t segments_parsed;
    bool has_desc; /**< segment 0 starts with the app description magic */
    otakit_app_desc_t desc;
    uint8_t checksum_stored;
    uint8_t checksum_calc;
    bool checksum_ok;
    bool hash_present;
    bool hash_ok;
    uint8_t hash_stored[32];
    uint8_t hash_calc[32]; /**< SHA-256 of [0, checksum end) */
    uint32_t image_len;    /**< total length including the appended hash */
} otakit_image_info_t;

/** Streaming verifier: feed the image in chunks of any size, then finish. A verifier
 * that is dropped before it saw the whole image must still be finished: its SHA-256
 * context belongs to the port (include/otakit/hash.h) until then. */
typedef struct otakit_image_verifier {
    otakit_image_opts_t opts;
    otakit_image_info_t info;
    otakit_hash_ctx_t sha; /**< SHA-256 of [0, hashed_end), while hashing is set */
    bool hashing;          /**< sha is started: released at the checksum byte, at the
                                first error, or by finish, whichever comes first */
    uint32_t pos;          /**< bytes consumed so far (bytes after the image are ignored) */
    uint32_t field_pos;    /**< position inside the current header or trailer */
    uint32_t seg_left;     /**< data bytes left in the current segment */
    uint32_t hashed_end;   /**< offset where hashing stops (checksum end) */
    uint8_t buf[OTAKIT_APP_DESC_SIZE]; /**< header / segment header / description bytes */
    uint8_t checksum;
    uint8_t stage;    /**< internal state machine */
    otakit_err_t err; /**< sticky: the first error */
    otakit_diag_t diag;
} otakit_image_verifier_t;

void otakit_image_header_decode(otakit_image_header_t *h, const uint8_t buf[24]);
void otakit_image_header_encode(const otakit_image_header_t *h, uint8_t buf[24]);
void otakit_app_desc_decode(otakit_app_desc_t *d, const uint8_t buf[256]);
void otakit_app_desc_encode(const otakit_app_desc_t *d, uint8_t buf[256]);

void otakit_image_verifier_init(otakit_image_verifier_t *v, const otakit_image_opts_t *opts);
/**
 * @brief Feed the next bytes. Fails as soon as the bytes so far are known bad (magic,
 * chip, segment count or length, image larger than max_size); the error is sticky.
 * Bytes past the end of the image are accepted and ignored.
 * @return OTAKIT_OK or OTAKIT_ERR_IMAGE_INVALID (diag says why and where).
 */
otakit_err_t otakit_image_verifier_feed(otakit_image_verifier_t *v, const void *data, size_t len);
/** Whether the whole image (through the hash, if any) has been fed. */
bool otakit_image_verifier_complete(const otakit_image_verifier_t *v);
/**
 * @brief Finish: checks completeness, checksum and hash. info (may be NULL) is filled
 * as far as the verifier got, even on failure.
 * @return OTAKIT_OK or OTAKIT_ERR_IMAGE_INVALID.
 */
otakit_err_t otakit_image_verifier_finish(otakit_image_verifier_t *v, otakit_image_info_t *info,
                                          otakit_diag_t *diag);

/** Whole-buffer verification, built on the streaming verifier. */
otakit_err_t otakit_image_verify_buf(const uint8_t *buf, size_t len,
                                     const otakit_image_opts_t *opts, otakit_image_info_t *info,
                                     otakit_diag_t *diag);
/**
 * @brief Feed v (initialised) the bytes at [addr, addr + len) of flash, a 1 KiB read at a
 * time, until the image is complete or has failed, then finish it.
 * @return as otakit_image_verifier_finish; OTAKIT_ERR_IMAGE_FLASH_FAIL if a read fails
 *         (diag: its offset from addr, "flash read failed"), v finished either way.
 */
otakit_err_t otakit_image_verifier_run_flash(otakit_image_verifier_t *v, const otakit_flash_t *f,
                                             uint32_t addr, uint32_t len, otakit_image_info_t *info,
                                             otakit_diag_t *diag);

/**
 * @brief Verify the image stored at addr (reads at most opts->max_size bytes, or to the
 * end of flash). @return as finish; OTAKIT_ERR_IMAGE_FLASH_FAIL on a read error.
 */
otakit_err_t otakit_image_verify_flash(const otakit_flash_t *f, uint32_t addr,
                                       const otakit_image_opts_t *opts, otakit_image_info_t *info,
                                       otakit_diag_t *diag);
/**
 * @brief Read the app description at addr + 0x20.
 * @return OTAKIT_OK; OTAKIT_ERR_NOT_FOUND if the magic is not there; flash errors.
 */
otakit_err_t otakit_image_read_desc(const otakit_flash_t *f, uint32_t addr, otakit_app_desc_t *d);

/** "ESP32", "ESP32-S2", ... or NULL for an unknown id (for every id with OTAKIT_TOOLS 0). */
const char *otakit_image_chip_name(uint16_t chip_id);
/** Image length from the end of the last segment: align16(end + 1) (+32 with a hash). */
uint32_t otakit_image_len_from_end(uint32_t segments_end, bool hash_appended);

#ifdef __cplusplus
}
#endif
#endif
