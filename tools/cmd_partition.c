/* otakit partition: compile a partition CSV into ESP-IDF's binary table (byte for byte
 * what gen_esp32part.py writes), or show a binary table as gen_esp32part.py's CSV. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "otakit/hash.h"
#include "otakit/ptable.h"
#include "partition_csv.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: otakit partition compile IN.csv OUT.bin [options]\n"
            "       otakit partition show IN.bin [options]\n"
            "\n"
            "compile  turn an ESP-IDF partition CSV into the binary table gen_esp32part.py\n"
            "         writes (0xC00 bytes). OUT may be '-' for stdout.\n"
            "show     print a binary table (or a CSV, resolved) as gen_esp32part.py's CSV.\n"
            "\n"
            "options:\n"
            "  --offset N                       partition table offset (default 0x8000)\n"
            "  --flash-size SIZE                the partitions must fit in SIZE (e.g. 4MB)\n"
            "  --disable-md5                    compile: no MD5 record (alias --disable-md5sum)\n"
            "  --no-verify                      compile: skip the whole-table checks\n"
            "  --primary-bootloader-offset N    offset of the primary bootloader entry, if any\n"
            "  --recovery-bootloader-offset N   offset of the recovery bootloader entry, if any\n"
            "  --json                           print one JSON object on stdout\n"
            "  -h, --help                       this help\n"
            "\n"
            "An input that starts with the bytes AA 50 is a binary table, anything else CSV.\n"
            "exit codes: 0 ok, 2 bad usage or input (the message names the file and the CSV\n"
            "line or the table offset)\n");
}

struct opts {
    const char *cmd;
    const char *in;
    const char *out;
    otakit_partition_csv_options_t csv;
    bool md5;
    bool json;
};

/* @return 0, 1 when --help was asked (printed), -1 on bad usage (said). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    enum {
        OPT_JSON = 256,
        OPT_DISABLE_MD5,
        OPT_NO_VERIFY,
        OPT_OFFSET,
        OPT_FLASH_SIZE,
        OPT_PRIMARY_BOOTLOADER_OFFSET,
        OPT_RECOVERY_BOOTLOADER_OFFSET,
    };
    static const struct option OPTS[] = {
        TOOL_OPT_HELP_ENTRY,
        {"json", no_argument, 0, OPT_JSON},
        {"disable-md5", no_argument, 0, OPT_DISABLE_MD5},
        {"disable-md5sum", no_argument, 0, OPT_DISABLE_MD5},
        {"no-verify", no_argument, 0, OPT_NO_VERIFY},
        {"offset", required_argument, 0, OPT_OFFSET},
        {"flash-size", required_argument, 0, OPT_FLASH_SIZE},
        {"primary-bootloader-offset", required_argument, 0, OPT_PRIMARY_BOOTLOADER_OFFSET},
        {"recovery-bootloader-offset", required_argument, 0, OPT_RECOVERY_BOOTLOADER_OFFSET},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    otakit_partition_csv_options_init(&o->csv);
    o->md5 = true;
    tool_getopt_begin();
    int c;
    while ((c = tool_getopt(argc, argv, "partition", OPTS)) != -1) {
        switch (c) {
        case TOOL_OPT_HELP:
            usage(stdout);
            return 1;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_DISABLE_MD5:
            o->md5 = false;
            break;
        case OPT_NO_VERIFY:
            o->csv.no_verify = true;
            break;
        case OPT_OFFSET:
            if (tool_parse_u32(optarg, &o->csv.table_offset) != 0) {
                tool_error("--offset: expected a number such as 0x8000");
                return -1;
            }
            break;
        case OPT_FLASH_SIZE:
            if (tool_parse_flash_size(optarg, &o->csv.flash_size) != 0) {
                tool_error("--flash-size: expected a size such as 4MB");
                return -1;
            }
            break;
        case OPT_PRIMARY_BOOTLOADER_OFFSET:
            if (tool_parse_u32(optarg, &o->csv.primary_bootloader_offset) != 0) {
                tool_error("--primary-bootloader-offset: expected a number such as 0x1000");
                return -1;
            }
            o->csv.has_primary_bootloader_offset = true;
            break;
        case OPT_RECOVERY_BOOTLOADER_OFFSET:
            if (tool_parse_u32(optarg, &o->csv.recovery_bootloader_offset) != 0) {
                tool_error("--recovery-bootloader-offset: expected a number");
                return -1;
            }
            o->csv.has_recovery_bootloader_offset = true;
            break;
        default:
            return -1;
        }
    }
    char **pos = argv + optind;
    int npos = argc - optind;
    if (npos > 3) {
        tool_error("partition: too many arguments (see 'otakit partition --help')");
        return -1;
    }
    if (npos == 0) {
        tool_error("partition: missing command: compile or show (see 'otakit partition --help')");
        return -1;
    }
    o->cmd = pos[0];
    if (strcmp(o->cmd, "compile") == 0) {
        if (npos != 3) {
            tool_error("partition compile: expected IN.csv OUT.bin");
            return -1;
        }
        o->in = pos[1];
        o->out = pos[2];
        if (o->json && strcmp(o->out, "-") == 0) {
            tool_error("partition compile: --json prints on stdout, so OUT cannot be '-'");
            return -1;
        }
    } else if (strcmp(o->cmd, "show") == 0) {
        if (npos != 2) {
            tool_error("partition show: expected IN.bin");
            return -1;
        }
        o->in = pos[1];
    } else {
        tool_error("partition: unknown command '%s': expected compile or show", o->cmd);
        return -1;
    }
    return 0;
}

/* A binary table starts with a partition record, an MD5 record or the end marker;
 * none of these can start CSV text. */
