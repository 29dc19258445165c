/* otakit serve: a static firmware server on libmicrohttpd.
 *
 * One listener per scheme (plain HTTP and/or HTTPS), each an epoll event loop on a pool
 * of threads. Files go out with sendfile (plain HTTP) from descriptors opened with
 * openat2(RESOLVE_BENEATH), so no path, encoded or through a symlink, leaves the served
 * directory. A reaper thread closes connections that take too long to send a request
 * head (slowloris); libmicrohttpd closes idle ones. SIGINT/SIGTERM stop accepting, let
 * in-flight requests finish until a deadline, then print a summary. On a terminal, a
 * status line under the log shows the connections, requests, bytes and rate. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "cmd.h"
#include "http_file.h"
#include "otakit/image.h"
#include "serve.h"

#define SERVER_NAME "otakit/0.1.0"
#define META_CACHE_SLOTS 512
#define IMAGE_PROBE_LEN (OTAKIT_APP_DESC_OFFSET + OTAKIT_APP_DESC_SIZE)

void serve_opts_default(serve_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->root = ".";
    o->bind_addr = "127.0.0.1";
    o->port = SERVE_DEFAULT_PORT;
    o->tls_port = -1;
    o->max_connections = 1024;
    o->max_per_ip = 64;
    o->io_threads = true;
    o->idle_timeout = 30;
    o->header_timeout = 15;
    o->drain_timeout = 10;
    o->max_header_size = 32 * 1024;
    o->access_log = "-";
    o->status = true;
}

/* What the index shows of a regular file; cached by identity, size and mtime. */
struct file_meta {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    uint64_t stamp; /* last use, for eviction; 0 = free slot */
    bool has_sha;
    bool is_image;
    char sha256[65];
    otakit_app_desc_t desc;
    uint16_t chip_id;
};

/* A connection, tracked for the request-head deadline. */
struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    /* Written by the connection's thread at every request without the list's lock (a
     * lock shared by every connection cost more than the rest of the bookkeeping); the
     * reaper reads them under the lock. since_ns is stored before awaiting_head. */
    atomic_bool awaiting_head; /* between connect / end of a response and the next request */
    atomic_llong since_ns;     /* CLOCK_MONOTONIC, when awaiting_head last changed */
    bool reaped;
};

static long long monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct server {
    const serve_opts_t *o;
    int root_fd;
    char *root_real;
    bool have_openat2;
    struct MHD_Daemon *daemons[2];
    size_t ndaemons;
    bool started; /* after startup, libmicrohttpd's messages are only counted */

    FILE *log;
    bool log_owned;
    pthread_mutex_t log_lock;

    pthread_mutex_t meta_lock;
    struct file_meta *meta;
    uint64_t meta_clock;

    pthread_mutex_t conn_lock;
    pthread_cond_t conn_cv;
    struct conn_track *conns;
    unsigned nconns; /* open connections, under conn_lock */
    bool reaper_stop;
    pthread_t reaper;
    bool reaper_running;

    atomic_ullong requests, bytes, errors, aborted, head_timeouts;
    atomic_int in_flight;
    atomic_bool draining;

    /* The status line: drawn by the main thread from the counters above, on stderr,
     * when stdout and stderr are terminals. Access-log lines to a terminal then start by
     * erasing it; the next tick draws it again below them. */
    bool status;
    bool log_erases_status;
    bool status_drawn;
    unsigned long long shown_requests;
    unsigned shown_conns;
    long long rate_ns; /* when the rate was last computed */
    unsigned long long rate_bytes;
    double rate; /* bytes per second over the last interval */
};

/* One HTTP request, from the URI callback to the completion callback. */
struct request {
    char *raw_uri;
    char client[INET6_ADDRSTRLEN];
    char method[16];
    char version[16];
    bool handled;   /* the access handler has seen the headers */
    bool responded; /* a response is queued */
    bool is_head;
    unsigned status;
    uint64_t body_len;
};

/* ---------------------------------------------------------------- paths */

