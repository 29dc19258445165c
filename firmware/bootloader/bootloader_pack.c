/* Build-time tool: package the bootloader program as a second-stage bootloader image
 * (src/port/device/program.h). Usage: bootloader_pack PROGRAM OUT.bin MAX_SIZE FLASH_SIZE
 * (MAX_SIZE 0 = no limit; FLASH_SIZE 1MB..128MB goes into the image header, as esptool
 * writes CONFIG_ESPTOOLPY_FLASHSIZE there). The description's date_time is the build
 * time as ESP-IDF writes it (__DATE__ " " __TIME__, "Dec  2 2026 06:56:00"); with
 * SOURCE_DATE_EPOCH set it is that time in UTC, so two builds give the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image_build.h"

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bootloader_pack: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b != NULL) {
        n += fread(b + n, 1, cap - n, f);
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
    fclose(f);
    if (b == NULL) {
        fprintf(stderr, "bootloader_pack: %s: out of memory\n", path);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Drop the section headers of a 64-bit little-endian ELF executable (what sstrip does):
 * only the program headers matter to the kernel and the dynamic loader. Returns the new
 * length (the end of the last loaded byte), or len when the file is not such an ELF. */
static size_t strip_sections(uint8_t *elf, size_t len)
{
    static const uint8_t ident[6] = {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */};
    if (len < 64 || memcmp(elf, ident, sizeof(ident)) != 0) {
        return len;
    }
    uint64_t phoff = get_le(elf + 0x20, 8);
    uint64_t phentsize = get_le(elf + 0x36, 2), phnum = get_le(elf + 0x38, 2);
    if (phentsize < 56 || phoff > len || phnum * phentsize > len - phoff) {
        return len;
    }
    uint64_t end = phoff + phnum * phentsize;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = elf + phoff + i * phentsize;
        uint64_t off = get_le(ph + 8, 8), filesz = get_le(ph + 32, 8);
        if (off > len || filesz > len - off) {
            return len;
        }
        if (off + filesz > end) {
            end = off + filesz;
        }
    }
    memset(elf + 0x28, 0, 8); /* e_shoff */
    memset(elf + 0x3a, 0, 6); /* e_shentsize, e_shnum, e_shstrndx */
    return (size_t)end;
}

/* __DATE__ " " __TIME__ of the build: SOURCE_DATE_EPOCH (UTC, as GCC does) or now (local
 * time, as GCC does). Returns 0, or -1 after saying what is wrong with the variable. */
static int build_date_time(char *out, size_t n)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t;
    struct tm tm;
    if (sde != NULL && sde[0] != '\0') {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(sde, &end, 10);
        if (errno != 0 || *end != '\0' || v < 0 || v > 253402300799LL) {
            fprintf(stderr,
                    "bootloader_pack: SOURCE_DATE_EPOCH '%s' is not a number of seconds since 1970 "
                    "(up to 253402300799)\n",
                    sde);
            return -1;
        }
        t = (time_t)v;
        if (gmtime_r(&t, &tm) == NULL) {
            return -1;
        }
    } else {
        t = time(NULL);
        if (localtime_r(&t, &tm) == NULL) {
            return -1;
        }
    }
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, n, "%s %2d %04d %02d:%02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return strlen(out) < 24 ? 0 : -1; /* the description's field holds 23 characters */
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bootloader_pack PROGRAM OUT.bin MAX_SIZE FLASH_SIZE\n");
        return 2;
    }
    unsigned long max = strtoul(argv[3], NULL, 0);
    /* the header's flash-size codes 0..7 (docs/spec/esp-idf-ota-formats.md) */
    static const char *const sizes[] = {"1MB",  "2MB",  "4MB",  "8MB",
                                        "16MB", "32MB", "64MB", "128MB"};
    int spi_size = -1;
    for (int i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
        if (strcmp(argv[4], sizes[i]) == 0) {
            spi_size = i;
        }
    }
    if (spi_size < 0) {
        fprintf(stderr,
                "bootloader_pack: flash size '%s': 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB or 128MB\n",
                argv[4]);
        return 2;
    }
    char date_time[64];
    if (build_date_time(date_time, sizeof(date_time)) != 0) {
        return 2;
    }
    uint8_t *prog, *img;
    size_t prog_len, img_len;
    if (read_file(argv[1], &prog, &prog_len) != 0) {
        return 2;
    }
    prog_len = strip_sections(prog, prog_len);
    otakit_bootloader_pack_opts_t o = {.version = "otakit",
                                       .version_num = 1,
                                       .idf_ver = "v5.5-otakit",
                                       .date_time = date_time,
                                       .spi_size = (uint8_t)spi_size};
    otakit_err_t err = otakit_program_pack_bootloader(&o, prog, prog_len, &img, &img_len);
    free(prog);
    if (err != OTAKIT_OK) {
        fprintf(stderr, "bootloader_pack: %s: %s\n", argv[1], otakit_err_name(err));
        return 1;
    }
    if (max != 0 && img_len > max) {
        fprintf(stderr,
                "bootloader_pack: %s: the bootloader image is %zu bytes, more than the %lu bytes "
                "between 0x1000 and the partition table\n",
                argv[2], img_len, max);
        free(img);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL || fwrite(img, 1, img_len, f) != img_len || fclose(f) != 0) {
        fprintf(stderr, "bootloader_pack: %s: %s\n", argv[2], strerror(errno));
        free(img);
        return 2;
    }
    free(img);
    printf("bootloader_pack: %s: %zu bytes (program %zu bytes)\n", argv[2], img_len, prog_len);
    return 0;
}
