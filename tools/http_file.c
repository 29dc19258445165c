/* One regular file as an HTTP response (http_file.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http_file.h"

static void http_date(char *out, size_t cap, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool parse_http_date(const char *s, time_t *out)
{
    static const char *const formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
        "%a %b %d %H:%M:%S %Y",      /* asctime */
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(s, formats[i], &tm);
        if (end != NULL && *end == '\0') {
            *out = timegm(&tm);
            return true;
        }
    }
    return false;
}

/* Does an If-None-Match list contain etag (weak comparison)? */
static bool etag_list_matches(const char *list, const char *etag)
{
    const char *p = list;
    size_t elen = strlen(etag);
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        if (*p == '*') {
            return true;
        }
        if (p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        const char *start = p;
        while (*p != '\0' && *p != ',') {
            p++;
        }
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if ((size_t)(end - start) == elen && memcmp(start, etag, elen) == 0) {
            return true;
        }
    }
    return false;
}

static bool parse_u64(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    if (*p < '0' || *p > '9') {
        return false;
    }
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        p++;
    }
    *pp = p;
    *out = v;
    return true;
}

enum range_kind { RANGE_NONE, RANGE_OK, RANGE_UNSATISFIABLE };

/* One "bytes=" range against a file of size bytes. Anything else (syntax errors, other
 * units, several ranges) is ignored and the whole file is sent, as RFC 9110 allows. */
static enum range_kind parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
    while (*h == ' ') {
        h++;
    }
    if (strncasecmp(h, "bytes=", 6) != 0) {
        return RANGE_NONE;
    }
    const char *p = h + 6;
    while (*p == ' ') {
        p++;
    }
    uint64_t a = 0, b = 0;
    bool has_a = false, has_b = false;
    if (*p != '-') {
        if (!parse_u64(&p, &a)) {
            return RANGE_NONE;
        }
        has_a = true;
    }
    if (*p != '-') {
        return RANGE_NONE;
    }
    p++;
    if (*p >= '0' && *p <= '9') {
        if (!parse_u64(&p, &b)) {
            return RANGE_NONE;
        }
        has_b = true;
    }
    while (*p == ' ') {
        p++;
    }
    if (*p != '\0' || (!has_a && !has_b) || (has_a && has_b && b < a)) {
        return RANGE_NONE;
    }
    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0 || size == 0) {
            return RANGE_UNSATISFIABLE;
        }
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (a >= size) {
        return RANGE_UNSATISFIABLE;
    }
    *first = a;
    *last = (!has_b || b >= size) ? size - 1 : b;
    return RANGE_OK;
}

struct MHD_Response *http_file_response(struct MHD_Connection *c, int fd, const struct stat *st,
                                        const char *type, bool is_head, unsigned *status_out,
                                        uint64_t *body_len_out)
{
    char etag[80], lastmod[64];
    uint64_t size = (uint64_t)st->st_size;
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"", (unsigned long long)st->st_mtim.tv_sec,
             (unsigned long long)st->st_mtim.tv_nsec, (unsigned long long)size);
    http_date(lastmod, sizeof(lastmod), st->st_mtim.tv_sec);

    unsigned status = MHD_HTTP_OK;
    uint64_t first = 0, last = size == 0 ? 0 : size - 1;

    const char *inm =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ims =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    time_t since;
    if (inm != NULL) {
        if (etag_list_matches(inm, etag)) {
            status = MHD_HTTP_NOT_MODIFIED;
        }
    } else if (ims != NULL && parse_http_date(ims, &since) && st->st_mtim.tv_sec <= since) {
        status = MHD_HTTP_NOT_MODIFIED;
    }

    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    if (status == MHD_HTTP_OK && range != NULL && !is_head) {
        const char *if_range =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
        bool use = true;
        if (if_range != NULL) {
            time_t d;
            if (if_range[0] == '"') {
                use = strcmp(if_range, etag) == 0; /* strong comparison */
            } else if (parse_http_date(if_range, &d)) {
                use = d == st->st_mtim.tv_sec;
            } else {
                use = false; /* a weak or malformed validator never matches */
            }
        }
        if (use) {
            switch (parse_range(range, size, &first, &last)) {
            case RANGE_OK:
                status = MHD_HTTP_PARTIAL_CONTENT;
                break;
            case RANGE_UNSATISFIABLE:
                status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
                break;
            case RANGE_NONE:
                break;
            }
        }
    }

    struct MHD_Response *resp;
    uint64_t body_len = 0;
    if (status == MHD_HTTP_NOT_MODIFIED || status == MHD_HTTP_RANGE_NOT_SATISFIABLE || size == 0) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        body_len = last - first + 1;
        resp = MHD_create_response_from_fd_at_offset64(body_len, fd, first);
        if (resp == NULL) {
            close(fd);
        }
    }
    if (resp == NULL) {
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lastmod);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (status != MHD_HTTP_NOT_MODIFIED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    }
    char cr[96];
    if (status == MHD_HTTP_PARTIAL_CONTENT) {
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    } else if (status == MHD_HTTP_RANGE_NOT_SATISFIABLE) {
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    }
    *status_out = status;
    *body_len_out = body_len;
    return resp;
}
