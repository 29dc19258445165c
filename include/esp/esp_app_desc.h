/**
 * @file esp_app_desc.h
 * @brief The application description (esp_app_desc_t, 256 bytes at image offset 0x20).
 */
#ifndef ESP_APP_DESC_H
#define ESP_APP_DESC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_APP_DESC_MAGIC_WORD 0xABCD5432u

/** ESP-IDF's esp_app_desc_t, field for field (v5.4 layout). */
typedef struct {
    uint32_t magic_word;     /**< ESP_APP_DESC_MAGIC_WORD */
    uint32_t secure_version; /**< anti-rollback version */
    uint32_t reserv1[2];
    char version[32]; /**< not NUL terminated when 32 characters long */
    char project_name[32];
    char time[16];
    char date[16];
    char idf_ver[32];
    uint8_t app_elf_sha256[32]; /**< SHA-256 of the program */
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size; /**< log2; 0 = default (64 KiB) */
    uint8_t reserv3[3];
    uint32_t reserv2[18];
} esp_app_desc_t;

_Static_assert(sizeof(esp_app_desc_t) == 256, "esp_app_desc_t is 256 bytes");

/** The running app's description (read from its partition at start). */
const esp_app_desc_t *esp_app_get_description(void);
/**
 * @brief The first size/2 bytes of the program's SHA-256 as hex into dst (NUL ended).
 * @return the number of characters written, without the NUL.
 */
int esp_app_get_elf_sha256(char *dst, size_t size);

#ifdef __cplusplus
}
#endif
#endif
