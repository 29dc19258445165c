/* otakit flash: info, write (esptool's write_flash), read and erase on a flash file,
 * through the emulated NOR device and the core's checked flash wrappers. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "nor.h"
#include "otakit/flash.h"

#define SECTOR OTAKIT_SECTOR_SIZE

static const char USAGE[] =
    "usage: otakit flash info  FLASH [--json]\n"
    "       otakit flash write FLASH ADDR FILE [ADDR FILE ...] [--size SIZE] [--json]\n"
    "       otakit flash read  FLASH ADDR SIZE OUT [--json]\n"
    "       otakit flash erase FLASH [ADDR SIZE] [--size SIZE] [--json]\n"
    "\n"
    "Read, write and erase a flash file (the virtual device's SPI flash).\n"
    "\n"
    "  info   size, sectors, blank and used sectors, and the used ranges\n"
    "  write  as esptool write_flash: erase every sector the files touch, then program\n"
    "         them; overlapping files or data past the end are refused before the flash\n"
    "         is touched\n"
    "  read   copy SIZE bytes at ADDR into OUT ('-' for stdout)\n"
    "  erase  erase the whole chip, or [ADDR, ADDR+SIZE) (both 4 KiB aligned)\n"
    "\n"
    "options:\n"
    "  --size SIZE  size of the flash file that write/erase create when it is missing:\n"
    "               2MB, 4MB (default), 8MB, 16MB, 32MB, 64MB, 128MB or a byte count (0x400000)\n"
    "  --json       print one JSON object on stdout\n"
    "  -h, --help   this help\n"
    "\n"
    "Numbers are decimal, 0x hex, or with a K/M suffix (64K, 1M).\n"
    "exit codes: 0 ok, 2 bad usage or input (nothing is written)\n";

struct opts {
    bool json;
    bool have_size;
    uint32_t size;
    int npos;
    char **pos;
};

static int parse_num(const char *what, const char *s, uint32_t *out)
{
    if (tool_parse_u32(s, out) != 0) {
        tool_error("%s '%s': not a number (decimal, 0x hex, K/M suffix)", what, s);
        return -1;
    }
    return 0;
}

static void print_size(FILE *out, uint32_t size)
{
    if (size % 0x100000 == 0) {
        fprintf(out, "%u MB", size / 0x100000);
    } else if (size % 0x400 == 0) {
        fprintf(out, "%u KB", size / 0x400);
    } else {
        fprintf(out, "%u bytes", size);
    }
}

/* The size the flash has (existing file) or will have (created by write/erase).
 * Sets *exists. Returns -1 after printing the problem. */
static int target_size(const char *path, const struct opts *o, uint32_t *size, bool *exists)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            tool_error("%s: %s", path, strerror(errno));
            return -1;
        }
        *exists = false;
        *size = o->have_size ? o->size : OTAKIT_NOR_DEFAULT_SIZE;
        return 0;
    }
    *exists = true;
    if (st.st_size <= 0 || st.st_size % SECTOR || (uint64_t)st.st_size > 0xFFFFF000u) {
        tool_error("%s: offset 0x0: size is not a non-zero multiple of 4096 bytes", path);
        return -1;
    }
    *size = (uint32_t)st.st_size;
    if (o->have_size && o->size != *size) {
        tool_error("%s: the file is 0x%x bytes, --size asks 0x%x (it only applies to a new file)",
                   path, *size, o->size);
        return -1;
    }
    return 0;
}

/* Open for writing: create with `size` bytes of 0xFF when missing. */
static int open_rw(const char *path, uint32_t size, otakit_nor_t **nor)
{
    otakit_err_t err = otakit_nor_open(nor, path, size, OTAKIT_NOR_CREATE);
    if (err != OTAKIT_OK) {
        if (err == OTAKIT_ERR_INVALID_SIZE) {
            tool_error("%s: offset 0x0: size is not a non-zero multiple of 4096 bytes", path);
        } else {
            tool_error("%s: %s", path, strerror(errno));
        }
        return -1;
    }
    otakit_nor_timing_t t = otakit_nor_timing_default();
    otakit_nor_set_timing(*nor, &t);
    return 0;
}

