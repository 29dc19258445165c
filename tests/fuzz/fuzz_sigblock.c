/* Fuzz target: the Secure Boot V2 signature sector parser and the acceptance rule, with
 * stand-in crypto (a cheap hash, a signature that must start with the digest), so the
 * fuzzer reaches every branch of the core without a real signature. */
#include <stdint.h>
#include <string.h>

#include "otakit/sigblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a spread over the output: deterministic, no library. */
static otakit_err_t toy_hash(void *ctx, const uint8_t *d, size_t len, uint8_t *out, size_t n)
{
    (void)ctx;
    if (n != 32 && n != 48) {
        __builtin_trap();
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ d[i]) * 16777619u;
    }
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint32_t)i) * 16777619u;
        out[i] = (uint8_t)(h >> 24);
    }
    return OTAKIT_OK;
}

static otakit_err_t toy_verify(void *ctx, const otakit_sig_block_t *blk, const uint8_t *digest,
                               size_t len)
{
    (void)ctx;
    if (len != blk->digest_len || blk->sig_len < len) {
        __builtin_trap();
    }
    return memcmp(blk->sig, digest, len) == 0 ? OTAKIT_OK : OTAKIT_ERR_IMAGE_INVALID;
}

static const otakit_sig_crypto_t TOY = {NULL, toy_hash, toy_verify};

/* Every pointer of a parsed block lies inside the block it came from. */
static void check_block(const uint8_t *base, const otakit_sig_block_t *b)
{
    const uint8_t *end = base + OTAKIT_SIG_CRC_OFFSET;
    if (b->digest < base || b->digest + b->digest_len > end || b->key < base ||
        b->key + b->key_len > end || b->sig < b->key + b->key_len || b->sig + b->sig_len > end) {
        __builtin_trap();
    }
    if (b->digest_len != 32 && b->digest_len != 48) {
        __builtin_trap();
    }
    (void)otakit_sig_scheme_name(b->scheme);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input is a signed image whose last whole sector is the signature sector (a
     * shorter input is parsed as a sector as it is); byte 0 says which block's key to
     * trust, so the fuzzer can reach the digest and signature checks. */
    uint32_t sector_off = size >= OTAKIT_SIG_SECTOR_SIZE
                              ? (uint32_t)((size - OTAKIT_SIG_SECTOR_SIZE) & ~(size_t)0xFFF)
                              : 0;
    otakit_sig_sector_t s;
    otakit_diag_t diag = {0, NULL};
    const uint8_t *sec = data + sector_off;
    if (otakit_sig_sector_parse(sec, size - sector_off, &s, &diag) == OTAKIT_OK) {
        for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
            if (s.valid[i]) {
                check_block(sec + i * OTAKIT_SIG_BLOCK_SIZE, &s.blocks[i]);
            } else if (s.why[i] == NULL) {
                __builtin_trap();
            }
        }
    } else if (diag.msg == NULL) {
        __builtin_trap();
    }
    /* a block on its own */
    otakit_sig_block_t one;
    if (otakit_sig_block_parse(data, size, &one, &diag) == OTAKIT_OK) {
        check_block(data, &one);
    } else if (diag.msg == NULL) {
        __builtin_trap();
    }
    if (size < OTAKIT_SIG_SECTOR_SIZE) {
        return 0;
    }
    uint8_t trusted[2][OTAKIT_SIG_KEY_DIGEST_LEN];
    memset(trusted, 0, sizeof(trusted));
    otakit_sig_block_t blk;
    unsigned pick = size > 0 ? data[0] % OTAKIT_SIG_BLOCKS_MAX : 0;
    const uint8_t *b = data + sector_off + pick * OTAKIT_SIG_BLOCK_SIZE;
    if (otakit_sig_block_parse(b, OTAKIT_SIG_BLOCK_SIZE, &blk, NULL) == OTAKIT_OK) {
        otakit_sig_key_digest(&TOY, &blk, trusted[1]);
    }
    otakit_sig_result_t r;
    otakit_err_t e =
        otakit_sig_verify(data, size, sector_off,
                          (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN])trusted, 2, &TOY, &r, &diag);
    if (e == OTAKIT_OK) {
        if (r.block < 0 || r.block >= (int)OTAKIT_SIG_BLOCKS_MAX || !r.sector.valid[r.block]) {
            __builtin_trap();
        }
    } else if (r.block != -1 || diag.msg == NULL || diag.offset > size) {
        __builtin_trap();
    }
    return 0;
}
