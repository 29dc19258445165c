/* The core's side of the hash hook: helpers over the port's start/update/finish. */
#include "otakit/hash.h"

size_t otakit_hash_len(otakit_hash_alg_t alg)
{
    switch (alg) {
    case OTAKIT_HASH_SHA256:
        return OTAKIT_SHA256_LEN;
    case OTAKIT_HASH_MD5:
        return OTAKIT_MD5_LEN;
    default:
        return 0;
    }
}

otakit_err_t otakit_hash_buf(otakit_hash_alg_t alg, const void *data, size_t len, uint8_t *out)
{
    if (out == NULL || (data == NULL && len > 0)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_hash_ctx_t ctx;
    otakit_err_t err = otakit_hash_start(&ctx, alg);
    if (err != OTAKIT_OK) {
        return err;
    }
    err = otakit_hash_update(&ctx, data, len);
    /* finish releases the context either way; a failed update abandons it. */
    otakit_err_t fin = otakit_hash_finish(&ctx, err == OTAKIT_OK ? out : NULL);
    return err != OTAKIT_OK ? err : fin;
}