static int sys_openat2(int dirfd, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (uint64_t)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Without openat2 (old kernels, seccomp): open, then check where the descriptor landed. */
static int open_checked(const struct server *s, const char *rel, int flags)
{
    int fd = openat(s->root_fd, rel, flags);
    if (fd < 0) {
        return -errno;
    }
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    size_t rl = strlen(s->root_real);
    if (n < 0) {
        close(fd);
        return -EACCES;
    }
    target[n] = '\0';
    bool inside = strcmp(s->root_real, "/") == 0 || (strncmp(target, s->root_real, rl) == 0 &&
                                                     (target[rl] == '\0' || target[rl] == '/'));
    if (!inside) {
        close(fd);
        return -EXDEV;
    }
    return fd;
}

/* Open rel (relative to the root, "." for the root) without leaving the root.
 * Returns a descriptor or -errno (-EXDEV when resolution would leave the root). */
static int open_beneath(const struct server *s, const char *rel, int flags)
{
    flags |=
        (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY; /* openat2 refuses O_PATH|O_NOCTTY */
    if (s->have_openat2) {
        int fd = sys_openat2(s->root_fd, rel, flags);
        return fd < 0 ? -errno : fd;
    }
    return open_checked(s, rel, flags);
}

/* The common case, a regular file, in one open: a stat by name (which follows symlinks
 * wherever they lead but opens nothing and mounts nothing) says the entry is a regular
 * file, the open stays beneath the root, and the descriptor must be that same regular
 * file. Returns a descriptor, or -1 when the careful path has to decide. */
static int open_regular_fast(const struct server *s, const char *rel, struct stat *st)
{
    struct stat pre;
    if (!s->have_openat2 || fstatat(s->root_fd, rel, &pre, AT_NO_AUTOMOUNT) != 0 ||
        !S_ISREG(pre.st_mode)) {
        return -1;
    }
    int fd = open_beneath(s, rel, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        return -1; /* outside the root, or gone: the careful path says which */
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_dev != pre.st_dev ||
        st->st_ino != pre.st_ino) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Open a served entry: stat through an O_PATH descriptor first so that FIFOs and device
 * nodes are never opened, then open regular files and directories for reading. */
static int open_entry(const struct server *s, const char *rel, struct stat *st)
{
    int fast = open_regular_fast(s, rel, st);
    if (fast >= 0) {
        return fast;
    }
    int pfd = open_beneath(s, rel, O_PATH);
    if (pfd < 0) {
        return pfd;
    }
    int rc = fstat(pfd, st);
    close(pfd);
    if (rc != 0) {
        return -errno;
    }
    if (S_ISDIR(st->st_mode)) {
        int fd = open_beneath(s, rel, O_RDONLY | O_DIRECTORY);
        return fd < 0 ? fd : (fstat(fd, st) == 0 ? fd : (close(fd), -EIO));
    }
    if (!S_ISREG(st->st_mode)) {
        return -EACCES;
    }
    int fd = open_beneath(s, rel, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        return fd;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -EACCES;
    }
    return fd;
}

enum path_verdict { PATH_OK, PATH_BAD, PATH_TRAVERSAL, PATH_HIDDEN };

/* Turn the decoded URL path into a relative path: no "..", no hidden component, no
 * empty or "." components. */
static enum path_verdict url_to_rel(const char *url, char *rel, size_t cap)
{
    if (url[0] != '/') {
        return PATH_BAD;
    }
    size_t n = 0;
    const char *p = url;
    while (*p != '\0') {
        while (*p == '/') {
            p++;
        }
        const char *start = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
        size_t len = (size_t)(p - start);
        if (len == 0 || (len == 1 && start[0] == '.')) {
            continue;
        }
        if (len == 2 && start[0] == '.' && start[1] == '.') {
            return PATH_TRAVERSAL;
        }
        if (start[0] == '.') {
            return PATH_HIDDEN;
        }
        if (n + len + 2 > cap) {
            return PATH_BAD;
        }
        if (n > 0) {
            rel[n++] = '/';
        }
        memcpy(rel + n, start, len);
        n += len;
    }
    if (n == 0) {
        rel[n++] = '.';
    }
    rel[n] = '\0';
    return PATH_OK;
}

/* ---------------------------------------------------------------- file metadata */

static void meta_compute(int fd, const struct stat *st, struct file_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->dev = st->st_dev;
    m->ino = st->st_ino;
    m->size = st->st_size;
    m->mtime = st->st_mtim;

    uint8_t probe[IMAGE_PROBE_LEN];
    ssize_t got = pread(fd, probe, sizeof(probe), 0);
    if (got == (ssize_t)sizeof(probe) && probe[0] == OTAKIT_IMAGE_MAGIC) {
        otakit_image_header_t h;
        otakit_image_header_decode(&h, probe);
        otakit_app_desc_decode(&m->desc, probe + OTAKIT_APP_DESC_OFFSET);
        if (h.segment_count >= 1 && h.segment_count <= OTAKIT_IMAGE_MAX_SEGMENTS &&
            m->desc.magic == OTAKIT_APP_DESC_MAGIC) {
            m->is_image = true;
            m->chip_id = h.chip_id;
        }
    }

    otakit_hash_ctx_t ctx;
    if (otakit_hash_start(&ctx, OTAKIT_HASH_SHA256) != OTAKIT_OK) {
        return;
    }
    static const size_t chunk = 64 * 1024;
    uint8_t *buf = malloc(chunk);
    bool ok = buf != NULL;
    off_t off = 0;
    while (ok && off < st->st_size) {
        ssize_t n = pread(fd, buf, chunk, off);
        if (n <= 0) {
            ok = false;
            break;
        }
        ok = otakit_hash_update(&ctx, buf, (size_t)n) == OTAKIT_OK;
        off += n;
    }
    uint8_t digest[32];
    ok = ok && off == st->st_size;
    if (otakit_hash_finish(&ctx, ok ? digest : NULL) == OTAKIT_OK && ok) {
        tool_hex(m->sha256, digest, sizeof(digest));
        m->has_sha = true;
    }
    free(buf);
}

static bool meta_same(const struct file_meta *m, const struct stat *st)
{
    return m->stamp != 0 && m->dev == st->st_dev && m->ino == st->st_ino &&
           m->size == st->st_size && m->mtime.tv_sec == st->st_mtim.tv_sec &&
           m->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void meta_get(struct server *s, int fd, const struct stat *st, struct file_meta *out)
{
    pthread_mutex_lock(&s->meta_lock);
    for (size_t i = 0; i < META_CACHE_SLOTS; i++) {
        if (meta_same(&s->meta[i], st)) {
            s->meta[i].stamp = ++s->meta_clock;
            *out = s->meta[i];
            pthread_mutex_unlock(&s->meta_lock);
            return;
        }
    }
    pthread_mutex_unlock(&s->meta_lock);

    meta_compute(fd, st, out); /* outside the lock: hashing takes a while */

    pthread_mutex_lock(&s->meta_lock);
    size_t victim = 0;
    for (size_t i = 0; i < META_CACHE_SLOTS; i++) {
        if (s->meta[i].stamp < s->meta[victim].stamp) {
            victim = i;
        }
    }
    out->stamp = ++s->meta_clock;
    s->meta[victim] = *out;
    pthread_mutex_unlock(&s->meta_lock);
}

/* ---------------------------------------------------------------- responses */

static void iso_date(char *out, size_t cap, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".bin", "application/octet-stream"},  {".elf", "application/x-elf"},
        {".json", "application/json"},         {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},  {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},  {".csv", "text/csv; charset=utf-8"},
        {".log", "text/plain; charset=utf-8"}, {".sig", "application/octet-stream"},
        {".pem", "application/x-pem-file"},    {".gz", "application/gzip"},
        {".zip", "application/zip"},           {".tar", "application/x-tar"},
    };
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot != NULL && (slash == NULL || dot > slash)) {
        for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
            if (strcasecmp(dot, TYPES[i].ext) == 0) {
                return TYPES[i].type;
            }
        }
    }
    return "application/octet-stream";
}

