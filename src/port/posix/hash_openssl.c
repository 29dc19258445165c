/* The host port's hash hook: OpenSSL's libcrypto, through its SHA256_* and MD5_*
 * functions, whose state fits in the core's context storage (no allocation). They run
 * the same code as EVP (with the CPU's SHA instructions, SHA-NI or ARMv8 SHA2, where
 * they exist: bench/hash.sh), without EVP's first-use set-up: reading openssl.cnf and
 * loading the default provider cost about 3 ms of CPU in every process that hashes
 * (the otakit commands, the virtual device, its bootloader and every app, at each
 * start; bench/startup.sh, bench/boot.sh), more than hashing a 1 MB image. OpenSSL 3
 * marks these functions deprecated in favour of EVP but keeps them. */
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include <openssl/md5.h>
#include <openssl/sha.h>

#include "otakit/hash.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

struct hash_state {
    otakit_hash_alg_t alg;
    union {
        SHA256_CTX sha256;
        MD5_CTX md5;
    } u;
};
_Static_assert(sizeof(struct hash_state) <= OTAKIT_HASH_CTX_SIZE,
               "OTAKIT_HASH_CTX_SIZE too small for OpenSSL's SHA-256 state");
_Static_assert(alignof(struct hash_state) <= alignof(max_align_t),
               "the hash state needs more alignment than the context gives");

static struct hash_state *state(otakit_hash_ctx_t *ctx)
{
    return (struct hash_state *)(void *)ctx->port.bytes;
}

otakit_err_t otakit_hash_start(otakit_hash_ctx_t *ctx, otakit_hash_alg_t alg)
{
    struct hash_state *h = state(ctx);
    int ok;
    switch (alg) {
    case OTAKIT_HASH_SHA256:
        ok = SHA256_Init(&h->u.sha256);
        break;
    case OTAKIT_HASH_MD5:
        ok = MD5_Init(&h->u.md5);
        break;
    default:
        return OTAKIT_ERR_NOT_SUPPORTED;
    }
    if (ok != 1) {
        return OTAKIT_FAIL;
    }
    h->alg = alg;
    return OTAKIT_OK;
}

otakit_err_t otakit_hash_update(otakit_hash_ctx_t *ctx, const void *data, size_t len)
{
    if (len == 0) {
        return OTAKIT_OK;
    }
    struct hash_state *h = state(ctx);
    int ok = h->alg == OTAKIT_HASH_SHA256 ? SHA256_Update(&h->u.sha256, data, len)
                                          : MD5_Update(&h->u.md5, data, len);
    return ok == 1 ? OTAKIT_OK : OTAKIT_FAIL;
}

otakit_err_t otakit_hash_finish(otakit_hash_ctx_t *ctx, uint8_t *out)
{
    struct hash_state *h = state(ctx);
    int ok = 1;
    if (out != NULL) {
        ok = h->alg == OTAKIT_HASH_SHA256 ? SHA256_Final(out, &h->u.sha256)
                                          : MD5_Final(out, &h->u.md5);
    }
    memset(h, 0, sizeof(*h)); /* nothing is held; leave no state of the data behind */
    return ok == 1 ? OTAKIT_OK : OTAKIT_FAIL;
}
