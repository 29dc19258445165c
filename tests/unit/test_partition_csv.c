#include "harness.h"
#include "otakit/hash.h"
#include "partition_csv.h"

static otakit_partition_csv_t T;
static otakit_partition_csv_error_t E;

static int parse_opt(const char *text, const otakit_partition_csv_options_t *opt)
{
    otakit_partition_csv_free(&T);
    memset(&E, 0, sizeof(E));
    return otakit_partition_csv_parse(text, strlen(text), opt, &T, &E);
}

static int parse(const char *text)
{
    return parse_opt(text, NULL);
}

/* The parse fails on `line` with a message containing `what`. */
#define CHECK_FAILS(rc_expr, line_no, what)                                                        \
    do {                                                                                           \
        CHECK_EQ((rc_expr), -1);                                                                   \
        CHECK_EQ(E.line, (line_no));                                                               \
        if (strstr(E.msg, (what)) == NULL) {                                                       \
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", E.msg, (what));                       \
            CHECK(0);                                                                              \
        }                                                                                          \
    } while (0)

static void check_part(size_t i, const char *name, uint8_t type, uint8_t subtype, uint32_t offset,
                       uint32_t size, uint32_t flags)
{
    CHECK(i < T.count);
    if (i >= T.count) {
        return;
    }
    const otakit_partition_csv_entry_t *e = &T.entries[i];
    CHECK_STR(e->name, name);
    CHECK_EQ(e->part.type, type);
    CHECK_EQ(e->part.subtype, subtype);
    CHECK_EQ(e->part.offset, offset);
    CHECK_EQ(e->part.size, size);
    CHECK_EQ(e->part.flags, flags);
}

static const char TWO_OTA[] = "# Name,   Type, SubType, Offset,   Size, Flags\n"
                              "# Note: if you have increased the bootloader size, make sure to "
                              "update the offsets to avoid overlap\n"
                              "nvs,      data, nvs,     ,        0x4000,\n"
                              "otadata,  data, ota,     ,        0x2000,\n"
                              "phy_init, data, phy,     ,        0x1000,\n"
                              "factory,  app,  factory, ,        1M,\n"
                              "ota_0,    app,  ota_0,   ,        1M,\n"
                              "ota_1,    app,  ota_1,   ,        1M,\n";

static void check_two_ota(void)
{
    CHECK_EQ(T.count, 6);
    check_part(0, "nvs", 1, 2, 0x9000, 0x4000, 0);
    check_part(1, "otadata", 1, 0, 0xD000, 0x2000, 0);
    check_part(2, "phy_init", 1, 1, 0xF000, 0x1000, 0);
    check_part(3, "factory", 0, 0, 0x10000, 0x100000, 0);
    check_part(4, "ota_0", 0, 0x10, 0x110000, 0x100000, 0);
    check_part(5, "ota_1", 0, 0x11, 0x210000, 0x100000, 0);
}

static void test_two_ota(void)
{
    CHECK_EQ(parse(TWO_OTA), 0);
    check_two_ota();
    if (T.count == 6) {
        CHECK_EQ(T.entries[0].line, 3);
        CHECK_EQ(T.entries[5].line, 8);
    }
    uint8_t bin[OTAKIT_PTABLE_MAX_LEN], d[16];
    CHECK_EQ(otakit_partition_csv_to_binary(&T, true, bin, &E), 0);
    otakit_hash_buf(OTAKIT_HASH_MD5, bin, sizeof(bin), d);
    static const uint8_t want[16] = {0x9f, 0x94, 0xbf, 0x1e, 0x89, 0xf3, 0x7d, 0x80,
                                     0xf4, 0x31, 0x0d, 0x5a, 0xf1, 0x9a, 0x6e, 0x59};
    CHECK_MEM(d, want, 16);
}

/* UTF-8 BOM, CRLF, lone CR, UTF-16 with BOM: the same table. */
static void test_encodings_and_line_ends(void)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "\xEF\xBB\xBF%s", TWO_OTA);
    CHECK_EQ(parse(buf), 0);
    check_two_ota();

    size_t j = 0;
    for (const char *s = TWO_OTA; *s; s++) {
        if (*s == '\n') {
            buf[j++] = '\r';
        }
        buf[j++] = *s;
    }
    buf[j] = '\0';
    CHECK_EQ(parse(buf), 0);
    check_two_ota();
    if (T.count == 6) {
        CHECK_EQ(T.entries[5].line, 8);
    }

    for (j = 0; TWO_OTA[j]; j++) {
        buf[j] = TWO_OTA[j] == '\n' ? '\r' : TWO_OTA[j];
    }
    buf[j] = '\0';
    CHECK_EQ(parse(buf), 0);
    check_two_ota();

    /* UTF-16 LE and BE with their BOMs */
    for (int be = 0; be < 2; be++) {
        static char u16[4096];
        size_t n = 0;
        u16[n++] = be ? '\xFE' : '\xFF';
        u16[n++] = be ? '\xFF' : '\xFE';
        for (const char *s = TWO_OTA; *s; s++) {
            u16[n++] = be ? 0 : *s;
            u16[n++] = be ? *s : 0;
        }
        otakit_partition_csv_free(&T);
        CHECK_EQ(otakit_partition_csv_parse(u16, n, NULL, &T, &E), 0);
        check_two_ota();
        /* odd length */
        otakit_partition_csv_free(&T);
        CHECK_FAILS(otakit_partition_csv_parse(u16, n - 1, NULL, &T, &E), 0, "UTF-16");
    }

    /* not UTF-8 at all */
    CHECK_FAILS(parse("nvs, data, nvs, , 0x4000\nn\xC3\x28, data, nvs, , 0x4000\n"), 0, "UTF-8");
    /* a NUL character */
    static const char nul[] = "nvs, data, nvs, , 0x4000\nx\0y, data, nvs, , 0x4000\n";
    otakit_partition_csv_free(&T);
    CHECK_FAILS(otakit_partition_csv_parse(nul, sizeof(nul) - 1, NULL, &T, &E), 2, "NUL");
    /* an empty file is an empty table */
    CHECK_EQ(parse(""), 0);
    CHECK_EQ(T.count, 0);
}

