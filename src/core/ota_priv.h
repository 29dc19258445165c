/* Shared by ota.c and update.c; not part of the public API. */
#ifndef OTAKIT_OTA_PRIV_H
#define OTAKIT_OTA_PRIV_H

#include <stdbool.h>

#include "otakit/ota.h"

/* The table's own record for p (callers may pass a copy), or NULL. */
const otakit_part_t *otakit_ota_in_table(const otakit_ota_t *ota, const otakit_part_t *p);
/* Same offset and size; false if either is NULL. */
bool otakit_ota_same_part(const otakit_part_t *a, const otakit_part_t *b);

#endif
