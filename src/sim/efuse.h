/* The eFuse SECURE_VERSION counter of a virtual device, kept in a small text file beside
 * the flash file (FLASH.efuse: one line, the decimal value). Like the real eFuse it only
 * rises: a raise to a lower value changes nothing. A missing file reads as 0.
 */
#ifndef OTAKIT_SIM_EFUSE_H
#define OTAKIT_SIM_EFUSE_H

#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"

/** The eFuse file of a flash file: "<flash>.efuse" into out (size n). Returns 0 or -1 (too long).
 */
int otakit_efuse_path(const char *flash_path, char *out, size_t n);
/** Read the counter (0 if the file is missing or unreadable). */
uint32_t otakit_efuse_file_get(const char *path);
/**
 * Raise the counter to v (under an exclusive lock; never lowers it).
 * @return OTAKIT_OK; OTAKIT_FAIL if the file cannot be written.
 */
otakit_err_t otakit_efuse_file_raise(const char *path, uint32_t v);

#endif
