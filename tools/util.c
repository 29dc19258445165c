#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "sbv2.h"

void tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("otakit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int tool_read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        tool_error("%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    uint8_t *b = malloc(cap);
    while (b != NULL) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            break;
        }
        uint8_t *nb = realloc(b, cap * 2);
        if (nb == NULL) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (b == NULL || bad) {
        free(b);
        tool_error("%s: read failed", path);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

int tool_map_file(const char *path, tool_file_t *f)
{
    memset(f, 0, sizeof(*f));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tool_error("%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= SIZE_MAX) {
        /* MAP_POPULATE: the pages (in the page cache after the first read) are mapped in
         * one call instead of one fault each. */
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m != MAP_FAILED) {
            close(fd);
            f->buf = m;
            f->len = (size_t)st.st_size;
            return 0;
        }
    }
    close(fd);
    /* Pipes, devices, empty files: read them. */
    if (tool_read_file(path, &f->heap, &f->len) != 0) {
        return -1;
    }
    f->buf = f->heap;
    return 0;
}

void tool_file_release(tool_file_t *f)
{
    if (f->heap != NULL) {
        free(f->heap);
    } else if (f->buf != NULL) {
        munmap((void *)f->buf, f->len);
    }
    memset(f, 0, sizeof(*f));
}

int tool_write_file(const char *path, const void *buf, size_t len)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
            tool_error("stdout: write failed");
            return -1;
        }
        return 0;
    }
    size_t tlen = strlen(path) + 16;
    char *tmp = malloc(tlen);
    if (tmp == NULL) {
        return -1;
    }
    snprintf(tmp, tlen, "%s.tmpXXXXXX", path);
    FILE *f = NULL;
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        f = fdopen(fd, "wb");
    }
    if (f == NULL) {
        tool_error("%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        tool_error("%s: write failed: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int tool_parse_u32(const char *s, uint32_t *out)
{
    if (s == NULL || *s == '\0') {
        return -1;
    }
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n + 1);
    unsigned long long mult = 1;
    char last = buf[n - 1];
    if (last == 'K' || last == 'k') {
        mult = 1024;
        buf[--n] = '\0';
    } else if (last == 'M' || last == 'm') {
        mult = 1024 * 1024;
        buf[--n] = '\0';
    }
    if (n == 0) {
        return -1;
    }
    int base = 10;
    const char *digits = buf;
    if (n > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
        base = 16;
        digits = buf + 2;
    } else if (n > 2 && buf[0] == '0' && (buf[1] == 'o' || buf[1] == 'O')) {
        base = 8;
        digits = buf + 2;
    } else if (n > 2 && buf[0] == '0' && (buf[1] == 'b' || buf[1] == 'B')) {
        base = 2;
        digits = buf + 2;
    } else if (n > 1 && buf[0] == '0') {
        return -1; /* Python's int(x, 0) refuses "010" */
    }
    if (*digits == '\0' || *digits == '-' || *digits == '+') {
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, base);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    v *= mult;
    if (v > 0xFFFFFFFFull) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int tool_parse_flash_size(const char *s, uint32_t *out)
{
    char buf[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n + 1);
    if (n > 2 && (strcasecmp(buf + n - 2, "MB") == 0 || strcasecmp(buf + n - 2, "KB") == 0)) {
        buf[n - 1] = '\0'; /* "4MB" -> "4M" */
    }
    uint32_t v;
    if (tool_parse_u32(buf, &v) != 0 || v == 0 || v % 0x1000) {
        return -1;
    }
    *out = v;
    return 0;
}

int tool_getopt_error(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    char shortopt[3] = {'-', (char)optopt, '\0'};
    if (strncmp(arg, "--", 2) != 0 && optopt != 0) {
        arg = shortopt; /* a short option, perhaps inside a group such as -jx */
    }
    if (c == ':') {
        tool_error("%s: option '%s' needs a value (see 'otakit %s --help')", cmd, arg, cmd);
    } else {
        tool_error("%s: unknown option '%s' (see 'otakit %s --help')", cmd, arg, cmd);
    }
    return EXIT_USAGE;
}

bool tool_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

void tool_getopt_begin(void)
{
    optind = 0; /* GNU getopt: start over, permuting the positionals to the end */
    opterr = 0; /* the messages are ours */
}

int tool_getopt(int argc, char **argv, const char *cmd, const struct option *longopts)
{
    /* The short options are the single-letter vals: "h" and "o:" for -h and -o FILE. */
    char shortopts[64] = ":";
    size_t n = 1;
    for (const struct option *o = longopts; o->name != NULL && n + 3 < sizeof(shortopts); o++) {
        if (o->val > 0 && o->val < 128 && isalpha(o->val) && strchr(shortopts, o->val) == NULL) {
            shortopts[n++] = (char)o->val;
            if (o->has_arg == required_argument) {
                shortopts[n++] = ':';
            }
            shortopts[n] = '\0';
        }
    }
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == '?' || c == ':') {
        /* A long option is named as written (up to '='), a short one as -X, also when
         * it sits in a cluster such as -jx. An unknown long option leaves optopt 0; a
         * missing value always ends its argument, so argv[optind - 1] holds it. */
        const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        char what[64];
        bool is_long = c == '?' ? optopt == 0 : strncmp(arg, "--", 2) == 0;
        if (is_long) {
            snprintf(what, sizeof(what), "%.*s", (int)strcspn(arg, "="), arg);
        } else {
            snprintf(what, sizeof(what), "-%c", optopt != 0 ? optopt : '?');
        }
        if (c == '?') {
            tool_error("%s: unknown option '%s' (see 'otakit %s --help')", cmd, what, cmd);
        } else {
            tool_error("%s: option '%s' needs a value (see 'otakit %s --help')", cmd, what, cmd);
        }
        return '?';
    }
    return c;
}

void tool_hex(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * n] = '\0';
}