static void test_comments_blank_lines_and_fields(void)
{
    CHECK_EQ(parse("\n   \n# comment, with, commas\n\t# indented comment\n"
                   "nvs,data,nvs,,0x4000,,extra field,more\n"
                   "  spaced ,  data ,  phy  ,  ,  0x1000  \n"),
             0);
    CHECK_EQ(T.count, 2);
    check_part(0, "nvs", 1, 2, 0x9000, 0x4000, 0);
    check_part(1, "spaced", 1, 1, 0xD000, 0x1000, 0);
    if (T.count == 2) {
        CHECK_EQ(T.entries[0].line, 5);
        CHECK_EQ(T.entries[1].line, 6);
    }
    /* no inline comments: "# x" in the flags field is an unknown flag */
    CHECK_FAILS(parse("nvs, data, nvs, , 0x4000, # comment\n"), 1, "unknown flag '# comment'");
}

static void test_env_vars(void)
{
    setenv("OTAKIT_T_SIZE", "0x4000", 1);
    setenv("OTAKIT_T_NAME", "store", 1);
    CHECK_EQ(parse("$OTAKIT_T_NAME, data, nvs, , $OTAKIT_T_SIZE\n"
                   "b, data, nvs, , ${OTAKIT_T_SIZE}\n"),
             0);
    check_part(0, "store", 1, 2, 0x9000, 0x4000, 0);
    check_part(1, "b", 1, 2, 0xD000, 0x4000, 0);
    unsetenv("OTAKIT_T_UNSET");
    CHECK_FAILS(
        parse("# $OTAKIT_T_UNSET in a comment is fine\n$OTAKIT_T_UNSET, data, nvs, , 0x4000\n"), 2,
        "unknown variable 'OTAKIT_T_UNSET'");
    /* elsewhere in the line the tool leaves it as text, so it fails as a number */
    CHECK_FAILS(parse("nvs, data, nvs, , $OTAKIT_T_UNSET\n"), 1,
                "Invalid field value $OTAKIT_T_UNSET");
    unsetenv("OTAKIT_T_SIZE");
    unsetenv("OTAKIT_T_NAME");
}

