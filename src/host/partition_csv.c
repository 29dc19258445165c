/* ESP-IDF partition CSV, following gen_esp32part.py v1.5 rule by rule (spec §3). The
 * comments name the Python behaviour each piece reproduces; the byte-exact bar is the
 * vectors in tests/vectors/data/partition. */
#include "partition_csv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARTITION_TABLE_SIZE 0x1000
#define NVS_RW_MIN_PARTITION_SIZE 0x3000
#define OTADATA_SIZE 0x2000
/* Python integers are unbounded; values beyond this are refused as out of range, which
 * keeps every sum and product below in int64_t. */
#define VALUE_LIMIT ((int64_t)1 << 60)

#define TYPE_APP 0
#define TYPE_DATA 1
#define TYPE_BOOTLOADER 2
#define TYPE_PARTITION_TABLE 3
#define SUBTYPE_PRIMARY 0
#define SUBTYPE_RECOVERY 2
#define SUBTYPE_DATA_OTA 0x00
#define SUBTYPE_DATA_NVS 0x02
#define SUBTYPE_DATA_COREDUMP 0x03
#define SUBTYPE_DATA_UNDEFINED 0x06
#define SUBTYPE_DATA_TEE_OTA 0x90

/* Python's '0x%x' of a possibly negative int ("0x-10" for -16). */
#define PYHEX "0x%s%" PRIx64
#define PYHEX_ARG(v) ((v) < 0 ? "-" : ""), (uint64_t)((v) < 0 ? -(v) : (v))
/* Our own messages write negative numbers the usual way ("-0x10"). */
#define SHEX "%s0x%" PRIx64

struct kw {
    const char *name;
    int64_t value;
};

/* gen_esp32part.py's dictionaries, in their order (it matters for "Known keywords"). */
static const struct kw TYPE_KW[] = {
    {"bootloader", TYPE_BOOTLOADER},
    {"partition_table", TYPE_PARTITION_TABLE},
    {"app", TYPE_APP},
    {"data", TYPE_DATA},
};
static const struct kw BOOTLOADER_KW[] = {{"primary", 0x00}, {"ota", 0x01}, {"recovery", 0x02}};
static const struct kw PARTITION_TABLE_KW[] = {{"primary", 0x00}, {"ota", 0x01}};
static const struct kw APP_KW[] = {
    {"factory", 0x00}, {"test", 0x20},   {"ota_0", 0x10},  {"ota_1", 0x11},  {"ota_2", 0x12},
    {"ota_3", 0x13},   {"ota_4", 0x14},  {"ota_5", 0x15},  {"ota_6", 0x16},  {"ota_7", 0x17},
    {"ota_8", 0x18},   {"ota_9", 0x19},  {"ota_10", 0x1A}, {"ota_11", 0x1B}, {"ota_12", 0x1C},
    {"ota_13", 0x1D},  {"ota_14", 0x1E}, {"ota_15", 0x1F}, {"tee_0", 0x30},  {"tee_1", 0x31},
};
static const struct kw DATA_KW[] = {
    {"ota", 0x00},      {"phy", 0x01},    {"nvs", 0x02},       {"coredump", 0x03},
    {"nvs_keys", 0x04}, {"efuse", 0x05},  {"undefined", 0x06}, {"esphttpd", 0x80},
    {"fat", 0x81},      {"spiffs", 0x82}, {"littlefs", 0x83},  {"tee_ota", 0x90},
};

#define NKW(a) (sizeof(a) / sizeof((a)[0]))

static const struct kw *subtype_keywords(int64_t type, size_t *n)
{
    switch (type) {
    case TYPE_APP:
        *n = NKW(APP_KW);
        return APP_KW;
    case TYPE_DATA:
        *n = NKW(DATA_KW);
        return DATA_KW;
    case TYPE_BOOTLOADER:
        *n = NKW(BOOTLOADER_KW);
        return BOOTLOADER_KW;
    case TYPE_PARTITION_TABLE:
        *n = NKW(PARTITION_TABLE_KW);
        return PARTITION_TABLE_KW;
    default:
        *n = 0;
        return NULL;
    }
}

/* One CSV line being resolved; Python ints, so signed and wide. */
struct row {
    char *name;
    int64_t type, subtype, offset, size;
    bool has_offset;
    bool encrypted, readonly;
    unsigned line;
    size_t index;
};

/* ---- small helpers ---------------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

static int set_error(otakit_partition_csv_error_t *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_error(otakit_partition_csv_error_t *err, unsigned line, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        err->line = line;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static char *dup_span(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int64_t pymod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* ---- text decoding (gen_esp32part.py get_encoding + bytes.decode) ------------------- */

static void put_utf8(struct sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_put(b, u, n);
}

