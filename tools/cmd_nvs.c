/* otakit nvs show | get | set | erase | gen: ESP-IDF's NVS partitions in flash files, with
 * the device's engine (src/core/nvs.c), and the partition generator's CSV compiler. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "nvs_gen.h"
#include "otakit/nvs.h"

static const char USAGE[] =
    "usage: otakit nvs show FLASH [--json] [LOCATION]\n"
    "       otakit nvs get FLASH NAMESPACE KEY [--json] [LOCATION]\n"
    "       otakit nvs set FLASH NAMESPACE KEY TYPE VALUE [LOCATION]\n"
    "       otakit nvs erase FLASH [NAMESPACE [KEY]] [LOCATION]\n"
    "       otakit nvs gen CSV OUT SIZE\n"
    "\n"
    "ESP-IDF's NVS (non-volatile storage, format version 2) in a flash file:\n"
    "  show   every namespace and key with its type and value (--json: the listing of\n"
    "         ESP-IDF's nvs_tool.py -d minimal -f json)\n"
    "  get    one value: integers in decimal, strings as they are, blobs in hex\n"
    "  set    store a value; TYPE is u8 i8 u16 i16 u32 i32 u64 i64 (decimal or 0x hex),\n"
    "         string, hex2bin (hex digits), base64, or file (VALUE names a file: a blob)\n"
    "  erase  the whole partition, every key of a namespace, or one key\n"
    "  gen    compile a CSV in the format of ESP-IDF's nvs_partition_gen.py\n"
    "         (key,type,encoding,value; type namespace, data or file) into a SIZE-byte\n"
    "         partition image, byte for byte what the generator writes\n"
    "LOCATION (FLASH is a whole flash image by default: the NVS partition is found in its\n"
    "partition table):\n"
    "  --label NAME         the data/nvs partition labelled NAME (default \"nvs\")\n"
    "  --table-offset OFF   the partition table's offset (default 0x8000)\n"
    "  --offset OFF --size SIZE   the partition at OFF, SIZE bytes (no table needed)\n"
    "  --partition          FLASH is a bare NVS partition file\n"
    "Reads open a copy in memory and recover it as a device's nvs_flash_init would,\n"
    "without writing the file; set and erase write the file as the device would (power\n"
    "safe: an interrupted write leaves the old or the new value).\n"
    "exit codes: 0 ok, 1 failed (key not found, no room, unreadable partition), 2 bad usage\n";

struct opts {
    bool json, bare, have_offset, have_size;
    const char *label;
    uint32_t table_offset, offset, size;
    const char *pos[8];
    int npos;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option LONG[] = {
        {"json", no_argument, NULL, 'j'},         {"partition", no_argument, NULL, 'p'},
        {"label", required_argument, NULL, 'l'},  {"table-offset", required_argument, NULL, 't'},
        {"offset", required_argument, NULL, 'o'}, {"size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->label = "nvs";
    o->table_offset = OTAKIT_PTABLE_OFFSET_DEFAULT;
    /* Options may come anywhere (getopt_long permutes); a negative number is a value,
     * not an option: hide its '-' from getopt behind a marker byte. */
    static char *av[64];
    if (argc > 63) {
        tool_error("nvs: too many arguments");
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i];
        if (i > 0 && argv[i][0] == '-' && isdigit((unsigned char)argv[i][1])) {
            size_t n = strlen(argv[i]) + 2;
            av[i] = malloc(n);
            snprintf(av[i], n, "\x01%s", argv[i]);
        }
    }
    av[argc] = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, av, ":h", LONG, NULL)) != -1) {
        uint32_t v = 0;
        if (c == 't' || c == 'o' || c == 's') {
            if (tool_parse_u32(optarg, &v) != 0) {
                tool_error("nvs: option '%s' needs a number, not '%s'",
                           av[optind - 1][0] == '-' ? av[optind - 1] : av[optind - 2], optarg);
                return -1;
            }
        }
        switch (c) {
        case 'j':
            o->json = true;
            break;
        case 'p':
            o->bare = true;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 't':
            o->table_offset = v;
            break;
        case 'o':
            o->offset = v;
            o->have_offset = true;
            break;
        case 's':
            o->size = v;
            o->have_size = true;
            break;
        case 'h':
            return 1;
        case ':':
            tool_error("nvs: option '%s' needs a value", av[optind - 1]);
            return -1;
        default:
            tool_error("nvs: unknown option '%s'", av[optind - 1]);
            return -1;
        }
    }
    for (; optind < argc; optind++) {
        if (o->npos >= 8) {
            tool_error("nvs: too many arguments");
            return -1;
        }
        o->pos[o->npos++] = av[optind][0] == '\x01' ? av[optind] + 1 : av[optind];
    }
    if (o->have_offset != o->have_size) {
        tool_error("nvs: --offset and --size go together");
        return -1;
    }
    if (o->bare && o->have_offset) {
        tool_error("nvs: --partition and --offset/--size exclude each other");
        return -1;
    }
    return 0;
}