static bool looks_binary(const uint8_t *buf, size_t len)
{
    if (otakit_partition_csv_is_binary(buf, len)) {
        return true;
    }
    return len >= 2 && ((buf[0] == 0xEB && buf[1] == 0xEB) || (buf[0] == 0xFF && buf[1] == 0xFF));
}

static void csv_error(const char *path, const otakit_partition_csv_error_t *err)
{
    if (err->line != 0) {
        tool_error("%s:%u: %s", path, err->line, err->msg);
    } else {
        tool_error("%s: %s", path, err->msg);
    }
}

/* JSON strings must be UTF-8: replace bytes that are not with '?'. */
static char *utf8_clean(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t i = 0;
    while (i < n) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t len = u[0] < 0x80                      ? 1
                     : (u[0] >= 0xC2 && u[0] <= 0xDF) ? 2
                     : (u[0] >= 0xE0 && u[0] <= 0xEF) ? 3
                     : (u[0] >= 0xF0 && u[0] <= 0xF4) ? 4
                                                      : 0;
        bool ok = len != 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (u[k] & 0xC0) == 0x80;
        }
        if (ok && len >= 3) {
            uint32_t cp = len == 3 ? ((u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3Fu))
                                   : ((u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 |
                                      (u[2] & 0x3Fu) << 6 | (u[3] & 0x3Fu));
            ok = (len == 3 ? cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)
                           : cp >= 0x10000 && cp <= 0x10FFFF);
        }
        if (ok) {
            memcpy(out + i, s + i, len);
            i += len;
        } else {
            out[i++] = '?';
        }
    }
    out[n] = '\0';
    return out;
}

