/**
 * @file otadata.h
 * @brief The otadata partition (spec §5): two 32-byte select entries, one at the start
 * of each of its two sectors.
 */
#ifndef OTAKIT_OTADATA_H
#define OTAKIT_OTADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "otakit/err.h"
#include "otakit/flash.h"
#include "otakit/ptable.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_OTADATA_SIZE 0x2000u
#define OTAKIT_OTADATA_ENTRY_SIZE 32u

/* esp_ota_img_states_t */
#define OTAKIT_OTA_IMG_NEW 0x0u
#define OTAKIT_OTA_IMG_PENDING_VERIFY 0x1u
#define OTAKIT_OTA_IMG_VALID 0x2u
#define OTAKIT_OTA_IMG_INVALID 0x3u
#define OTAKIT_OTA_IMG_ABORTED 0x4u
#define OTAKIT_OTA_IMG_UNDEFINED 0xFFFFFFFFu

typedef struct otakit_otadata_entry {
    uint32_t seq;
    uint8_t label[20]; /**< seq_label: kept as read, normally 0xFF */
    uint32_t state;
    uint32_t crc;
} otakit_otadata_entry_t;

/** CRC of a select entry: esp_rom_crc32_le(0xFFFFFFFF, le32(seq), 4) (spec §5.4). */
uint32_t otakit_otadata_crc(uint32_t seq);
void otakit_otadata_decode(otakit_otadata_entry_t *e, const uint8_t buf[32]);
void otakit_otadata_encode(const otakit_otadata_entry_t *e, uint8_t buf[32]);
/** A fresh entry: label 0xFF, the given seq and state, crc computed. */
void otakit_otadata_make(otakit_otadata_entry_t *e, uint32_t seq, uint32_t state);

/** seq == 0xFFFFFFFF or state INVALID or ABORTED (CRC not considered). */
bool otakit_otadata_is_invalid(const otakit_otadata_entry_t *e);
/** !invalid and the CRC matches. */
bool otakit_otadata_is_valid(const otakit_otadata_entry_t *e);
/** seq != 0xFFFFFFFF and CRC matches (state ignored): otatool's and get_state's test. */
bool otakit_otadata_crc_ok(const otakit_otadata_entry_t *e);
/** The active copy: the valid one with the larger seq, ties to copy 0; -1 if none. */
int otakit_otadata_active(const otakit_otadata_entry_t e[2]);
/** OTA slot of a seq with n slots: (seq - 1) mod n. n must be > 0. */
unsigned otakit_otadata_slot(uint32_t seq, unsigned n);
/**
 * @brief seq for switching to slot with n slots (spec §5.6): the smallest
 * ((slot + 1) mod n) + i*n that is >= cur_seq; slot + 1 when have_active is false.
 */
uint32_t otakit_otadata_next_seq(bool have_active, uint32_t cur_seq, unsigned slot, unsigned n);
/**
 * @brief Boot attempts of an unconfirmed app (CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS):
 * the boots a PENDING_VERIFY entry has had, 1 (the trial boot that made it
 * PENDING_VERIFY) plus the bits cleared in its seq_label, a unary counter that grows by
 * programming one more bit to 0 (no erase; the CRC covers ota_seq only, so ESP-IDF reads
 * the entry as before). 1..161.
 */
unsigned otakit_otadata_boots(const otakit_otadata_entry_t *e);
/**
 * @brief The bootloader's decision for an app still PENDING_VERIFY at boot: true when it
 * gets another boot (fewer than attempts boots so far), false when it is rolled back
 * (marked ABORTED). attempts 0 or 1 is ESP-IDF's rule: never another boot.
 */
bool otakit_otadata_boot_again(const otakit_otadata_entry_t *e, unsigned attempts);
/** Count one more boot in e's seq_label (clear its next bit). false when all are used. */
bool otakit_otadata_count_boot(otakit_otadata_entry_t *e);
/** "NEW", "PENDING_VERIFY", "VALID", "INVALID", "ABORTED", "UNDEFINED" or "UNKNOWN"
 * (always "UNKNOWN" with OTAKIT_TOOLS 0, err.h). */
const char *otakit_otadata_state_name(uint32_t state);

/**
 * @brief Read both copies of an otadata partition.
 * @return OTAKIT_OK; OTAKIT_ERR_INVALID_SIZE if the partition is smaller than 0x2000
 *         ("ota_info partition size is too small"); flash errors.
 */
otakit_err_t otakit_otadata_read(const otakit_flash_t *f, const otakit_part_t *p,
                                 otakit_otadata_entry_t e[2]);
/**
 * @brief Rewrite copy (0 or 1): erase its 4 KiB sector, then program the 32 bytes.
 * Power-loss: if interrupted, that copy is blank or torn (its CRC fails) and the other
 * copy is untouched.
 */
otakit_err_t otakit_otadata_write(const otakit_flash_t *f, const otakit_part_t *p, int copy,
                                  const otakit_otadata_entry_t *e);
/**
 * @brief Program copy's 32 bytes over what is there, without an erase: for an entry that
 * differs from the flash only by bits going 1 -> 0 (a boot counted in seq_label).
 * Power-loss: if interrupted, the bytes that change hold their old or new bits; with one
 * bit changing, the entry is the old or the new one.
 */
otakit_err_t otakit_otadata_program(const otakit_flash_t *f, const otakit_part_t *p, int copy,
                                    const otakit_otadata_entry_t *e);

#ifdef __cplusplus
}
#endif
#endif