static int run_info(const struct opts *o)
{
    if (o->npos != 2) {
        tool_error("info takes FLASH (see 'otakit flash --help')");
        return EXIT_USAGE;
    }
    const char *path = o->pos[1];
    otakit_nor_t *nor;
    if (tool_open_flash(path, OTAKIT_NOR_READONLY, &nor) != 0) {
        return EXIT_USAGE;
    }
    uint32_t size = otakit_nor_size(nor);
    const uint8_t *data = otakit_nor_data(nor);
    uint32_t sectors = size / SECTOR, blank = 0;
    /* A sector is blank when it equals one of all 0xFF: libc's memcmp compares a vector
     * at a time (a byte loop took most of this command's time on a 4 MB flash). */
    static uint8_t erased[SECTOR];
    memset(erased, 0xFF, sizeof(erased));
    cJSON *root = cJSON_CreateObject();
    cJSON *regions = cJSON_CreateArray();
    uint32_t run_start = 0;
    bool in_run = false;
    for (uint32_t s = 0; s <= sectors; s++) {
        bool used = false;
        if (s < sectors) {
            used = memcmp(data + (size_t)s * SECTOR, erased, SECTOR) != 0;
            blank += used ? 0 : 1;
        }
        if (used && !in_run) {
            run_start = s;
            in_run = true;
        } else if (!used && in_run) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "offset", (double)run_start * SECTOR);
            cJSON_AddNumberToObject(r, "size", (double)(s - run_start) * SECTOR);
            cJSON_AddItemToArray(regions, r);
            in_run = false;
        }
    }
    otakit_nor_close(nor);

    if (o->json) {
        cJSON_AddStringToObject(root, "flash", path);
        cJSON_AddNumberToObject(root, "size", size);
        cJSON_AddNumberToObject(root, "sector_size", SECTOR);
        cJSON_AddNumberToObject(root, "sectors", sectors);
        cJSON_AddNumberToObject(root, "blank_sectors", blank);
        cJSON_AddNumberToObject(root, "used_sectors", sectors - blank);
        cJSON_AddItemToObject(root, "used", regions);
        tool_print_json(root, true);
        return EXIT_OK;
    }
    printf("%s: %u bytes (", path, size);
    print_size(stdout, size);
    printf("), %u sectors of %u bytes\n", sectors, SECTOR);
    printf("blank sectors: %u\nused sectors:  %u\n", blank, sectors - blank);
    int n = cJSON_GetArraySize(regions);
    for (int i = 0; i < n; i++) {
        cJSON *r = cJSON_GetArrayItem(regions, i);
        uint32_t off = (uint32_t)cJSON_GetObjectItem(r, "offset")->valuedouble;
        uint32_t len = (uint32_t)cJSON_GetObjectItem(r, "size")->valuedouble;
        printf("%s0x%06x-0x%06x (%u sector%s)\n", i == 0 ? "used:  " : "       ", off, off + len,
               len / SECTOR, len == SECTOR ? "" : "s");
    }
    cJSON_Delete(root);
    cJSON_Delete(regions);
    return EXIT_OK;
}

struct pair {
    uint32_t addr;
    const char *file;
    uint8_t *buf;
    size_t len;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Refuse data past the end and overlapping files. Sorts p by address. */
static int check_pairs(const char *flash, uint32_t size, struct pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((uint64_t)p[i].addr + p[i].len > size) {
            tool_error("%s: offset 0x%x: %zu bytes end at 0x%llx, past the end of %s (0x%x bytes)",
                       p[i].file, p[i].addr, p[i].len, (unsigned long long)p[i].addr + p[i].len,
                       flash, size);
            return -1;
        }
    }
    qsort(p, n, sizeof(*p), cmp_pair);
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i].len > 0 && p[i + 1].len > 0 && p[i].addr + p[i].len > p[i + 1].addr) {
            tool_error("%s: offset 0x%x: overlaps %s (0x%x-0x%zx)", p[i + 1].file, p[i + 1].addr,
                       p[i].file, p[i].addr, p[i].addr + p[i].len);
            return -1;
        }
    }
    return 0;
}

/* The fields every write/erase report starts with. */
static cJSON *report_root(const char *path, uint32_t size, bool exists)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "flash", path);
    cJSON_AddNumberToObject(root, "size", size);
    cJSON_AddBoolToObject(root, "created", !exists);
    return root;
}