static void test_types_and_subtypes(void)
{
    CHECK_EQ(parse("a, DATA, NVS, , 0x4000\n"
                   "b, Data, 0x81, , 0x1000\n"
                   "c, 1, 2, , 0x4000\n"
                   "d, 0x40, 0x01, , 0x1000\n"
                   "e, 64, , , 0x1000\n"
                   "f, data, , , 0x1000\n"
                   "g, app, OTA_15, , 0x10000\n"
                   "h, 0, 32, , 0x10000\n"
                   "i, data, littlefs, , 0x1000\n"
                   "j, data, tee_ota, , 0x2000\n"
                   "k, app, tee_1, , 0x10000\n"),
             0);
    check_part(0, "a", 1, 2, 0x9000, 0x4000, 0);
    check_part(1, "b", 1, 0x81, 0xD000, 0x1000, 0);
    check_part(2, "c", 1, 2, 0xE000, 0x4000, 0);
    check_part(3, "d", 0x40, 1, 0x12000, 0x1000, 0);
    check_part(4, "e", 0x40, 0x06, 0x13000, 0x1000, 0);
    check_part(5, "f", 1, 0x06, 0x14000, 0x1000, 0);
    check_part(6, "g", 0, 0x1F, 0x20000, 0x10000, 0);
    check_part(7, "h", 0, 0x20, 0x30000, 0x10000, 0);
    check_part(8, "i", 1, 0x83, 0x40000, 0x1000, 0);
    check_part(9, "j", 1, 0x90, 0x41000, 0x2000, 0);
    check_part(10, "k", 0, 0x31, 0x50000, 0x10000, 0);

    CHECK_FAILS(parse("# c\nnvs, , nvs, , 0x4000\n"), 2, "Field 'type' can't be left empty.");
    CHECK_FAILS(parse("nvs\n"), 1, "Field 'type' can't be left empty.");
    CHECK_FAILS(parse("x, app, , , 1M\n"), 1, "App partition cannot have an empty subtype");
    CHECK_FAILS(
        parse("x, apps, factory, , 1M\n"), 1,
        "Value 'apps' is not valid. Known keywords: bootloader, partition_table, app, data");
    CHECK_FAILS(parse("x, data, nvsx, , 0x4000\n"), 1,
                "Value 'nvsx' is not valid. Known keywords: ota, phy");
    /* the tool takes a trailing k/m off as a suffix first, keywords included */
    CHECK_FAILS(parse("x, data, nvram, , 0x4000\n"), 1, "Value 'nvra' is not valid");
    CHECK_FAILS(parse("x, app, ota_16, , 1M\n"), 1, "Value 'ota_16' is not valid");
    CHECK_FAILS(parse("x, 0x40, spiffs, , 0x1000\n"), 1, "Invalid field value spiffs");
    /* struct.pack would refuse these */
    CHECK_FAILS(parse("x, 0x100, 0, , 0x1000\n"), 1, "type 0x100 does not fit in one byte");
    CHECK_FAILS(parse("x, data, 300, , 0x1000\n"), 1, "subtype 0x12c does not fit in one byte");
}

static void test_integers(void)
{
    CHECK_EQ(parse("a, data, 0x40, 0x9000, 4096\n"
                   "b, data, 0x40, 0o120000, 0b1000000000000\n"
                   "c, data, 0x40, , 0x10K\n"
                   "d, data, 0x40, , 4k\n"
                   "e, data, 0x40, , 1_024K\n"
                   "f, data, 0x40, 0x20_0000, 2m\n"
                   "g, data, 0x40, , 0X1000\n"),
             0);
    check_part(0, "a", 1, 0x40, 0x9000, 0x1000, 0);
    check_part(1, "b", 1, 0x40, 0xA000, 0x1000, 0);
    check_part(2, "c", 1, 0x40, 0xB000, 0x4000, 0);
    check_part(3, "d", 1, 0x40, 0xF000, 0x1000, 0);
    check_part(4, "e", 1, 0x40, 0x10000, 0x100000, 0);
    check_part(5, "f", 1, 0x40, 0x200000, 0x200000, 0);
    check_part(6, "g", 1, 0x40, 0x400000, 0x1000, 0);

    CHECK_FAILS(parse("a, data, 0x40, , 010\n"), 1, "Invalid field value 010");
    CHECK_FAILS(parse("a, data, 0x40, , 0x\n"), 1, "Invalid field value 0x");
    CHECK_FAILS(parse("a, data, 0x40, , 1__0\n"), 1, "Invalid field value 1__0");
    CHECK_FAILS(parse("a, data, 0x40, , 12G\n"), 1, "Invalid field value 12G");
    CHECK_FAILS(parse("a, data, 0x40, zz, 0x1000\n"), 1, "Invalid field value zz");
    CHECK_FAILS(parse("a, data, 0x40, , 0xFFFFFFFFFFFFFFFFFFFF\n"), 1, "out of range");
    CHECK_FAILS(parse("a, data, 0x40, , 0x100000000\n"), 1,
                "size 0x100000000 does not fit in 32 bits");
    CHECK_FAILS(parse("nvs, data, nvs\n"), 1, "Size field can't be empty");
    CHECK_FAILS(parse("nvs, data, nvs, 0x9000,\n"), 1, "Size field can't be empty");
}