static void add_common_headers(struct server *s, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, SERVER_NAME);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (atomic_load(&s->draining)) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
}

static enum MHD_Result queue(struct server *s, struct request *r, struct MHD_Connection *c,
                             unsigned status, struct MHD_Response *resp, uint64_t body_len)
{
    if (resp == NULL) {
        return MHD_NO;
    }
    add_common_headers(s, resp);
    r->status = status;
    r->body_len = r->is_head ? 0 : body_len;
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_text(struct server *s, struct request *r, struct MHD_Connection *c,
                                  unsigned status, const char *text)
{
    size_t len = strlen(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    return queue(s, r, c, status, resp, len);
}
static enum MHD_Result serve_file(struct server *s, struct request *r, struct MHD_Connection *c,
                                  const char *rel, int fd, const struct stat *st)
{
    unsigned status;
    uint64_t body_len;
    struct MHD_Response *resp =
        http_file_response(c, fd, st, content_type(rel), r->is_head, &status, &body_len);
    if (resp == NULL) {
        return MHD_NO;
    }
    return queue(s, r, c, status, resp, body_len);
}

/* ---------------------------------------------------------------- directory index */

struct entry {
    char *name;
    bool is_dir;
    struct stat st;
    struct file_meta meta;
};

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void free_entries(struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
    }
    free(e);
}

/* List the visible entries of directory rel (descriptor dfd, which this closes). */
static int list_dir(struct server *s, const char *rel, int dfd, struct entry **out, size_t *count)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return -1;
    }
    struct entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    char path[PATH_MAX];
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue; /* hidden, ".", ".." */
        }
        int len = strcmp(rel, ".") == 0 ? snprintf(path, sizeof(path), "%s", de->d_name)
                                        : snprintf(path, sizeof(path), "%s/%s", rel, de->d_name);
        if (len < 0 || (size_t)len >= sizeof(path)) {
            continue;
        }
        struct stat st;
        int fd = open_entry(s, path, &st);
        if (fd < 0) {
            continue; /* special files, symlinks that leave the root, races */
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            struct entry *nv = realloc(v, ncap * sizeof(*nv));
            if (nv == NULL) {
                close(fd);
                rc = -1;
                break;
            }
            v = nv;
            cap = ncap;
        }
        struct entry *e = &v[n];
        memset(e, 0, sizeof(*e));
        e->name = strdup(de->d_name);
        if (e->name == NULL) {
            close(fd);
            rc = -1;
            break;
        }
        e->st = st;
        e->is_dir = S_ISDIR(st.st_mode);
        if (!e->is_dir) {
            meta_get(s, fd, &st, &e->meta);
        }
        close(fd);
        n++;
    }
    closedir(d);
    if (rc != 0) {
        free_entries(v, n);
        return -1;
    }
    if (n > 1) {
        qsort(v, n, sizeof(*v), entry_cmp);
    }
    *out = v;
    *count = n;
    return 0;
}

static char *index_json(const char *url, const struct entry *e, size_t n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *files = cJSON_CreateArray();
    if (root == NULL || files == NULL) {
        cJSON_Delete(root);
        cJSON_Delete(files);
        return NULL;
    }
    cJSON_AddStringToObject(root, "path", url);
    cJSON_AddItemToObject(root, "files", files);
    for (size_t i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        if (f == NULL) {
            break;
        }
        char date[32];
        iso_date(date, sizeof(date), e[i].st.st_mtim.tv_sec);
        cJSON_AddStringToObject(f, "name", e[i].name);
        if (e[i].is_dir) {
            cJSON_AddStringToObject(f, "type", "dir");
            cJSON_AddStringToObject(f, "mtime", date);
            cJSON_AddItemToArray(files, f);
            continue;
        }
        const struct file_meta *m = &e[i].meta;
        cJSON_AddStringToObject(f, "type", m->is_image ? "image" : "file");
        cJSON_AddNumberToObject(f, "size", (double)e[i].st.st_size);
        cJSON_AddStringToObject(f, "mtime", date);
        if (m->has_sha) {
            cJSON_AddStringToObject(f, "sha256", m->sha256);
        } else {
            cJSON_AddNullToObject(f, "sha256");
        }
        if (m->is_image) {
            char elf[65];
            tool_hex(elf, m->desc.app_elf_sha256, sizeof(m->desc.app_elf_sha256));
            const char *chip = otakit_image_chip_name(m->chip_id);
            cJSON_AddStringToObject(f, "project", m->desc.project_name);
            cJSON_AddStringToObject(f, "version", m->desc.version);
            cJSON_AddNumberToObject(f, "secure_version", m->desc.secure_version);
            cJSON_AddStringToObject(f, "idf_ver", m->desc.idf_ver);
            cJSON_AddStringToObject(f, "date", m->desc.date);
            cJSON_AddStringToObject(f, "time", m->desc.time);
            if (chip != NULL) {
                cJSON_AddStringToObject(f, "chip", chip);
            } else {
                cJSON_AddNumberToObject(f, "chip", m->chip_id);
            }
            cJSON_AddStringToObject(f, "elf_sha256", elf);
        }
        cJSON_AddItemToArray(files, f);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static void html_escape(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
            break;
        }
    }
}

