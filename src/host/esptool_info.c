/* esptool v4.11.0 `image_info --version 2`, reproduced. The tables are esptool's data
 * (targets/<chip>.py of the v4.11.0 tag: CHIP_NAME, IMAGE_CHIP_ID, FLASH_FREQUENCY,
 * MEMORY_MAP); the formats are those of esptool/cmds.py image_info. Where esptool
 * would mistake an image for an ESP8266 one (an unknown chip id), otakit says so. */
#include <string.h>

#include "esptool_info.h"

struct freq {
    const char *name;
    uint8_t bits;
};

struct region {
    uint32_t start, end;
    const char *name;
};

struct otakit_esptool_chip {
    const char *name;
    unsigned image_id;
    const struct freq *freq; /* in esptool's dict order: the first match wins */
    size_t n_freq;
    const struct region *map; /* in esptool's order: every match is listed */
    size_t n_map;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct freq FREQ_80_40_26_20[] = {
    {"80m", 0xF}, {"40m", 0x0}, {"26m", 0x1}, {"20m", 0x2}};
static const struct freq FREQ_C2[] = {{"60m", 0xF}, {"30m", 0x0}, {"20m", 0x1}, {"15m", 0x2}};
static const struct freq FREQ_C6[] = {{"80m", 0x0}, {"40m", 0x0}, {"20m", 0x2}};
static const struct freq FREQ_80_40_20[] = {{"80m", 0xF}, {"40m", 0x0}, {"20m", 0x2}};
static const struct freq FREQ_H2[] = {{"48m", 0xF}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}};
static const struct freq FREQ_H4[] = {{"48m", 0x0}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}};

static const struct region MAP_ESP32[] = {
    {0x00000000, 0x00010000, "PADDING"},
    {0x3F400000, 0x3F800000, "DROM"},
    {0x3F800000, 0x3FC00000, "EXTRAM_DATA"},
    {0x3FF80000, 0x3FF82000, "RTC_DRAM"},
    {0x3FF90000, 0x40000000, "BYTE_ACCESSIBLE"},
    {0x3FFAE000, 0x40000000, "DRAM"},
    {0x3FFE0000, 0x3FFFFFFC, "DIRAM_DRAM"},
    {0x40000000, 0x40070000, "IROM"},
    {0x40070000, 0x40078000, "CACHE_PRO"},
    {0x40078000, 0x40080000, "CACHE_APP"},
    {0x40080000, 0x400A0000, "IRAM"},
    {0x400A0000, 0x400BFFFC, "DIRAM_IRAM"},
    {0x400C0000, 0x400C2000, "RTC_IRAM"},
    {0x400D0000, 0x40400000, "IROM"},
    {0x50000000, 0x50002000, "RTC_DATA"},
};

static const struct region MAP_ESP32S2[] = {
    {0x00000000, 0x00010000, "PADDING"},
    {0x3F000000, 0x3FF80000, "DROM"},
    {0x3F500000, 0x3FF80000, "EXTRAM_DATA"},
    {0x3FF9E000, 0x3FFA0000, "RTC_DRAM"},
    {0x3FF9E000, 0x40000000, "BYTE_ACCESSIBLE"},
    {0x3FF9E000, 0x40072000, "MEM_INTERNAL"},
    {0x3FFB0000, 0x40000000, "DRAM"},
    {0x40000000, 0x4001A100, "IROM_MASK"},
    {0x40020000, 0x40070000, "IRAM"},
    {0x40070000, 0x40072000, "RTC_IRAM"},
    {0x40080000, 0x40800000, "IROM"},
    {0x50000000, 0x50002000, "RTC_DATA"},
};