static void test_negative_size(void)
{
    /* -N: the partition ends at absolute address N */
    CHECK_EQ(parse("nvs, data, nvs, , -0x10000\n"
                   "app, app, factory, , -2M\n"),
             0);
    check_part(0, "nvs", 1, 2, 0x9000, 0x7000, 0);
    check_part(1, "app", 0, 0, 0x10000, 0x1F0000, 0);
    CHECK_FAILS(parse("nvs, data, nvs, , 0x4000\nx, data, 0x40, , -0x9000\n"), 2,
                "size -0x4000 does not fit in 32 bits");
}

static void test_offset_placement(void)
{
    /* data aligns to 0x1000, apps to 0x10000, starting after the table sector */
    CHECK_EQ(parse("a, data, nvs, , 0x3800\n"
                   "b, data, phy, , 0x1000\n"
                   "c, app, factory, , 0x1000\n"
                   "d, data, 0x40, , 0x1000\n"),
             0);
    check_part(0, "a", 1, 2, 0x9000, 0x3800, 0);
    check_part(1, "b", 1, 1, 0xD000, 0x1000, 0);
    check_part(2, "c", 0, 0, 0x10000, 0x1000, 0);
    check_part(3, "d", 1, 0x40, 0x11000, 0x1000, 0);

    otakit_partition_csv_options_t opt;
    otakit_partition_csv_options_init(&opt);
    opt.table_offset = 0x10000;
    CHECK_EQ(parse_opt("a, data, nvs, , 0x4000\nb, app, factory, , 1M\n", &opt), 0);
    check_part(0, "a", 1, 2, 0x11000, 0x4000, 0);
    check_part(1, "b", 0, 0, 0x20000, 0x100000, 0);
    CHECK_FAILS(
        parse_opt("a, data, nvs, 0x9000, 0x4000\n", &opt), 1,
        "Partitions overlap. Partition sets offset 0x9000. But partition table occupies the whole "
        "sector 0x10000. Use a free offset 0x11000 or higher.");

    /* explicit offsets below the previous end */
    CHECK_FAILS(
        parse("a, data, nvs, 0x8000, 0x4000\n"), 1,
        "Partitions overlap. Partition sets offset 0x8000. But partition table occupies the whole "
        "sector 0x8000. Use a free offset 0x9000 or higher.");
    CHECK_FAILS(parse("a, data, nvs, , 0x4000\n\nb, data, phy, 0xC000, 0x1000\n"), 3,
                "Partitions overlap. Partition sets offset 0xc000. Previous partition ends 0xd000");
    /* explicit offsets may leave gaps */
    CHECK_EQ(parse("a, data, nvs, 0x20000, 0x4000\nb, data, phy, , 0x1000\n"), 0);
    check_part(1, "b", 1, 1, 0x24000, 0x1000, 0);
}

static void test_alignment(void)
{
    CHECK_FAILS(parse("a, data, nvs, 0x9100, 0x4000\n"), 1,
                "Partition a invalid: Offset 0x9100 is not aligned to 0x1000");
    CHECK_FAILS(parse("nvs, data, nvs, , 0x4000\nf, app, factory, 0x18000, 1M\n"), 2,
                "Partition f invalid: Offset 0x18000 is not aligned to 0x10000");
    CHECK_FAILS(parse("f, app, factory, , 0x10800\n"), 1,
                "Partition f invalid: Size 0x10800 is not aligned to 0x1000");
    /* data sizes need no alignment */
    CHECK_EQ(parse("d, data, 0x40, , 0x123\n"), 0);
    check_part(0, "d", 1, 0x40, 0x9000, 0x123, 0);
}

static void test_flags(void)
{
    CHECK_EQ(parse("k, data, nvs_keys, , 0x1000, encrypted\n"
                   "r, data, nvs, , 0x1000, readonly\n"
                   "b, data, 0x40, , 0x1000, encrypted:readonly\n"
                   "c, data, 0x40, , 0x1000, readonly::\n"),
             0);
    check_part(0, "k", 1, 4, 0x9000, 0x1000, OTAKIT_PART_FLAG_ENCRYPTED);
    check_part(1, "r", 1, 2, 0xA000, 0x1000, OTAKIT_PART_FLAG_READONLY);
    check_part(2, "b", 1, 0x40, 0xB000, 0x1000, 3);
    check_part(3, "c", 1, 0x40, 0xC000, 0x1000, OTAKIT_PART_FLAG_READONLY);
    CHECK_FAILS(parse("\nk, data, nvs_keys, , 0x1000, secret\n"), 2,
                "CSV flag column contains unknown flag 'secret'");
    CHECK_FAILS(parse("k, data, 0x40, , 0x1000, encrypted: readonly\n"), 1,
                "unknown flag ' readonly'");
    CHECK_FAILS(parse("k, data, 0x40, , 0x1000, ENCRYPTED\n"), 1, "unknown flag 'ENCRYPTED'");
}

static void test_long_names(void)
{
    CHECK_EQ(parse("verylongpartitionname_x, data, 0x40, , 0x1000\n"
                   "exactly16chars__, data, 0x40, , 0x1000\n"),
             0);
    CHECK_STR(T.entries[0].name, "verylongpartitionname_x");
    CHECK_STR(T.entries[0].part.label, "verylongpartitio");
    CHECK_STR(T.entries[1].part.label, "exactly16chars__");
    uint8_t bin[OTAKIT_PTABLE_MAX_LEN];
    CHECK_EQ(otakit_partition_csv_to_binary(&T, true, bin, &E), 0);
    CHECK_MEM(bin + 12, "verylongpartitio", 16);
    CHECK_EQ(bin[28], 0);
    /* names that differ only past 16 bytes are different names to the tool */
    CHECK_EQ(parse("verylongpartitionname_x, data, 0x40, , 0x1000\n"
                   "verylongpartitionname_y, data, 0x40, , 0x1000\n"),
             0);
}

static void test_table_checks(void)
{
    CHECK_FAILS(parse("nvs, data, nvs, , 0x4000\n# c\nnvs, data, 0x40, , 0x1000\n"), 3,
                "Partition names must be unique: 'nvs' is also defined at line 1");
    CHECK_FAILS(parse("a, data, ota, , 0x2000\nb, data, ota, , 0x2000\n"), 2,
                "Found multiple otadata partitions. Only one partition can be defined with "
                "type=\"data\"(1) "
                "and subtype=\"ota\"(0).");
    CHECK_FAILS(parse("x, data, 0x40, , 0x1000\na, data, ota, , 0x1000\n"), 2,
                "otadata partition must have size = 0x2000");
    CHECK_FAILS(parse("a, data, tee_ota, , 0x2000\nb, data, tee_ota, , 0x2000\n"), 2,
                "Found multiple TEE otadata partitions");
    CHECK_FAILS(parse("a, data, tee_ota, , 0x3000\n"), 1,
                "TEE otadata partition must have size = 0x2000");
    CHECK_FAILS(parse("a, data, ota, , 0x2000, readonly\n"), 1,
                "Partition a invalid: 'a' partition of type 1 and subtype 0 is always read-write "
                "and cannot be "
                "read-only");
    CHECK_FAILS(parse("c, data, coredump, , 64K, readonly\n"), 1, "subtype 3 is always read-write");
    CHECK_FAILS(parse("n, data, nvs, , 0x2000\n"), 1,
                "Partition n invalid: 'n' partition of type 1 and subtype 2 of this size (0x2000) "
                "must be flagged "
                "as 'readonly' (the size of read/write NVS has to be at least 0x3000)");
    CHECK_EQ(parse("n, data, nvs, , 0x2000, readonly\n"), 0);
    CHECK_EQ(parse("n, data, nvs, , 0x3000\n"), 0);

    /* Below the table and overlaps are only reachable through negative sizes, which
     * move the placement's "previous end" backwards (as in the tool). */
    CHECK_FAILS(parse("a, data, 0x40, 0x9000, -0x1000\nb, data, 0x40, 0x2000, 0x1000\n"), 2,
                "Partition offset 0x2000 is below 0x9000");
    CHECK_FAILS(parse("a, data, 0x40, 0x20000, 0x10000\n"
                      "b, data, 0x40, 0x30000, -0x1000\n"
                      "c, data, 0x40, 0x10000, 0x20000\n"),
                1, "Partition at 0x20000 overlaps 0x10000-0x2ffff");
    /* --no-verify skips them (the tool's --no-verify) */
    otakit_partition_csv_options_t opt;
    otakit_partition_csv_options_init(&opt);
    opt.no_verify = true;
    CHECK_EQ(parse_opt("a, data, ota, , 0x1000\nb, data, ota, , 0x1000\n", &opt), 0);
}

static void test_flash_size(void)
{
    otakit_partition_csv_options_t opt;
    otakit_partition_csv_options_init(&opt);
    opt.flash_size = 2 * 1024 * 1024;
    CHECK_FAILS(parse_opt(TWO_OTA, &opt), 8,
                "Partitions tables occupies 3.1MB of flash (3211264 bytes) which does not fit in "
                "configured "
                "flash size 2MB.");
    opt.flash_size = 4 * 1024 * 1024;
    CHECK_EQ(parse_opt(TWO_OTA, &opt), 0);
    /* the end of the partition with the highest offset is what counts */
    opt.flash_size = 0x310000;
    CHECK_EQ(parse_opt(TWO_OTA, &opt), 0);
    /* checked even with --no-verify */
    opt.flash_size = 1024 * 1024;
    opt.no_verify = true;
    CHECK_FAILS(parse_opt(TWO_OTA, &opt), 8, "does not fit in configured flash size 1MB");
}

static void test_bootloader_entries(void)
{
    static const char csv[] = "bootloader, bootloader, primary, , \n"
                              "pt, partition_table, primary, , \n"
                              "nvs, data, nvs, , 0x4000\n"
                              "recovery, bootloader, recovery, , \n"
                              "pt_ota, partition_table, ota, , \n"
                              "boot_ota, bootloader, ota, 0x40000, \n"
                              "factory, app, factory, , 1M\n";
    CHECK_FAILS(parse(csv), 1, "Primary bootloader offset is not provided");
    otakit_partition_csv_options_t opt;
    otakit_partition_csv_options_init(&opt);
    opt.has_primary_bootloader_offset = true;
    opt.primary_bootloader_offset = 0x1000;
    CHECK_FAILS(parse_opt(csv, &opt), 4, "Recovery bootloader offset is not provided");
    opt.has_recovery_bootloader_offset = true;
    opt.recovery_bootloader_offset = 0x20000;
    CHECK_EQ(parse_opt(csv, &opt), 0);
    check_part(0, "bootloader", 2, 0, 0x1000, 0x7000, 0);
    check_part(1, "pt", 3, 0, 0x8000, 0x1000, 0);
    check_part(2, "nvs", 1, 2, 0x9000, 0x4000, 0);
    check_part(3, "recovery", 2, 2, 0x20000, 0x7000, 0);
    check_part(4, "pt_ota", 3, 1, 0x27000, 0x1000, 0);
    check_part(5, "boot_ota", 2, 1, 0x40000, 0x7000, 0);
    check_part(6, "factory", 0, 0, 0x50000, 0x100000, 0);
}

static void test_too_many_entries(void)
{
    static char csv[96 * 48];
    size_t n = 0;
    for (int i = 0; i < 96; i++) {
        n += (size_t)snprintf(csv + n, sizeof(csv) - n, "p%d, data, 0x40, , 0x1000\n", i);
    }
    uint8_t bin[OTAKIT_PTABLE_MAX_LEN];
    /* 94 with MD5 fits, 95 does not; 95 without MD5 fits, 96 does not */
    for (int count = 94; count <= 96; count++) {
        size_t len = 0;
        for (int l = 0; l < count; l++) {
            len = (size_t)(strchr(csv + len, '\n') - csv) + 1;
        }
        otakit_partition_csv_free(&T);
        CHECK_EQ(otakit_partition_csv_parse(csv, len, NULL, &T, &E), 0);
        CHECK_EQ(T.count, count);
        int with = otakit_partition_csv_to_binary(&T, true, bin, &E);
        CHECK_EQ(with, count <= 94 ? 0 : -1);
        if (with != 0) {
            CHECK_EQ(E.line, 95);
            CHECK(strstr(E.msg, "Binary partition table length (3072) longer than max") != NULL ||
                  strstr(E.msg, "Binary partition table length (3104) longer than max") != NULL);
        }
        int without = otakit_partition_csv_to_binary(&T, false, bin, &E);
        CHECK_EQ(without, count <= 95 ? 0 : -1);
        if (without != 0) {
            CHECK_EQ(E.line, 96);
        } else {
            otakit_ptable_t t;
            CHECK_EQ(otakit_ptable_parse(&t, bin, sizeof(bin), 0, false, NULL), OTAKIT_OK);
            CHECK_EQ(t.count, count);
        }
    }
}

static void test_format(void)
{
    otakit_part_t p[5];
    memset(p, 0, sizeof(p));
    p[0] = (otakit_part_t){1, 2, 0x9000, 0x4000, "nvs", 0};
    p[1] = (otakit_part_t){0, 0x10, 0x110000, 0x100000, "ota_0", 0};
    p[2] = (otakit_part_t){0x40, 0x07, 0x210000, 0x1234, "custom", 3};
    p[3] = (otakit_part_t){1, 0x99, 0x220000, 0, "zero", 2};
    p[4] = (otakit_part_t){1, 4, 0x230000, 0x1800, "keys", 1};
    char *text = otakit_partition_csv_format(p, 5);
    CHECK_STR(text, "# ESP-IDF Partition Table\n"
                    "# Name, Type, SubType, Offset, Size, Flags\n"
                    "nvs,data,nvs,0x9000,16K,\n"
                    "ota_0,app,ota_0,0x110000,1M,\n"
                    "custom,64,7,0x210000,0x1234,encrypted:readonly\n"
                    "zero,data,153,0x220000,0M,readonly\n"
                    "keys,data,nvs_keys,0x230000,6K,encrypted\n");
    /* and the formatted text parses back to the same records */
    CHECK_EQ(parse(text), 0);
    free(text);
    char *line = otakit_partition_csv_format_line(&p[1]);
    CHECK_STR(line, "ota_0,app,ota_0,0x110000,1M,");
    free(line);
    text = otakit_partition_csv_format(NULL, 0);
    CHECK_STR(text, "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    free(text);
}

static void test_is_binary(void)
{
    CHECK(otakit_partition_csv_is_binary((const uint8_t *)"\xAA\x50", 2));
    CHECK(!otakit_partition_csv_is_binary((const uint8_t *)"\xAA", 1));
    CHECK(!otakit_partition_csv_is_binary((const uint8_t *)"nvs", 3));
}

int main(void)
{
    RUN(test_two_ota);
    RUN(test_encodings_and_line_ends);
    RUN(test_comments_blank_lines_and_fields);
    RUN(test_env_vars);
    RUN(test_types_and_subtypes);
    RUN(test_integers);
    RUN(test_negative_size);
    RUN(test_offset_placement);
    RUN(test_alignment);
    RUN(test_flags);
    RUN(test_long_names);
    RUN(test_table_checks);
    RUN(test_flash_size);
    RUN(test_bootloader_entries);
    RUN(test_too_many_entries);
    RUN(test_format);
    RUN(test_is_binary);
    otakit_partition_csv_free(&T);
    return harness_done();
}