static char *index_html(const char *url, const struct entry *e, size_t n, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL) {
        return NULL;
    }
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ", f);
    html_escape(f, url);
    fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "th,td{padding:3px 12px;text-align:left;border-bottom:1px solid #ddd}"
          "td.n{text-align:right}code{font-size:85%}</style></head>\n<body><h1>Index of ",
          f);
    html_escape(f, url);
    fputs("</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th><th>Project</th>"
          "<th>Version</th><th>Secure version</th><th>SHA-256</th></tr>\n",
          f);
    if (strcmp(url, "/") != 0) {
        fputs("<tr><td><a href=\"../\">../</a></td><td></td><td></td><td></td><td></td><td></td>"
              "<td></td></tr>\n",
              f);
    }
    for (size_t i = 0; i < n; i++) {
        char date[32];
        iso_date(date, sizeof(date), e[i].st.st_mtim.tv_sec);
        char *href = curl_easy_escape(NULL, e[i].name, 0);
        fputs("<tr><td><a href=\"", f);
        html_escape(f, href != NULL ? href : "");
        fputs(e[i].is_dir ? "/\">" : "\">", f);
        curl_free(href);
        html_escape(f, e[i].name);
        if (e[i].is_dir) {
            fprintf(f, "/</a></td><td></td><td>%s</td><td></td><td></td><td></td><td></td></tr>\n",
                    date);
            continue;
        }
        const struct file_meta *m = &e[i].meta;
        fprintf(f, "</a></td><td class=\"n\">%lld</td><td>%s</td><td>", (long long)e[i].st.st_size,
                date);
        if (m->is_image) {
            html_escape(f, m->desc.project_name);
            fputs("</td><td>", f);
            html_escape(f, m->desc.version);
            fprintf(f, "</td><td class=\"n\">%u</td>", (unsigned)m->desc.secure_version);
        } else {
            fputs("</td><td></td><td></td>", f);
        }
        fprintf(f, "<td><code>%s</code></td></tr>\n", m->has_sha ? m->sha256 : "");
    }
    fputs("</table>\n<p><a href=\"?format=json\">JSON</a></p></body></html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static enum MHD_Result serve_index(struct server *s, struct request *r, struct MHD_Connection *c,
                                   const char *url, const char *rel, int dfd)
{
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    bool json = format != NULL && strcmp(format, "json") == 0;
    if (format != NULL && !json && strcmp(format, "html") != 0) {
        close(dfd);
        return reply_text(s, r, c, MHD_HTTP_BAD_REQUEST,
                          "400 Bad Request: format is html or json\n");
    }
    struct entry *e = NULL;
    size_t n = 0;
    if (list_dir(s, rel, dfd, &e, &n) != 0) {
        return reply_text(s, r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 Internal Server Error\n");
    }
    size_t len = 0;
    char *body;
    if (json) {
        body = index_json(url, e, n);
        len = body != NULL ? strlen(body) : 0;
    } else {
        body = index_html(url, e, n, &len);
    }
    free_entries(e, n);
    if (body == NULL) {
        return reply_text(s, r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 Internal Server Error\n");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            json ? "application/json" : "text/html; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return queue(s, r, c, MHD_HTTP_OK, resp, len);
}

/* ---------------------------------------------------------------- request handling */

static enum MHD_Result redirect_to_dir(struct server *s, struct request *r,
                                       struct MHD_Connection *c)
{
    const char *raw = r->raw_uri != NULL ? r->raw_uri : "/";
    size_t plen = strcspn(raw, "?#");
    const char *query = raw[plen] == '?' ? raw + plen : "";
    size_t cap = plen + strlen(query) + 2;
    char *loc = malloc(cap);
    if (loc == NULL) {
        return MHD_NO;
    }
    snprintf(loc, cap, "%.*s/%s", (int)plen, raw, query);
    static const char body[] = "301 Moved Permanently\n";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(body) - 1, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (resp != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    free(loc);
    return queue(s, r, c, MHD_HTTP_MOVED_PERMANENTLY, resp, sizeof(body) - 1);
}

static enum MHD_Result respond(struct server *s, struct request *r, struct MHD_Connection *c,
                               const char *url, const char *method)
{
    (void)method;
    /* libmicrohttpd decodes %XX in url; a %00 would silently cut the path, so refuse it
     * (and raw control bytes) on the raw request target. */
    const char *raw = r->raw_uri != NULL ? r->raw_uri : url;
    size_t plen = strcspn(raw, "?#");
    for (size_t i = 0; i < plen; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (ch < 0x20 || ch == 0x7f ||
            (ch == '%' && i + 2 < plen && raw[i + 1] == '0' && raw[i + 2] == '0')) {
            return reply_text(s, r, c, MHD_HTTP_BAD_REQUEST, "400 Bad Request\n");
        }
    }
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return reply_text(s, r, c, MHD_HTTP_BAD_REQUEST, "400 Bad Request\n");
        }
    }

    char rel[PATH_MAX];
    switch (url_to_rel(url, rel, sizeof(rel))) {
    case PATH_BAD:
        return reply_text(s, r, c, MHD_HTTP_BAD_REQUEST, "400 Bad Request\n");
    case PATH_TRAVERSAL:
        return reply_text(s, r, c, MHD_HTTP_FORBIDDEN, "403 Forbidden\n");
    case PATH_HIDDEN:
        return reply_text(s, r, c, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
    case PATH_OK:
        break;
    }

    struct stat st;
    int fd = open_entry(s, rel, &st);
    if (fd < 0) {
        switch (-fd) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
            return reply_text(s, r, c, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
        case EXDEV:
        case ELOOP:
        case EACCES:
        case EPERM:
            return reply_text(s, r, c, MHD_HTTP_FORBIDDEN, "403 Forbidden\n");
        default:
            return reply_text(s, r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              "500 Internal Server Error\n");
        }
    }
    if (S_ISDIR(st.st_mode)) {
        size_t ulen = strlen(url);
        if (ulen == 0 || url[ulen - 1] != '/') {
            close(fd);
            return redirect_to_dir(s, r, c);
        }
        return serve_index(s, r, c, url, rel, fd);
    }
    return serve_file(s, r, c, rel, fd, &st);
}

static bool has_body(struct MHD_Connection *c)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return te != NULL || (cl != NULL && strcmp(cl, "0") != 0);
}

static struct conn_track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static void track_set(struct server *s, struct conn_track *t, bool awaiting)
{
    if (t == NULL) {
        return;
    }
    (void)s;
    atomic_store_explicit(&t->since_ns, monotonic_ns(), memory_order_relaxed);
    atomic_store_explicit(&t->awaiting_head, awaiting, memory_order_release);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct server *s = cls;
    struct request *r = *req_cls;
    (void)upload_data;
    if (r == NULL) {
        return MHD_NO; /* the URI callback could not allocate */
    }
    if (!r->handled) {
        /* Headers are in. Answer on the next call, once the request is whole: a response
         * queued now would be "early" and libmicrohttpd would close the connection. */
        r->handled = true;
        snprintf(r->method, sizeof(r->method), "%s", method);
        snprintf(r->version, sizeof(r->version), "%s", version);
        r->is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        track_set(s, track_of(c), false);
        atomic_fetch_add(&s->in_flight, 1);
        if (!r->is_head && strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
            r->responded = true; /* early on purpose: do not read a body nobody wants */
            return reply_text(s, r, c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
        }
        if (has_body(c)) {
            /* A GET or HEAD with a body: answer now and close after the response rather
             * than wait for a body that may never come (or hide a second request). */
            r->responded = true;
            return respond(s, r, c, url, method);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body on GET or HEAD: drop it */
        return MHD_YES;
    }
    if (r->responded) {
        return MHD_YES;
    }
    r->responded = true;
    return respond(s, r, c, url, method);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    struct request *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->raw_uri = strdup(uri);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(r->client, sizeof(r->client), "-");
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->client,
                      sizeof(r->client));
        } else if (sa->sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      r->client, sizeof(r->client));
        }
    }
    return r;
}