/* An opened NVS partition: the flash file (or a copy of it in memory) and the engine. */
typedef struct part {
    otakit_nor_t *file, *mem;
    const otakit_flash_t *flash;
    uint32_t offset, size;
    otakit_nvs_t nvs;
    otakit_nvs_page_t *pages;
    bool readonly_view;
} part_t;

static int locate(const struct opts *o, const char *path, const otakit_flash_t *f, uint32_t *off,
                  uint32_t *size)
{
    if (o->bare) {
        *off = 0;
        *size = f->size;
        return 0;
    }
    if (o->have_offset) {
        *off = o->offset;
        *size = o->size;
    } else {
        otakit_ptable_t *t = malloc(sizeof(*t));
        if (t == NULL || tool_load_table(path, f, o->table_offset, t) != 0) {
            free(t);
            return -1;
        }
        const otakit_part_t *p = NULL;
        for (size_t i = 0; i < t->count && p == NULL; i++) {
            const otakit_part_t *c = &t->parts[i];
            if (c->type == OTAKIT_PART_TYPE_DATA && c->subtype == OTAKIT_PART_SUBTYPE_DATA_NVS &&
                strcmp(c->label, o->label) == 0) {
                p = c;
            }
        }
        if (p == NULL) {
            tool_error("%s: the partition table at 0x%x has no data/nvs partition labelled \"%s\"",
                       path, (unsigned)o->table_offset, o->label);
            free(t);
            return -1;
        }
        *off = p->offset;
        *size = p->size;
        free(t);
    }
    if (*off % OTAKIT_NVS_PAGE_SIZE || *size % OTAKIT_NVS_PAGE_SIZE || *size == 0 ||
        *off > f->size || *size > f->size - *off) {
        tool_error(
            "%s: NVS partition at 0x%x, 0x%x bytes: not 4 KiB pages inside the 0x%x-byte file",
            path, (unsigned)*off, (unsigned)*size, (unsigned)f->size);
        return -1;
    }
    return 0;
}

/* Open the partition. write: on the file itself; else on a copy in memory, recovered as
 * a device would (falling back to a read-only view when it cannot be, e.g. no free page). */
