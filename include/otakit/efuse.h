/**
 * @file efuse.h
 * @brief The eFuse SECURE_VERSION counter behind anti-rollback, and the one rule both
 * the app side (otakit_ota_*) and the bootloader (otakit_boot_select) apply with it.
 */
#ifndef OTAKIT_EFUSE_H
#define OTAKIT_EFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The eFuse SECURE_VERSION counter, held by the port. It only ever rises. */
typedef struct otakit_efuse {
    void *ctx;
    /** The current counter. */
    uint32_t (*get)(void *ctx);
    /** Raise the counter to v; a v at or below it changes nothing and succeeds. */
    otakit_err_t (*raise)(void *ctx, uint32_t v);
} otakit_efuse_t;

/**
 * @brief The counter that anti-rollback uses: efuse when anti_rollback is on, NULL
 * (no rule) when it is off or no counter is given. Pass the result to the two below.
 */
static inline const otakit_efuse_t *otakit_efuse_rule(bool anti_rollback,
                                                      const otakit_efuse_t *efuse)
{
    return anti_rollback ? efuse : NULL;
}

/**
 * @brief The anti-rollback rule: an app may run only if its secure_version is at least
 * the counter. Always true for efuse NULL (anti-rollback off).
 */
bool otakit_efuse_allows(const otakit_efuse_t *efuse, uint32_t secure_version);

/**
 * @brief Raise the counter to secure_version if that is higher; nothing for efuse NULL.
 * @return OTAKIT_OK (also when there was nothing to raise); the port's error from raise.
 * Power-loss: a cut may leave the counter anywhere between the old and the new value;
 * raising again later is safe.
 */
otakit_err_t otakit_efuse_raise_to(const otakit_efuse_t *efuse, uint32_t secure_version);

#ifdef __cplusplus
}
#endif
#endif