/* Escape a request line for the log: quotes, backslashes and control bytes as \xHH. */
/* An access-log line built in memory and written with one write(2): lines of up to
 * PIPE_BUF bytes (nearly all) reach a file, a pipe or a terminal whole without a lock
 * shared by every connection; longer ones take the log's lock. */
struct log_line {
    char *buf;
    size_t len, cap;
};

static void log_put(struct log_line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len) {
        n = l->cap - l->len; /* cannot happen: the buffer is sized for the worst case */
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void log_puts(struct log_line *l, const char *s)
{
    log_put(l, s, strlen(s));
}

/* Escape a request line for the log: quotes, backslashes, control bytes and bytes past
 * ASCII as \xHH (at most 4 bytes per input byte). */
static void log_escaped(struct log_line *l, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            char esc[4] = {'\\', 'x', HEX[ch >> 4], HEX[ch & 15]};
            log_put(l, esc, sizeof(esc));
        } else if (l->len < l->cap) {
            l->buf[l->len++] = (char)ch;
        }
    }
}

static void log_write(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* a full disk or a closed pipe must not stop the server */
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* The status to log for a request that ended before a response was queued, in nginx's
 * convention: 408 timed out, 499 the client went away, 400 refused as malformed. */
static unsigned unanswered_status(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return 408;
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return 499;
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return 503;
    default:
        return 400;
    }
}

/* The access log's date for now, formatted once per second in each thread: localtime_r
 * and strftime for every request cost more than the rest of the line. */
static const char *log_date(void)
{
    static _Thread_local time_t cached = (time_t)-1;
    static _Thread_local char when[64];
    time_t now = time(NULL);
    if (now != cached) {
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
        cached = now;
    }
    return when;
}