static int part_open(const struct opts *o, const char *path, bool write, part_t *p)
{
    memset(p, 0, sizeof(*p));
    if (tool_open_flash(path, write ? 0 : OTAKIT_NOR_READONLY, &p->file) != 0) {
        return -1;
    }
    const otakit_flash_t *f = otakit_nor_flash(p->file);
    if (locate(o, path, f, &p->offset, &p->size) != 0) {
        return -1;
    }
    p->pages = calloc(p->size / OTAKIT_NVS_PAGE_SIZE, sizeof(*p->pages));
    if (p->pages == NULL) {
        tool_error("out of memory");
        return -1;
    }
    if (write) {
        p->flash = f;
    } else {
        if (otakit_nor_open_mem(&p->mem, p->size, 0) != OTAKIT_OK) {
            tool_error("out of memory");
            return -1;
        }
        memcpy(otakit_nor_data(p->mem), otakit_nor_data(p->file) + p->offset, p->size);
        p->flash = otakit_nor_flash(p->mem);
    }
    uint32_t base = write ? p->offset : 0;
    size_t n = p->size / OTAKIT_NVS_PAGE_SIZE;
    otakit_err_t err = otakit_nvs_init(&p->nvs, p->flash, base, p->size, p->pages, n, false);
    if (err != OTAKIT_OK && !write) {
        otakit_err_t ro = otakit_nvs_init(&p->nvs, p->flash, base, p->size, p->pages, n, true);
        if (ro == OTAKIT_OK) {
            fprintf(stderr,
                    "otakit: %s: warning: a device would not initialise this partition (%s); "
                    "showing it as stored\n",
                    path, otakit_err_name(err));
            p->readonly_view = true;
            return 0;
        }
    }
    if (err != OTAKIT_OK) {
        tool_error("%s: NVS partition at 0x%x (0x%x bytes): %s%s", path, (unsigned)p->offset,
                   (unsigned)p->size, otakit_err_name(err),
                   err == OTAKIT_ERR_NVS_NO_FREE_PAGES || err == OTAKIT_ERR_NVS_NEW_VERSION_FOUND
                       ? " (erase it: otakit nvs erase FLASH)"
                       : "");
        return -1;
    }
    return 0;
}

static void part_close(part_t *p)
{
    if (p->mem) {
        otakit_nor_close(p->mem);
    }
    if (p->file) {
        otakit_nor_close(p->file);
    }
    free(p->pages);
}

static void print_escaped(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c == '\n') {
            printf("\\n");
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\x%02x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void int_text(const otakit_nvs_item_t *it, const uint8_t *data, char *buf, size_t len)
{
    size_t n = otakit_nvs_int_size((otakit_nvs_type_t)it->type);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)data[i] << (8 * i);
    }
    if (it->type & 0x10) {
        int64_t s = n == 8
                        ? (int64_t)v
                        : (int64_t)(v ^ ((uint64_t)1 << (8 * n - 1))) - ((int64_t)1 << (8 * n - 1));
        snprintf(buf, len, "%" PRId64, s);
    } else {
        snprintf(buf, len, "%" PRIu64, v);
    }
}

static const char *type_word(unsigned t)
{
    return t == 0x21 ? "string" : (t == 0x48 || t == 0x41) ? "blob" : otakit_nvs_type_name(t);
}

