/* ESP app image (spec §4): header and descriptor codecs, and the streaming verifier.
 *
 * The verifier is a byte-driven state machine, so a chunk boundary can fall anywhere
 * (one byte at a time gives the same result as the whole buffer). Every byte before
 * the checksum end P goes through SHA-256; segment data goes through the XOR checksum.
 * Problems the bytes so far prove (magic, chip, segment count and length, a length
 * that cannot fit) fail at once and stick; the mapping rule is checked as each segment
 * header arrives but reported by finish, so a tool can still show the whole image. */
#include "otakit/image.h"

#include <string.h>

#include "otakit/le.h"

_Static_assert(OTAKIT_IMAGE_HEADER_SIZE == 24, "esp_image_header_t is 24 bytes");
_Static_assert(OTAKIT_IMAGE_SEGMENT_HEADER_SIZE == 8, "esp_image_segment_header_t is 8 bytes");
_Static_assert(OTAKIT_APP_DESC_SIZE == 256, "esp_app_desc_t is 256 bytes");

enum {
    ST_HEADER = 0, /* collecting the 24-byte image header into buf */
    ST_SEG_HDR,    /* collecting an 8-byte segment header into buf */
    ST_SEG_DATA,   /* segment data: checksum, hash, descriptor capture */
    ST_TRAILER,    /* padding up to and including the checksum byte at P-1 */
    ST_HASH,       /* the appended 32-byte SHA-256 */
    ST_DONE,       /* the whole image is in; later bytes are ignored */
};
/* Or'ed into stage once finish() ran; err then holds the verdict. */
#define ST_FINISHED 0x80u

/* Descriptor bytes sit at image offsets [0x20, 0x120). */
#define DESC_END (OTAKIT_APP_DESC_OFFSET + OTAKIT_APP_DESC_SIZE)

/* Desc field offsets (spec §4.2). */
#define DESC_OFF_SECURE_VERSION 4u
#define DESC_OFF_VERSION 16u
#define DESC_OFF_PROJECT 48u
#define DESC_OFF_TIME 80u
#define DESC_OFF_DATE 96u
#define DESC_OFF_IDF_VER 112u
#define DESC_OFF_ELF_SHA 144u
#define DESC_OFF_MIN_EFUSE 176u
#define DESC_OFF_MAX_EFUSE 178u
#define DESC_OFF_MMU_PAGE 180u

/* Flash-mapped windows: a segment loaded here must sit at a file offset congruent to
 * its load address modulo the 64 KiB MMU page. Only ESP32's windows are known here. */
struct map_window {
    uint16_t chip_id;
    uint32_t start, end;
};
static const struct map_window MAP_WINDOWS[] = {
    {OTAKIT_CHIP_ESP32, 0x3F400000u, 0x3F800000u}, /* DROM */
    {OTAKIT_CHIP_ESP32, 0x400C2000u, 0x40C00000u}, /* IROM */
};

void otakit_image_header_decode(otakit_image_header_t *h, const uint8_t buf[24])
{
    h->magic = buf[0];
    h->segment_count = buf[1];
    h->spi_mode = buf[2];
    h->spi_speed = (uint8_t)(buf[3] & 0x0F);
    h->spi_size = (uint8_t)(buf[3] >> 4);
    h->entry_addr = otakit_le32_get(buf + 4);
    h->wp_pin = buf[8];
    memcpy(h->spi_pin_drv, buf + 9, 3);
    h->chip_id = otakit_le16_get(buf + 12);
    h->min_chip_rev = buf[14];
    h->min_chip_rev_full = otakit_le16_get(buf + 15);
    h->max_chip_rev_full = otakit_le16_get(buf + 17);
    memcpy(h->reserved, buf + 19, 4);
    h->hash_appended = buf[23];
}