static void access_log(struct server *s, const struct request *r, bool complete)
{
    if (s->log == NULL) {
        return;
    }
    const char *uri = r->raw_uri != NULL ? r->raw_uri : "-";
    const char *when = log_date();
    size_t cap = strlen(r->client) + strlen(when) +
                 4 * (strlen(uri) + sizeof(r->method) + sizeof(r->version)) + 64;
    char stack[2048];
    struct log_line l = {stack, 0, sizeof(stack)};
    if (cap > sizeof(stack)) {
        l.buf = malloc(cap);
        l.cap = cap;
        if (l.buf == NULL) {
            return;
        }
    }
    if (s->log_erases_status) {
        log_puts(&l, "\r\033[K"); /* the status line goes; the main thread draws it again */
    }
    log_puts(&l, r->client);
    log_puts(&l, " - - [");
    log_puts(&l, when);
    log_puts(&l, "] \"");
    if (r->handled) {
        log_escaped(&l, r->method);
        log_puts(&l, " ");
        log_escaped(&l, uri);
        log_puts(&l, " ");
        log_escaped(&l, r->version);
    } else {
        log_escaped(&l, uri);
    }
    char tail[64];
    if (complete) {
        snprintf(tail, sizeof(tail), "\" %u %llu\n", r->status, (unsigned long long)r->body_len);
    } else {
        snprintf(tail, sizeof(tail), "\" %u -\n", r->status);
    }
    log_puts(&l, tail);
    if (l.len <= PIPE_BUF) {
        log_write(fileno(s->log), l.buf, l.len);
    } else {
        pthread_mutex_lock(&s->log_lock);
        log_write(fileno(s->log), l.buf, l.len);
        pthread_mutex_unlock(&s->log_lock);
    }
    if (l.buf != stack) {
        free(l.buf);
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct request *r = *req_cls;
    if (r == NULL) {
        return;
    }
    *req_cls = NULL;
    bool complete = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && r->status != 0;
    if (r->status == 0) {
        r->status = unanswered_status(toe); /* libmicrohttpd answered, or nobody did */
    }
    access_log(s, r, complete);
    /* Counted after the log line is out: a status line drawn for this count comes after
     * the line (which erased the one before). */
    if (complete) {
        atomic_fetch_add(&s->bytes, r->body_len);
    }
    if (r->status >= 400) {
        atomic_fetch_add(&s->errors, 1);
    }
    if (r->responded && !complete) {
        atomic_fetch_add(&s->aborted, 1); /* the client left during the response */
    }
    atomic_fetch_add(&s->requests, 1);
    if (r->handled) {
        track_set(s, track_of(c), true); /* the next request head starts now */
        atomic_fetch_sub(&s->in_flight, 1);
    }
    free(r->raw_uri);
    free(r);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_track *t = calloc(1, sizeof(*t));
        if (t == NULL) {
            return;
        }
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        t->fd = ci != NULL ? ci->connect_fd : -1;
        atomic_init(&t->since_ns, monotonic_ns());
        atomic_init(&t->awaiting_head, true);
        pthread_mutex_lock(&s->conn_lock);
        t->next = s->conns;
        if (s->conns != NULL) {
            s->conns->prev = t;
        }
        s->conns = t;
        s->nconns++;
        pthread_mutex_unlock(&s->conn_lock);
        *socket_context = t;
        return;
    }
    /* Closed: libmicrohttpd calls this before it closes the socket, so once the track is
     * unlinked (under the lock) the reaper can no longer touch a reused descriptor. */
    struct conn_track *t = *socket_context;
    if (t == NULL) {
        return;
    }
    pthread_mutex_lock(&s->conn_lock);
    if (t->prev != NULL) {
        t->prev->next = t->next;
    } else {
        s->conns = t->next;
    }
    if (t->next != NULL) {
        t->next->prev = t->prev;
    }
    s->nconns--;
    pthread_mutex_unlock(&s->conn_lock);
    *socket_context = NULL;
    free(t);
}

/* Close connections that have not sent a whole request head in time: an idle timeout
 * alone lets a client that trickles one byte at a time hold a connection forever. */
static void *reaper_main(void *arg)
{
    struct server *s = arg;
    pthread_mutex_lock(&s->conn_lock);
    while (!s->reaper_stop) {
        struct timespec wake;
        clock_gettime(CLOCK_MONOTONIC, &wake);
        wake.tv_nsec += 250 * 1000 * 1000;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->conn_cv, &s->conn_lock, &wake);
        if (s->reaper_stop) {
            break;
        }
        long long now = monotonic_ns();
        for (struct conn_track *t = s->conns; t != NULL; t = t->next) {
            if (!atomic_load_explicit(&t->awaiting_head, memory_order_acquire) || t->reaped ||
                t->fd < 0) {
                continue;
            }
            long long since = atomic_load_explicit(&t->since_ns, memory_order_relaxed);
            if (now - since >= (long long)s->o->header_timeout * 1000000000LL) {
                shutdown(t->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
                t->reaped = true;
                atomic_fetch_add(&s->head_timeouts, 1);
            }
        }
    }
    pthread_mutex_unlock(&s->conn_lock);
    return NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct server *s = cls;
    if (s->started) {
        return; /* per-connection noise (resets, timeouts) is in the counters instead */
    }
    fputs("otakit: serve: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---------------------------------------------------------------- startup and stop */

static char *read_pem(const char *path)
{
    uint8_t *buf;
    size_t len;
    if (tool_read_file(path, &buf, &len) != 0) {
        return NULL;
    }
    char *text = malloc(len + 1);
    if (text != NULL) {
        memcpy(text, buf, len);
        text[len] = '\0';
    }
    free(buf);
    return text;
}

struct listen_addr {
    struct sockaddr_storage ss;
    bool v6;
};

static int parse_bind(const char *addr, unsigned port, struct listen_addr *out)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        out->v6 = true;
        return 0;
    }
    return -1;
}

static struct MHD_Daemon *start_daemon(struct server *s, unsigned port, bool tls, const char *cert,
                                       const char *key)
{
    const serve_opts_t *o = s->o;
    struct listen_addr la;
    if (parse_bind(o->bind_addr, port, &la) != 0) {
        tool_error("--bind %s: not a numeric IPv4 or IPv6 address", o->bind_addr);
        return NULL;
    }
    unsigned threads = o->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    /* threads: one thread per connection, which lets libmicrohttpd hand sendfile 2 MiB a
     * call (its event loop stops at 128 KiB, and the reader then wakes up 8 times per
     * MiB); epoll: one event loop per core, for many mostly idle connections. */
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (o->io_threads) {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
        threads = 1;
    } else {
        flags |= MHD_USE_EPOLL;
    }
    if (la.v6) {
        flags |= MHD_USE_IPv6;
    }
    if (tls) {
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem items[16];
    size_t n = 0;
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &la.ss};
    items[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)o->max_connections, NULL};
    items[n++] =
        (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)o->max_per_ip, NULL};
    items[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o->idle_timeout, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                         (intptr_t)o->max_header_size, NULL};
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
    if (threads > 1) {
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL};
    }
    if (tls) {
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)cert};
        items[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)key};
    }
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_ARRAY, items, MHD_OPTION_END);
}

/* ---------------------------------------------------------------- status line */