static int run_show(const struct opts *o, part_t *p)
{
    if (o->json) {
        cJSON *list = otakit_nvs_listing(&p->nvs);
        if (list == NULL) {
            tool_error("%s: the partition cannot be read", o->pos[1]);
            return EXIT_CHECK_FAILED;
        }
        tool_print_json(list, true);
        return EXIT_OK;
    }
    otakit_nvs_stats_t st;
    otakit_nvs_stats(&p->nvs, &st);
    printf("NVS partition at 0x%x, 0x%x bytes (%u pages): %zu entries used, %zu free, %zu "
           "namespaces\n",
           (unsigned)p->offset, (unsigned)p->size, (unsigned)(p->size / OTAKIT_NVS_PAGE_SIZE),
           st.used_entries, st.free_entries, st.namespace_count);
    otakit_nvs_iter_t ni = {0, 0};
    otakit_nvs_item_t ns;
    while (otakit_nvs_next(&p->nvs, &ni, &ns) == OTAKIT_OK) {
        if (ns.ns != 0 || ns.type != OTAKIT_NVS_U8) {
            continue;
        }
        printf("namespace %s (index %u)\n", ns.key, ns.data[0]);
        otakit_nvs_iter_t ki = {0, 0};
        otakit_nvs_item_t it;
        while (otakit_nvs_next(&p->nvs, &ki, &it) == OTAKIT_OK) {
            if (it.ns != ns.data[0] || it.type == OTAKIT_NVS_TYPE_BLOB_DATA) {
                continue;
            }
            printf("  %-15s %-6s ", it.key, type_word(it.type));
            char num[32];
            if (otakit_nvs_int_size((otakit_nvs_type_t)it.type)) {
                int_text(&it, it.data, num, sizeof(num));
                printf("%s\n", num);
                continue;
            }
            size_t len = it.size;
            uint8_t *buf = malloc(len + 1);
            otakit_err_t err =
                it.type == OTAKIT_NVS_STR
                    ? otakit_nvs_get(&p->nvs, it.ns, it.key, OTAKIT_NVS_STR, buf, len)
                    : otakit_nvs_get(&p->nvs, it.ns, it.key, OTAKIT_NVS_BLOB, buf, len);
            if (err != OTAKIT_OK) {
                printf("(unreadable: %s)\n", otakit_err_name(err));
            } else if (it.type == OTAKIT_NVS_STR) {
                print_escaped((const char *)buf, len > 0 ? len - 1 : 0);
                putchar('\n');
            } else {
                printf("%zu bytes", len);
                size_t show = len < 32 ? len : 32;
                if (show) {
                    char hex[65];
                    tool_hex(hex, buf, show);
                    printf(": %s%s", hex, show < len ? "..." : "");
                }
                putchar('\n');
            }
            free(buf);
        }
    }
    return EXIT_OK;
}

static int open_ns(const char *path, part_t *p, const char *name, bool create, uint8_t *ns)
{
    otakit_err_t err = otakit_nvs_ns_open(&p->nvs, name, create, ns);
    if (err == OTAKIT_ERR_NVS_NOT_FOUND) {
        tool_error("%s: no namespace \"%s\"", path, name);
    } else if (err != OTAKIT_OK) {
        tool_error("%s: namespace \"%s\": %s", path, name, otakit_err_name(err));
    }
    return err == OTAKIT_OK ? 0 : -1;
}

static int run_get(const struct opts *o, part_t *p)
{
    const char *path = o->pos[1], *nsname = o->pos[2], *key = o->pos[3];
    uint8_t ns;
    if (open_ns(path, p, nsname, false, &ns) != 0) {
        return EXIT_CHECK_FAILED;
    }
    otakit_nvs_type_t t;
    otakit_err_t err = otakit_nvs_find_key(&p->nvs, ns, key, &t);
    if (err != OTAKIT_OK) {
        tool_error("%s: namespace \"%s\" has no key \"%s\"%s", path, nsname, key,
                   err == OTAKIT_ERR_NVS_KEY_TOO_LONG ? " (keys have 15 characters at most)" : "");
        return EXIT_CHECK_FAILED;
    }
    size_t len = otakit_nvs_int_size(t);
    if (len == 0 && (err = otakit_nvs_get_size(&p->nvs, ns, key, t, &len)) != OTAKIT_OK) {
        tool_error("%s: %s/%s: %s", path, nsname, key, otakit_err_name(err));
        return EXIT_CHECK_FAILED;
    }
    uint8_t *buf = malloc(len + 1);
    err = otakit_nvs_get(&p->nvs, ns, key, t, buf, len);
    if (err != OTAKIT_OK) {
        tool_error("%s: %s/%s: %s", path, nsname, key, otakit_err_name(err));
        free(buf);
        return EXIT_CHECK_FAILED;
    }
    otakit_nvs_item_t it = {0};
    it.type = (uint8_t)t;
    char num[32];
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "namespace", nsname);
        cJSON_AddStringToObject(j, "key", key);
        cJSON_AddStringToObject(j, "encoding",
                                t == OTAKIT_NVS_BLOB ? "blob" : otakit_nvs_encoding_name(t));
        if (otakit_nvs_int_size(t)) {
            int_text(&it, buf, num, sizeof(num));
            cJSON_AddRawToObject(j, "data", num);
        } else if (t == OTAKIT_NVS_STR) {
            buf[len > 0 ? len - 1 : 0] = 0;
            cJSON_AddStringToObject(j, "data", (const char *)buf);
        } else {
            char *b64 = otakit_base64(buf, len);
            cJSON_AddStringToObject(j, "data", b64);
            free(b64);
        }
        tool_print_json(j, true);
    } else if (otakit_nvs_int_size(t)) {
        int_text(&it, buf, num, sizeof(num));
        printf("%s\n", num);
    } else if (t == OTAKIT_NVS_STR) {
        fwrite(buf, 1, len > 0 ? len - 1 : 0, stdout);
        putchar('\n');
    } else {
        char *hex = malloc(2 * len + 1);
        tool_hex(hex, buf, len);
        printf("%s\n", hex);
        free(hex);
    }
    free(buf);
    return EXIT_OK;
}

