/**
 * @file diag.h
 * @brief Where a parser or verifier found a problem: a byte offset and a fixed
 * message (a string literal, never a buffer the core owns).
 */
#ifndef OTAKIT_DIAG_H
#define OTAKIT_DIAG_H

#include <stdint.h>

typedef struct otakit_diag {
    uint32_t offset; /**< byte offset in the input the problem was found at */
    const char *msg; /**< what is wrong, e.g. "invalid magic byte"; NULL when OK */
} otakit_diag_t;

/** Record a problem (diag may be NULL). Returns err, for `return otakit_diag_set(...)`. */
static inline int otakit_diag_set(otakit_diag_t *diag, uint32_t offset, const char *msg, int err)
{
    if (diag) {
        diag->offset = offset;
        diag->msg = msg;
    }
    return err;
}

#endif