void otakit_image_header_encode(const otakit_image_header_t *h, uint8_t buf[24])
{
    buf[0] = h->magic;
    buf[1] = h->segment_count;
    buf[2] = h->spi_mode;
    buf[3] = (uint8_t)((h->spi_size << 4) | (h->spi_speed & 0x0F));
    otakit_le32_put(buf + 4, h->entry_addr);
    buf[8] = h->wp_pin;
    memcpy(buf + 9, h->spi_pin_drv, 3);
    otakit_le16_put(buf + 12, h->chip_id);
    buf[14] = h->min_chip_rev;
    otakit_le16_put(buf + 15, h->min_chip_rev_full);
    otakit_le16_put(buf + 17, h->max_chip_rev_full);
    memcpy(buf + 19, h->reserved, 4);
    buf[23] = h->hash_appended;
}

/* Copy a fixed-size, maybe unterminated string field into dst[n + 1]. */
static void str_get(char *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    while (i < n && src[i] != 0) {
        dst[i] = (char)src[i];
        i++;
    }
    memset(dst + i, 0, n + 1 - i);
}

/* Write a string into a fixed n-byte field, NUL padded (no terminator when it fills). */
static void str_put(uint8_t *dst, const char *src, size_t n)
{
    size_t i = 0;
    while (i < n && src[i] != '\0') {
        dst[i] = (uint8_t)src[i];
        i++;
    }
    memset(dst + i, 0, n - i);
}

void otakit_app_desc_decode(otakit_app_desc_t *d, const uint8_t buf[256])
{
    d->magic = otakit_le32_get(buf);
    d->secure_version = otakit_le32_get(buf + DESC_OFF_SECURE_VERSION);
    str_get(d->version, buf + DESC_OFF_VERSION, 32);
    str_get(d->project_name, buf + DESC_OFF_PROJECT, 32);
    str_get(d->time, buf + DESC_OFF_TIME, 16);
    str_get(d->date, buf + DESC_OFF_DATE, 16);
    str_get(d->idf_ver, buf + DESC_OFF_IDF_VER, 32);
    memcpy(d->app_elf_sha256, buf + DESC_OFF_ELF_SHA, 32);
    d->min_efuse_blk_rev_full = otakit_le16_get(buf + DESC_OFF_MIN_EFUSE);
    d->max_efuse_blk_rev_full = otakit_le16_get(buf + DESC_OFF_MAX_EFUSE);
    d->mmu_page_size = buf[DESC_OFF_MMU_PAGE];
}

void otakit_app_desc_encode(const otakit_app_desc_t *d, uint8_t buf[256])
{
    memset(buf, 0, OTAKIT_APP_DESC_SIZE);
    otakit_le32_put(buf, d->magic);
    otakit_le32_put(buf + DESC_OFF_SECURE_VERSION, d->secure_version);
    str_put(buf + DESC_OFF_VERSION, d->version, 32);
    str_put(buf + DESC_OFF_PROJECT, d->project_name, 32);
    str_put(buf + DESC_OFF_TIME, d->time, 16);
    str_put(buf + DESC_OFF_DATE, d->date, 16);
    str_put(buf + DESC_OFF_IDF_VER, d->idf_ver, 32);
    memcpy(buf + DESC_OFF_ELF_SHA, d->app_elf_sha256, 32);
    otakit_le16_put(buf + DESC_OFF_MIN_EFUSE, d->min_efuse_blk_rev_full);
    otakit_le16_put(buf + DESC_OFF_MAX_EFUSE, d->max_efuse_blk_rev_full);
    buf[DESC_OFF_MMU_PAGE] = d->mmu_page_size;
}

uint32_t otakit_image_len_from_end(uint32_t segments_end, bool hash_appended)
{
    uint32_t p = (segments_end + 1u + 15u) & ~15u;
    return hash_appended ? p + OTAKIT_IMAGE_HASH_LEN : p;
}

const char *otakit_image_chip_name(uint16_t chip_id)
{
    switch (chip_id) {
    case OTAKIT_CHIP_ESP32:
        return "ESP32";
    case OTAKIT_CHIP_ESP32S2:
        return "ESP32-S2";
    case OTAKIT_CHIP_ESP32C3:
        return "ESP32-C3";
    case OTAKIT_CHIP_ESP32S3:
        return "ESP32-S3";
    case OTAKIT_CHIP_ESP32C2:
        return "ESP32-C2";
    case OTAKIT_CHIP_ESP32C6:
        return "ESP32-C6";
    case OTAKIT_CHIP_ESP32H2:
        return "ESP32-H2";
    case OTAKIT_CHIP_ESP32P4:
        return "ESP32-P4";
    case OTAKIT_CHIP_ESP32C61:
        return "ESP32-C61";
    case OTAKIT_CHIP_ESP32C5:
        return "ESP32-C5";
    case 0x0019u:
        return "ESP32-H21";
    case 0x001Cu:
        return "ESP32-H4";
    case 0x0020u:
        return "ESP32-S31";
    default:
        return NULL;
    }
}