/* The JSON report's last fields (the flash operations), then print it. */
static void report_json_end(cJSON *root, const otakit_nor_t *nor)
{
    otakit_nor_stats_t st;
    otakit_nor_get_stats(nor, &st);
    cJSON_AddNumberToObject(root, "sectors_erased", (double)st.sectors_erased);
    cJSON_AddNumberToObject(root, "blocks_erased", (double)st.blocks_erased);
    cJSON_AddNumberToObject(root, "bytes_written", (double)st.bytes_written);
    cJSON_AddNumberToObject(root, "sim_time_ms", st.sim_time_us / 1000.0);
    tool_print_json(root, true);
}

/* The text report's first line, when the flash file was created. */
static void print_created(const char *path, uint32_t size, bool exists)
{
    if (!exists) {
        printf("%s: created, ", path);
        print_size(stdout, size);
        printf(" of 0xFF\n");
    }
}

/* The text report's last line (the flash operations). */
static void print_stats_text(const otakit_nor_t *nor)
{
    otakit_nor_stats_t st;
    otakit_nor_get_stats(nor, &st);
    printf("erased %llu sectors, wrote %llu bytes (about %.1f ms on an ESP32 module)\n",
           (unsigned long long)st.sectors_erased, (unsigned long long)st.bytes_written,
           st.sim_time_us / 1000.0);
}

/* Make the changes durable; a message naming the file when they cannot be. */
static int sync_flash(otakit_nor_t *nor, const char *path)
{
    if (otakit_nor_sync(nor) != OTAKIT_OK) {
        tool_error("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_write(const struct opts *o)
{
    if (o->npos < 4 || (o->npos - 2) % 2 != 0) {
        tool_error("write takes FLASH ADDR FILE [ADDR FILE ...] (see 'otakit flash --help')");
        return EXIT_USAGE;
    }
    const char *path = o->pos[1];
    size_t n = (size_t)(o->npos - 2) / 2;
    struct pair *p = calloc(n, sizeof(*p));
    uint8_t *touched = NULL;
    otakit_nor_t *nor = NULL;
    int rc = EXIT_USAGE;
    if (p == NULL) {
        tool_error("out of memory");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].file = o->pos[2 + 2 * i + 1];
        if (parse_num("address", o->pos[2 + 2 * i], &p[i].addr) != 0 ||
            tool_read_file(p[i].file, &p[i].buf, &p[i].len) != 0) {
            goto out;
        }
    }
    uint32_t size;
    bool exists;
    if (target_size(path, o, &size, &exists) != 0 || check_pairs(path, size, p, n) != 0) {
        goto out;
    }
    /* Everything is checked: only now is the flash touched. */
    if (open_rw(path, size, &nor) != 0) {
        goto out;
    }
    uint32_t sectors = size / SECTOR;
    touched = calloc(sectors, 1);
    if (touched == NULL) {
        tool_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i].len > 0) {
            uint32_t last = (uint32_t)((p[i].addr + p[i].len - 1) / SECTOR);
            memset(touched + p[i].addr / SECTOR, 1, last - p[i].addr / SECTOR + 1);
        }
    }
    const otakit_flash_t *f = otakit_nor_flash(nor);
    /* On a terminal, big writes show esptool's progress, in 64 KiB steps. */
    uint64_t work = 0;
    for (uint32_t s = 0; s < sectors; s++) {
        work += touched[s] ? SECTOR : 0;
    }
    for (size_t i = 0; i < n; i++) {
        work += p[i].len;
    }
    tool_progress_t bar;
    tool_progress_begin(&bar, "Erasing", work);
    const size_t step = bar.on ? 0x10000u : SIZE_MAX;
    for (uint32_t s = 0; s < sectors;) {
        if (!touched[s]) {
            s++;
            continue;
        }
        uint32_t e = s;
        while (e < sectors && touched[e] && (size_t)(e - s) * SECTOR < step) {
            e++;
        }
        otakit_err_t err = otakit_flash_erase(f, s * SECTOR, (size_t)(e - s) * SECTOR);
        if (err != OTAKIT_OK) {
            tool_progress_end(&bar);
            tool_error("%s: offset 0x%x: erase failed: %s", path, s * SECTOR, otakit_err_name(err));
            goto out;
        }
        tool_progress_add(&bar, s * SECTOR, (uint64_t)(e - s) * SECTOR);
        s = e;
    }
    bar.verb = "Writing";
    for (size_t i = 0; i < n; i++) {
        for (size_t off = 0; off < p[i].len || (off == 0 && p[i].len == 0);) {
            size_t len = p[i].len - off < step ? p[i].len - off : step;
            otakit_err_t err =
                otakit_flash_write(f, p[i].addr + (uint32_t)off, p[i].buf + off, len);
            if (err != OTAKIT_OK) {
                tool_progress_end(&bar);
                tool_error("%s: offset 0x%x: write of %s failed: %s", path,
                           p[i].addr + (uint32_t)off, p[i].file, otakit_err_name(err));
                goto out;
            }
            tool_progress_add(&bar, p[i].addr + (uint32_t)off, len);
            off += len;
            if (len == 0) {
                break;
            }
        }
    }
    tool_progress_end(&bar);
    if (sync_flash(nor, path) != 0) {
        goto out;
    }
    if (o->json) {
        cJSON *root = report_root(path, size, exists);
        cJSON *files = cJSON_AddArrayToObject(root, "files");
        for (size_t i = 0; i < n; i++) {
            cJSON *fo = cJSON_CreateObject();
            cJSON_AddStringToObject(fo, "file", p[i].file);
            cJSON_AddNumberToObject(fo, "offset", p[i].addr);
            cJSON_AddNumberToObject(fo, "size", (double)p[i].len);
            cJSON_AddItemToArray(files, fo);
        }
        report_json_end(root, nor);
    } else {
        print_created(path, size, exists);
        for (size_t i = 0; i < n; i++) {
            printf("wrote %zu bytes at 0x%08x (%s)\n", p[i].len, p[i].addr, p[i].file);
        }
        print_stats_text(nor);
    }
    rc = EXIT_OK;
out:
    otakit_nor_close(nor);
    for (size_t i = 0; i < n; i++) {
        free(p[i].buf);
    }
    free(p);
    free(touched);
    return rc;
}