/* Length of the valid UTF-8 sequence at s (Python's strict decoder), 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) {
            lo = 0xA0;
        } else if (c == 0xED) {
            hi = 0x9F;
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) {
            lo = 0x90;
        } else if (c == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

static int decode_utf16(const uint8_t *in, size_t len, bool be, struct sbuf *out,
                        otakit_partition_csv_error_t *err)
{
    if (len % 2 != 0) {
        return set_error(err, 0, "cannot decode UTF-16 text: truncated data");
    }
    for (size_t i = 0; i < len; i += 2) {
        uint32_t u = be ? (uint32_t)(in[i] << 8 | in[i + 1]) : (uint32_t)(in[i + 1] << 8 | in[i]);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 3 >= len) {
                return set_error(err, 0, "cannot decode UTF-16 text: unpaired surrogate");
            }
            uint32_t u2 = be ? (uint32_t)(in[i + 2] << 8 | in[i + 3])
                             : (uint32_t)(in[i + 3] << 8 | in[i + 2]);
            if (u2 < 0xDC00 || u2 > 0xDFFF) {
                return set_error(err, 0, "cannot decode UTF-16 text: unpaired surrogate");
            }
            u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
            i += 2;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return set_error(err, 0, "cannot decode UTF-16 text: unpaired surrogate");
        }
        put_utf8(out, u);
    }
    return 0;
}

static int decode_utf32be(const uint8_t *in, size_t len, struct sbuf *out,
                          otakit_partition_csv_error_t *err)
{
    if (len % 4 != 0) {
        return set_error(err, 0, "cannot decode UTF-32 text: truncated data");
    }
    for (size_t i = 0; i < len; i += 4) {
        uint32_t u = (uint32_t)in[i] << 24 | (uint32_t)in[i + 1] << 16 | (uint32_t)in[i + 2] << 8 |
                     in[i + 3];
        if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF)) {
            return set_error(err, 0, "cannot decode UTF-32 text: code point out of range");
        }
        put_utf8(out, u);
    }
    return 0;
}

/* Into UTF-8, BOM removed. The BOM order is gen_esp32part.py's: FF FE wins over
 * FF FE 00 00, so UTF-32 LE is read as UTF-16, as the tool does. */
static int decode_text(const uint8_t *in, size_t len, struct sbuf *out,
                       otakit_partition_csv_error_t *err)
{
    int rc = 0;
    if (len >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF) {
        in += 3;
        len -= 3;
    } else if (len >= 2 && in[0] == 0xFF && in[1] == 0xFE) {
        rc = decode_utf16(in + 2, len - 2, false, out, err);
        goto done;
    } else if (len >= 2 && in[0] == 0xFE && in[1] == 0xFF) {
        rc = decode_utf16(in + 2, len - 2, true, out, err);
        goto done;
    } else if (len >= 4 && in[0] == 0 && in[1] == 0 && in[2] == 0xFE && in[3] == 0xFF) {
        rc = decode_utf32be(in + 4, len - 4, out, err);
        goto done;
    }
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(in + i, len - i);
        if (n == 0) {
            return set_error(err, 0, "byte offset 0x%zx: not valid UTF-8 text", i);
        }
        i += n;
    }
    sb_put(out, (const char *)in, len);
done:
    if (rc == 0 && out->p == NULL) {
        sb_put(out, "", 0);
    }
    if (rc == 0 && out->oom) {
        return set_error(err, 0, "out of memory");
    }
    return rc;
}

/* ---- str.splitlines / str.strip ------------------------------------------------------ */

/* Length of a line break at s[i] as str.splitlines() sees it, 0 if none. */
static size_t line_break(const uint8_t *s, size_t i, size_t n)
{
    uint8_t c = s[i];
    if (c == '\n' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E) {
        return 1;
    }
    if (c == '\r') {
        return (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    }
    if (c == 0xC2 && i + 1 < n && s[i + 1] == 0x85) {
        return 2;
    }
    if (c == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
        return 3;
    }
    return 0;
}

/* Length of a str.isspace() character starting at s (n bytes available), 0 if none. */
static size_t space_at(const uint8_t *s, size_t n)
{
    if (n >= 1 && ((s[0] >= 0x09 && s[0] <= 0x0D) || (s[0] >= 0x1C && s[0] <= 0x20))) {
        return 1;
    }
    if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0)) {
        return 2;
    }
    if (n >= 3) {
        if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) {
            return 3; /* U+1680 */
        }
        if (s[0] == 0xE2 && s[1] == 0x80 &&
            (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF)) {
            return 3; /* U+2000..200A, 2028, 2029, 202F */
        }
        if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) {
            return 3; /* U+205F */
        }
        if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) {
            return 3; /* U+3000 */
        }
    }
    return 0;
}