/* Any non-zero value means a hash follows, as ESP-IDF's `if (image.hash_appended)`. */
static bool hash_appended(const otakit_image_verifier_t *v)
{
    return v->info.header.hash_appended != 0;
}

/* Give the SHA-256 context back to the port, with the digest or without. */
static otakit_err_t hash_release(otakit_image_verifier_t *v, uint8_t *digest)
{
    if (!v->hashing) {
        return OTAKIT_OK;
    }
    v->hashing = false;
    return otakit_hash_finish(&v->sha, digest);
}

/* Record the first error; later bytes are refused with it, so the hash is done with. */
static otakit_err_t fail(otakit_image_verifier_t *v, uint32_t offset, const char *msg,
                         otakit_err_t err)
{
    hash_release(v, NULL);
    v->err = err;
    v->diag.offset = offset;
    v->diag.msg = msg;
    return err;
}

void otakit_image_verifier_init(otakit_image_verifier_t *v, const otakit_image_opts_t *opts)
{
    memset(v, 0, sizeof(*v));
    if (opts != NULL) {
        v->opts = *opts;
    } else {
        v->opts.chip_id = OTAKIT_CHIP_ANY;
    }
    v->checksum = OTAKIT_IMAGE_CHECKSUM_SEED;
    v->info.checksum_calc = OTAKIT_IMAGE_CHECKSUM_SEED;
    v->stage = ST_HEADER;
    if (otakit_hash_start(&v->sha, OTAKIT_HASH_SHA256) != OTAKIT_OK) {
        fail(v, 0, "SHA-256 failed", OTAKIT_FAIL);
        return;
    }
    v->hashing = true;
}

/* The image cannot be shorter than this; fail now if that is already too long. */
static otakit_err_t check_fits(otakit_image_verifier_t *v, uint32_t segments_end_min,
                               uint32_t offset)
{
    if (v->opts.max_size != 0 &&
        otakit_image_len_from_end(segments_end_min, hash_appended(v)) > v->opts.max_size) {
        return fail(v, offset, "image length doesn't fit in partition", OTAKIT_ERR_IMAGE_INVALID);
    }
    return OTAKIT_OK;
}

/* All segments are in: the trailer runs to P, the hash (if any) follows. */
static void enter_trailer(otakit_image_verifier_t *v)
{
    uint32_t end = v->pos;
    v->hashed_end = otakit_image_len_from_end(end, false);
    v->info.image_len = otakit_image_len_from_end(end, hash_appended(v));
    v->stage = ST_TRAILER;
}

static otakit_err_t parse_header(otakit_image_verifier_t *v)
{
    otakit_image_header_t *h = &v->info.header;
    otakit_image_header_decode(h, v->buf);
    if (h->magic != OTAKIT_IMAGE_MAGIC) {
        return fail(v, 0, "invalid magic byte", OTAKIT_ERR_IMAGE_INVALID);
    }
    if (v->opts.chip_id != OTAKIT_CHIP_ANY && h->chip_id != (uint16_t)v->opts.chip_id) {
        return fail(v, 12, "chip id mismatch", OTAKIT_ERR_IMAGE_INVALID);
    }
    if (h->segment_count > OTAKIT_IMAGE_MAX_SEGMENTS) {
        return fail(v, 1, "too many segments", OTAKIT_ERR_IMAGE_INVALID);
    }
    v->info.hash_present = hash_appended(v);
    uint32_t min_end =
        OTAKIT_IMAGE_HEADER_SIZE + (uint32_t)h->segment_count * OTAKIT_IMAGE_SEGMENT_HEADER_SIZE;
    if (check_fits(v, min_end, 0) != OTAKIT_OK) {
        return v->err;
    }
    v->field_pos = 0;
    if (h->segment_count == 0) {
        enter_trailer(v);
    } else {
        v->stage = ST_SEG_HDR;
    }
    return OTAKIT_OK;
}

