/* Fuzz target for the streaming image verifier: any bytes, verified whole and fed in
 * pseudo-random chunk sizes (1 byte and up), must give the same verdict, diagnosis and
 * info; never crash or read out of bounds. Also the header codec round trip, and the
 * program finder on whatever verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_build.h"
#include "otakit/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond) {
        abort();
    }
}

static int same_info(const otakit_image_info_t *a, const otakit_image_info_t *b)
{
    if (memcmp(&a->header, &b->header, sizeof(a->header)) != 0 ||
        a->segments_parsed != b->segments_parsed || a->has_desc != b->has_desc ||
        a->checksum_stored != b->checksum_stored || a->checksum_calc != b->checksum_calc ||
        a->checksum_ok != b->checksum_ok || a->hash_present != b->hash_present ||
        a->hash_ok != b->hash_ok || a->image_len != b->image_len ||
        memcmp(a->hash_stored, b->hash_stored, 32) != 0 ||
        memcmp(a->hash_calc, b->hash_calc, 32) != 0) {
        return 0;
    }
    for (unsigned i = 0; i < a->segments_parsed && i < OTAKIT_IMAGE_MAX_SEGMENTS; i++) {
        if (a->segments[i].load_addr != b->segments[i].load_addr ||
            a->segments[i].data_len != b->segments[i].data_len ||
            a->segments[i].data_offset != b->segments[i].data_offset) {
            return 0;
        }
    }
    return !a->has_desc || (strcmp(a->desc.project_name, b->desc.project_name) == 0 &&
                            strcmp(a->desc.version, b->desc.version) == 0);
}

static void check_opts(const uint8_t *data, size_t size, const otakit_image_opts_t *o,
                       uint32_t seed)
{
    otakit_image_info_t whole, chunked;
    otakit_diag_t dw, dc;
    otakit_err_t ew = otakit_image_verify_buf(data, size, o, &whole, &dw);
    must(ew == OTAKIT_OK || ew == OTAKIT_ERR_IMAGE_INVALID);
    must((ew == OTAKIT_OK) == (dw.msg == NULL));
    must(whole.segments_parsed <= OTAKIT_IMAGE_MAX_SEGMENTS);
    if (ew == OTAKIT_OK) {
        must(whole.image_len <= size);
        must(whole.checksum_ok);
        must(o->max_size == 0 || whole.image_len <= o->max_size);
        must(whole.header.magic == OTAKIT_IMAGE_MAGIC);
        for (unsigned i = 0; i < whole.segments_parsed; i++) {
            must(whole.segments[i].data_offset + whole.segments[i].data_len <= whole.image_len);
        }
        const uint8_t *prog;
        size_t prog_len;
        if (otakit_image_program(data, size, &whole, &prog, &prog_len) == OTAKIT_OK) {
            must(prog >= data && prog + prog_len <= data + size);
        }
    }

    /* the same bytes in chunks of 1..N, N varying with the seed */
    uint32_t x = seed * 2654435761u + 1u;
    size_t max_chunk = 1 + (seed % 3 == 0 ? 0 : seed % 300);
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, o);
    size_t off = 0;
    otakit_err_t last = OTAKIT_OK;
    while (off < size) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t n = 1 + x % max_chunk;
        if (n > size - off) {
            n = size - off;
        }
        otakit_err_t e = otakit_image_verifier_feed(&v, data + off, n);
        must(last == OTAKIT_OK || e == last); /* sticky */
        last = e;
        off += n;
    }
    otakit_err_t ec = otakit_image_verifier_finish(&v, &chunked, &dc);
    must(ec == ew);
    must(dc.offset == dw.offset);
    must((dc.msg == NULL) == (dw.msg == NULL));
    must(dc.msg == NULL || strcmp(dc.msg, dw.msg) == 0);
    must(same_info(&whole, &chunked));
    /* finish again: the same */
    must(otakit_image_verifier_finish(&v, NULL, &dc) == ew);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seed = (uint32_t)size;
    for (size_t i = 0; i < size && i < 8; i++) {
        seed = seed * 31u + data[i];
    }
    otakit_image_opts_t any = {OTAKIT_CHIP_ANY, 0, false};
    check_opts(data, size, &any, seed);
    otakit_image_opts_t esp32 = {OTAKIT_CHIP_ESP32, (uint32_t)(size / 2 + (seed % 64)),
                                 (seed & 1) != 0};
    check_opts(data, size, &esp32, seed >> 3);

    if (size >= OTAKIT_IMAGE_HEADER_SIZE) {
        otakit_image_header_t h;
        uint8_t out[OTAKIT_IMAGE_HEADER_SIZE];
        otakit_image_header_decode(&h, data);
        otakit_image_header_encode(&h, out);
        must(memcmp(out, data, sizeof(out)) == 0);
    }
    if (size >= OTAKIT_APP_DESC_SIZE) {
        otakit_app_desc_t d;
        otakit_app_desc_decode(&d, data);
        must(strlen(d.version) <= 32 && strlen(d.project_name) <= 32 && strlen(d.time) <= 16 &&
             strlen(d.date) <= 16 && strlen(d.idf_ver) <= 32);
    }
    return 0;
}