static void strip(const char **sp, size_t *np)
{
    const uint8_t *s = (const uint8_t *)*sp;
    size_t n = *np, k;
    while (n > 0 && (k = space_at(s, n)) != 0) {
        s += k;
        n -= k;
    }
    for (;;) {
        if (n >= 1 && space_at(s + n - 1, 1) == 1) {
            n -= 1;
        } else if (n >= 2 && space_at(s + n - 2, 2) == 2) {
            n -= 2;
        } else if (n >= 3 && space_at(s + n - 3, 3) == 3) {
            n -= 3;
        } else {
            break;
        }
    }
    *sp = (const char *)s;
    *np = n;
}

/* ---- os.path.expandvars and the "unknown variable" check ------------------------------ */

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static const char *env_lookup(const char *name, size_t n)
{
    if (n == 0 || memchr(name, '=', n) != NULL) {
        return NULL;
    }
    char *z = dup_span(name, n);
    if (z == NULL) {
        return NULL;
    }
    const char *v = getenv(z);
    free(z);
    return v;
}

/* "$NAME" (ASCII word characters) and "${anything}" are replaced when the variable is
 * set and kept as written when not; a replacement is not scanned again. */
static void expand_vars(const char *s, size_t n, struct sbuf *out)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] == '$' && i + 1 < n) {
            size_t name = 0, name_len = 0, end = 0;
            if (is_word(s[i + 1])) {
                size_t k = i + 1;
                while (k < n && is_word(s[k])) {
                    k++;
                }
                name = i + 1;
                name_len = k - name;
                end = k;
            } else if (s[i + 1] == '{') {
                const char *close = memchr(s + i + 2, '}', n - (i + 2));
                if (close != NULL) {
                    name = i + 2;
                    name_len = (size_t)(close - (s + name));
                    end = (size_t)(close - s) + 1;
                }
            }
            if (end != 0) {
                const char *v = env_lookup(s + name, name_len);
                if (v != NULL) {
                    sb_puts(out, v);
                } else {
                    sb_put(out, s + i, end - i);
                }
                i = end;
                continue;
            }
        }
        sb_put(out, s + i, 1);
        i++;
    }
    if (out->p == NULL) {
        sb_put(out, "", 0);
    }
}

/* ---- parse_int: int(x, 0) with K/M suffixes and keyword lookup ------------------------ */

enum { PI_OK = 0, PI_VALUE, PI_RANGE };

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A' + 10;
    }
    return 99;
}

