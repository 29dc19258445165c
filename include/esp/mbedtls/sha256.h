/**
 * @file mbedtls/sha256.h
 * @brief Mbed TLS's SHA-256 API as ESP-IDF apps call it (mbedtls_sha256_*), on the
 * virtual device's crypto (OpenSSL's libcrypto). Only SHA-256: is224 must be 0.
 */
#ifndef OTAKIT_ESP_MBEDTLS_SHA256_H
#define OTAKIT_ESP_MBEDTLS_SHA256_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A running SHA-256 (the engine's state is held behind a pointer). */
typedef struct mbedtls_sha256_context {
    void *md_ctx;
} mbedtls_sha256_context;

void mbedtls_sha256_init(mbedtls_sha256_context *ctx);
void mbedtls_sha256_free(mbedtls_sha256_context *ctx);
/** @return 0; -1 for is224 != 0 or when the engine cannot start */
int mbedtls_sha256_starts(mbedtls_sha256_context *ctx, int is224);
/** @return 0 or -1 */
int mbedtls_sha256_update(mbedtls_sha256_context *ctx, const unsigned char *input, size_t ilen);
/** @return 0 or -1 */
int mbedtls_sha256_finish(mbedtls_sha256_context *ctx, unsigned char output[32]);
/** One-shot. @return 0 or -1 */
int mbedtls_sha256(const unsigned char *input, size_t ilen, unsigned char output[32], int is224);

#ifdef __cplusplus
}
#endif
#endif
