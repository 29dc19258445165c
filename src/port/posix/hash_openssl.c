/* The host port's hash hook: OpenSSL's libcrypto through EVP, which picks the CPU's
 * SHA instructions (SHA-NI, ARMv8 SHA2) where they exist. An EVP_MD_CTX is opaque and
 * allocated by libcrypto, so the core's context storage holds only its pointer; start
 * allocates, finish frees (include/otakit/hash.h: one finish per successful start). */
#include <openssl/evp.h>

#include "otakit/hash.h"

static EVP_MD_CTX *md_ctx(otakit_hash_ctx_t *ctx)
{
    return (EVP_MD_CTX *)ctx->port.ptr;
}

otakit_err_t otakit_hash_start(otakit_hash_ctx_t *ctx, otakit_hash_alg_t alg)
{
    const EVP_MD *md;
    switch (alg) {
    case OTAKIT_HASH_SHA256:
        md = EVP_sha256();
        break;
    case OTAKIT_HASH_MD5:
        md = EVP_md5();
        break;
    default:
        return OTAKIT_ERR_NOT_SUPPORTED;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL) {
        return OTAKIT_ERR_NO_MEM;
    }
    if (EVP_DigestInit_ex(c, md, NULL) != 1) {
        EVP_MD_CTX_free(c);
        return OTAKIT_FAIL;
    }
    ctx->port.ptr = c;
    return OTAKIT_OK;
}

otakit_err_t otakit_hash_update(otakit_hash_ctx_t *ctx, const void *data, size_t len)
{
    if (len == 0) {
        return OTAKIT_OK;
    }
    return EVP_DigestUpdate(md_ctx(ctx), data, len) == 1 ? OTAKIT_OK : OTAKIT_FAIL;
}

otakit_err_t otakit_hash_finish(otakit_hash_ctx_t *ctx, uint8_t *out)
{
    EVP_MD_CTX *c = md_ctx(ctx);
    int ok = out == NULL || EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    ctx->port.ptr = NULL;
    return ok ? OTAKIT_OK : OTAKIT_FAIL;
}