/* n bytes as "812 B", "181.2 KiB", "3.4 MiB", "1.2 GiB". */
static void human_bytes(char *out, size_t cap, double n)
{
    static const char *const UNITS[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (n >= 1024.0 && u + 1 < sizeof(UNITS) / sizeof(UNITS[0])) {
        n /= 1024.0;
        u++;
    }
    snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", n, UNITS[u]);
}

/* Draw the status line again when a count changed, and at least once a second (the
 * rate); force: draw now. Runs on the main thread only. */
static void status_tick(struct server *s, bool force)
{
    long long now = monotonic_ns();
    unsigned long long requests = atomic_load(&s->requests), bytes = atomic_load(&s->bytes);
    pthread_mutex_lock(&s->conn_lock);
    unsigned conns = s->nconns;
    pthread_mutex_unlock(&s->conn_lock);
    bool redraw =
        force || !s->status_drawn || requests != s->shown_requests || conns != s->shown_conns;
    if (now - s->rate_ns >= 1000000000LL) {
        s->rate = (double)(bytes - s->rate_bytes) * 1e9 / (double)(now - s->rate_ns);
        s->rate_bytes = bytes;
        s->rate_ns = now;
        redraw = true;
    }
    if (!redraw) {
        return;
    }
    char sent[32], rate[32], line[256];
    human_bytes(sent, sizeof(sent), (double)bytes);
    human_bytes(rate, sizeof(rate), s->rate);
    int n = snprintf(line, sizeof(line),
                     "\r\033[K%u connection%s open | %llu request%s | %s sent | %s/s", conns,
                     conns == 1 ? "" : "s", requests, requests == 1 ? "" : "s", sent, rate);
    size_t len = n > 0 ? (size_t)n : 0;
    if (len >= sizeof(line)) {
        len = sizeof(line) - 1;
    }
    /* Never wider than the terminal: a wrapped line could not be redrawn in place. */
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && len > 4u + ws.ws_col - 1) {
        len = 4u + ws.ws_col - 1; /* "\r\033[K" is 4 bytes */
    }
    log_write(STDERR_FILENO, line, len);
    s->status_drawn = true;
    s->shown_requests = requests;
    s->shown_conns = conns;
}

/* Erase the status line before other text goes to the terminal. */
static void status_clear(struct server *s)
{
    if (s->status && s->status_drawn) {
        log_write(STDERR_FILENO, "\r\033[K", 4);
        s->status_drawn = false;
    }
}

/* Wait for SIGINT or SIGTERM; on a terminal, tick the status line meanwhile. */
static int wait_for_stop(struct server *s, const sigset_t *sigs)
{
    int sig = 0;
    if (!s->status) {
        while (sigwait(sigs, &sig) != 0) {
        }
        return sig;
    }
    s->rate_ns = monotonic_ns();
    status_tick(s, true);
    for (;;) {
        struct timespec step = {0, 100 * 1000 * 1000};
        sig = sigtimedwait(sigs, NULL, &step);
        if (sig > 0) {
            status_clear(s);
            return sig;
        }
        status_tick(s, false);
    }
}

static void print_url(struct server *s, FILE *out, struct MHD_Daemon *d, bool tls, char *url,
                      size_t cap)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di != NULL ? di->port : 0;
    bool v6 = strchr(s->o->bind_addr, ':') != NULL;
    snprintf(url, cap, "%s://%s%s%s:%u/", tls ? "https" : "http", v6 ? "[" : "", s->o->bind_addr,
             v6 ? "]" : "", port);
    fprintf(out, "serving %s on %s\n", s->o->root, url);
    fflush(out);
}

static double elapsed_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