static cJSON *part_json(const otakit_part_t *p, const char *full_name, unsigned line)
{
    cJSON *o = cJSON_CreateObject();
    char *name = utf8_clean(full_name ? full_name : p->label);
    char *label = utf8_clean(p->label);
    char num[16];
    cJSON_AddStringToObject(o, "name", name ? name : "");
    if (full_name != NULL) {
        cJSON_AddStringToObject(o, "label", label ? label : "");
    }
    free(name);
    free(label);
    const char *t = otakit_ptable_type_name(p->type);
    snprintf(num, sizeof(num), "%u", (unsigned)p->type);
    cJSON_AddStringToObject(o, "type", t ? t : num);
    const char *st = otakit_ptable_subtype_name(p->type, p->subtype);
    snprintf(num, sizeof(num), "%u", (unsigned)p->subtype);
    cJSON_AddStringToObject(o, "subtype", st ? st : num);
    cJSON_AddNumberToObject(o, "type_id", p->type);
    cJSON_AddNumberToObject(o, "subtype_id", p->subtype);
    cJSON_AddNumberToObject(o, "offset", p->offset);
    cJSON_AddNumberToObject(o, "size", p->size);
    cJSON *flags = cJSON_AddArrayToObject(o, "flags");
    if (p->flags & OTAKIT_PART_FLAG_ENCRYPTED) {
        cJSON_AddItemToArray(flags, cJSON_CreateString("encrypted"));
    }
    if (p->flags & OTAKIT_PART_FLAG_READONLY) {
        cJSON_AddItemToArray(flags, cJSON_CreateString("readonly"));
    }
    cJSON_AddNumberToObject(o, "flags_value", p->flags);
    if (line != 0) {
        cJSON_AddNumberToObject(o, "line", line);
    }
    return o;
}

static int print_json(cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) {
        tool_error("out of memory");
        return EXIT_USAGE;
    }
    puts(text);
    cJSON_free(text);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}

static void md5_hex(const uint8_t *buf, size_t len, char hex[33])
{
    uint8_t d[16];
    if (otakit_hash_buf(OTAKIT_HASH_MD5, buf, len, d) != OTAKIT_OK) {
        memset(d, 0, sizeof(d));
    }
    tool_hex(hex, d, sizeof(d));
}

static int parse_csv_file(const struct opts *o, const uint8_t *buf, size_t len,
                          otakit_partition_csv_t *t)
{
    otakit_partition_csv_error_t err;
    if (otakit_partition_csv_parse((const char *)buf, len, &o->csv, t, &err) != 0) {
        csv_error(o->in, &err);
        return -1;
    }
    return 0;
}

static int do_compile(const struct opts *o, const uint8_t *buf, size_t len)
{
    if (looks_binary(buf, len)) {
        tool_error("%s: offset 0x0: input is a binary partition table, not CSV "
                   "(use 'otakit partition show' to turn it into CSV)",
                   o->in);
        return EXIT_USAGE;
    }
    otakit_partition_csv_t t;
    if (parse_csv_file(o, buf, len, &t) != 0) {
        return EXIT_USAGE;
    }
    uint8_t bin[OTAKIT_PTABLE_MAX_LEN];
    otakit_partition_csv_error_t err;
    int rc = EXIT_USAGE;
    if (otakit_partition_csv_to_binary(&t, o->md5, bin, &err) != 0) {
        csv_error(o->in, &err);
        goto out;
    }
    if (tool_write_file(o->out, bin, sizeof(bin)) != 0) {
        goto out;
    }
    rc = EXIT_OK;
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "input", o->in);
        cJSON_AddStringToObject(root, "output", o->out);
        cJSON_AddNumberToObject(root, "table_offset", o->csv.table_offset);
        cJSON_AddNumberToObject(root, "size", sizeof(bin));
        if (o->md5) {
            char hex[33];
            tool_hex(hex, bin + t.count * OTAKIT_PTABLE_ENTRY_SIZE + 16, 16);
            cJSON_AddStringToObject(root, "md5", hex);
        } else {
            cJSON_AddNullToObject(root, "md5");
        }
        char file_md5[33];
        md5_hex(bin, sizeof(bin), file_md5);
        cJSON_AddStringToObject(root, "file_md5", file_md5);
        cJSON *arr = cJSON_AddArrayToObject(root, "partitions");
        for (size_t i = 0; i < t.count; i++) {
            cJSON_AddItemToArray(
                arr, part_json(&t.entries[i].part, t.entries[i].name, t.entries[i].line));
        }
        rc = print_json(root);
    }
out:
    otakit_partition_csv_free(&t);
    return rc;
}