/* ESP32-S3 and ESP32-S3(beta2) */
static const struct region MAP_ESP32S3[] = {
    {0x00000000, 0x00010000, "PADDING"},
    {0x3C000000, 0x3D000000, "DROM"},
    {0x3D000000, 0x3E000000, "EXTRAM_DATA"},
    {0x600FE000, 0x60100000, "RTC_DRAM"},
    {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
    {0x3FC88000, 0x403E2000, "MEM_INTERNAL"},
    {0x3FC88000, 0x3FD00000, "DRAM"},
    {0x40000000, 0x4001A100, "IROM_MASK"},
    {0x40370000, 0x403E0000, "IRAM"},
    {0x600FE000, 0x60100000, "RTC_IRAM"},
    {0x42000000, 0x42800000, "IROM"},
    {0x50000000, 0x50002000, "RTC_DATA"},
};

/* ESP32-C3 and ESP32-C6(beta) */
static const struct region MAP_ESP32C3[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x3C000000, 0x3C800000, "DROM"},
    {0x3FC80000, 0x3FCE0000, "DRAM"},          {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
    {0x3FF00000, 0x3FF20000, "DROM_MASK"},     {0x40000000, 0x40060000, "IROM_MASK"},
    {0x42000000, 0x42800000, "IROM"},          {0x4037C000, 0x403E0000, "IRAM"},
    {0x50000000, 0x50002000, "RTC_IRAM"},      {0x50000000, 0x50002000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

static const struct region MAP_ESP32C2[] = {
    {0x00000000, 0x00010000, "PADDING"},   {0x3C000000, 0x3C400000, "DROM"},
    {0x3FCA0000, 0x3FCE0000, "DRAM"},      {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
    {0x3FF00000, 0x3FF50000, "DROM_MASK"}, {0x40000000, 0x40090000, "IROM_MASK"},
    {0x42000000, 0x42400000, "IROM"},      {0x4037C000, 0x403C0000, "IRAM"},
};

/* The RISC-V chips with a unified map: flash at `flash`, SRAM at 0x40800000, ROM masks
 * at rom_split, LP memory at 0x50000000. */
#define UNIFIED_MAP(flash_lo, flash_hi, sram_hi, rom_split, rom_hi)                                \
    {                                                                                              \
        {0x00000000, 0x00010000, "PADDING"}, {flash_lo, flash_hi, "DROM"},                         \
            {0x40800000, sram_hi, "DRAM"}, {0x40800000, sram_hi, "BYTE_ACCESSIBLE"},               \
            {rom_split, rom_hi, "DROM_MASK"}, {0x40000000, rom_split, "IROM_MASK"},                \
            {flash_lo, flash_hi, "IROM"}, {0x40800000, sram_hi, "IRAM"},                           \
            {0x50000000, 0x50004000, "RTC_IRAM"}, {0x50000000, 0x50004000, "RTC_DRAM"},            \
            {0x600FE000, 0x60100000, "MEM_INTERNAL2"},                                             \
    }

static const struct region MAP_ESP32C6[] =
    UNIFIED_MAP(0x42000000, 0x43000000, 0x40880000, 0x4004AC00, 0x40050000);
static const struct region MAP_ESP32C61[] =
    UNIFIED_MAP(0x42000000, 0x44000000, 0x40860000, 0x4004AC00, 0x40050000);
static const struct region MAP_ESP32C5[] =
    UNIFIED_MAP(0x42000000, 0x44000000, 0x40860000, 0x4003A000, 0x40040000);
/* ESP32-H2 and ESP32-H21 */
static const struct region MAP_ESP32H2[] =
    UNIFIED_MAP(0x42000000, 0x43000000, 0x40880000, 0x4004AC00, 0x40050000);

static const struct region MAP_ESP32C5BETA3[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x41800000, 0x42000000, "DROM"},
    {0x40800000, 0x40880000, "DRAM"},          {0x40800000, 0x40880000, "BYTE_ACCESSIBLE"},
    {0x4004A000, 0x40050000, "DROM_MASK"},     {0x40000000, 0x4004A000, "IROM_MASK"},
    {0x41000000, 0x41800000, "IROM"},          {0x40800000, 0x40880000, "IRAM"},
    {0x50000000, 0x50004000, "RTC_IRAM"},      {0x50000000, 0x50004000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

static const struct region MAP_ESP32H4[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x42800000, 0x43000000, "DROM"},
    {0x40800000, 0x40880000, "DRAM"},          {0x40800000, 0x40880000, "BYTE_ACCESSIBLE"},
    {0x4004AC00, 0x40050000, "DROM_MASK"},     {0x40000000, 0x4004AC00, "IROM_MASK"},
    {0x42000000, 0x42800000, "IROM"},          {0x40800000, 0x40880000, "IRAM"},
    {0x50000000, 0x50004000, "RTC_IRAM"},      {0x50000000, 0x50004000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

static const struct region MAP_ESP32P4[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x40000000, 0x4C000000, "DROM"},
    {0x4FF00000, 0x4FFA0000, "DRAM"},          {0x4FF00000, 0x4FFA0000, "BYTE_ACCESSIBLE"},
    {0x4FC00000, 0x4FC20000, "DROM_MASK"},     {0x4FC00000, 0x4FC20000, "IROM_MASK"},
    {0x40000000, 0x4C000000, "IROM"},          {0x4FF00000, 0x4FFA0000, "IRAM"},
    {0x50108000, 0x50110000, "RTC_IRAM"},      {0x50108000, 0x50110000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

#define CHIP(name, id, freq, map)                                                                  \
    {                                                                                              \
        name, id, freq, N(freq), map, N(map)                                                       \
    }

/* In esptool's CHIP_DEFS order (ESP8266 has no image chip id). The ESP32-H2 betas have
 * an empty memory map in esptool. */
static const struct otakit_esptool_chip CHIPS[] = {
    CHIP("ESP32", 0, FREQ_80_40_26_20, MAP_ESP32),
    CHIP("ESP32-S2", 2, FREQ_80_40_26_20, MAP_ESP32S2),
    CHIP("ESP32-S3(beta2)", 4, FREQ_80_40_26_20, MAP_ESP32S3),
    CHIP("ESP32-S3", 9, FREQ_80_40_26_20, MAP_ESP32S3),
    CHIP("ESP32-C3", 5, FREQ_80_40_26_20, MAP_ESP32C3),
    CHIP("ESP32-C6(beta)", 7, FREQ_80_40_26_20, MAP_ESP32C3),
    {"ESP32-H2(beta1)", 10, FREQ_H2, N(FREQ_H2), NULL, 0},
    {"ESP32-H2(beta2)", 14, FREQ_H2, N(FREQ_H2), NULL, 0},
    CHIP("ESP32-C2", 12, FREQ_C2, MAP_ESP32C2),
    CHIP("ESP32-C6", 13, FREQ_C6, MAP_ESP32C6),
    CHIP("ESP32-C61", 20, FREQ_80_40_20, MAP_ESP32C61),
    CHIP("ESP32-C5", 23, FREQ_80_40_20, MAP_ESP32C5),
    CHIP("ESP32-C5(beta3)", 17, FREQ_80_40_20, MAP_ESP32C5BETA3),
    CHIP("ESP32-H2", 16, FREQ_H2, MAP_ESP32H2),
    CHIP("ESP32-H21", 25, FREQ_H2, MAP_ESP32H2),
    CHIP("ESP32-P4", 18, FREQ_80_40_26_20, MAP_ESP32P4),
    CHIP("ESP32-H4", 28, FREQ_H4, MAP_ESP32H4),
};

/* Every ESP32-family chip: the high nibble of header byte 3. */
static const char *const FLASH_SIZES[] = {"1MB",  "2MB",  "4MB",  "8MB",
                                          "16MB", "32MB", "64MB", "128MB"};

const otakit_esptool_chip_t *otakit_esptool_chip(unsigned id)
{
    for (size_t i = 0; i < N(CHIPS); i++) {
        if (CHIPS[i].image_id == id) {
            return &CHIPS[i];
        }
    }
    return NULL;
}

const char *otakit_esptool_chip_name(const otakit_esptool_chip_t *chip)
{
    return chip->name;
}

const char *otakit_esptool_flash_freq(const otakit_esptool_chip_t *chip, uint8_t bits)
{
    for (size_t i = 0; chip != NULL && i < chip->n_freq; i++) {
        if (chip->freq[i].bits == bits) {
            return chip->freq[i].name;
        }
    }
    return NULL;
}

const char *otakit_esptool_flash_size(uint8_t bits)
{
    return bits < N(FLASH_SIZES) ? FLASH_SIZES[bits] : NULL;
}

void otakit_esptool_memory_types(const otakit_esptool_chip_t *chip, uint32_t addr, char *out,
                                 size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; chip != NULL && i < chip->n_map; i++) {
        if (chip->map[i].start <= addr && addr < chip->map[i].end) {
            int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", chip->map[i].name);
            if (w < 0 || (size_t)w >= n - used) {
                return;
            }
            used += (size_t)w;
        }
    }
}

/* ---- the text ---------------------------------------------------------------------- */

static void title(FILE *out, const char *a, const char *b)
{
    int n = fprintf(out, "%s%s\n", a, b) - 1;
    for (int i = 0; i < n; i++) {
        fputc('=', out);
    }
    fputc('\n', out);
}

/* A fixed-size string field as esptool's sanitize_string prints it: every NUL removed
 * (not cut at the first one). */
static void field(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            fputc(p[i], out);
        }
    }
}

static void hex(FILE *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%02x", p[i]);
    }
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* esptool prints the MMU page size as 2**n // 1024 KB; n is a byte, so the number can
 * be far wider than 64 bits: a decimal string doubled n - 10 times. */
static void mmu_kb(FILE *out, unsigned n)
{
    if (n < 10) {
        fprintf(out, "0");
        return;
    }
    char d[96] = "1"; /* 2^245 has 74 digits */
    size_t len = 1;
    for (unsigned k = 0; k < n - 10; k++) {
        int carry = 0;
        for (size_t i = len; i-- > 0;) {
            int v = (d[i] - '0') * 2 + carry;
            d[i] = (char)('0' + v % 10);
            carry = v / 10;
        }
        if (carry) {
            memmove(d + 1, d, len + 1);
            d[0] = (char)('0' + carry);
            len++;
        }
    }
    fputs(d, out);
}

static void app_desc(FILE *out, const uint8_t *d)
{
    fprintf(out, "\n");
    title(out, "Application information", "");
    fputs("Project name: ", out);
    field(out, d + 48, 32);
    fputs("\nApp version: ", out);
    field(out, d + 16, 32);
    fputs("\nCompile time: ", out);
    field(out, d + 96, 16);
    fputc(' ', out);
    field(out, d + 80, 16);
    fputs("\nELF file SHA256: ", out);
    hex(out, d + 144, 32);
    fputs("\nESP-IDF: ", out);
    field(out, d + 112, 32);
    unsigned min = le16(d + 176), max = le16(d + 178);
    fprintf(out, "\nMinimal eFuse block revision: %u.%u\n", min / 100, min % 100);
    fprintf(out, "Maximal eFuse block revision: %u.%u\n", max / 100, max % 100);
    if (d[180] != 0) {
        fputs("MMU page size: ", out);
        mmu_kb(out, d[180]);
        fputs(" KB\n", out);
    }
    fprintf(out, "Secure version: %u\n",
            (unsigned)d[4] | (unsigned)d[5] << 8 | (unsigned)d[6] << 16 | (unsigned)d[7] << 24);
}

static void bootloader_desc(FILE *out, const uint8_t *d)
{
    fprintf(out, "\n");
    title(out, "Bootloader information", "");
    fprintf(out, "Bootloader version: %u\n",
            (unsigned)d[4] | (unsigned)d[5] << 8 | (unsigned)d[6] << 16 | (unsigned)d[7] << 24);
    fputs("ESP-IDF: ", out);
    field(out, d + 8, 32);
    fputs("\nCompile time: ", out);
    field(out, d + 40, 24);
    fputc('\n', out);
}

static bool has_type(const char *types, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = types; (p = strstr(p, name)) != NULL; p += n) {
        bool starts = p == types || p[-1] == ' ';
        bool ends = p[n] == '\0' || p[n] == ',';
        if (starts && ends) {
            return true;
        }
    }
    return false;
}

static void upper(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < n; i++) {
        dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 'a' + 'A') : src[i];
    }
    dst[i] = '\0';
}

void otakit_esptool_image_info(FILE *out, const uint8_t *buf, size_t file_len,
                               const otakit_image_info_t *info)
{
    const otakit_image_header_t *h = &info->header;
    /* esptool detects the chip from header byte 12 alone */
    const otakit_esptool_chip_t *chip = otakit_esptool_chip(buf[12]);
    char name[32];
    upper(name, chip ? chip->name : "UNKNOWN", sizeof(name));
    fprintf(out, "File size: %zu (bytes)\n", file_len);
    if (chip == NULL) {
        /* esptool would go on as if it were an ESP8266 image */
        fprintf(out,
                "Detected image type: UNKNOWN (image chip id %u; esptool reads such a "
                "file as an ESP8266 image)\n",
                (unsigned)h->chip_id);
    } else {
        fprintf(out, "Detected image type: %s\n", name);
        if (h->chip_id != chip->image_id) {
            fprintf(out,
                    "Unexpected chip id in image. Expected %u but value was %u. Is this image "
                    "for a different chip model?\n",
                    chip->image_id, (unsigned)h->chip_id);
        }
    }

    fprintf(out, "\n");
    title(out, name, " image header");
    fprintf(out, "Image version: 1\n");
    if (h->entry_addr != 0) {
        char e[16];
        snprintf(e, sizeof(e), "0x%x", (unsigned)h->entry_addr);
        fprintf(out, "Entry point: %8s\n", e);
    } else {
        fprintf(out, "Entry point not set\n");
    }
    fprintf(out, "Segments: %u\n", (unsigned)info->segments_parsed);
    const char *size = otakit_esptool_flash_size(h->spi_size);
    if (size != NULL) {
        fprintf(out, "Flash size: %s\n", size);
    } else {
        fprintf(out, "WARNING: Invalid flash size (0x%x)\n", (unsigned)h->spi_size << 4);
    }
    const char *freq = otakit_esptool_flash_freq(chip, h->spi_speed);
    if (freq != NULL) {
        fprintf(out, "Flash freq: %s\n", freq);
    } else {
        fprintf(out, "WARNING: Invalid flash frequency (0x%x)\n", (unsigned)h->spi_speed);
    }
    static const char *const MODES[] = {"QIO", "QOUT", "DIO", "DOUT"};
    if (h->spi_mode < 4) {
        fprintf(out, "Flash mode: %s\n", MODES[h->spi_mode]);
    } else {
        fprintf(out, "WARNING: Invalid flash mode (%u)\n", (unsigned)h->spi_mode);
    }

    fprintf(out, "\n");
    title(out, name, " extended image header");
    fprintf(out, "WP pin: 0x%x%s\n", (unsigned)h->wp_pin, h->wp_pin == 0xEE ? " (disabled)" : "");
    fprintf(out,
            "Flash pins drive settings: clk_drv: 0x%x, q_drv: 0x%x, d_drv: 0x%x, cs0_drv: 0x%x, "
            "hd_drv: 0x%x, wp_drv: 0x%x\n",
            h->spi_pin_drv[0] & 0xFu, h->spi_pin_drv[0] >> 4, h->spi_pin_drv[1] & 0xFu,
            h->spi_pin_drv[1] >> 4, h->spi_pin_drv[2] & 0xFu, h->spi_pin_drv[2] >> 4);
    const otakit_esptool_chip_t *id_chip = otakit_esptool_chip(h->chip_id);
    fprintf(out, "Chip ID: %u (%s)\n", (unsigned)h->chip_id,
            id_chip ? id_chip->name : "Unknown ID");
    fprintf(out, "Minimal chip revision: v%u.%u, (legacy min_rev = %u)\n",
            h->min_chip_rev_full / 100u, h->min_chip_rev_full % 100u, (unsigned)h->min_chip_rev);
    fprintf(out, "Maximal chip revision: v%u.%u\n", h->max_chip_rev_full / 100u,
            h->max_chip_rev_full % 100u);
    fprintf(out, "\n");

    title(out, "Segments information", "");
    fprintf(out, "Segment   Length   Load addr   File offs  Memory types\n");
    fprintf(out, "-------  -------  ----------  ----------  ------------\n");
    /* esptool's choice of descriptors, kept: the first DROM segment's data holds
     * esp_app_desc_t; the last DRAM segment of 80 bytes or more holds
     * esp_bootloader_desc_t, looked at only when there is no DROM data at all. */
    bool app_seen = false;
    const uint8_t *app = NULL, *boot = NULL;
    uint32_t app_len = 0;
    for (unsigned i = 0; i < info->segments_parsed; i++) {
        const otakit_image_segment_t *s = &info->segments[i];
        char types[256];
        otakit_esptool_memory_types(chip, s->load_addr, types, sizeof(types));
        if (has_type(types, "DROM") && !app_seen) {
            app_seen = true;
            app = buf + s->data_offset;
            app_len = s->data_len;
        } else if (has_type(types, "DRAM") && s->data_len >= 80) {
            boot = buf + s->data_offset;
        }
        fprintf(out, "%7u  0x%05x  0x%08x  0x%08x  %s\n", i, (unsigned)s->data_len,
                (unsigned)s->load_addr, (unsigned)(s->data_offset - 8), types);
    }
    fprintf(out, "\n");

    title(out, name, " image footer");
    if (info->checksum_ok) {
        fprintf(out, "Checksum: 0x%x (valid)\n", (unsigned)info->checksum_stored);
    } else {
        fprintf(out, "Checksum: 0x%x (invalid - calculated %02x)\n",
                (unsigned)info->checksum_stored, (unsigned)info->checksum_calc);
    }
    if (info->hash_present) {
        fputs("Validation hash: ", out);
        hex(out, info->hash_calc, 32);
        fprintf(out, " (%s)\n", info->hash_ok ? "valid" : "invalid");
    }
    /* A DROM segment shorter than the descriptor: esptool cannot unpack it (it stops
     * with a struct error); otakit prints no application information then. */
    if (app_len >= OTAKIT_APP_DESC_SIZE) {
        uint32_t magic = (uint32_t)app[0] | (uint32_t)app[1] << 8 | (uint32_t)app[2] << 16 |
                         (uint32_t)app[3] << 24;
        if (magic == OTAKIT_APP_DESC_MAGIC) {
            app_desc(out, app);
        }
    } else if (app_len == 0 && boot != NULL && boot[0] == 0x50) {
        bootloader_desc(out, boot);
    }
}