static bool is_flash_mapped(uint16_t chip_id, uint32_t addr)
{
    for (size_t i = 0; i < sizeof(MAP_WINDOWS) / sizeof(MAP_WINDOWS[0]); i++) {
        if (MAP_WINDOWS[i].chip_id == chip_id && addr >= MAP_WINDOWS[i].start &&
            addr < MAP_WINDOWS[i].end) {
            return true;
        }
    }
    return false;
}

/* The segment whose data just ended (or was empty): next header, or the trailer. */
static void segment_done(otakit_image_verifier_t *v)
{
    v->field_pos = 0;
    if (v->info.segments_parsed == v->info.header.segment_count) {
        enter_trailer(v);
    } else {
        v->stage = ST_SEG_HDR;
    }
}

static otakit_err_t parse_segment_header(otakit_image_verifier_t *v)
{
    uint32_t hdr_off = v->pos - OTAKIT_IMAGE_SEGMENT_HEADER_SIZE;
    uint32_t load = otakit_le32_get(v->buf);
    uint32_t len = otakit_le32_get(v->buf + 4);
    if (len % 4 != 0 || len >= OTAKIT_IMAGE_MAX_SEGMENT_LEN) {
        return fail(v, hdr_off + 4, "invalid segment length", OTAKIT_ERR_IMAGE_INVALID);
    }
    uint8_t idx = v->info.segments_parsed;
    otakit_image_segment_t *s = &v->info.segments[idx];
    s->load_addr = load;
    s->data_len = len;
    s->data_offset = v->pos;
    v->info.segments_parsed = (uint8_t)(idx + 1);

    /* Mapping rule, relative to the image start (partitions are 64 KiB aligned).
     * Remembered, reported by finish. */
    if (v->diag.msg == NULL && is_flash_mapped(v->info.header.chip_id, load) &&
        (v->pos % OTAKIT_MMU_PAGE_SIZE) != (load % OTAKIT_MMU_PAGE_SIZE)) {
        v->diag.offset = v->pos;
        v->diag.msg = "segment load address doesn't match its file offset (mod 64 KiB)";
    }

    uint32_t remaining = (uint32_t)(v->info.header.segment_count - v->info.segments_parsed);
    if (check_fits(v, v->pos + len + remaining * OTAKIT_IMAGE_SEGMENT_HEADER_SIZE, hdr_off) !=
        OTAKIT_OK) {
        return v->err;
    }
    v->seg_left = len;
    if (len == 0) {
        segment_done(v);
    } else {
        v->stage = ST_SEG_DATA;
    }
    return OTAKIT_OK;
}

/* The XOR checksum over n more bytes. Folded 8 bytes at a time in a local (a byte loop
 * that updates v->checksum must store after every byte, since p may alias it). */
static uint8_t xor_bytes(uint8_t acc, const uint8_t *p, size_t n)
{
    uint64_t w = 0;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        w ^= x;
    }
    w ^= w >> 32;
    w ^= w >> 16;
    w ^= w >> 8;
    acc ^= (uint8_t)w;
    while (n-- > 0) {
        acc ^= *p++;
    }
    return acc;
}

/* Segment 0's first 256 bytes are the app description (image offsets 0x20..0x120). */
static void capture_desc(otakit_image_verifier_t *v, const uint8_t *p, size_t n)
{
    if (v->info.segments_parsed != 1 || v->pos >= DESC_END) {
        return;
    }
    uint32_t start = v->pos - OTAKIT_APP_DESC_OFFSET; /* segment 0 data starts at 0x20 */
    size_t take = n;
    if (take > OTAKIT_APP_DESC_SIZE - start) {
        take = OTAKIT_APP_DESC_SIZE - start;
    }
    memcpy(v->buf + start, p, take);
    if (start + take == OTAKIT_APP_DESC_SIZE && otakit_le32_get(v->buf) == OTAKIT_APP_DESC_MAGIC) {
        otakit_app_desc_decode(&v->info.desc, v->buf);
        v->info.has_desc = true;
    }
}