int serve_run(const serve_opts_t *o)
{
    struct server *s = calloc(1, sizeof(*s));
    int rc = EXIT_USAGE;
    char *cert = NULL, *key = NULL;
    char urls[2][160];
    sigset_t sigs;
    if (s == NULL) {
        tool_error("out of memory");
        return EXIT_USAGE;
    }
    s->o = o;
    s->root_fd = -1;
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->meta_lock, NULL);
    pthread_mutex_init(&s->conn_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->conn_cv, &ca);
    pthread_condattr_destroy(&ca);

    s->root_fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        tool_error("%s: %s", o->root, strerror(errno));
        goto out;
    }
    s->root_real = realpath(o->root, NULL);
    if (s->root_real == NULL) {
        tool_error("%s: %s", o->root, strerror(errno));
        goto out;
    }
    {
        int probe = sys_openat2(s->root_fd, ".", O_PATH | O_CLOEXEC);
        s->have_openat2 = probe >= 0;
        if (probe >= 0) {
            close(probe);
        }
    }
    s->meta = calloc(META_CACHE_SLOTS, sizeof(*s->meta));
    if (s->meta == NULL) {
        tool_error("out of memory");
        goto out;
    }
    if (o->tls_cert != NULL || o->tls_key != NULL) {
        if (o->tls_cert == NULL || o->tls_key == NULL) {
            tool_error("--tls-cert and --tls-key go together");
            goto out;
        }
        cert = read_pem(o->tls_cert);
        key = read_pem(o->tls_key);
        if (cert == NULL || key == NULL) {
            goto out;
        }
    }
    FILE *out_stream = o->json ? stderr : stdout;
    if (o->access_log != NULL) {
        if (strcmp(o->access_log, "-") == 0) {
            s->log = out_stream;
        } else {
            s->log = fopen(o->access_log, "ae");
            if (s->log == NULL) {
                tool_error("%s: %s", o->access_log, strerror(errno));
                goto out;
            }
            s->log_owned = true;
        }
    }

    /* More descriptors for more connections: the soft limit up to the hard one. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Signals: the main thread waits for them; every other thread (started below)
     * inherits the blocked mask. A client that goes away must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    /* Set before any connection thread reads them. */
    s->status = o->status && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    s->log_erases_status = s->status && s->log != NULL && isatty(fileno(s->log));

    bool tls = cert != NULL;
    if (tls && o->tls_port >= 0) {
        s->daemons[s->ndaemons] = start_daemon(s, o->port, false, NULL, NULL);
        if (s->daemons[s->ndaemons] == NULL) {
            tool_error("cannot listen on %s port %u", o->bind_addr, o->port);
            goto out;
        }
        s->ndaemons++;
        s->daemons[s->ndaemons] = start_daemon(s, (unsigned)o->tls_port, true, cert, key);
        if (s->daemons[s->ndaemons] == NULL) {
            tool_error("cannot serve HTTPS on %s port %d (check the certificate and key)",
                       o->bind_addr, o->tls_port);
            goto out;
        }
        s->ndaemons++;
    } else {
        s->daemons[0] = start_daemon(s, o->port, tls, cert, key);
        if (s->daemons[0] == NULL) {
            tool_error(tls ? "cannot serve HTTPS on %s port %u (check the certificate and key)"
                           : "cannot listen on %s port %u",
                       o->bind_addr, o->port);
            goto out;
        }
        s->ndaemons = 1;
    }
    s->started = true;
    if (o->header_timeout > 0) {
        s->reaper_running = pthread_create(&s->reaper, NULL, reaper_main, s) == 0;
    }

    size_t nurls = s->ndaemons;
    for (size_t i = 0; i < s->ndaemons; i++) {
        bool is_tls = tls && (o->tls_port < 0 || i == 1);
        print_url(s, out_stream, s->daemons[i], is_tls, urls[i], sizeof(urls[i]));
    }

    int sig = wait_for_stop(s, &sigs);
    atomic_store(&s->draining, true);
    for (size_t i = 0; i < s->ndaemons; i++) {
        MHD_socket lfd = MHD_quiesce_daemon(s->daemons[i]);
        if (lfd != MHD_INVALID_SOCKET) {
            close(lfd); /* no new connections from here on */
        }
    }
    int pending = atomic_load(&s->in_flight);
    if (pending > 0) {
        fprintf(stderr, "otakit: serve: %s: letting %d request(s) finish (up to %u s)\n",
                strsignal(sig), pending, o->drain_timeout);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&s->in_flight) > 0) {
        double left = (double)o->drain_timeout - elapsed_since(&t0);
        if (left <= 0) {
            break;
        }
        struct timespec step = {0, 20 * 1000 * 1000};
        if (sigtimedwait(&sigs, NULL, &step) > 0) {
            break; /* a second signal: stop now */
        }
    }
    int cut = atomic_load(&s->in_flight);

    pthread_mutex_lock(&s->conn_lock);
    s->reaper_stop = true;
    pthread_cond_signal(&s->conn_cv);
    pthread_mutex_unlock(&s->conn_lock);
    if (s->reaper_running) {
        pthread_join(s->reaper, NULL);
        s->reaper_running = false;
    }
    for (size_t i = 0; i < s->ndaemons; i++) {
        MHD_stop_daemon(s->daemons[i]);
        s->daemons[i] = NULL;
    }
    s->ndaemons = 0;

    unsigned long long requests = atomic_load(&s->requests), bytes = atomic_load(&s->bytes),
                       errors = atomic_load(&s->errors), aborted = atomic_load(&s->aborted),
                       timeouts = atomic_load(&s->head_timeouts);
    fprintf(stderr,
            "otakit: serve: stopped: %llu requests, %llu bytes sent, %llu errors, %llu aborted, "
            "%llu closed at the header deadline, %d cut at the drain deadline\n",
            requests, bytes, errors, aborted, timeouts, cut);
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        if (j != NULL) {
            cJSON_AddStringToObject(j, "root", o->root);
            cJSON_AddStringToObject(j, "signal", strsignal(sig));
            cJSON_AddNumberToObject(j, "requests", (double)requests);
            cJSON_AddNumberToObject(j, "bytes", (double)bytes);
            cJSON_AddNumberToObject(j, "errors", (double)errors);
            cJSON_AddNumberToObject(j, "aborted", (double)aborted);
            cJSON_AddNumberToObject(j, "header_timeouts", (double)timeouts);
            cJSON_AddNumberToObject(j, "cut", cut);
            cJSON *u = cJSON_AddArrayToObject(j, "urls");
            for (size_t i = 0; u != NULL && i < nurls; i++) {
                cJSON_AddItemToArray(u, cJSON_CreateString(urls[i]));
            }
            char *text = cJSON_PrintUnformatted(j);
            if (text != NULL) {
                printf("%s\n", text);
                free(text);
            }
            cJSON_Delete(j);
        }
    }
    fflush(stdout);
    rc = EXIT_OK;

out:
    if (s->reaper_running) {
        pthread_mutex_lock(&s->conn_lock);
        s->reaper_stop = true;
        pthread_cond_signal(&s->conn_cv);
        pthread_mutex_unlock(&s->conn_lock);
        pthread_join(s->reaper, NULL);
    }
    for (size_t i = 0; i < s->ndaemons; i++) {
        MHD_stop_daemon(s->daemons[i]);
    }
    if (s->log_owned) {
        fclose(s->log);
    }
    if (s->root_fd >= 0) {
        close(s->root_fd);
    }
    free(cert);
    free(key);
    free(s->root_real);
    free(s->meta);
    pthread_cond_destroy(&s->conn_cv);
    pthread_mutex_destroy(&s->conn_lock);
    pthread_mutex_destroy(&s->meta_lock);
    pthread_mutex_destroy(&s->log_lock);
    free(s);
    return rc;
}
