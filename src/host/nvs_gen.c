/* ESP-IDF's NVS partition generator (esp-idf-nvs-partition-gen 0.2.0, format version 2)
 * rebuilt on its page-filling rules so that its output is matched byte for byte, and
 * nvs_tool.py's minimal JSON listing. */
#include "nvs_gen.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define PAGE OTAKIT_NVS_PAGE_SIZE
#define ENTRIES OTAKIT_NVS_ENTRY_COUNT
#define MAX_STR 4000u /* the generator's max_blob_size for strings (version 2) */
/* The largest blob whose index a device accepts (ESP-IDF's Item::checkHeaderConsistency:
 * 127 chunks of 4000 bytes); it never needs more chunks than version 0x00 has (0..0x7F). */
#define MAX_BLOB (127u * OTAKIT_NVS_CHUNK_MAX)

/* ------------------------------------------------------------ the writer ---- */

typedef struct gen {
    uint8_t *img;      /* page_max pages, 0xFF */
    uint32_t page_max; /* pages in the image */
    int32_t page;      /* current page index, -1 before the first */
    uint32_t entry;    /* entries used on the current page */
    uint32_t room;     /* the generator's remaining size (bytes of pages it may start) */
    uint32_t ns_count; /* namespaces written */
    char ns_names[255][OTAKIT_NVS_KEY_SIZE];
    bool wifi_extras; /* sta.* extras written */
    char *ap_ssid, *ap_passwd, *ap_authmode;
    char *err;
    size_t errlen;
    unsigned line;
} gen_t;

static int gen_fail(gen_t *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int gen_fail(gen_t *g, const char *fmt, ...)
{
    int n = snprintf(g->err, g->errlen, "line %u: ", g->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < g->errlen) {
        vsnprintf(g->err + n, g->errlen - (size_t)n, fmt, ap);
    }
    va_end(ap);
    return -1;
}

static uint8_t *cur_page(gen_t *g)
{
    return g->img + (size_t)g->page * PAGE;
}

/* NVS.create_new_page: the page before becomes FULL; a page header costs 4 KiB of room. */
static int new_page(gen_t *g)
{
    if (g->page >= 0) {
        uint8_t *p = cur_page(g);
        if (p[0] == 0xFE && p[1] == 0xFF && p[2] == 0xFF && p[3] == 0xFF) {
            p[0] = 0xFC;
        }
    }
    if (g->room == 0 || (uint32_t)(g->page + 1) >= g->page_max) {
        return gen_fail(g,
                        "the partition is too small for the data in the CSV (increase the size)");
    }
    g->room -= PAGE;
    g->page++;
    g->entry = 0;
    otakit_nvs_encode_header(cur_page(g), OTAKIT_NVS_PAGE_ACTIVE, (uint32_t)g->page,
                             OTAKIT_NVS_VERSION);
    return 0;
}

/* Page.write_entry_to_buf: bytes at the next entry, then one WRITTEN mark per entry. */
static void put(gen_t *g, const uint8_t *data, size_t len, uint32_t count)
{
    uint8_t *p = cur_page(g);
    memcpy(p + 64 + g->entry * 32, data, len);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t bit = g->entry * 2;
        p[32 + bit / 8] &= (uint8_t) ~(1u << (bit & 7));
        g->entry++;
    }
}

static void entry_head(uint8_t e[32], uint8_t ns, uint8_t type, const char *key)
{
    memset(e, 0xFF, 32);
    e[0] = ns;
    e[1] = type;
    memset(e + 8, 0, 16);
    memcpy(e + 8, key, strlen(key));
}

