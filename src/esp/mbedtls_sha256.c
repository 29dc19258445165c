/* mbedtls/sha256.h over OpenSSL's EVP digests. */
#include "mbedtls/sha256.h"

#include <openssl/evp.h>

void mbedtls_sha256_init(mbedtls_sha256_context *ctx)
{
    ctx->md_ctx = NULL;
}

void mbedtls_sha256_free(mbedtls_sha256_context *ctx)
{
    if (ctx != NULL) {
        EVP_MD_CTX_free(ctx->md_ctx);
        ctx->md_ctx = NULL;
    }
}

int mbedtls_sha256_starts(mbedtls_sha256_context *ctx, int is224)
{
    if (is224 != 0) {
        return -1;
    }
    if (ctx->md_ctx == NULL && (ctx->md_ctx = EVP_MD_CTX_new()) == NULL) {
        return -1;
    }
    return EVP_DigestInit_ex(ctx->md_ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen)
{
    return ctx->md_ctx != NULL && EVP_DigestUpdate(ctx->md_ctx, input, ilen) == 1 ? 0 : -1;
}

int mbedtls_sha256_finish(mbedtls_sha256_context *ctx, unsigned char output[32])
{
    return ctx->md_ctx != NULL && EVP_DigestFinal_ex(ctx->md_ctx, output, NULL) == 1 ? 0 : -1;
}

int mbedtls_sha256(const unsigned char *input, size_t ilen, unsigned char output[32], int is224)
{
    if (is224 != 0) {
        return -1;
    }
    return EVP_Digest(input, ilen, output, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}