/* Python's int(s, 0) for ASCII input. */
static int py_int(const char *s, size_t n, int64_t *out)
{
    strip(&s, &n);
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    int base = 10;
    bool prefixed = false;
    if (n >= 2 && s[0] == '0') {
        char p = (char)(s[1] | 0x20);
        if (p == 'x' || p == 'o' || p == 'b') {
            base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
            prefixed = true;
            s += 2;
            n -= 2;
        }
    }
    size_t i = 0;
    if (prefixed && n > 0 && s[0] == '_') {
        i = 1; /* "0x_10" is allowed */
    }
    if (i >= n) {
        return PI_VALUE;
    }
    bool range = false, nonzero = false;
    uint64_t v = 0;
    bool prev_digit = false;
    for (; i < n; i++) {
        if (s[i] == '_') {
            if (!prev_digit) {
                return PI_VALUE;
            }
            prev_digit = false;
            continue;
        }
        int d = digit_value(s[i]);
        if (d >= base) {
            return PI_VALUE;
        }
        if (d != 0) {
            nonzero = true;
        }
        prev_digit = true;
        if (!range) {
            v = v * (uint64_t)base + (uint64_t)d;
            if (v > (uint64_t)VALUE_LIMIT) {
                range = true;
            }
        }
    }
    if (!prev_digit) {
        return PI_VALUE; /* trailing underscore */
    }
    /* Decimal with a leading zero: only zeros ("00", "0_0") are allowed. */
    if (!prefixed && s[0] == '0' && nonzero) {
        return PI_VALUE;
    }
    if (range) {
        return PI_RANGE;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return PI_OK;
}

static int parse_int(const char *v, size_t n, const struct kw *kws, size_t nkw, int64_t *out,
                     unsigned line, otakit_partition_csv_error_t *err)
{
    /* The suffix is taken off and the rest parsed the same way, so "1KK" is 1M and a
     * keyword can carry one too ("appk" is 0 x 1024). */
    if (n > 0 && ((v[n - 1] | 0x20) == 'k' || (v[n - 1] | 0x20) == 'm')) {
        int64_t mult = (v[n - 1] | 0x20) == 'k' ? 1024 : 1024 * 1024, r;
        if (parse_int(v, n - 1, kws, nkw, &r, line, err) != 0) {
            return -1;
        }
        if (r > VALUE_LIMIT / mult || r < -VALUE_LIMIT / mult) {
            return set_error(err, line, "Value %.*s is out of range", (int)n, v);
        }
        *out = r * mult;
        return 0;
    }
    int rc = py_int(v, n, out);
    if (rc == PI_OK) {
        return 0;
    }
    if (rc == PI_RANGE) {
        return set_error(err, line, "Value %.*s is out of range", (int)n, v);
    }
    if (nkw == 0) {
        return set_error(err, line, "Invalid field value %.*s", (int)n, v);
    }
    for (size_t k = 0; k < nkw; k++) {
        const char *name = kws[k].name;
        size_t len = strlen(name), j = 0;
        if (len != n) {
            continue;
        }
        while (j < n && (v[j] >= 'A' && v[j] <= 'Z' ? v[j] + 32 : v[j]) == name[j]) {
            j++;
        }
        if (j == n) {
            *out = kws[k].value;
            return 0;
        }
    }
    char known[512];
    size_t used = 0;
    known[0] = '\0';
    for (size_t k = 0; k < nkw && used < sizeof(known); k++) {
        int w = snprintf(known + used, sizeof(known) - used, "%s%s", k ? ", " : "", kws[k].name);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
    return set_error(err, line, "Value '%.*s' is not valid. Known keywords: %s", (int)n, v, known);
}

/* ---- one CSV line (PartitionDefinition.from_csv) -------------------------------------- */

struct field {
    const char *s;
    size_t n;
};

static bool is_primary_boot_or_table(const struct row *r)
{
    return (r->type == TYPE_BOOTLOADER || r->type == TYPE_PARTITION_TABLE) &&
           r->subtype == SUBTYPE_PRIMARY;
}

static int parse_line(const char *s, size_t n, unsigned line,
                      const otakit_partition_csv_options_t *opt, struct row *r,
                      otakit_partition_csv_error_t *err)
{
    /* line + ",,,," split on ',' and each field stripped: fields past the line's own
     * are empty, extra fields are ignored. */
    struct field f[6];
    size_t commas = 0, start = 0;
    for (size_t k = 0; k < 6; k++) {
        f[k].s = s + n;
        f[k].n = 0;
    }
    for (size_t i = 0; i <= n && commas < 6; i++) {
        if (i == n || s[i] == ',') {
            f[commas].s = s + start;
            f[commas].n = i - start;
            strip(&f[commas].s, &f[commas].n);
            commas++;
            start = i + 1;
        }
    }

    memset(r, 0, sizeof(*r));
    r->line = line;
    r->name = dup_span(f[0].s, f[0].n);
    if (r->name == NULL) {
        return set_error(err, line, "out of memory");
    }

    /* Type. */
    if (f[1].n == 0) {
        return set_error(err, line, "Field 'type' can't be left empty.");
    }
    if (parse_int(f[1].s, f[1].n, TYPE_KW, NKW(TYPE_KW), &r->type, line, err) != 0) {
        return -1;
    }
    /* Subtype: empty means "undefined" except for apps. */
    if (f[2].n == 0) {
        if (r->type == TYPE_APP) {
            return set_error(err, line, "App partition cannot have an empty subtype");
        }
        r->subtype = SUBTYPE_DATA_UNDEFINED;
    } else {
        size_t nkw;
        const struct kw *kws = subtype_keywords(r->type, &nkw);
        if (parse_int(f[2].s, f[2].n, kws, nkw, &r->subtype, line, err) != 0) {
            return -1;
        }
    }
    /* Offset: forced for the primary bootloader / recovery bootloader / primary table. */
    if (r->type == TYPE_BOOTLOADER && r->subtype == SUBTYPE_PRIMARY) {
        if (!opt->has_primary_bootloader_offset) {
            return set_error(err, line, "Primary bootloader offset is not provided");
        }
        r->offset = opt->primary_bootloader_offset;
        r->has_offset = true;
    } else if (r->type == TYPE_BOOTLOADER && r->subtype == SUBTYPE_RECOVERY) {
        if (!opt->has_recovery_bootloader_offset) {
            return set_error(err, line, "Recovery bootloader offset is not provided");
        }
        r->offset = opt->recovery_bootloader_offset;
        r->has_offset = true;
    } else if (r->type == TYPE_PARTITION_TABLE && r->subtype == SUBTYPE_PRIMARY) {
        r->offset = opt->table_offset;
        r->has_offset = true;
    } else if (f[3].n != 0) {
        if (parse_int(f[3].s, f[3].n, NULL, 0, &r->offset, line, err) != 0) {
            return -1;
        }
        r->has_offset = true;
    }
    /* Size: forced for bootloader and partition_table types. */
    if (r->type == TYPE_BOOTLOADER) {
        if (!opt->has_primary_bootloader_offset) {
            return set_error(err, line, "Primary bootloader offset is not provided");
        }
        r->size = (int64_t)opt->table_offset - (int64_t)opt->primary_bootloader_offset;
    } else if (r->type == TYPE_PARTITION_TABLE) {
        r->size = PARTITION_TABLE_SIZE;
    } else if (f[4].n == 0) {
        return set_error(err, line, "Size field can't be empty");
    } else if (parse_int(f[4].s, f[4].n, NULL, 0, &r->size, line, err) != 0) {
        return -1;
    }
    /* Flags: colon separated, not stripped (as the tool does). */
    const char *fl = f[5].s, *end = f[5].s + f[5].n;
    while (fl <= end) {
        const char *colon = memchr(fl, ':', (size_t)(end - fl));
        const char *stop = colon ? colon : end;
        size_t len = (size_t)(stop - fl);
        if (len == 9 && memcmp(fl, "encrypted", 9) == 0) {
            r->encrypted = true;
        } else if (len == 8 && memcmp(fl, "readonly", 8) == 0) {
            r->readonly = true;
        } else if (len > 0) {
            return set_error(err, line, "CSV flag column contains unknown flag '%.*s'", (int)len,
                             fl);
        }
        if (colon == NULL) {
            break;
        }
        fl = colon + 1;
    }
    return 0;
}

/* ---- whole-table rules (PartitionTable.from_csv fix-ups and verify()) ----------------- */

static int64_t offset_alignment(int64_t type)
{
    return type == TYPE_APP ? 0x10000 : 0x1000;
}

static bool same_definition(const struct row *a, const struct row *b)
{
    /* PartitionDefinition.__eq__: name, type, subtype, offset, size. */
    return strcmp(a->name, b->name) == 0 && a->type == b->type && a->subtype == b->subtype &&
           a->offset == b->offset && a->size == b->size;
}

static int place_offsets(struct row *rows, size_t n, const otakit_partition_csv_options_t *opt,
                         otakit_partition_csv_error_t *err)
{
    int64_t last_end = (int64_t)opt->table_offset + PARTITION_TABLE_SIZE;
    for (size_t i = 0; i < n; i++) {
        struct row *e = &rows[i];
        if (is_primary_boot_or_table(e)) {
            continue; /* forced offsets, they take no part in the placement */
        }
        if (e->has_offset && e->offset < last_end) {
            if (same_definition(e, &rows[0])) {
                return set_error(err, e->line,
                                 "Partitions overlap. Partition sets offset " PYHEX
                                 ". But partition "
                                 "table occupies the whole sector 0x%" PRIx32
                                 ". Use a free offset " PYHEX " or higher.",
                                 PYHEX_ARG(e->offset), opt->table_offset, PYHEX_ARG(last_end));
            }
            return set_error(err, e->line,
                             "Partitions overlap. Partition sets offset " PYHEX
                             ". Previous partition ends " PYHEX,
                             PYHEX_ARG(e->offset), PYHEX_ARG(last_end));
        }
        if (!e->has_offset) {
            int64_t pad_to = offset_alignment(e->type);
            if (pymod(last_end, pad_to) != 0) {
                last_end += pad_to - pymod(last_end, pad_to);
            }
            e->offset = last_end;
            e->has_offset = true;
        }
        if (e->size < 0) {
            e->size = -e->size - e->offset; /* "-N": ends at absolute address N */
        }
        last_end = e->offset + e->size;
    }
    return 0;
}

static int verify_partition(const struct row *p, otakit_partition_csv_error_t *err)
{
    int64_t align = offset_alignment(p->type);
    if (pymod(p->offset, align) != 0) {
        return set_error(err, p->line,
                         "Partition %s invalid: Offset " PYHEX " is not aligned to 0x%" PRIx64,
                         p->name, PYHEX_ARG(p->offset), (uint64_t)align);
    }
    if (p->type == TYPE_APP && pymod(p->size, 0x1000) != 0) {
        return set_error(err, p->line,
                         "Partition %s invalid: Size " PYHEX " is not aligned to 0x1000", p->name,
                         PYHEX_ARG(p->size));
    }
    if (p->type == TYPE_DATA &&
        (p->subtype == SUBTYPE_DATA_OTA || p->subtype == SUBTYPE_DATA_COREDUMP) && p->readonly) {
        return set_error(err, p->line,
                         "Partition %s invalid: '%s' partition of type %" PRId64
                         " and subtype %" PRId64 " is always read-write and cannot be read-only",
                         p->name, p->name, p->type, p->subtype);
    }
    if (p->type == TYPE_DATA && p->subtype == SUBTYPE_DATA_NVS &&
        p->size < NVS_RW_MIN_PARTITION_SIZE && !p->readonly) {
        return set_error(
            err, p->line,
            "Partition %s invalid: '%s' partition of type %" PRId64 " and subtype %" PRId64
            " of this size (" PYHEX ") must be flagged as 'readonly' (the size of "
            "read/write NVS has to be at least 0x%x)",
            p->name, p->name, p->type, p->subtype, PYHEX_ARG(p->size), NVS_RW_MIN_PARTITION_SIZE);
    }
    return 0;
}

static int cmp_by_name(const void *a, const void *b)
{
    const struct row *ra = *(const struct row *const *)a, *rb = *(const struct row *const *)b;
    int c = strcmp(ra->name, rb->name);
    if (c != 0) {
        return c;
    }
    return ra->index < rb->index ? -1 : ra->index > rb->index;
}

static int cmp_by_offset(const void *a, const void *b)
{
    /* sorted(key=offset) is stable: ties keep the CSV order. */
    const struct row *ra = *(const struct row *const *)a, *rb = *(const struct row *const *)b;
    if (ra->offset != rb->offset) {
        return ra->offset < rb->offset ? -1 : 1;
    }
    return ra->index < rb->index ? -1 : ra->index > rb->index;
}

static int verify_unique_data(const struct row *rows, size_t n, int64_t subtype, const char *what,
                              otakit_partition_csv_error_t *err)
{
    const struct row *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].type != TYPE_DATA || rows[i].subtype != subtype) {
            continue;
        }
        if (first != NULL) {
            if (subtype == SUBTYPE_DATA_OTA) {
                return set_error(
                    err, rows[i].line,
                    "Found multiple otadata partitions. Only one partition can be defined "
                    "with type=\"data\"(1) and subtype=\"ota\"(0). (first at line %u)",
                    first->line);
            }
            return set_error(
                err, rows[i].line,
                "Found multiple TEE otadata partitions. Only one partition can be defined "
                "with type=\"data\"(1) and subtype=\"tee_ota\"(0x90). (first at line %u)",
                first->line);
        }
        first = &rows[i];
    }
    if (first != NULL && first->size != OTADATA_SIZE) {
        return set_error(err, first->line, "%s partition must have size = 0x2000", what);
    }
    return 0;
}