static int write_primitive(gen_t *g, const char *key, uint8_t type, uint64_t bits, uint8_t ns)
{
    if (g->entry >= ENTRIES && new_page(g) != 0) {
        return -1;
    }
    uint8_t e[32];
    entry_head(e, ns, type, key);
    e[2] = 1;
    e[3] = 0xFF;
    size_t n = otakit_nvs_int_size((otakit_nvs_type_t)type);
    for (size_t i = 0; i < n; i++) {
        e[24 + i] = (uint8_t)(bits >> (8 * i));
    }
    otakit_nvs_entry_seal(e);
    put(g, e, 32, 1);
    return 0;
}

static void var_fields(uint8_t e[32], const uint8_t *data, size_t len)
{
    e[24] = (uint8_t)len;
    e[25] = (uint8_t)(len >> 8);
    uint32_t crc = otakit_nvs_crc32(0xFFFFFFFFu, data, len);
    for (int i = 0; i < 4; i++) {
        e[28 + i] = (uint8_t)(crc >> (8 * i));
    }
    otakit_nvs_entry_seal(e);
}

/* Page.write_varlen_data for a string: one item on one page. */
static int write_string(gen_t *g, const char *key, const uint8_t *data, size_t len, uint8_t ns)
{
    if (len > MAX_STR) {
        return gen_fail(g, "size (%zu) exceeds max allowed length `%u` bytes for key `%s`", len,
                        MAX_STR, key);
    }
    uint32_t data_entries = (uint32_t)((len + 31) / 32);
    for (int attempt = 0;; attempt++) {
        if (g->entry < ENTRIES && g->entry + data_entries + 1 < ENTRIES) {
            break;
        }
        /* the generator retries once on a fresh page */
        if (attempt > 0) {
            return gen_fail(g, "key `%s`: a %zu-byte string does not fit in one page", key, len);
        }
        if (new_page(g) != 0) {
            return -1;
        }
    }
    uint8_t e[32];
    entry_head(e, ns, OTAKIT_NVS_STR, key);
    e[2] = (uint8_t)(data_entries + 1);
    e[3] = 0xFF;
    var_fields(e, data, len);
    put(g, e, 32, 1);
    put(g, data, len, data_entries);
    return 0;
}

/* Page.write_varlen_binary_data: chunks as the pages allow, then the index. */
static int write_blob(gen_t *g, const char *key, const uint8_t *data, size_t len, uint8_t ns)
{
    if (g->entry >= ENTRIES && new_page(g) != 0) {
        return -1;
    }
    if (len > MAX_BLOB) {
        /* The generator writes it; a device's init finds the index inconsistent and drops
         * the blob. */
        return gen_fail(g, "key `%s`: a %zu-byte blob is over the %u bytes a device keeps", key,
                        len, MAX_BLOB);
    }
    size_t offset = 0, remaining = len;
    uint8_t count = 0;
    for (;;) {
        size_t tailroom = (ENTRIES - g->entry - 1) * 32;
        size_t chunk = remaining < tailroom ? remaining : tailroom;
        remaining -= chunk;
        uint32_t data_entries = (uint32_t)((chunk + 31) / 32);
        uint8_t e[32];
        entry_head(e, ns, OTAKIT_NVS_TYPE_BLOB_DATA, key);
        e[2] = (uint8_t)(data_entries + 1);
        e[3] = count;
        var_fields(e, data + offset, chunk);
        put(g, e, 32, 1);
        put(g, data + offset, chunk, data_entries);
        count++;
        if (remaining || tailroom - chunk < 32) {
            if (new_page(g) != 0) {
                return -1;
            }
        }
        offset += chunk;
        if (!remaining) {
            entry_head(e, ns, OTAKIT_NVS_TYPE_BLOB_IDX, key);
            e[2] = 1;
            e[3] = 0xFF;
            for (int i = 0; i < 4; i++) {
                e[24 + i] = (uint8_t)(len >> (8 * i));
            }
            e[28] = count;
            e[29] = 0;
            otakit_nvs_entry_seal(e);
            put(g, e, 32, 1);
            return 0;
        }
    }
}