static otakit_err_t hash_update(otakit_image_verifier_t *v, const uint8_t *p, size_t n)
{
    if (otakit_hash_update(&v->sha, p, n) != OTAKIT_OK) {
        return fail(v, v->pos, "SHA-256 failed", OTAKIT_FAIL);
    }
    return OTAKIT_OK;
}

/* The checksum byte (P-1) just went in: the checksum and the hash are settled. */
static otakit_err_t trailer_done(otakit_image_verifier_t *v, uint8_t stored)
{
    v->info.checksum_stored = stored;
    v->info.checksum_ok = stored == v->checksum;
    if (hash_release(v, v->info.hash_calc) != OTAKIT_OK) {
        return fail(v, v->pos, "SHA-256 failed", OTAKIT_FAIL);
    }
    v->field_pos = 0;
    v->stage = hash_appended(v) ? ST_HASH : ST_DONE;
    return OTAKIT_OK;
}

otakit_err_t otakit_image_verifier_feed(otakit_image_verifier_t *v, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (v->err != OTAKIT_OK || (v->stage & ST_FINISHED)) {
        return v->err;
    }
    if (p == NULL && len > 0) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    while (len > 0 && v->stage < ST_DONE) {
        size_t n = len;
        switch (v->stage) {
        case ST_HEADER:
        case ST_SEG_HDR: {
            uint32_t want =
                v->stage == ST_HEADER ? OTAKIT_IMAGE_HEADER_SIZE : OTAKIT_IMAGE_SEGMENT_HEADER_SIZE;
            if (n > want - v->field_pos) {
                n = want - v->field_pos;
            }
            memcpy(v->buf + v->field_pos, p, n);
            if (hash_update(v, p, n) != OTAKIT_OK) {
                return v->err;
            }
            v->field_pos += (uint32_t)n;
            v->pos += (uint32_t)n;
            if (v->stage == ST_HEADER && v->buf[0] != OTAKIT_IMAGE_MAGIC) {
                v->info.header.magic = v->buf[0]; /* known bad from the first byte */
                return fail(v, 0, "invalid magic byte", OTAKIT_ERR_IMAGE_INVALID);
            }
            if (v->field_pos == want) {
                otakit_err_t err =
                    v->stage == ST_HEADER ? parse_header(v) : parse_segment_header(v);
                if (err != OTAKIT_OK) {
                    return err;
                }
            }
            break;
        }
        case ST_SEG_DATA:
            if (n > v->seg_left) {
                n = v->seg_left;
            }
            v->checksum = xor_bytes(v->checksum, p, n);
            v->info.checksum_calc = v->checksum;
            capture_desc(v, p, n);
            if (hash_update(v, p, n) != OTAKIT_OK) {
                return v->err;
            }
            v->seg_left -= (uint32_t)n;
            v->pos += (uint32_t)n;
            if (v->seg_left == 0) {
                segment_done(v);
            }
            break;
        case ST_TRAILER:
            if (n > v->hashed_end - v->pos) {
                n = v->hashed_end - v->pos;
            }
            if (hash_update(v, p, n) != OTAKIT_OK) {
                return v->err;
            }
            v->pos += (uint32_t)n;
            if (v->pos == v->hashed_end && trailer_done(v, p[n - 1]) != OTAKIT_OK) {
                return v->err;
            }
            break;
        case ST_HASH:
            if (n > OTAKIT_IMAGE_HASH_LEN - v->field_pos) {
                n = OTAKIT_IMAGE_HASH_LEN - v->field_pos;
            }
            memcpy(v->info.hash_stored + v->field_pos, p, n);
            v->field_pos += (uint32_t)n;
            v->pos += (uint32_t)n;
            if (v->field_pos == OTAKIT_IMAGE_HASH_LEN) {
                v->info.hash_ok =
                    memcmp(v->info.hash_stored, v->info.hash_calc, OTAKIT_IMAGE_HASH_LEN) == 0;
                v->stage = ST_DONE;
            }
            break;
        default:
            break;
        }
        p += n;
        len -= n;
    }
    return OTAKIT_OK;
}