static int verify_table(struct row *rows, size_t n, const otakit_partition_csv_options_t *opt,
                        otakit_partition_csv_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        if (verify_partition(&rows[i], err) != 0) {
            return -1;
        }
    }
    if (n == 0) {
        return 0;
    }
    const struct row **sorted = malloc(n * sizeof(*sorted));
    if (sorted == NULL) {
        return set_error(err, 0, "out of memory");
    }
    int rc = 0;
    /* Duplicate names: report the earliest line that repeats a name. */
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &rows[i];
    }
    qsort(sorted, n, sizeof(*sorted), cmp_by_name);
    const struct row *dup = NULL, *orig = NULL;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i]->name, sorted[i - 1]->name) == 0 &&
            (dup == NULL || sorted[i]->index < dup->index)) {
            dup = sorted[i];
            size_t k = i - 1;
            while (k > 0 && strcmp(sorted[k - 1]->name, dup->name) == 0) {
                k--;
            }
            orig = sorted[k];
        }
    }
    if (dup != NULL) {
        rc = set_error(err, dup->line,
                       "Partition names must be unique: '%s' is also defined at line %u", dup->name,
                       orig->line);
        goto out;
    }
    /* Overlaps, in offset order. */
    for (size_t i = 0; i < n; i++) {
        sorted[i] = &rows[i];
    }
    qsort(sorted, n, sizeof(*sorted), cmp_by_offset);
    int64_t first_free = (int64_t)opt->table_offset + PARTITION_TABLE_SIZE;
    for (size_t i = 0; i < n; i++) {
        const struct row *p = sorted[i];
        if (p->offset < first_free && !is_primary_boot_or_table(p)) {
            rc = set_error(err, p->line, "Partition offset " PYHEX " is below 0x%" PRIx64,
                           PYHEX_ARG(p->offset), (uint64_t)first_free);
            goto out;
        }
        if (i > 0) {
            const struct row *last = sorted[i - 1];
            if (p->offset < last->offset + last->size) {
                rc = set_error(err, p->line,
                               "Partition at " PYHEX " overlaps " PYHEX "-" PYHEX " (%s, line %u)",
                               PYHEX_ARG(p->offset), PYHEX_ARG(last->offset),
                               PYHEX_ARG(last->offset + last->size - 1), last->name, last->line);
                goto out;
            }
        }
    }
    if (verify_unique_data(rows, n, SUBTYPE_DATA_OTA, "otadata", err) != 0 ||
        verify_unique_data(rows, n, SUBTYPE_DATA_TEE_OTA, "TEE otadata", err) != 0) {
        rc = -1;
    }