/* --------------------------------------------------------------- values ---- */

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes_t;

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int decode_hex(gen_t *g, const char *key, const uint8_t *s, size_t n, bytes_t *out)
{
    while (n > 0 && isspace(s[0])) {
        s++, n--;
    }
    while (n > 0 && isspace(s[n - 1])) {
        n--;
    }
    if (n % 2) {
        return gen_fail(g, "%s: Invalid data length. Should be multiple of 2.", key);
    }
    out->p = malloc(n / 2 + 1);
    if (out->p == NULL) {
        return gen_fail(g, "%s: out of memory", key);
    }
    out->n = n / 2;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return gen_fail(g, "%s: not a hexadecimal string", key);
        }
        out->p[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* binascii.a2b_base64 (non-strict): characters outside the alphabet are skipped. */
static int decode_b64(gen_t *g, const char *key, const uint8_t *s, size_t n, bytes_t *out)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out->p = malloc(n + 1);
    if (out->p == NULL) {
        return gen_fail(g, "%s: out of memory", key);
    }
    out->n = 0;
    uint32_t acc = 0;
    int bits = 0, quad = 0, pads = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            if (quad >= 2 && ++pads + quad >= 4) {
                break;
            }
            continue;
        }
        const char *q = s[i] ? strchr(A, s[i]) : NULL;
        if (q == NULL) {
            continue;
        }
        acc = (acc << 6) | (uint32_t)(q - A);
        bits += 6;
        quad = (quad + 1) % 4;
        pads = 0;
        if (bits >= 8) {
            bits -= 8;
            out->p[out->n++] = (uint8_t)(acc >> bits);
        }
    }
    if (quad == 1) {
        return gen_fail(g, "%s: invalid base64 (excess data)", key);
    }
    if (quad != 0 && pads == 0) {
        return gen_fail(g, "%s: invalid base64 (incorrect padding)", key);
    }
    return 0;
}

/* Python's int() of a decimal string: spaces around, a sign, '_' between digits. */
static int parse_int(const char *s, bool *neg, uint64_t *mag)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    *neg = false;
    if (*s == '+' || *s == '-') {
        *neg = *s == '-';
        s++;
    }
    if (!isdigit((unsigned char)*s)) {
        return -1;
    }
    uint64_t v = 0;
    bool prev_digit = false;
    for (; *s && !isspace((unsigned char)*s); s++) {
        if (*s == '_' && prev_digit && isdigit((unsigned char)s[1])) {
            prev_digit = false;
            continue;
        }
        if (!isdigit((unsigned char)*s)) {
            return -1;
        }
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -2;
        }
        v = v * 10 + d;
        prev_digit = true;
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s) {
        return -1;
    }
    *mag = v;
    return 0;
}

static int int_type(const char *enc, uint8_t *type)
{
    static const struct {
        const char *name;
        uint8_t type;
    } T[] = {{"u8", 0x01},  {"i8", 0x11},  {"u16", 0x02}, {"i16", 0x12},
             {"u32", 0x04}, {"i32", 0x14}, {"u64", 0x08}, {"i64", 0x18}};
    for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
        if (strcmp(enc, T[i].name) == 0) {
            *type = T[i].type;
            return 0;
        }
    }
    return -1;
}