static int run_read(const struct opts *o)
{
    if (o->npos != 5) {
        tool_error("read takes FLASH ADDR SIZE OUT (see 'otakit flash --help')");
        return EXIT_USAGE;
    }
    const char *path = o->pos[1], *out = o->pos[4];
    uint32_t addr, len;
    if (parse_num("address", o->pos[2], &addr) != 0 || parse_num("size", o->pos[3], &len) != 0) {
        return EXIT_USAGE;
    }
    if (o->json && strcmp(out, "-") == 0) {
        tool_error("--json and OUT '-' both want stdout");
        return EXIT_USAGE;
    }
    otakit_nor_t *nor;
    if (tool_open_flash(path, OTAKIT_NOR_READONLY, &nor) != 0) {
        return EXIT_USAGE;
    }
    uint32_t size = otakit_nor_size(nor);
    int rc = EXIT_USAGE;
    uint8_t *buf = NULL;
    if ((uint64_t)addr + len > size) {
        tool_error("%s: offset 0x%x: 0x%x bytes end at 0x%llx, past the end (0x%x bytes)", path,
                   addr, len, (unsigned long long)addr + len, size);
        goto out;
    }
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        tool_error("out of memory");
        goto out;
    }
    otakit_err_t err = otakit_flash_read(otakit_nor_flash(nor), addr, buf, len);
    if (err != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: read failed: %s", path, addr, otakit_err_name(err));
        goto out;
    }
    if (tool_write_file(out, buf, len) != 0) {
        goto out;
    }
    if (o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "flash", path);
        cJSON_AddNumberToObject(root, "offset", addr);
        cJSON_AddNumberToObject(root, "size", len);
        cJSON_AddStringToObject(root, "out", out);
        tool_print_json(root, true);
    } else if (strcmp(out, "-") != 0) {
        printf("read %u bytes at 0x%08x into %s\n", len, addr, out);
    }
    rc = EXIT_OK;
out:
    free(buf);
    otakit_nor_close(nor);
    return rc;
}