static int show_parts(const struct opts *o, const char *format, const otakit_part_t *parts,
                      const char *const *names, const unsigned *lines, size_t n, const char *md5,
                      bool md5_valid)
{
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "input", o->in);
        cJSON_AddStringToObject(root, "format", format);
        cJSON_AddNumberToObject(root, "count", (double)n);
        cJSON *arr = cJSON_AddArrayToObject(root, "partitions");
        for (size_t i = 0; i < n; i++) {
            cJSON_AddItemToArray(
                arr, part_json(&parts[i], names ? names[i] : NULL, lines ? lines[i] : 0));
        }
        if (md5 != NULL) {
            cJSON_AddStringToObject(root, "md5", md5);
        } else {
            cJSON_AddNullToObject(root, "md5");
        }
        cJSON_AddBoolToObject(root, "md5_valid", md5_valid);
        return print_json(root);
    }
    char *text = otakit_partition_csv_format(parts, n);
    if (text == NULL) {
        tool_error("out of memory");
        return EXIT_USAGE;
    }
    fputs(text, stdout);
    free(text);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}

static int do_show(const struct opts *o, const uint8_t *buf, size_t len)
{
    if (!looks_binary(buf, len)) {
        /* A CSV: show it resolved (offsets placed), as the binary would read back. */
        otakit_partition_csv_t t;
        if (parse_csv_file(o, buf, len, &t) != 0) {
            return EXIT_USAGE;
        }
        otakit_part_t *parts = calloc(t.count ? t.count : 1, sizeof(*parts));
        const char **names = calloc(t.count ? t.count : 1, sizeof(*names));
        unsigned *lines = calloc(t.count ? t.count : 1, sizeof(*lines));
        int rc = EXIT_USAGE;
        char hex[33], *md5 = NULL;
        uint8_t bin[OTAKIT_PTABLE_MAX_LEN];
        otakit_partition_csv_error_t err;
        if (parts == NULL || names == NULL || lines == NULL) {
            tool_error("out of memory");
            goto csv_out;
        }
        for (size_t i = 0; i < t.count; i++) {
            parts[i] = t.entries[i].part;
            names[i] = t.entries[i].name;
            lines[i] = t.entries[i].line;
        }
        if (o->md5) {
            if (otakit_partition_csv_to_binary(&t, true, bin, &err) != 0) {
                csv_error(o->in, &err);
                goto csv_out;
            }
            tool_hex(hex, bin + t.count * OTAKIT_PTABLE_ENTRY_SIZE + 16, 16);
            md5 = hex;
        }
        rc = show_parts(o, "csv", parts, names, lines, t.count, md5, md5 != NULL);
    csv_out:
        free(parts);
        free(names);
        free(lines);
        otakit_partition_csv_free(&t);
        return rc;
    }

    otakit_ptable_t *t = malloc(sizeof(*t));
    if (t == NULL) {
        tool_error("out of memory");
        return EXIT_USAGE;
    }
    otakit_diag_t diag = {0, NULL};
    otakit_err_t e = otakit_ptable_parse(t, buf, len, o->csv.flash_size, false, &diag);
    if (e != OTAKIT_OK) {
        tool_error("%s: offset 0x%" PRIx32 ": %s (%s)", o->in, diag.offset,
                   diag.msg ? diag.msg : "invalid", otakit_err_name(e));
        free(t);
        return EXIT_USAGE;
    }
    char hex[33], *md5 = NULL;
    if (t->has_md5) {
        /* The parse accepted it, so the first MD5 record before the end is the one. */
        for (size_t off = 0; off + OTAKIT_PTABLE_ENTRY_SIZE <= len;
             off += OTAKIT_PTABLE_ENTRY_SIZE) {
            if (buf[off] == 0xEB && buf[off + 1] == 0xEB) {
                tool_hex(hex, buf + off + 16, 16);
                md5 = hex;
                break;
            }
        }
    }
    int rc = show_parts(o, "binary", t->parts, NULL, NULL, t->count, md5, t->has_md5);
    free(t);
    return rc;
}

int cmd_partition(int argc, char **argv)
{
    struct opts o;
    int p = parse_args(argc, argv, &o);
    if (p != 0) {
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (tool_read_file(o.in, &buf, &len) != 0) {
        return EXIT_USAGE;
    }
    int rc = strcmp(o.cmd, "compile") == 0 ? do_compile(&o, buf, len) : do_show(&o, buf, len);
    free(buf);
    return rc;
}