bool otakit_image_verifier_complete(const otakit_image_verifier_t *v)
{
    return (v->stage & ~ST_FINISHED) == ST_DONE;
}

otakit_err_t otakit_image_verifier_finish(otakit_image_verifier_t *v, otakit_image_info_t *info,
                                          otakit_diag_t *diag)
{
    if (!(v->stage & ST_FINISHED)) {
        if (v->err == OTAKIT_OK) {
            if (v->stage != ST_DONE) {
                fail(v, v->pos, "truncated image", OTAKIT_ERR_IMAGE_INVALID);
            } else if (v->diag.msg != NULL) {
                v->err = OTAKIT_ERR_IMAGE_INVALID; /* the mapping rule, noted earlier */
            } else if (!v->info.checksum_ok) {
                fail(v, v->hashed_end - 1, "checksum mismatch", OTAKIT_ERR_IMAGE_INVALID);
            } else if (hash_appended(v) && !v->info.hash_ok && !v->opts.skip_hash) {
                fail(v, v->hashed_end, "hash mismatch", OTAKIT_ERR_IMAGE_INVALID);
            }
        }
        hash_release(v, NULL); /* a verifier dropped before the checksum byte */
        v->stage |= ST_FINISHED;
    }
    if (info != NULL) {
        *info = v->info;
    }
    if (diag != NULL) {
        diag->offset = v->err != OTAKIT_OK ? v->diag.offset : 0;
        diag->msg = v->err != OTAKIT_OK ? v->diag.msg : NULL;
    }
    return v->err;
}

otakit_err_t otakit_image_verify_buf(const uint8_t *buf, size_t len,
                                     const otakit_image_opts_t *opts, otakit_image_info_t *info,
                                     otakit_diag_t *diag)
{
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, opts);
    otakit_image_verifier_feed(&v, buf, len);
    return otakit_image_verifier_finish(&v, info, diag);
}

otakit_err_t otakit_image_verify_flash(const otakit_flash_t *f, uint32_t addr,
                                       const otakit_image_opts_t *opts, otakit_image_info_t *info,
                                       otakit_diag_t *diag)
{
    if (f == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_image_verifier_t v;
    otakit_image_verifier_init(&v, opts);
    if (addr > f->size) {
        otakit_image_verifier_finish(&v, info, NULL);
        return otakit_diag_set(diag, 0, "flash read failed", OTAKIT_ERR_IMAGE_FLASH_FAIL);
    }
    uint32_t limit = f->size - addr;
    if (v.opts.max_size != 0 && v.opts.max_size < limit) {
        limit = v.opts.max_size;
    }
    uint8_t chunk[1024];
    uint32_t off = 0;
    while (off < limit && !otakit_image_verifier_complete(&v) && v.err == OTAKIT_OK) {
        uint32_t n = limit - off < sizeof(chunk) ? limit - off : (uint32_t)sizeof(chunk);
        if (otakit_flash_read(f, addr + off, chunk, n) != OTAKIT_OK) {
            otakit_image_verifier_finish(&v, info, NULL);
            return otakit_diag_set(diag, off, "flash read failed", OTAKIT_ERR_IMAGE_FLASH_FAIL);
        }
        otakit_image_verifier_feed(&v, chunk, n);
        off += n;
    }
    return otakit_image_verifier_finish(&v, info, diag);
}

otakit_err_t otakit_image_read_desc(const otakit_flash_t *f, uint32_t addr, otakit_app_desc_t *d)
{
    uint8_t buf[OTAKIT_APP_DESC_SIZE];
    if (f == NULL || d == NULL || addr > UINT32_MAX - OTAKIT_APP_DESC_OFFSET) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_err_t err = otakit_flash_read(f, addr + OTAKIT_APP_DESC_OFFSET, buf, sizeof(buf));
    if (err != OTAKIT_OK) {
        return err;
    }
    if (otakit_le32_get(buf) != OTAKIT_APP_DESC_MAGIC) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    otakit_app_desc_decode(d, buf);
    return OTAKIT_OK;
}