static int parse_int_value(const char *s, otakit_nvs_type_t t, uint8_t out[8])
{
    size_t n = otakit_nvs_int_size(t);
    bool is_signed = t & 0x10;
    char *end;
    errno = 0;
    uint64_t bits;
    if (is_signed) {
        long long v = strtoll(s, &end, 0);
        long long lo = n == 8 ? INT64_MIN : -(1LL << (8 * n - 1));
        long long hi = n == 8 ? INT64_MAX : (1LL << (8 * n - 1)) - 1;
        if (errno || *end || end == s || v < lo || v > hi) {
            return -1;
        }
        bits = (uint64_t)v;
    } else {
        while (isspace((unsigned char)*s)) {
            s++;
        }
        if (*s == '-') {
            return -1;
        }
        unsigned long long v = strtoull(s, &end, 0);
        if (errno || *end || end == s || (n < 8 && v >> (8 * n))) {
            return -1;
        }
        bits = v;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(bits >> (8 * i));
    }
    return 0;
}

/* The value of `set` as the engine takes it (malloc'd). Returns 0, or prints and -1. */
static int set_value(const char *type, const char *value, otakit_nvs_type_t *t, uint8_t **data,
                     size_t *len)
{
    static const struct {
        const char *name;
        otakit_nvs_type_t t;
    } INTS[] = {{"u8", OTAKIT_NVS_U8},   {"i8", OTAKIT_NVS_I8},   {"u16", OTAKIT_NVS_U16},
                {"i16", OTAKIT_NVS_I16}, {"u32", OTAKIT_NVS_U32}, {"i32", OTAKIT_NVS_I32},
                {"u64", OTAKIT_NVS_U64}, {"i64", OTAKIT_NVS_I64}};
    for (size_t i = 0; i < sizeof(INTS) / sizeof(INTS[0]); i++) {
        if (strcmp(type, INTS[i].name) == 0) {
            *t = INTS[i].t;
            *len = otakit_nvs_int_size(*t);
            *data = malloc(8);
            if (parse_int_value(value, *t, *data) != 0) {
                tool_error("nvs set: '%s' is not a %s (decimal or 0x hex, in range)", value, type);
                return -1;
            }
            return 0;
        }
    }
    if (strcmp(type, "string") == 0) {
        *t = OTAKIT_NVS_STR;
        *len = strlen(value) + 1;
        *data = (uint8_t *)strdup(value);
        return 0;
    }
    *t = OTAKIT_NVS_BLOB;
    if (strcmp(type, "file") == 0) {
        return tool_read_file(value, data, len);
    }
    if (strcmp(type, "hex2bin") == 0 || strcmp(type, "base64") == 0) {
        /* the generator's decoders: one line of CSV does the same */
        size_t csv_len = strlen(value) + 64;
        char *csv = malloc(csv_len);
        snprintf(csv, csv_len, "key,type,encoding,value\nn,namespace,,\nk,data,%s,%s\n", type,
                 value);
        uint8_t *img;
        size_t img_len;
        char err[256];
        int rc = otakit_nvs_gen(csv, strlen(csv), 0x3000, &img, &img_len, err, sizeof(err));
        free(csv);
        if (rc != 0) {
            const char *msg = strchr(err, ':');
            tool_error("nvs set: %s", msg ? msg + 2 : err);
            return -1;
        }
        /* read it back through the engine */
        otakit_nor_t *nor;
        otakit_nvs_t nvs;
        otakit_nvs_page_t pages[3];
        uint8_t ns;
        otakit_nor_open_mem(&nor, 0x3000, 0);
        memcpy(otakit_nor_data(nor), img, img_len);
        free(img);
        rc = -1;
        if (otakit_nvs_init(&nvs, otakit_nor_flash(nor), 0, 0x3000, pages, 3, true) == OTAKIT_OK &&
            otakit_nvs_ns_open(&nvs, "n", false, &ns) == OTAKIT_OK &&
            otakit_nvs_get_size(&nvs, ns, "k", OTAKIT_NVS_BLOB, len) == OTAKIT_OK) {
            *data = malloc(*len + 1);
            rc = otakit_nvs_get(&nvs, ns, "k", OTAKIT_NVS_BLOB, *data, *len) == OTAKIT_OK ? 0 : -1;
        }
        otakit_nor_close(nor);
        if (rc != 0) {
            tool_error("nvs set: a %s value longer than 8000 bytes: use TYPE file", type);
        }
        return rc;
    }
    tool_error(
        "nvs set: unknown type '%s' (u8 i8 u16 i16 u32 i32 u64 i64 string hex2bin base64 file)",
        type);
    return -1;
}