out:
    free(sorted);
    return rc;
}

static int check_flash_size(const struct row *rows, size_t n, uint32_t flash_size,
                            otakit_partition_csv_error_t *err)
{
    /* PartitionTable.flash_size(): the end of the partition with the highest offset
     * (the first such in CSV order). */
    const struct row *last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (last == NULL || rows[i].offset > last->offset) {
            last = &rows[i];
        }
    }
    int64_t used = last ? last->offset + last->size : 0;
    if ((int64_t)flash_size < used) {
        return set_error(
            err, last->line,
            "Partitions tables occupies %.1fMB of flash (%" PRId64 " bytes) which does not "
            "fit in configured flash size %" PRIu32 "MB. Change the flash size in menuconfig "
            "under the 'Serial Flasher Config' menu.",
            (double)used / (1024.0 * 1024.0), used, flash_size / (1024u * 1024u));
    }
    return 0;
}

static int check_ranges(const struct row *r, otakit_partition_csv_error_t *err)
{
    /* struct.pack('<2sBBLL16sL') refuses these in the tool. */
    if (r->type < 0 || r->type > 0xFF) {
        return set_error(err, r->line,
                         "Partition %s invalid: type " SHEX " does not fit in one byte", r->name,
                         PYHEX_ARG(r->type));
    }
    if (r->subtype < 0 || r->subtype > 0xFF) {
        return set_error(err, r->line,
                         "Partition %s invalid: subtype " SHEX " does not fit in one byte", r->name,
                         PYHEX_ARG(r->subtype));
    }
    if (r->offset < 0 || r->offset > 0xFFFFFFFF) {
        return set_error(err, r->line,
                         "Partition %s invalid: offset " SHEX " does not fit in 32 bits", r->name,
                         PYHEX_ARG(r->offset));
    }
    if (r->size < 0 || r->size > 0xFFFFFFFF) {
        return set_error(err, r->line,
                         "Partition %s invalid: size " SHEX " does not fit in 32 bits", r->name,
                         PYHEX_ARG(r->size));
    }
    return 0;
}