static int run_erase(const struct opts *o)
{
    if (o->npos != 2 && o->npos != 4) {
        tool_error("erase takes FLASH [ADDR SIZE] (see 'otakit flash --help')");
        return EXIT_USAGE;
    }
    const char *path = o->pos[1];
    uint32_t size;
    bool exists;
    if (target_size(path, o, &size, &exists) != 0) {
        return EXIT_USAGE;
    }
    uint32_t addr = 0, len = size;
    if (o->npos == 4) {
        if (parse_num("address", o->pos[2], &addr) != 0 ||
            parse_num("size", o->pos[3], &len) != 0) {
            return EXIT_USAGE;
        }
        if (addr % SECTOR) {
            tool_error("%s: offset 0x%x: not sector aligned (0x%x)", path, addr, SECTOR);
            return EXIT_USAGE;
        }
        if (len % SECTOR) {
            tool_error("%s: offset 0x%x: size 0x%x is not a multiple of the sector size (0x%x)",
                       path, addr, len, SECTOR);
            return EXIT_USAGE;
        }
        if ((uint64_t)addr + len > size) {
            tool_error("%s: offset 0x%x: 0x%x bytes end at 0x%llx, past the end (0x%x bytes)", path,
                       addr, len, (unsigned long long)addr + len, size);
            return EXIT_USAGE;
        }
    }
    otakit_nor_t *nor;
    if (open_rw(path, size, &nor) != 0) {
        return EXIT_USAGE;
    }
    int rc = EXIT_USAGE;
    otakit_err_t err = otakit_flash_erase(otakit_nor_flash(nor), addr, len);
    if (err != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: erase failed: %s", path, addr, otakit_err_name(err));
        goto out;
    }
    if (sync_flash(nor, path) != 0) {
        goto out;
    }
    if (o->json) {
        cJSON *root = report_root(path, size, exists);
        cJSON_AddNumberToObject(root, "offset", addr);
        cJSON_AddNumberToObject(root, "bytes_erased", len);
        report_json_end(root, nor);
    } else {
        print_created(path, size, exists);
        printf("erased 0x%08x-0x%08x\n", addr, addr + len);
        print_stats_text(nor);
    }
    rc = EXIT_OK;
out:
    otakit_nor_close(nor);
    return rc;
}

int cmd_flash(int argc, char **argv)
{
    struct opts o = {0};
    o.pos = calloc((size_t)argc + 1, sizeof(char *));
    if (o.pos == NULL) {
        tool_error("out of memory");
        return EXIT_USAGE;
    }
    int rc = EXIT_USAGE;
    enum { OPT_JSON = 256, OPT_SIZE };
    static const struct option OPTS[] = {
        TOOL_OPT_HELP_ENTRY,
        {"json", no_argument, 0, OPT_JSON},
        {"size", required_argument, 0, OPT_SIZE},
        {0, 0, 0, 0},
    };
    tool_getopt_begin();
    int c;
    while ((c = tool_getopt(argc, argv, "flash", OPTS)) != -1) {
        switch (c) {
        case TOOL_OPT_HELP:
            fputs(USAGE, stdout);
            rc = EXIT_OK;
            goto out;
        case OPT_JSON:
            o.json = true;
            break;
        case OPT_SIZE:
            if (tool_parse_flash_size(optarg, &o.size) != 0) {
                tool_error("--size '%s': not a flash size (2MB, 4MB, 8MB, 16MB, 32MB, 64MB, 128MB, "
                           "0x400000)",
                           optarg);
                goto out;
            }
            o.have_size = true;
            break;
        default:
            goto out;
        }
    }
    for (int i = optind; i < argc; i++) {
        o.pos[o.npos++] = argv[i];
    }
    if (o.npos == 0) {
        fputs(USAGE, stderr);
        goto out;
    }
    const char *sub = o.pos[0];
    bool creates = strcmp(sub, "write") == 0 || strcmp(sub, "erase") == 0;
    if (o.have_size && !creates) {
        tool_error("--size only applies to write and erase (when they create the file)");
        goto out;
    }
    if (strcmp(sub, "info") == 0) {
        rc = run_info(&o);
    } else if (strcmp(sub, "write") == 0) {
        rc = run_write(&o);
    } else if (strcmp(sub, "read") == 0) {
        rc = run_read(&o);
    } else if (strcmp(sub, "erase") == 0) {
        rc = run_erase(&o);
    } else {
        tool_error("unknown flash command '%s' (info, write, read, erase)", sub);
    }
out:
    free(o.pos);
    return rc;
}