static int run_set(const struct opts *o, part_t *p, otakit_nvs_type_t t, const uint8_t *data,
                   size_t len)
{
    const char *path = o->pos[1], *nsname = o->pos[2], *key = o->pos[3];
    uint8_t ns;
    if (open_ns(path, p, nsname, true, &ns) != 0) {
        return EXIT_CHECK_FAILED;
    }
    otakit_err_t err = otakit_nvs_set(&p->nvs, ns, key, t, data, len);
    if (err != OTAKIT_OK) {
        tool_error("%s: set %s/%s: %s%s", path, nsname, key, otakit_err_name(err),
                   err == OTAKIT_ERR_NVS_KEY_TOO_LONG       ? " (keys have 15 characters at most)"
                   : err == OTAKIT_ERR_NVS_VALUE_TOO_LONG   ? " (strings: 4000 bytes at most)"
                   : err == OTAKIT_ERR_NVS_NOT_ENOUGH_SPACE ? " (the partition is full)"
                                                            : "");
        return EXIT_CHECK_FAILED;
    }
    return EXIT_OK;
}

static int run_erase(const struct opts *o, part_t *p)
{
    const char *path = o->pos[1];
    if (o->npos == 2) {
        otakit_err_t err = otakit_flash_erase(otakit_nor_flash(p->file), p->offset, p->size);
        if (err != OTAKIT_OK) {
            tool_error("%s: erase: %s", path, otakit_err_name(err));
            return EXIT_CHECK_FAILED;
        }
        return EXIT_OK;
    }
    uint8_t ns;
    if (open_ns(path, p, o->pos[2], false, &ns) != 0) {
        return EXIT_CHECK_FAILED;
    }
    otakit_err_t err = o->npos == 4 ? otakit_nvs_erase_key(&p->nvs, ns, o->pos[3])
                                    : otakit_nvs_erase_ns(&p->nvs, ns);
    if (err == OTAKIT_ERR_NVS_NOT_FOUND) {
        tool_error("%s: namespace \"%s\" has no key \"%s\"", path, o->pos[2], o->pos[3]);
        return EXIT_CHECK_FAILED;
    }
    if (err != OTAKIT_OK) {
        tool_error("%s: erase: %s", path, otakit_err_name(err));
        return EXIT_CHECK_FAILED;
    }
    return EXIT_OK;
}

