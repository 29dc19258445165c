/**
 * @file nvs_gen.h
 * @brief Host side of `otakit nvs`: ESP-IDF's NVS partition generator (the CSV format of
 * nvs_partition_gen.py, as esp-idf-nvs-partition-gen 0.2.0 writes it, format version 2)
 * and nvs_tool.py's minimal JSON listing. Allocates; not for the core.
 */
#ifndef OTAKIT_NVS_GEN_H
#define OTAKIT_NVS_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "otakit/nvs.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Compile a generator CSV (key,type,encoding,value; type namespace/data/file) into
 * a partition image of `size` bytes, byte for byte what the generator writes.
 * Relative `file` paths are opened from the current directory, as the generator does.
 * @param[out] out malloc'd image; *out_len is size (less for a partition under 0x3000,
 *             which the generator writes read-only: only the pages in use).
 * @param err a message naming the line and the problem on failure.
 * @return 0, or -1 with err set.
 */
int otakit_nvs_gen(const char *csv, size_t csv_len, uint32_t size, uint8_t **out, size_t *out_len,
                   char *err, size_t errlen);

/**
 * @brief nvs_tool.py's `-d minimal -f json` listing of an opened partition: one record
 * per written value (namespace, key, encoding, data, state, is_empty), blob chunks one
 * by one, in page order. 64-bit integers are written as exact decimals.
 * @return a cJSON array (the caller deletes it), or NULL on a read error.
 */
cJSON *otakit_nvs_listing(otakit_nvs_t *nvs);

/** Standard base64 of n bytes (malloc'd, NUL-terminated). */
char *otakit_base64(const uint8_t *in, size_t n);

#ifdef __cplusplus
}
#endif
#endif