void tool_print_json(cJSON *j, bool pretty)
{
    char *s = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
    if (s != NULL) {
        puts(s);
        cJSON_free(s);
    }
    cJSON_Delete(j);
}

int tool_open_flash(const char *path, unsigned flags, otakit_nor_t **nor)
{
    otakit_err_t err = otakit_nor_open(nor, path, 0, flags);
    if (err == OTAKIT_OK) {
        return 0;
    }
    if (err == OTAKIT_ERR_NOT_FOUND) {
        tool_error("%s: no such flash file", path);
    } else if (err == OTAKIT_ERR_INVALID_SIZE) {
        tool_error("%s: offset 0x0: size is not a non-zero multiple of 4096 bytes", path);
    } else {
        tool_error("%s: %s", path, strerror(errno));
    }
    return -1;
}

int tool_load_table(const char *path, const otakit_flash_t *flash, uint32_t offset,
                    otakit_ptable_t *t)
{
    otakit_diag_t diag = {0, NULL};
    otakit_err_t err = otakit_ptable_load(t, flash, offset, &diag);
    if (err != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: partition table: %s (%s)", path, (unsigned)diag.offset,
                   diag.msg ? diag.msg : "cannot be read", otakit_err_name(err));
        return -1;
    }
    return 0;
}

void tool_progress_begin(tool_progress_t *p, const char *verb, uint64_t total)
{
    p->on = total >= TOOL_PROGRESS_MIN && isatty(STDERR_FILENO);
    p->verb = verb;
    p->total = total;
    p->done = 0;
    p->shown = -1;
}

void tool_progress_add(tool_progress_t *p, uint32_t addr, uint64_t n)
{
    p->done += n;
    if (!p->on) {
        return;
    }
    int pct = p->total ? (int)(p->done * 100 / p->total) : 100;
    if (pct == p->shown) {
        return;
    }
    p->shown = pct;
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    int fill = pct * WIDTH / 100;
    for (int i = 0; i < WIDTH; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s at 0x%08x... (%3d %%) [%s]", p->verb, addr, pct, bar);
    fflush(stderr);
}

void tool_progress_end(tool_progress_t *p)
{
    if (p->on && p->shown >= 0) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
    p->on = false;
}

int tool_dispatch(const char *cmd, const char *usage, const tool_verb_t *verbs, size_t n, int argc,
                  char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (tool_is_help(argv[1])) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], verbs[i].name) == 0) {
            return verbs[i].run(argc - 1, argv + 1);
        }
    }
    char names[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(names); i++) {
        int w = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", verbs[i].name);
        used += w > 0 ? (size_t)w : 0;
    }
    tool_error("%s: unknown verb '%s' (%s; see 'otakit %s --help')", cmd, argv[1], names, cmd);
    return EXIT_USAGE;
}

int tool_load_sbv2_key(const char *path, struct otakit_sbv2_key **key)
{
    uint8_t *pem;
    size_t len;
    if (tool_read_file(path, &pem, &len) != 0) {
        return -1;
    }
    const char *why = NULL;
    otakit_err_t err = otakit_sbv2_key_load(pem, len, key, &why);
    free(pem);
    if (err != OTAKIT_OK) {
        tool_error("%s: %s", path, why ? why : otakit_err_name(err));
        return -1;
    }
    return 0;
}