static int run_gen(const struct opts *o)
{
    uint32_t size;
    if (tool_parse_u32(o->pos[3], &size) != 0) {
        tool_error("nvs gen: SIZE '%s' is not a number", o->pos[3]);
        return EXIT_USAGE;
    }
    uint8_t *csv;
    size_t csv_len;
    if (tool_read_file(o->pos[1], &csv, &csv_len) != 0) {
        return EXIT_USAGE;
    }
    uint8_t *img;
    size_t len;
    char err[512];
    int rc = otakit_nvs_gen((const char *)csv, csv_len, size, &img, &len, err, sizeof(err));
    free(csv);
    if (rc != 0) {
        tool_error("%s: %s", o->pos[1], err);
        return EXIT_USAGE;
    }
    rc = tool_write_file(o->pos[2], img, len);
    free(img);
    return rc == 0 ? EXIT_OK : EXIT_CHECK_FAILED;
}

int cmd_nvs(int argc, char **argv)
{
    struct opts o;
    int pr = parse(argc, argv, &o);
    if (pr == 1) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (pr != 0) {
        return EXIT_USAGE;
    }
    if (o.npos < 1) {
        tool_error("nvs: missing command (see 'otakit nvs --help')");
        return EXIT_USAGE;
    }
    const char *cmd = o.pos[0];
    int want_min, want_max;
    if (strcmp(cmd, "show") == 0) {
        want_min = want_max = 2;
    } else if (strcmp(cmd, "get") == 0) {
        want_min = want_max = 4;
    } else if (strcmp(cmd, "set") == 0) {
        want_min = want_max = 6;
    } else if (strcmp(cmd, "erase") == 0) {
        want_min = 2;
        want_max = 4;
    } else if (strcmp(cmd, "gen") == 0) {
        want_min = want_max = 4;
    } else {
        tool_error("nvs: unknown command '%s' (show, get, set, erase, gen)", cmd);
        return EXIT_USAGE;
    }
    if (o.npos < want_min || o.npos > want_max) {
        tool_error("nvs %s: wrong number of arguments (see 'otakit nvs --help')", cmd);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "gen") == 0) {
        return run_gen(&o);
    }
    otakit_nvs_type_t t = OTAKIT_NVS_ANY;
    uint8_t *data = NULL;
    size_t len = 0;
    if (strcmp(cmd, "set") == 0 && set_value(o.pos[4], o.pos[5], &t, &data, &len) != 0) {
        free(data);
        return EXIT_USAGE;
    }
    bool write = strcmp(cmd, "set") == 0 || strcmp(cmd, "erase") == 0;
    part_t p;
    int rc;
    if (strcmp(cmd, "erase") == 0 && o.npos == 2) {
        /* the whole partition: no need to read it first */
        memset(&p, 0, sizeof(p));
        if (tool_open_flash(o.pos[1], 0, &p.file) != 0 ||
            locate(&o, o.pos[1], otakit_nor_flash(p.file), &p.offset, &p.size) != 0) {
            part_close(&p);
            return EXIT_CHECK_FAILED;
        }
        rc = run_erase(&o, &p);
        part_close(&p);
        return rc;
    }
    if (part_open(&o, o.pos[1], write, &p) != 0) {
        part_close(&p);
        free(data);
        return EXIT_CHECK_FAILED;
    }
    if (strcmp(cmd, "show") == 0) {
        rc = run_show(&o, &p);
    } else if (strcmp(cmd, "get") == 0) {
        rc = run_get(&o, &p);
    } else if (strcmp(cmd, "set") == 0) {
        rc = run_set(&o, &p, t, data, len);
    } else {
        rc = run_erase(&o, &p);
    }
    if (write && otakit_nor_sync(p.file) != OTAKIT_OK) {
        tool_error("%s: %s", o.pos[1], strerror(errno));
        rc = EXIT_CHECK_FAILED;
    }
    part_close(&p);
    free(data);
    return rc;
}