/* NVS.write_entry: decode the value by its encoding and write it. */
static int write_value(gen_t *g, const char *key, const char *enc_in, const uint8_t *val,
                       size_t vlen, uint8_t ns)
{
    char enc[64];
    snprintf(enc, sizeof(enc), "%s", enc_in);
    for (char *c = enc; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    bytes_t b = {NULL, 0};
    int rc = -1;
    uint8_t type;
    if (strncmp(enc, "blob_fill(", 10) == 0 || strncmp(enc, "blob_sz_fill(", 13) == 0) {
        bool sz = enc[5] == 's';
        unsigned long length;
        unsigned pad;
        char close;
        if (sscanf(enc + (sz ? 13 : 10), "%lu;0x%2x%c", &length, &pad, &close) != 3 ||
            close != ')') {
            return gen_fail(g, "%s: Invalid encoding format.", enc_in);
        }
        if (vlen > length) {
            return gen_fail(g, "%s: Value length exceeds specified length.", key);
        }
        size_t head = sz ? 4 : 0;
        b.n = head + length;
        b.p = malloc(b.n + 1);
        if (sz) {
            for (int i = 0; i < 4; i++) {
                b.p[i] = (uint8_t)(vlen >> (8 * i));
            }
        }
        memcpy(b.p + head, val, vlen);
        memset(b.p + head + vlen, (int)pad, length - vlen);
        rc = write_blob(g, key, b.p, b.n, ns);
    } else if (strcmp(enc, "hex2bin") == 0) {
        rc = decode_hex(g, key, val, vlen, &b);
        if (rc == 0) {
            rc = write_blob(g, key, b.p, b.n, ns);
        }
    } else if (strcmp(enc, "base64") == 0) {
        rc = decode_b64(g, key, val, vlen, &b);
        if (rc == 0) {
            rc = write_blob(g, key, b.p, b.n, ns);
        }
    } else if (strcmp(enc, "binary") == 0) {
        rc = write_blob(g, key, val, vlen, ns);
    } else if (strcmp(enc, "string") == 0) {
        b.p = malloc(vlen + 1);
        memcpy(b.p, val, vlen);
        b.p[vlen] = 0;
        rc = write_string(g, key, b.p, vlen + 1, ns);
    } else if (int_type(enc, &type) == 0) {
        char *s = strndup((const char *)val, vlen);
        bool neg;
        uint64_t mag;
        int pr = parse_int(s, &neg, &mag);
        free(s);
        if (pr == -1) {
            return gen_fail(g, "%s: `%.*s` is not a decimal integer", key, (int)vlen,
                            (const char *)val);
        }
        unsigned bits = (unsigned)otakit_nvs_int_size((otakit_nvs_type_t)type) * 8;
        bool is_signed = type & 0x10;
        uint64_t umax = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
        uint64_t smax = ((uint64_t)1 << (bits - 1)) - 1;
        bool ok = pr == 0 && (is_signed ? (neg ? mag <= smax + 1 : mag <= smax)
                                        : (!neg || mag == 0) && mag <= umax);
        if (!ok) {
            return gen_fail(g, "%s: %.*s is out of range for %s", key, (int)vlen, (const char *)val,
                            enc);
        }
        uint64_t v = neg ? (uint64_t)0 - mag : mag;
        rc = write_primitive(g, key, type, v, ns);
    } else {
        return gen_fail(g, "%s: Unsupported encoding", enc_in);
    }
    free(b.p);
    return rc;
}

static int write_namespace(gen_t *g, const char *name, uint8_t *ns)
{
    for (uint32_t i = 0; i < g->ns_count; i++) {
        if (strcmp(g->ns_names[i], name) == 0) {
            *ns = (uint8_t)(i + 1);
            return 0;
        }
    }
    if (g->ns_count >= 254) {
        return gen_fail(g, "too many namespaces (254 at most)");
    }
    snprintf(g->ns_names[g->ns_count], OTAKIT_NVS_KEY_SIZE, "%s", name);
    g->ns_count++;
    *ns = (uint8_t)g->ns_count;
    return write_primitive(g, name, OTAKIT_NVS_U8, *ns, 0);
}

/* The generator's Wi-Fi rows: a sta.ssid or sta.pswd row also writes the records an
 * ESP32 Wi-Fi driver expects beside them (once), and ap.ssid + ap.passwd + a non-zero
 * ap.authmode add ap.pmk_info (PBKDF2-SHA1 of the passphrase, 4096 rounds). */
static int wifi_extras(gen_t *g, const char *key, const char *value, uint8_t ns, bool *done)
{
    *done = false;
    if (strcmp(key, "ap.ssid") == 0 || strcmp(key, "ap.passwd") == 0 ||
        strcmp(key, "ap.authmode") == 0) {
        char **slot = key[3] == 's' ? &g->ap_ssid : key[3] == 'p' ? &g->ap_passwd : &g->ap_authmode;
        if (slot != &g->ap_authmode || strcmp(value, "0") != 0) {
            free(*slot);
            *slot = strdup(value);
        }
        if (g->ap_ssid && *g->ap_ssid && g->ap_passwd && *g->ap_passwd && g->ap_authmode &&
            *g->ap_authmode) {
            uint8_t info[132];
            memset(info, 0, 100);
            if (PKCS5_PBKDF2_HMAC(g->ap_passwd, (int)strlen(g->ap_passwd),
                                  (const unsigned char *)g->ap_ssid, (int)strlen(g->ap_ssid), 4096,
                                  EVP_sha1(), 32, info + 100) != 1) {
                return gen_fail(g, "PBKDF2 failed for ap.pmk_info");
            }
            if (write_blob(g, "ap.pmk_info", info, sizeof(info), ns) != 0) {
                return -1;
            }
        }
        return 0;
    }
    if ((strcmp(key, "sta.ssid") == 0 || strcmp(key, "sta.pswd") == 0) && !g->wifi_extras) {
        *done = true;
        g->wifi_extras = true;
        return 0;
    }
    return 0;
}

static int write_sta_extras(gen_t *g, uint8_t ns)
{
    uint8_t apinfo[140], pmk[32], apsw[2];
    memset(apinfo, 0xFF, sizeof(apinfo));
    memset(pmk, 0, sizeof(pmk));
    memset(apsw, 0, sizeof(apsw));
    if (write_blob(g, "sta.apinfo", apinfo, sizeof(apinfo), ns) != 0 ||
        write_blob(g, "sta.pmk", pmk, sizeof(pmk), ns) != 0 ||
        write_blob(g, "sta.apsw", apsw, sizeof(apsw), ns) != 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ CSV ---- */

typedef struct csv {
    const char *s;
    size_t len, pos;
    unsigned line;
} csv_t;

/* One record of Python's csv module (excel dialect): fields separated by commas,
 * quoted fields with "" for a quote and line breaks kept. Lines whose first character
 * is '#' are dropped first, as the generator filters them. Returns the field count,
 * 0 at the end. */
static int csv_record(csv_t *c, char **fields, int max)
{
    for (;;) {
        if (c->pos >= c->len) {
            return 0;
        }
        if (c->s[c->pos] == '#' || c->s[c->pos] == '\n' || c->s[c->pos] == '\r') {
            while (c->pos < c->len && c->s[c->pos] != '\n') {
                c->pos++;
            }
            c->pos++;
            c->line++;
            continue;
        }
        break;
    }
    int n = 0;
    for (;;) {
        size_t cap = 64, flen = 0;
        char *f = malloc(cap);
        bool quoted = false;
        if (c->pos < c->len && c->s[c->pos] == '"') {
            quoted = true;
            c->pos++;
        }
        for (;;) {
            if (c->pos >= c->len) {
                break;
            }
            char ch = c->s[c->pos];
            if (quoted) {
                if (ch == '"') {
                    if (c->pos + 1 < c->len && c->s[c->pos + 1] == '"') {
                        c->pos += 2;
                        ch = '"';
                    } else {
                        quoted = false;
                        c->pos++;
                        continue;
                    }
                } else {
                    c->pos++;
                    if (ch == '\r' && c->pos < c->len && c->s[c->pos] == '\n') {
                        continue; /* text mode: \r\n reads as \n */
                    }
                    if (ch == '\n') {
                        c->line++;
                    }
                }
            } else {
                if (ch == ',' || ch == '\n' || ch == '\r') {
                    break;
                }
                c->pos++;
            }
            if (flen + 2 > cap) {
                cap *= 2;
                f = realloc(f, cap);
            }
            f[flen++] = ch;
        }
        f[flen] = '\0';
        if (n < max) {
            fields[n] = f;
        } else {
            free(f);
        }
        n++;
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == '\r') {
            c->pos++;
        }
        if (c->pos < c->len && c->s[c->pos] == '\n') {
            c->pos++;
        }
        c->line++;
        return n;
    }
}

static void free_fields(char **f, int n, int max)
{
    for (int i = 0; i < n && i < max; i++) {
        free(f[i]);
        f[i] = NULL;
    }
}

static int read_whole(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while ((k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

int otakit_nvs_gen(const char *csv_text, size_t csv_len, uint32_t size, uint8_t **out,
                   size_t *out_len, char *err, size_t errlen)
{
    gen_t g;
    memset(&g, 0, sizeof(g));
    g.err = err;
    g.errlen = errlen;
    g.page = -1;
    *out = NULL;
    *out_len = 0;
    if (size % PAGE != 0) {
        snprintf(err, errlen, "size 0x%" PRIx32 " is not a multiple of 4096", size);
        return -1;
    }
    if (size < PAGE) {
        snprintf(err, errlen,
                 "size 0x%" PRIx32 ": the smallest NVS partition is 0x1000 (read-only) or 0x3000",
                 size);
        return -1;
    }
    /* one page stays empty for the device's page reclaim, unless the partition is too
     * small to write at all (then the generator makes it read-only) */
    bool readonly = size - PAGE < 2 * PAGE;
    g.room = readonly ? size : size - PAGE;
    g.page_max = size / PAGE;
    g.img = malloc(size);
    memset(g.img, 0xFF, size);
    csv_t c = {csv_text, csv_len, 0, 1};
    char *f[8] = {0};
    int rc = -1;
    int col[4] = {-1, -1, -1, -1};
    static const char *NAMES[4] = {"key", "type", "encoding", "value"};
    g.line = c.line;
    int n = csv_record(&c, f, 8);
    if (n == 0) {
        snprintf(err, errlen, "the CSV is empty (expected the header key,type,encoding,value)");
        goto out;
    }
    for (int i = 0; i < n && i < 8; i++) {
        for (int k = 0; k < 4; k++) {
            if (strcmp(f[i], NAMES[k]) == 0) {
                col[k] = i;
            }
        }
    }
    free_fields(f, n, 8);
    for (int k = 0; k < 4; k++) {
        if (col[k] < 0) {
            gen_fail(&g, "the header has no `%s` column (expected key,type,encoding,value)",
                     NAMES[k]);
            goto out;
        }
    }
    if (new_page(&g) != 0) {
        goto out;
    }
    uint8_t ns = 0;
    bool have_ns = false;
    for (;;) {
        g.line = c.line;
        n = csv_record(&c, f, 8);
        if (n == 0) {
            break;
        }
        const char *key = col[0] < n ? f[col[0]] : "";
        const char *type = col[1] < n ? f[col[1]] : "";
        const char *enc = col[2] < n ? f[col[2]] : "";
        const char *value = col[3] < n ? f[col[3]] : "";
        int r = 0;
        if (strlen(key) > 15) {
            r = gen_fail(&g, "Length of key `%s` should be <= 15 characters.", key);
        } else if (strcmp(type, "namespace") == 0) {
            r = write_namespace(&g, key, &ns);
            have_ns = true;
        } else if (!have_ns) {
            r = gen_fail(&g, "key `%s` comes before any namespace row", key);
        } else {
            bool sta_first;
            r = wifi_extras(&g, key, value, ns, &sta_first);
            uint8_t *data = (uint8_t *)value;
            size_t dlen = strlen(value);
            uint8_t *file = NULL;
            if (r == 0 && strcmp(type, "file") == 0) {
                if (read_whole(value, &file, &dlen) != 0) {
                    r = gen_fail(&g, "key `%s`: cannot read file %s: %s", key, value,
                                 strerror(errno));
                }
                data = file;
            }
            if (r == 0) {
                r = write_value(&g, key, enc, data, dlen, ns);
            }
            if (r == 0 && sta_first) {
                r = write_sta_extras(&g, ns);
            }
            free(file);
        }
        free_fields(f, n, 8);
        if (r != 0) {
            goto out;
        }
    }
    if (readonly) {
        *out_len = (size_t)(g.page + 1) * PAGE;
    } else {
        *out_len = size;
    }
    *out = g.img;
    g.img = NULL;
    rc = 0;
out:
    free(g.img);
    free(g.ap_ssid);
    free(g.ap_passwd);
    free(g.ap_authmode);
    return rc;
}

/* -------------------------------------------------------------- listing ---- */

char *otakit_base64(const uint8_t *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out != NULL) {
        EVP_EncodeBlock((unsigned char *)out, in, (int)n); /* NUL-terminated, no newlines */
    }
    return out;
}

static cJSON *int_json(const otakit_nvs_item_t *it)
{
    size_t n = otakit_nvs_int_size((otakit_nvs_type_t)it->type);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)it->data[i] << (8 * i);
    }
    char buf[32];
    if (it->type & 0x10) {
        int64_t s = n == 8
                        ? (int64_t)v
                        : (int64_t)(v ^ ((uint64_t)1 << (8 * n - 1))) - ((int64_t)1 << (8 * n - 1));
        snprintf(buf, sizeof(buf), "%" PRId64, s);
    } else {
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
    }
    return cJSON_CreateRaw(buf); /* exact, where a double would round 64-bit values */
}

cJSON *otakit_nvs_listing(otakit_nvs_t *nvs)
{
    cJSON *arr = cJSON_CreateArray();
    otakit_nvs_iter_t iter = {0, 0};
    otakit_nvs_item_t it;
    while (otakit_nvs_next(nvs, &iter, &it) == OTAKIT_OK) {
        if (it.ns == 0 || it.type == OTAKIT_NVS_TYPE_BLOB_IDX) {
            continue;
        }
        char ns_name[OTAKIT_NVS_KEY_SIZE];
        if (otakit_nvs_ns_name(nvs, it.ns, ns_name) != OTAKIT_OK) {
            continue; /* nvs_tool lists only values of known namespaces */
        }
        cJSON *data;
        if (otakit_nvs_int_size((otakit_nvs_type_t)it.type) > 0) {
            data = int_json(&it);
        } else {
            uint8_t *buf = malloc(it.size + 1);
            otakit_err_t err =
                buf == NULL ? OTAKIT_ERR_NO_MEM : otakit_nvs_read_item_data(nvs, &it, buf, it.size);
            /* nvs_tool.py lists the data whatever its CRC says */
            if (err != OTAKIT_OK && err != OTAKIT_ERR_INVALID_CRC) {
                free(buf);
                cJSON_Delete(arr);
                return NULL;
            }
            if (it.type == OTAKIT_NVS_STR) {
                size_t n = it.size;
                while (n > 0 && buf[n - 1] == 0) {
                    n--; /* nvs_tool strips trailing NULs */
                }
                buf[n] = 0;
                data = cJSON_CreateString((const char *)buf);
            } else {
                char *b64 = otakit_base64(buf, it.size);
                data = cJSON_CreateString(b64);
                free(b64);
            }
            free(buf);
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "namespace", ns_name);
        cJSON_AddStringToObject(o, "key", it.key);
        cJSON_AddStringToObject(o, "encoding", otakit_nvs_encoding_name(it.type));
        cJSON_AddItemToObject(o, "data", data);
        cJSON_AddStringToObject(o, "state", "Written");
        cJSON_AddFalseToObject(o, "is_empty");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
