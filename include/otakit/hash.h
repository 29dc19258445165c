/**
 * @file hash.h
 * @brief The digests the core needs (SHA-256 for app images, MD5 for the partition
 * table's checksum record), computed by the port.
 *
 * The core owns the storage of a running hash (otakit_hash_ctx_t, OTAKIT_HASH_CTX_SIZE
 * bytes, inside the structs that need one) and names no crypto library; the port
 * implements otakit_hash_start, otakit_hash_update and otakit_hash_finish with the
 * engine the target has (a SHA peripheral, a software library). The three are resolved
 * at link time, as MCUboot selects its crypto backend per build: a digest is a pure
 * function with no per-device state, and the parsers that need one are pure functions
 * of (buf, len) with no device view to carry a table of function pointers.
 * docs/PORTING.md §1 gives the contract; the host port's is in src/port/posix/.
 */
#ifndef OTAKIT_HASH_H
#define OTAKIT_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "otakit/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTAKIT_SHA256_LEN 32u
#define OTAKIT_MD5_LEN 16u
/** Digest length of the largest algorithm. */
#define OTAKIT_HASH_MAX_LEN OTAKIT_SHA256_LEN

/** Bytes a port may keep per running hash. 128 holds a typical software SHA-256 or MD5
 * state (about 108 and 88 bytes on a 64-bit host); a port that needs more (or less)
 * sets it for the whole build, the core and the port alike. */
#ifndef OTAKIT_HASH_CTX_SIZE
#define OTAKIT_HASH_CTX_SIZE 128u
#endif

typedef enum {
    OTAKIT_HASH_SHA256 = 0,
    OTAKIT_HASH_MD5 = 1,
} otakit_hash_alg_t;

/** One running hash: storage the caller owns, contents only the port reads. */
typedef struct otakit_hash_ctx {
    union {
        unsigned char bytes[OTAKIT_HASH_CTX_SIZE];
        void *ptr;         /**< a port whose engine keeps its state elsewhere */
        max_align_t align; /**< any state struct can be placed at bytes */
    } port;
} otakit_hash_ctx_t;

/* ---- Implemented by the port. --------------------------------------------------- */

/**
 * @brief Start a hash of algorithm alg in ctx (whatever ctx held before is ignored).
 * @return OTAKIT_OK, after which exactly one otakit_hash_finish must follow;
 *         OTAKIT_ERR_NOT_SUPPORTED for an algorithm the port lacks; OTAKIT_ERR_NO_MEM
 *         or OTAKIT_FAIL if the engine cannot start (nothing is held then).
 */
otakit_err_t otakit_hash_start(otakit_hash_ctx_t *ctx, otakit_hash_alg_t alg);
/** @brief Add len bytes (data may be NULL when len is 0). @return OTAKIT_OK or OTAKIT_FAIL. */
otakit_err_t otakit_hash_update(otakit_hash_ctx_t *ctx, const void *data, size_t len);
/**
 * @brief Write the digest to out (OTAKIT_SHA256_LEN or OTAKIT_MD5_LEN bytes) and release
 * what start took; out == NULL abandons the hash. Called once per successful start,
 * also after a failed update.
 * @return OTAKIT_OK or OTAKIT_FAIL (out is then unspecified; the context is released).
 */
otakit_err_t otakit_hash_finish(otakit_hash_ctx_t *ctx, uint8_t *out);

/* ---- Provided by the core, built on the three above. ----------------------------- */

/** Digest length of alg: 32 for SHA-256, 16 for MD5, 0 for an unknown value. */
size_t otakit_hash_len(otakit_hash_alg_t alg);
/** @brief One-shot digest of [data, data + len) into out. @return as start/update/finish. */
otakit_err_t otakit_hash_buf(otakit_hash_alg_t alg, const void *data, size_t len, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif
