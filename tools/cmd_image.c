/* otakit image info | verify | create | extract: esptool's image_info, the bootloader's
 * image check, and packaging a host program as an ESP32 app image and back. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "esptool_info.h"
#include "image_build.h"
#include "otakit/image.h"
#include "otakit/sigblock.h"
#include "sbv2.h"

static const char USAGE[] =
    "usage: otakit image info FILE [--json]\n"
    "       otakit image verify FILE [--chip CHIP] [--partition-size N] [--json]\n"
    "                           [--keyfile KEY.pem | --pubkey-digest DIGEST.bin]\n"
    "       otakit image sign --keyfile KEY.pem [--append-signatures] [--json] IN OUT\n"
    "       otakit image create --program FILE --project NAME --version VER -o OUT\n"
    "                           [--secure-version N] [--date DATE] [--time TIME]\n"
    "                           [--idf-ver S] [--chip CHIP] [--json]\n"
    "       otakit image extract FILE -o OUT [--chip CHIP] [--json]\n"
    "\n"
    "  info     show the header, segments, checksum, hash and app description\n"
    "           (what esptool.py image_info --version 2 shows)\n"
    "  verify   check the image as a bootloader would: magic, chip id, segments, the\n"
    "           mapping rule, checksum, appended SHA-256, and the partition size\n"
    "  sign     append a Secure Boot V2 signature sector (as espsecure.py sign_data)\n"
    "  create   package a program (a Linux executable) as an ESP32 app image\n"
    "  extract  write the program held in an image created by 'image create'\n"
    "'otakit image <verb> --help' describes a verb.\n"
    "exit codes: 0 ok, 1 the check failed, 2 bad usage or input\n";

static const char USAGE_INFO[] =
    "usage: otakit image info FILE [--json]\n"
    "\n"
    "Shows the image header (chip, flash mode/size/freq, entry point, chip revisions),\n"
    "every segment (load address, length, file offset of its data, memory region),\n"
    "the checksum and the appended SHA-256 (valid or invalid, with the calculated\n"
    "value), and the app description (or the bootloader description).\n"
    "  --json  print one JSON object instead\n"
    "exit codes: 0 the file parses as an image (even with a bad checksum or hash),\n"
    "            2 unreadable file, not an image, or truncated\n";

static const char USAGE_VERIFY[] =
    "usage: otakit image verify FILE [--chip CHIP] [--partition-size N] [--json]\n"
    "                           [--keyfile KEY.pem | --pubkey-digest DIGEST.bin ...]\n"
    "\n"
    "Accepts the image only if a bootloader would: magic 0xE9, chip id, at most 16\n"
    "segments, segment lengths, the 64 KiB mapping rule for flash-mapped segments, the\n"
    "checksum, the appended SHA-256, and (with --partition-size) the image length.\n"
    "With --keyfile or --pubkey-digest it also checks the Secure Boot V2 signature\n"
    "sector at the 4 KiB boundary after the image, as a bootloader with Secure Boot V2\n"
    "does: a block whose key digest is trusted, whose image digest matches and whose\n"
    "signature verifies; it prints which block verified. Without them, a signature\n"
    "sector that is there is reported, not checked.\n"
    "  --chip CHIP            esp32 (default), esp32s2, esp32s3, esp32c2, esp32c3,\n"
    "                         esp32c5, esp32c6, esp32c61, esp32h2, esp32p4, or any\n"
    "  --partition-size N     the partition the image must fit in (0x100000, 1M, ...)\n"
    "  --keyfile KEY.pem      trust this key (private or public PEM)\n"
    "  --pubkey-digest FILE   trust the key with this 32-byte digest (as burnt in eFuse;\n"
    "                         'otakit key digest'); up to three times\n"
    "  --json                 print one JSON object with the verdict\n"
    "exit codes: 0 valid, 1 invalid (stderr names the problem and its offset),\n"
    "            2 bad usage, unreadable file or key\n";

static const char USAGE_SIGN[] =
    "usage: otakit image sign --keyfile KEY.pem [--append-signatures] [--json] IN OUT\n"
    "\n"
    "Signs the app image IN for Secure Boot V2 as espsecure.py sign_data --version 2\n"
    "does: the image is padded with 0xFF to the next 4 KiB boundary and a 4 KiB signature\n"
    "sector follows, holding a 1216-byte signature block (magic 0xE7; the SHA-256 of the\n"
    "padded image; the public key; RSA-3072-PSS or ECDSA signature; CRC-32) and 0xFF.\n"
    "IN must be a valid image (any chip). An image that already carries a signature\n"
    "sector is refused unless --append-signatures, which adds a block to it (at most 3).\n"
    "OUT is written only when the new signature verifies; OUT may be IN.\n"
    "  --keyfile KEY.pem      private key: RSA-3072, ECDSA P-256, P-384 or P-192 (PEM)\n"
    "  --append-signatures    add a block to an existing signature sector\n"
    "  --json                 print one JSON object describing the result\n"
    "exit codes: 0 signed, 1 IN is not a valid image or cannot be signed (already signed,\n"
    "            3 blocks already, ...), 2 bad usage, unreadable file or key\n";

static const char USAGE_CREATE[] =
    "usage: otakit image create --program FILE --project NAME --version VER -o OUT\n"
    "                           [--secure-version N] [--date DATE] [--time TIME]\n"
    "                           [--idf-ver S] [--chip CHIP] [--json]\n"
    "\n"
    "Packages FILE (a Linux executable for the virtual device, or any bytes) as an ESP32\n"
    "app image: segment 0 holds the app description at offset 0x20, a padding segment,\n"
    "then the program at file offset 0x10020 (load address 0x400D0020), the checksum and\n"
    "the appended SHA-256.\n"
    "  --program FILE         the program to package (required)\n"
    "  --project NAME         project name, at most 32 bytes (required)\n"
    "  --version VER          app version, at most 32 bytes (required)\n"
    "  --secure-version N     anti-rollback secure version (default 0)\n"
    "  --date DATE            compile date, e.g. \"Nov 24 2026\" (default: from\n"
    "                         SOURCE_DATE_EPOCH if set, else today)\n"
    "  --time TIME            compile time, e.g. \"12:00:00\" (default: likewise)\n"
    "  --idf-ver S            the description's IDF version (default \"otakit\")\n"
    "  --chip CHIP            chip id to write (default esp32)\n"
    "  -o, --output OUT       the image file to write (required; - for stdout)\n"
    "  --json                 print one JSON object describing the image\n"
    "exit codes: 0 written, 2 bad usage or unreadable program\n";

static const char USAGE_EXTRACT[] =
    "usage: otakit image extract FILE -o OUT [--chip CHIP] [--json]\n"
    "\n"
    "Verifies FILE (as 'image verify', default chip esp32) and writes the program that\n"
    "'image create' packaged in it, byte for byte.\n"
    "  -o, --output OUT       where to write the program (- for stdout)\n"
    "  --chip CHIP            expected chip (default esp32)\n"
    "  --json                 print one JSON object (not with -o -)\n"
    "exit codes: 0 written, 1 the image does not verify or holds no otakit program,\n"
    "            2 bad usage or unreadable file\n";

/* ---- names ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    int32_t id;
} CHIPS[] = {
    {"esp32", OTAKIT_CHIP_ESP32},     {"esp32s2", OTAKIT_CHIP_ESP32S2},
    {"esp32s3", OTAKIT_CHIP_ESP32S3}, {"esp32c2", OTAKIT_CHIP_ESP32C2},
    {"esp32c3", OTAKIT_CHIP_ESP32C3}, {"esp32c5", OTAKIT_CHIP_ESP32C5},
    {"esp32c6", OTAKIT_CHIP_ESP32C6}, {"esp32c61", OTAKIT_CHIP_ESP32C61},
    {"esp32h2", OTAKIT_CHIP_ESP32H2}, {"esp32p4", OTAKIT_CHIP_ESP32P4},
    {"any", OTAKIT_CHIP_ANY},
};

/* "esp32s2", "ESP32-S2", "any" -> chip id; -1 on no match (any is OTAKIT_CHIP_ANY too,
 * so *ok says which). */
static int parse_chip(const char *s, int32_t *id)
{
    char norm[16];
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (*s == '-' || *s == '_') {
            continue;
        }
        if (n + 1 >= sizeof(norm)) {
            return -1;
        }
        norm[n++] = (char)tolower((unsigned char)*s);
    }
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof(CHIPS) / sizeof(CHIPS[0]); i++) {
        if (strcmp(norm, CHIPS[i].name) == 0) {
            *id = CHIPS[i].id;
            return 0;
        }
    }
    return -1;
}

static const char *chip_name(uint16_t id)
{
    const char *n = otakit_image_chip_name(id);
    return n ? n : "unknown";
}

static const char *flash_mode_name(uint8_t m)
{
    static const char *const NAMES[] = {"QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ"};
    return m < 6 ? NAMES[m] : "unknown";
}

static const char *flash_size_name(uint8_t s)
{
    static const char *const NAMES[] = {"1MB",  "2MB",  "4MB",  "8MB",
                                        "16MB", "32MB", "64MB", "128MB"};
    return s < 8 ? NAMES[s] : "unknown";
}

static void hexnum(char *out, size_t n, const char *fmt, unsigned v)
{
    snprintf(out, n, fmt, v);
}

/* The bootloader description of ESP-IDF v5.1+ bootloaders: magic byte 0x50 at 0x20. */
struct boot_desc {
    bool present;
    unsigned secure_version, version;
    char idf_ver[33], date_time[25];
};

static void read_boot_desc(const uint8_t *buf, size_t len, const otakit_image_info_t *info,
                           struct boot_desc *b)
{
    memset(b, 0, sizeof(*b));
    /* 80 bytes in segment 0 */
    if (info->has_desc || info->segments_parsed < 1 || info->segments[0].data_len < 80 ||
        len < 0x20 + 80 || buf[0x20] != 0x50) {
        return;
    }
    const uint8_t *d = buf + 0x20;
    b->present = true;
    b->secure_version = d[3];
    b->version = (unsigned)d[4] | (unsigned)d[5] << 8 | (unsigned)d[6] << 16 | (unsigned)d[7] << 24;
    memcpy(b->idf_ver, d + 8, 32);
    memcpy(b->date_time, d + 40, 24);
}

/* ---- info ----------------------------------------------------------------------- */

static cJSON *info_json(const char *file, size_t file_len, const uint8_t *buf,
                        const otakit_image_info_t *info, otakit_err_t err,
                        const otakit_diag_t *diag)
{
    const otakit_image_header_t *h = &info->header;
    char hex[80];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "file", file);
    cJSON_AddNumberToObject(j, "file_size", (double)file_len);
    cJSON_AddNumberToObject(j, "length", info->image_len);
    cJSON_AddStringToObject(j, "chip", chip_name(h->chip_id));
    cJSON_AddNumberToObject(j, "chip_id", h->chip_id);
    cJSON_AddStringToObject(j, "flash_mode", flash_mode_name(h->spi_mode));
    cJSON_AddStringToObject(j, "flash_size", flash_size_name(h->spi_size));
    const otakit_esptool_chip_t *chip = otakit_esptool_chip(h->chip_id);
    const char *freq = otakit_esptool_flash_freq(chip, h->spi_speed);
    if (freq != NULL) {
        cJSON_AddStringToObject(j, "flash_freq", freq);
    } else {
        cJSON_AddNullToObject(j, "flash_freq");
    }
    hexnum(hex, sizeof(hex), "0x%08x", h->entry_addr);
    cJSON_AddStringToObject(j, "entry", hex);
    hexnum(hex, sizeof(hex), "0x%02x", h->wp_pin);
    cJSON_AddStringToObject(j, "wp_pin", hex);
    cJSON_AddNumberToObject(j, "min_chip_rev", h->min_chip_rev);
    cJSON_AddNumberToObject(j, "min_chip_rev_full", h->min_chip_rev_full);
    cJSON_AddNumberToObject(j, "max_chip_rev_full", h->max_chip_rev_full);
    cJSON_AddBoolToObject(j, "hash_appended", h->hash_appended != 0);
    cJSON *segs = cJSON_AddArrayToObject(j, "segments");
    for (unsigned i = 0; i < info->segments_parsed; i++) {
        const otakit_image_segment_t *s = &info->segments[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", i);
        hexnum(hex, sizeof(hex), "0x%08x", s->load_addr);
        cJSON_AddStringToObject(o, "load_addr", hex);
        cJSON_AddNumberToObject(o, "length", s->data_len);
        cJSON_AddNumberToObject(o, "offset", s->data_offset);
        cJSON_AddNumberToObject(o, "header_offset", s->data_offset - 8);
        char types[256];
        otakit_esptool_memory_types(chip, s->load_addr, types, sizeof(types));
        cJSON_AddStringToObject(o, "region", types);
        cJSON_AddItemToArray(segs, o);
    }
    cJSON *ck = cJSON_AddObjectToObject(j, "checksum");
    hexnum(hex, sizeof(hex), "0x%02x", info->checksum_stored);
    cJSON_AddStringToObject(ck, "stored", hex);
    hexnum(hex, sizeof(hex), "0x%02x", info->checksum_calc);
    cJSON_AddStringToObject(ck, "calculated", hex);
    cJSON_AddBoolToObject(ck, "valid", info->checksum_ok);
    if (info->hash_present) {
        cJSON *hs = cJSON_AddObjectToObject(j, "hash");
        tool_hex(hex, info->hash_stored, 32);
        cJSON_AddStringToObject(hs, "stored", hex);
        tool_hex(hex, info->hash_calc, 32);
        cJSON_AddStringToObject(hs, "calculated", hex);
        cJSON_AddBoolToObject(hs, "valid", info->hash_ok);
    } else {
        cJSON_AddNullToObject(j, "hash");
    }
    if (info->has_desc) {
        const otakit_app_desc_t *d = &info->desc;
        cJSON *a = cJSON_AddObjectToObject(j, "app_desc");
        cJSON_AddStringToObject(a, "project", d->project_name);
        cJSON_AddStringToObject(a, "version", d->version);
        cJSON_AddNumberToObject(a, "secure_version", d->secure_version);
        cJSON_AddStringToObject(a, "time", d->time);
        cJSON_AddStringToObject(a, "date", d->date);
        cJSON_AddStringToObject(a, "idf_ver", d->idf_ver);
        tool_hex(hex, d->app_elf_sha256, 32);
        cJSON_AddStringToObject(a, "elf_sha256", hex);
        cJSON_AddNumberToObject(a, "min_efuse_blk_rev_full", d->min_efuse_blk_rev_full);
        cJSON_AddNumberToObject(a, "max_efuse_blk_rev_full", d->max_efuse_blk_rev_full);
        cJSON_AddNumberToObject(a, "mmu_page_size", d->mmu_page_size);
    } else {
        cJSON_AddNullToObject(j, "app_desc");
    }
    struct boot_desc b;
    read_boot_desc(buf, file_len, info, &b);
    if (b.present) {
        cJSON *o = cJSON_AddObjectToObject(j, "bootloader_desc");
        cJSON_AddNumberToObject(o, "version", b.version);
        cJSON_AddNumberToObject(o, "secure_version", b.secure_version);
        cJSON_AddStringToObject(o, "idf_ver", b.idf_ver);
        cJSON_AddStringToObject(o, "date_time", b.date_time);
    } else {
        cJSON_AddNullToObject(j, "bootloader_desc");
    }
    cJSON_AddBoolToObject(j, "valid", err == OTAKIT_OK);
    if (err != OTAKIT_OK && diag->msg != NULL) {
        cJSON *e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddNumberToObject(e, "offset", diag->offset);
        cJSON_AddStringToObject(e, "message", diag->msg);
    } else {
        cJSON_AddNullToObject(j, "error");
    }
    return j;
}

/* esptool's image_info --version 2 text, line for line, then what otakit adds: the
 * image's length, what follows it, and the bootloader's verdict. */
static void info_text(size_t file_len, const uint8_t *buf, const otakit_image_info_t *info,
                      otakit_err_t err, const otakit_diag_t *diag)
{
    otakit_esptool_image_info(stdout, buf, file_len, info);
    printf("\notakit\n======\n");
    printf("Image length: %u (0x%x)\n", (unsigned)info->image_len, (unsigned)info->image_len);
    if (file_len > info->image_len) {
        uint32_t sector = otakit_sig_sector_offset(info->image_len);
        otakit_sig_sector_t sig;
        if (file_len >= (size_t)sector + OTAKIT_SIG_SECTOR_SIZE &&
            otakit_sig_sector_parse(buf + sector, file_len - sector, &sig, NULL) == OTAKIT_OK) {
            printf("Bytes after the image: %zu (a Secure Boot V2 signature sector at 0x%x with %u "
                   "valid block(s); 'image verify --keyfile' checks it)\n",
                   file_len - info->image_len, (unsigned)sector, sig.valid_count);
        } else {
            printf("Bytes after the image: %zu (not checked)\n", file_len - info->image_len);
        }
    }
    if (err == OTAKIT_OK) {
        printf("Verdict: valid\n");
    } else {
        printf("Verdict: invalid: offset 0x%x: %s\n", (unsigned)diag->offset,
               diag->msg ? diag->msg : otakit_err_name(err));
    }
}

static int run_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *file = NULL;
    bool json = false;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE_INFO, stdout);
            return EXIT_OK;
        } else if (c == 'j') {
            json = true;
        } else {
            return tool_getopt_error("image info", c, argv);
        }
    }
    if (optind < argc) {
        file = argv[optind++];
    }
    if (optind < argc) {
        tool_error("image info: too many arguments");
        return EXIT_USAGE;
    }
    if (file == NULL) {
        tool_error("image info: missing FILE (see 'otakit image info --help')");
        return EXIT_USAGE;
    }
    uint8_t *buf;
    size_t len;
    if (tool_read_file(file, &buf, &len) != 0) {
        return EXIT_USAGE;
    }
    otakit_image_opts_t opts = {OTAKIT_CHIP_ANY, 0, false};
    otakit_image_verifier_t v;
    otakit_image_info_t info;
    otakit_diag_t diag;
    otakit_image_verifier_init(&v, &opts);
    otakit_image_verifier_feed(&v, buf, len);
    bool complete = otakit_image_verifier_complete(&v);
    otakit_err_t err = otakit_image_verifier_finish(&v, &info, &diag);
    if (!complete) {
        tool_error("%s: offset 0x%x: %s", file, (unsigned)diag.offset,
                   diag.msg ? diag.msg : otakit_err_name(err));
        free(buf);
        return EXIT_USAGE;
    }
    if (json) {
        tool_print_json(info_json(file, len, buf, &info, err, &diag), false);
    } else {
        info_text(len, buf, &info, err, &diag);
    }
    free(buf);
    return EXIT_OK;
}

/* ---- verify --------------------------------------------------------------------- */

/* stderr line for a failed verification, with the details the diag cannot hold. */
static void report_failure(const char *file, size_t len, const otakit_image_opts_t *opts,
                           const otakit_image_info_t *info, const otakit_diag_t *diag,
                           otakit_err_t err)
{
    char extra[160] = "";
    const char *msg = diag->msg ? diag->msg : otakit_err_name(err);
    if (strcmp(msg, "chip id mismatch") == 0) {
        snprintf(extra, sizeof(extra), " (image is for %s, chip id 0x%04x; expected %s, 0x%04x)",
                 chip_name(info->header.chip_id), (unsigned)info->header.chip_id,
                 chip_name((uint16_t)opts->chip_id), (unsigned)opts->chip_id);
    } else if (strcmp(msg, "checksum mismatch") == 0) {
        snprintf(extra, sizeof(extra), " (stored 0x%02x, calculated 0x%02x)",
                 (unsigned)info->checksum_stored, (unsigned)info->checksum_calc);
    } else if (strcmp(msg, "image length doesn't fit in partition") == 0) {
        snprintf(extra, sizeof(extra), " (partition size 0x%x)", (unsigned)opts->max_size);
    } else if (strcmp(msg, "truncated image") == 0) {
        snprintf(extra, sizeof(extra), " (file has %zu bytes)", len);
    } else if (strcmp(msg, "too many segments") == 0) {
        snprintf(extra, sizeof(extra), " (%u, at most %u)", (unsigned)info->header.segment_count,
                 OTAKIT_IMAGE_MAX_SEGMENTS);
    }
    tool_error("%s: offset 0x%x: %s%s", file, (unsigned)diag->offset, msg, extra);
}

struct verify_args {
    const char *file, *output;
    bool json;
    int32_t chip;
    uint32_t max_size;
    const char *keyfile;                             /* verify: check the signature with this key */
    const char *digest_files[OTAKIT_SIG_BLOCKS_MAX]; /* verify: ... or with these key digests */
    unsigned n_digests;
};

/* Options shared by verify and extract. Returns -1 (usage error), 1 (--help) or 0. */
static int parse_verify_args(int argc, char **argv, struct verify_args *a, bool want_output,
                             const char *verb, const char *usage)
{
    static const struct option opts[] = {
        {"chip", required_argument, NULL, 'c'},    {"partition-size", required_argument, NULL, 'p'},
        {"keyfile", required_argument, NULL, 'k'}, {"pubkey-digest", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {0}};
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "image %s", verb);
    memset(a, 0, sizeof(*a));
    a->chip = OTAKIT_CHIP_ESP32;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, want_output ? ":ho:" : ":h", opts, NULL)) != -1) {
        bool verify_only = c == 'p' || c == 'k' || c == 'd';
        if ((verify_only && want_output) || (c == 'o' && !want_output)) {
            tool_error("%s: option '%s' is not one of its options (see 'otakit %s --help')", cmd,
                       argv[optind - 1], cmd);
            return -1;
        }
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return 1;
        case 'j':
            a->json = true;
            break;
        case 'c':
            if (parse_chip(optarg, &a->chip) != 0) {
                tool_error("%s: unknown chip '%s' (esp32, esp32s2, ..., any)", cmd, optarg);
                return -1;
            }
            break;
        case 'p':
            if (tool_parse_u32(optarg, &a->max_size) != 0 || a->max_size == 0) {
                tool_error("%s: bad --partition-size '%s'", cmd, optarg);
                return -1;
            }
            break;
        case 'k':
            a->keyfile = optarg;
            break;
        case 'd':
            if (a->n_digests == OTAKIT_SIG_BLOCKS_MAX) {
                tool_error("%s: at most %u --pubkey-digest (an ESP32 holds at most three)", cmd,
                           OTAKIT_SIG_BLOCKS_MAX);
                return -1;
            }
            a->digest_files[a->n_digests++] = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        default:
            tool_getopt_error(cmd, c, argv);
            return -1;
        }
    }
    if (optind < argc) {
        a->file = argv[optind++];
    }
    if (optind < argc) {
        tool_error("%s: too many arguments", cmd);
        return -1;
    }
    if (a->file == NULL) {
        tool_error("%s: missing FILE (see 'otakit %s --help')", cmd, cmd);
        return -1;
    }
    if (want_output && a->output == NULL) {
        tool_error("%s: missing -o OUT", cmd);
        return -1;
    }
    if (a->keyfile != NULL && a->n_digests > 0) {
        tool_error("%s: --keyfile and --pubkey-digest exclude each other", cmd);
        return -1;
    }
    return 0;
}

/* The trusted key digests of a verify: the --keyfile's digest or the --pubkey-digest
 * files (32 raw bytes each). Returns the count, or -1 after printing the problem. */
static int load_trusted(const struct verify_args *a,
                        uint8_t trusted[OTAKIT_SIG_BLOCKS_MAX][OTAKIT_SIG_KEY_DIGEST_LEN])
{
    if (a->keyfile != NULL) {
        otakit_sbv2_key_t *key;
        if (tool_load_sbv2_key(a->keyfile, &key) != 0) {
            return -1;
        }
        otakit_err_t err = otakit_sbv2_key_digest(key, trusted[0]);
        otakit_sbv2_key_free(key);
        if (err != OTAKIT_OK) {
            tool_error("%s: cannot compute the key digest", a->keyfile);
            return -1;
        }
        return 1;
    }
    for (unsigned i = 0; i < a->n_digests; i++) {
        uint8_t *buf;
        size_t len;
        if (tool_read_file(a->digest_files[i], &buf, &len) != 0) {
            return -1;
        }
        if (len != OTAKIT_SIG_KEY_DIGEST_LEN) {
            tool_error("%s: a key digest is 32 bytes, this file has %zu", a->digest_files[i], len);
            free(buf);
            return -1;
        }
        memcpy(trusted[i], buf, OTAKIT_SIG_KEY_DIGEST_LEN);
        free(buf);
    }
    return (int)a->n_digests;
}

/* What a signature check found, for the text and JSON reports. */
struct sig_report {
    bool present; /* a sector with at least one valid block follows the image */
    bool checked; /* a key or key digest was given */
    bool ok;      /* checked and a block verified */
    uint32_t sector_off;
    otakit_sig_result_t res;
    otakit_diag_t diag;
};

static void sig_check(const uint8_t *buf, size_t len, uint32_t image_len,
                      const uint8_t (*trusted)[OTAKIT_SIG_KEY_DIGEST_LEN], int n_trusted,
                      struct sig_report *r)
{
    memset(r, 0, sizeof(*r));
    r->res.block = -1;
    r->sector_off = otakit_sig_sector_offset(image_len);
    if (len >= (size_t)r->sector_off + OTAKIT_SIG_SECTOR_SIZE) {
        r->present = otakit_sig_sector_parse(buf + r->sector_off, len - r->sector_off,
                                             &r->res.sector, NULL) == OTAKIT_OK;
    }
    if (n_trusted <= 0) {
        return;
    }
    r->checked = true;
    otakit_err_t err = otakit_sig_verify(buf, len, r->sector_off, trusted, (unsigned)n_trusted,
                                         &otakit_sbv2_crypto, &r->res, &r->diag);
    r->ok = err == OTAKIT_OK;
    if (err == OTAKIT_ERR_INVALID_SIZE) {
        r->diag.msg = "no signature sector after the image (file ends first)";
    }
}

static cJSON *sig_json(const struct sig_report *r)
{
    if (!r->present && !r->checked) {
        return cJSON_CreateNull();
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sector_offset", r->sector_off);
    cJSON_AddBoolToObject(o, "checked", r->checked);
    cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
    for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
        if (!r->res.sector.valid[i]) {
            continue;
        }
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "index", i);
        cJSON_AddStringToObject(b, "scheme",
                                otakit_sig_scheme_name(r->res.sector.blocks[i].scheme));
        cJSON_AddBoolToObject(b, "verified", r->ok && r->res.block == (int)i);
        if (r->checked && r->res.why[i] != NULL) {
            cJSON_AddStringToObject(b, "problem", r->res.why[i]);
        }
        cJSON_AddItemToArray(blocks, b);
    }
    if (r->ok) {
        cJSON_AddNumberToObject(o, "verified_block", r->res.block);
    } else {
        cJSON_AddNullToObject(o, "verified_block");
    }
    return o;
}

static void sig_text(const char *file, const struct sig_report *r)
{
    if (r->ok) {
        printf("%s: signature block %d verified (%s)\n", file, r->res.block,
               otakit_sig_scheme_name(r->res.scheme));
        return;
    }
    if (r->checked) {
        tool_error("%s: offset 0x%x: %s", file, (unsigned)r->diag.offset,
                   r->diag.msg ? r->diag.msg : "signature check failed");
        for (unsigned i = 0; i < OTAKIT_SIG_BLOCKS_MAX; i++) {
            if (r->res.sector.valid[i] && r->res.why[i] != NULL) {
                tool_error("%s: signature block %u (%s): %s", file, i,
                           otakit_sig_scheme_name(r->res.sector.blocks[i].scheme), r->res.why[i]);
            }
        }
        return;
    }
    if (r->present) {
        printf("%s: signature sector at 0x%x with %u valid block(s), not checked (give "
               "--keyfile or --pubkey-digest)\n",
               file, (unsigned)r->sector_off, r->res.sector.valid_count);
    }
}

static int run_verify(int argc, char **argv)
{
    struct verify_args a;
    int r = parse_verify_args(argc, argv, &a, false, "verify", USAGE_VERIFY);
    if (r != 0) {
        return r > 0 ? EXIT_OK : EXIT_USAGE;
    }
    uint8_t trusted[OTAKIT_SIG_BLOCKS_MAX][OTAKIT_SIG_KEY_DIGEST_LEN];
    int n_trusted = load_trusted(&a, trusted);
    if (n_trusted < 0) {
        return EXIT_USAGE;
    }
    tool_file_t file;
    if (tool_map_file(a.file, &file) != 0) {
        return EXIT_USAGE;
    }
    const uint8_t *buf = file.buf;
    size_t len = file.len;
    otakit_image_opts_t opts = {a.chip, a.max_size, false};
    otakit_image_info_t info;
    otakit_diag_t diag;
    otakit_err_t err = otakit_image_verify_buf(buf, len, &opts, &info, &diag);
    struct sig_report sig;
    memset(&sig, 0, sizeof(sig));
    if (err == OTAKIT_OK) {
        sig_check(buf, len, info.image_len, (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN])trusted,
                  n_trusted, &sig);
        /* A signed image's length includes its signature sector (ESP-IDF's image_load). */
        if (sig.ok && a.max_size != 0 && sig.sector_off + OTAKIT_SIG_SECTOR_SIZE > a.max_size) {
            err = OTAKIT_ERR_IMAGE_INVALID;
            diag.offset = sig.sector_off;
            diag.msg = "image length doesn't fit in partition";
        }
    }
    tool_file_release(&file);
    if (err != OTAKIT_OK) {
        report_failure(a.file, len, &opts, &info, &diag, err);
    }
    bool valid = err == OTAKIT_OK && (!sig.checked || sig.ok);
    if (a.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", a.file);
        cJSON_AddBoolToObject(j, "valid", valid);
        if (a.chip == OTAKIT_CHIP_ANY) {
            cJSON_AddStringToObject(j, "expected_chip", "any");
        } else {
            cJSON_AddStringToObject(j, "expected_chip", chip_name((uint16_t)a.chip));
        }
        if (info.header.magic == OTAKIT_IMAGE_MAGIC) {
            cJSON_AddStringToObject(j, "chip", chip_name(info.header.chip_id));
            cJSON_AddNumberToObject(j, "chip_id", info.header.chip_id);
        } else {
            cJSON_AddNullToObject(j, "chip");
            cJSON_AddNullToObject(j, "chip_id");
        }
        cJSON_AddNumberToObject(j, "length", info.image_len);
        cJSON_AddNumberToObject(j, "segments", info.segments_parsed);
        if (info.has_desc) {
            cJSON_AddStringToObject(j, "project", info.desc.project_name);
            cJSON_AddStringToObject(j, "version", info.desc.version);
            cJSON_AddNumberToObject(j, "secure_version", info.desc.secure_version);
        } else {
            cJSON_AddNullToObject(j, "project");
            cJSON_AddNullToObject(j, "version");
            cJSON_AddNullToObject(j, "secure_version");
        }
        cJSON_AddItemToObject(j, "signature", sig_json(&sig));
        if (err != OTAKIT_OK || (sig.checked && !sig.ok)) {
            const otakit_diag_t *d = err != OTAKIT_OK ? &diag : &sig.diag;
            cJSON *e = cJSON_AddObjectToObject(j, "error");
            cJSON_AddNumberToObject(e, "offset", d->offset);
            cJSON_AddStringToObject(e, "message", d->msg ? d->msg : otakit_err_name(err));
        } else {
            cJSON_AddNullToObject(j, "error");
        }
        tool_print_json(j, false);
        if (sig.checked && !sig.ok) {
            sig_text(a.file, &sig); /* stderr: which block failed and why */
        }
    } else if (err == OTAKIT_OK) {
        if (!sig.checked || sig.ok) {
            printf("%s: valid %s image, %u bytes", a.file, chip_name(info.header.chip_id),
                   (unsigned)info.image_len);
            if (info.has_desc) {
                printf(", project %s, version %s, secure version %u", info.desc.project_name,
                       info.desc.version, (unsigned)info.desc.secure_version);
            }
            printf("\n");
        }
        sig_text(a.file, &sig);
    }
    return valid ? EXIT_OK : EXIT_CHECK_FAILED;
}

/* ---- sign ----------------------------------------------------------------------- */

static int run_sign(int argc, char **argv)
{
    static const struct option opts[] = {{"keyfile", required_argument, NULL, 'k'},
                                         {"append-signatures", no_argument, NULL, 'a'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *keyfile = NULL;
    bool append = false, json = false;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE_SIGN, stdout);
            return EXIT_OK;
        } else if (c == 'k') {
            keyfile = optarg;
        } else if (c == 'a') {
            append = true;
        } else if (c == 'j') {
            json = true;
        } else {
            return tool_getopt_error("image sign", c, argv);
        }
    }
    if (keyfile == NULL || argc - optind != 2) {
        tool_error("image sign: needs --keyfile KEY.pem, IN and OUT (see 'otakit image sign "
                   "--help')");
        return EXIT_USAGE;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    if (json && strcmp(out, "-") == 0) {
        tool_error("image sign: --json cannot be used with OUT -");
        return EXIT_USAGE;
    }
    otakit_sbv2_key_t *key;
    if (tool_load_sbv2_key(keyfile, &key) != 0) {
        return EXIT_USAGE;
    }
    int rc = EXIT_CHECK_FAILED;
    uint8_t *buf = NULL, *signed_img = NULL;
    size_t len = 0, signed_len = 0;
    uint8_t digest[OTAKIT_SIG_KEY_DIGEST_LEN];
    if (!otakit_sbv2_key_is_private(key)) {
        tool_error("%s: a public key cannot sign (give the private key)", keyfile);
        rc = EXIT_USAGE;
        goto out;
    }
    if (otakit_sbv2_key_digest(key, digest) != OTAKIT_OK) {
        tool_error("%s: cannot compute the key digest", keyfile);
        goto out;
    }
    if (tool_read_file(in, &buf, &len) != 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    /* Only a sound image is worth signing; the sector goes after its own length. */
    otakit_image_opts_t vopts = {OTAKIT_CHIP_ANY, 0, false};
    otakit_image_info_t info;
    otakit_diag_t diag;
    otakit_err_t err = otakit_image_verify_buf(buf, len, &vopts, &info, &diag);
    if (err != OTAKIT_OK) {
        report_failure(in, len, &vopts, &info, &diag, err);
        goto out;
    }
    err = otakit_sbv2_sign_image(key, buf, len, info.image_len, append, &signed_img, &signed_len,
                                 &diag);
    if (err != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: %s", in, (unsigned)diag.offset,
                   diag.msg ? diag.msg : otakit_err_name(err));
        goto out;
    }
    /* Check what was signed before writing it: the new block must verify with the key. */
    otakit_sig_result_t res;
    uint32_t sector_off = otakit_sig_sector_offset(info.image_len);
    if (otakit_sig_verify(signed_img, signed_len, sector_off,
                          (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN]) & digest, 1,
                          &otakit_sbv2_crypto, &res, &diag) != OTAKIT_OK) {
        tool_error("image sign: internal error: the signed image does not verify: %s",
                   diag.msg ? diag.msg : "?");
        goto out;
    }
    if (tool_write_file(out, signed_img, signed_len) != 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    rc = EXIT_OK;
    unsigned blocks = res.sector.valid_count;
    char hex[2 * OTAKIT_SIG_KEY_DIGEST_LEN + 1];
    tool_hex(hex, digest, sizeof(digest));
    const char *scheme = otakit_sig_scheme_name(otakit_sbv2_key_scheme(key));
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "input", in);
        cJSON_AddStringToObject(j, "output", out);
        cJSON_AddNumberToObject(j, "length", (double)signed_len);
        cJSON_AddNumberToObject(j, "signed_length", sector_off);
        cJSON_AddNumberToObject(j, "sector_offset", sector_off);
        cJSON_AddNumberToObject(j, "block", blocks - 1);
        cJSON_AddNumberToObject(j, "blocks", blocks);
        cJSON_AddStringToObject(j, "scheme", scheme);
        cJSON_AddStringToObject(j, "key_digest", hex);
        tool_print_json(j, false);
    } else if (strcmp(out, "-") != 0) {
        printf("%s: signed %u bytes of %s with %s; signature sector at 0x%x now holds %u "
               "block(s)\n  key digest: %s\n",
               out, (unsigned)sector_off, in, scheme, (unsigned)sector_off, blocks, hex);
    }
out:
    free(signed_img);
    free(buf);
    otakit_sbv2_key_free(key);
    return rc;
}

/* ---- create --------------------------------------------------------------------- */

static int check_len(const char *opt, const char *val, size_t max)
{
    if (val != NULL && strlen(val) > max) {
        tool_error("image create: %s '%s' is longer than %zu bytes", opt, val, max);
        return -1;
    }
    return 0;
}

static int run_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"program", required_argument, NULL, 'P'}, {"project", required_argument, NULL, 'n'},
        {"version", required_argument, NULL, 'v'}, {"secure-version", required_argument, NULL, 's'},
        {"date", required_argument, NULL, 'D'},    {"time", required_argument, NULL, 'T'},
        {"idf-ver", required_argument, NULL, 'i'}, {"chip", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {0}};
    otakit_image_build_opts_t o;
    otakit_image_build_opts_init(&o);
    const char *program = NULL, *output = NULL;
    bool json = false;
    int32_t chip;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(USAGE_CREATE, stdout);
            return EXIT_OK;
        case 'j':
            json = true;
            break;
        case 'P':
            program = optarg;
            break;
        case 'n':
            o.project = optarg;
            break;
        case 'v':
            o.version = optarg;
            break;
        case 's':
            if (tool_parse_u32(optarg, &o.secure_version) != 0) {
                tool_error("image create: bad --secure-version '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'D':
            o.date = optarg;
            break;
        case 'T':
            o.time = optarg;
            break;
        case 'i':
            o.idf_ver = optarg;
            break;
        case 'c':
            if (parse_chip(optarg, &chip) != 0 || chip == OTAKIT_CHIP_ANY) {
                tool_error("image create: unknown chip '%s' (esp32, esp32s2, ...)", optarg);
                return EXIT_USAGE;
            }
            o.chip_id = (uint16_t)chip;
            break;
        case 'o':
            output = optarg;
            break;
        default:
            return tool_getopt_error("image create", c, argv);
        }
    }
    if (optind < argc) {
        tool_error("image create: unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (program == NULL || o.project == NULL || o.version == NULL || output == NULL) {
        tool_error("image create: --program, --project, --version and -o are required (see "
                   "'otakit image create --help')");
        return EXIT_USAGE;
    }
    bool to_stdout = strcmp(output, "-") == 0;
    if (json && to_stdout) {
        tool_error("image create: --json cannot be used with -o -");
        return EXIT_USAGE;
    }
    char date[16], time_s[16];
    if (o.date == NULL || o.time == NULL) {
        if (otakit_image_build_datetime(date, time_s) != OTAKIT_OK) {
            tool_error("image create: SOURCE_DATE_EPOCH '%s' is not a number of seconds",
                       getenv("SOURCE_DATE_EPOCH") ? getenv("SOURCE_DATE_EPOCH") : "");
            return EXIT_USAGE;
        }
        if (o.date == NULL) {
            o.date = date;
        }
        if (o.time == NULL) {
            o.time = time_s;
        }
    }
    if (check_len("--project", o.project, 32) || check_len("--version", o.version, 32) ||
        check_len("--date", o.date, 16) || check_len("--time", o.time, 16) ||
        check_len("--idf-ver", o.idf_ver, 32)) {
        return EXIT_USAGE;
    }
    uint8_t *prog;
    size_t prog_len;
    if (tool_read_file(program, &prog, &prog_len) != 0) {
        return EXIT_USAGE;
    }
    uint8_t *img;
    size_t img_len;
    otakit_err_t err = otakit_image_build(&o, prog, prog_len, &img, &img_len);
    free(prog);
    if (err == OTAKIT_ERR_INVALID_SIZE) {
        tool_error("%s: program is %zu bytes, more than an image segment holds (%u)", program,
                   prog_len, (unsigned)OTAKIT_IMAGE_PROG_MAX);
        return EXIT_USAGE;
    } else if (err != OTAKIT_OK) {
        tool_error("image create: %s", otakit_err_name(err));
        return EXIT_USAGE;
    }
    /* Check what was built before writing it. */
    otakit_image_opts_t vopts = {o.chip_id, 0, false};
    otakit_image_info_t info;
    otakit_diag_t diag;
    if (otakit_image_verify_buf(img, img_len, &vopts, &info, &diag) != OTAKIT_OK) {
        tool_error("image create: internal error: built image does not verify: offset 0x%x: %s",
                   (unsigned)diag.offset, diag.msg ? diag.msg : "?");
        free(img);
        return EXIT_USAGE;
    }
    if (tool_write_file(output, img, img_len) != 0) {
        free(img);
        return EXIT_USAGE;
    }
    free(img);
    char sha[65], hash[65];
    tool_hex(sha, info.desc.app_elf_sha256, 32);
    tool_hex(hash, info.hash_calc, 32);
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "output", output);
        cJSON_AddNumberToObject(j, "length", (double)img_len);
        cJSON_AddStringToObject(j, "chip", chip_name(o.chip_id));
        cJSON_AddNumberToObject(j, "segments", info.segments_parsed);
        cJSON_AddNumberToObject(j, "program_length", (double)prog_len);
        cJSON_AddNumberToObject(j, "program_offset", OTAKIT_IMAGE_PROG_DATA_OFFSET);
        cJSON_AddStringToObject(j, "project", info.desc.project_name);
        cJSON_AddStringToObject(j, "version", info.desc.version);
        cJSON_AddNumberToObject(j, "secure_version", info.desc.secure_version);
        cJSON_AddStringToObject(j, "date", info.desc.date);
        cJSON_AddStringToObject(j, "time", info.desc.time);
        cJSON_AddStringToObject(j, "idf_ver", info.desc.idf_ver);
        cJSON_AddStringToObject(j, "elf_sha256", sha);
        cJSON_AddStringToObject(j, "hash", hash);
        tool_print_json(j, false);
    } else if (!to_stdout) {
        printf("%s: %zu bytes, %s app image, %u segments, project %s, version %s, secure "
               "version %u\n",
               output, img_len, chip_name(o.chip_id), (unsigned)info.segments_parsed,
               info.desc.project_name, info.desc.version, (unsigned)info.desc.secure_version);
        printf("  program: %zu bytes at offset 0x%x (load 0x%08x), SHA-256 %s\n", prog_len,
               (unsigned)OTAKIT_IMAGE_PROG_DATA_OFFSET, (unsigned)OTAKIT_IMAGE_PROG_LOAD_ADDR, sha);
        printf("  image SHA-256: %s\n", hash);
    }
    return EXIT_OK;
}

/* ---- extract -------------------------------------------------------------------- */

static int run_extract(int argc, char **argv)
{
    struct verify_args a;
    int r = parse_verify_args(argc, argv, &a, true, "extract", USAGE_EXTRACT);
    if (r != 0) {
        return r > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (a.json && strcmp(a.output, "-") == 0) {
        tool_error("image extract: --json cannot be used with -o -");
        return EXIT_USAGE;
    }
    uint8_t *buf;
    size_t len;
    if (tool_read_file(a.file, &buf, &len) != 0) {
        return EXIT_USAGE;
    }
    otakit_image_opts_t opts = {a.chip, 0, false};
    otakit_image_info_t info;
    otakit_diag_t diag;
    otakit_err_t err = otakit_image_verify_buf(buf, len, &opts, &info, &diag);
    if (err != OTAKIT_OK) {
        report_failure(a.file, len, &opts, &info, &diag, err);
        free(buf);
        return EXIT_CHECK_FAILED;
    }
    const uint8_t *prog;
    size_t prog_len;
    if (otakit_image_program(buf, len, &info, &prog, &prog_len) != OTAKIT_OK) {
        tool_error("%s: offset 0x0: no otakit program segment (an image not made by 'otakit "
                   "image create'?)",
                   a.file);
        free(buf);
        return EXIT_CHECK_FAILED;
    }
    size_t prog_off = (size_t)(prog - buf);
    if (tool_write_file(a.output, prog, prog_len) != 0) {
        free(buf);
        return EXIT_USAGE;
    }
    free(buf);
    if (a.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "file", a.file);
        cJSON_AddStringToObject(j, "output", a.output);
        cJSON_AddNumberToObject(j, "program_length", (double)prog_len);
        cJSON_AddNumberToObject(j, "program_offset", (double)prog_off);
        tool_print_json(j, false);
    } else if (strcmp(a.output, "-") != 0) {
        printf("%s: %zu bytes of program from %s (offset 0x%zx)\n", a.output, prog_len, a.file,
               prog_off);
    }
    return EXIT_OK;
}

/* ---- dispatch ------------------------------------------------------------------- */

int cmd_image(int argc, char **argv)
{
    static const tool_verb_t VERBS[] = {
        {"info", run_info},     {"verify", run_verify},   {"sign", run_sign},
        {"create", run_create}, {"extract", run_extract},
    };
    return tool_dispatch("image", USAGE, VERBS, sizeof(VERBS) / sizeof(VERBS[0]), argc, argv);
}