/* ---- public API ------------------------------------------------------------------------ */

void otakit_partition_csv_options_init(otakit_partition_csv_options_t *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->table_offset = OTAKIT_PTABLE_OFFSET_DEFAULT;
}

bool otakit_partition_csv_is_binary(const uint8_t *buf, size_t len)
{
    return len >= 2 && buf[0] == 0xAA && buf[1] == 0x50;
}

void otakit_partition_csv_free(otakit_partition_csv_t *table)
{
    if (table == NULL) {
        return;
    }
    for (size_t i = 0; i < table->count; i++) {
        free(table->entries[i].name);
    }
    free(table->entries);
    table->entries = NULL;
    table->count = 0;
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].name);
    }
    free(rows);
}

int otakit_partition_csv_parse(const char *text, size_t len,
                               const otakit_partition_csv_options_t *opt,
                               otakit_partition_csv_t *table, otakit_partition_csv_error_t *err)
{
    otakit_partition_csv_options_t defaults;
    if (opt == NULL) {
        otakit_partition_csv_options_init(&defaults);
        opt = &defaults;
    }
    if (err != NULL) {
        err->line = 0;
        err->msg[0] = '\0';
    }
    table->entries = NULL;
    table->count = 0;
    if (text == NULL && len != 0) {
        return set_error(err, 0, "no input");
    }

    struct sbuf doc = {0}, exp = {0};
    struct row *rows = NULL;
    size_t nrows = 0, caprows = 0;
    int rc = -1;
    if (decode_text((const uint8_t *)(text ? text : ""), len, &doc, err) != 0) {
        goto out;
    }

    const uint8_t *s = (const uint8_t *)doc.p;
    size_t n = doc.len, pos = 0;
    unsigned line_no = 0;
    while (pos < n) {
        size_t start = pos, brk = 0;
        while (pos < n && (brk = line_break(s, pos, n)) == 0) {
            pos++;
        }
        size_t line_len = pos - start;
        pos += brk;
        line_no++;

        if (memchr(s + start, '\0', line_len) != NULL) {
            set_error(err, line_no, "line contains a NUL character");
            goto out;
        }
        exp.len = 0;
        expand_vars((const char *)s + start, line_len, &exp);
        if (exp.oom) {
            set_error(err, line_no, "out of memory");
            goto out;
        }
        /* The tool only catches an unknown variable at the very start of the line;
         * elsewhere "$X" stays literal text (and then fails as a number). */
        if (exp.len >= 2 && exp.p[0] == '$' && is_word(exp.p[1]) &&
            !(exp.p[1] >= '0' && exp.p[1] <= '9')) {
            size_t k = 1;
            while (k < exp.len && is_word(exp.p[k])) {
                k++;
            }
            set_error(err, line_no, "unknown variable '%.*s'", (int)(k - 1), exp.p + 1);
            goto out;
        }
        const char *l = exp.p;
        size_t ln = exp.len;
        strip(&l, &ln);
        if (ln == 0 || l[0] == '#') {
            continue;
        }
        if (nrows == caprows) {
            size_t cap = caprows ? caprows * 2 : 16;
            struct row *nr = realloc(rows, cap * sizeof(*rows));
            if (nr == NULL) {
                set_error(err, line_no, "out of memory");
                goto out;
            }
            rows = nr;
            caprows = cap;
        }
        struct row *r = &rows[nrows];
        int prc = parse_line(l, ln, line_no, opt, r, err);
        nrows++; /* owns r->name either way */
        r->index = nrows - 1;
        if (prc != 0) {
            goto out;
        }
    }

    if (place_offsets(rows, nrows, opt, err) != 0) {
        goto out;
    }
    if (!opt->no_verify && verify_table(rows, nrows, opt, err) != 0) {
        goto out;
    }
    if (opt->flash_size != 0 && check_flash_size(rows, nrows, opt->flash_size, err) != 0) {
        goto out;
    }
    for (size_t i = 0; i < nrows; i++) {
        if (check_ranges(&rows[i], err) != 0) {
            goto out;
        }
    }

    if (nrows > 0) {
        table->entries = calloc(nrows, sizeof(*table->entries));
        if (table->entries == NULL) {
            set_error(err, 0, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < nrows; i++) {
        otakit_partition_csv_entry_t *e = &table->entries[i];
        const struct row *r = &rows[i];
        e->name = r->name;
        rows[i].name = NULL;
        e->line = r->line;
        e->part.type = (uint8_t)r->type;
        e->part.subtype = (uint8_t)r->subtype;
        e->part.offset = (uint32_t)r->offset;
        e->part.size = (uint32_t)r->size;
        e->part.flags = (r->encrypted ? OTAKIT_PART_FLAG_ENCRYPTED : 0) |
                        (r->readonly ? OTAKIT_PART_FLAG_READONLY : 0);
        /* struct "16s": the UTF-8 name cut at 16 bytes. */
        size_t nl = strlen(e->name);
        memcpy(e->part.label, e->name, nl < 16 ? nl : 16);
        e->part.label[nl < 16 ? nl : 16] = '\0';
    }
    table->count = nrows;
    rc = 0;
out:
    free_rows(rows, nrows);
    free(doc.p);
    free(exp.p);
    return rc;
}

int otakit_partition_csv_to_binary(const otakit_partition_csv_t *table, bool md5,
                                   uint8_t out[OTAKIT_PTABLE_MAX_LEN],
                                   otakit_partition_csv_error_t *err)
{
    size_t max = md5 ? OTAKIT_PTABLE_MAX_ENTRIES - 1 : OTAKIT_PTABLE_MAX_ENTRIES;
    if (table->count > max) {
        return set_error(
            err, table->entries[max].line,
            "Binary partition table length (%zu) longer than max (at most %zu partitions "
            "%s the MD5 entry)",
            table->count * OTAKIT_PTABLE_ENTRY_SIZE + (md5 ? OTAKIT_PTABLE_ENTRY_SIZE : 0), max,
            md5 ? "with" : "without");
    }
    otakit_part_t parts[OTAKIT_PTABLE_MAX_ENTRIES];
    for (size_t i = 0; i < table->count; i++) {
        parts[i] = table->entries[i].part;
    }
    otakit_err_t e = otakit_ptable_encode(parts, table->count, md5, out);
    if (e != OTAKIT_OK) {
        return set_error(err, 0, "cannot encode the table (%s)", otakit_err_name(e));
    }
    return 0;
}

static void format_line(struct sbuf *b, const otakit_part_t *p)
{
    sb_puts(b, p->label);
    sb_puts(b, ",");
    const char *t = otakit_ptable_type_name(p->type);
    if (t != NULL) {
        sb_puts(b, t);
    } else {
        sb_printf(b, "%u", (unsigned)p->type);
    }
    sb_puts(b, ",");
    const char *st = otakit_ptable_subtype_name(p->type, p->subtype);
    if (st != NULL) {
        sb_puts(b, st);
    } else {
        sb_printf(b, "%u", (unsigned)p->subtype);
    }
    sb_printf(b, ",0x%" PRIx32 ",", p->offset);
    if (p->size % 0x100000u == 0) {
        sb_printf(b, "%" PRIu32 "M", p->size / 0x100000u);
    } else if (p->size % 0x400u == 0) {
        sb_printf(b, "%" PRIu32 "K", p->size / 0x400u);
    } else {
        sb_printf(b, "0x%" PRIx32, p->size);
    }
    sb_puts(b, ",");
    if (p->flags & OTAKIT_PART_FLAG_ENCRYPTED) {
        sb_puts(b, "encrypted");
    }
    if (p->flags & OTAKIT_PART_FLAG_READONLY) {
        sb_puts(b, (p->flags & OTAKIT_PART_FLAG_ENCRYPTED) ? ":readonly" : "readonly");
    }
}

char *otakit_partition_csv_format_line(const otakit_part_t *p)
{
    struct sbuf b = {0};
    format_line(&b, p);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *otakit_partition_csv_format(const otakit_part_t *parts, size_t n)
{
    struct sbuf b = {0};
    sb_puts(&b, "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    for (size_t i = 0; i < n; i++) {
        format_line(&b, &parts[i]);
        sb_puts(&b, "\n");
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
