/* ESP-IDF's default partition tables: each partitions_*.csv compiles to exactly the
 * .bin gen_esp32part.py wrote beside it, the .bin parses as the bootloader would, and
 * bin -> CSV -> bin round-trips byte for byte. */
#include <dirent.h>

#include "harness.h"
#include "otakit/hash.h"
#include "partition_csv.h"

#define PDIR OTAKIT_VECTORS "/partition"

static int n_vectors;

static void check_vector(const char *csv_name)
{
    char csv_path[1024], bin_path[1024];
    snprintf(csv_path, sizeof(csv_path), "%s/%s", PDIR, csv_name);
    snprintf(bin_path, sizeof(bin_path), "%s/%.*s.bin", PDIR, (int)(strlen(csv_name) - 4),
             csv_name);
    size_t csv_len, bin_len;
    unsigned char *csv = harness_read_file(csv_path, &csv_len);
    unsigned char *bin = harness_read_file(bin_path, &bin_len);
    CHECK(csv != NULL);
    CHECK(bin != NULL);
    if (csv == NULL || bin == NULL) {
        free(csv);
        free(bin);
        return;
    }
    n_vectors++;

    /* CSV -> binary, byte for byte */
    otakit_partition_csv_t t = {0};
    otakit_partition_csv_error_t err;
    otakit_partition_csv_options_t opt;
    otakit_partition_csv_options_init(&opt);
    opt.flash_size = 4 * 1024 * 1024; /* every default table fits the 4 MB default chip */
    uint8_t out[OTAKIT_PTABLE_MAX_LEN];
    CHECK_EQ(otakit_partition_csv_parse((const char *)csv, csv_len, &opt, &t, &err), 0);
    CHECK_EQ(otakit_partition_csv_to_binary(&t, true, out, &err), 0);
    CHECK_EQ(bin_len, OTAKIT_PTABLE_MAX_LEN);
    if (bin_len == OTAKIT_PTABLE_MAX_LEN && memcmp(out, bin, bin_len) != 0) {
        fprintf(stderr, "%s: compiled table differs from %s\n", csv_name, bin_path);
        CHECK(0);
    }

    /* the bootloader's parse accepts it with the MD5 required, on a 4 MB chip */
    otakit_ptable_t pt;
    otakit_diag_t diag = {0, NULL};
    CHECK_EQ(otakit_ptable_parse(&pt, bin, bin_len, 0x400000, true, &diag), OTAKIT_OK);
    CHECK(pt.has_md5);
    CHECK_EQ(pt.count, t.count);
    for (size_t i = 0; i < pt.count && i < t.count; i++) {
        CHECK_STR(pt.parts[i].label, t.entries[i].part.label);
        CHECK_EQ(pt.parts[i].offset, t.entries[i].part.offset);
        CHECK_EQ(pt.parts[i].size, t.entries[i].part.size);
        CHECK_EQ(pt.parts[i].type, t.entries[i].part.type);
        CHECK_EQ(pt.parts[i].subtype, t.entries[i].part.subtype);
        CHECK_EQ(pt.parts[i].flags, t.entries[i].part.flags);
    }

    /* binary -> CSV -> binary */
    char *text = otakit_partition_csv_format(pt.parts, pt.count);
    CHECK(text != NULL);
    otakit_partition_csv_t t2 = {0};
    CHECK_EQ(otakit_partition_csv_parse(text, text ? strlen(text) : 0, NULL, &t2, &err), 0);
    uint8_t out2[OTAKIT_PTABLE_MAX_LEN];
    CHECK_EQ(otakit_partition_csv_to_binary(&t2, true, out2, &err), 0);
    CHECK_MEM(out2, bin, OTAKIT_PTABLE_MAX_LEN);
    /* and the CSV of that is the same text again */
    char *text2 = otakit_partition_csv_format(pt.parts, pt.count);
    CHECK_STR(text2, text);

    otakit_partition_csv_free(&t);
    otakit_partition_csv_free(&t2);
    free(text);
    free(text2);
    free(csv);
    free(bin);
}

static void test_all_vectors(void)
{
    DIR *d = opendir(PDIR);
    CHECK(d != NULL);
    if (d == NULL) {
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".csv") == 0) {
            check_vector(de->d_name);
        }
    }
    closedir(d);
    CHECK(n_vectors >= 5);
}

/* spec §2.5: whole-file MD5s and the to_csv rendering of two_ota */
static void test_known_digests(void)
{
    static const struct {
        const char *file, *md5;
    } known[] = {
        {"partitions_two_ota.bin", "9f94bf1e89f37d80f4310d5af19a6e59"},
        {"partitions_singleapp.bin", "5d61d196adc3dba01928f264eb169be7"},
    };
    for (size_t i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", PDIR, known[i].file);
        size_t len;
        unsigned char *b = harness_read_file(path, &len);
        CHECK(b != NULL);
        if (b == NULL) {
            continue;
        }
        uint8_t d[16];
        char hex[33];
        otakit_hash_buf(OTAKIT_HASH_MD5, b, len, d);
        for (int k = 0; k < 16; k++) {
            snprintf(hex + 2 * k, 3, "%02x", d[k]);
        }
        CHECK_STR(hex, known[i].md5);
        free(b);
    }

    size_t len;
    unsigned char *b = harness_read_file(PDIR "/partitions_two_ota.bin", &len);
    otakit_ptable_t pt;
    CHECK(b != NULL);
    if (b == NULL) {
        return;
    }
    CHECK_EQ(otakit_ptable_parse(&pt, b, len, 0, true, NULL), OTAKIT_OK);
    char *text = otakit_partition_csv_format(pt.parts, pt.count);
    CHECK_STR(text, "# ESP-IDF Partition Table\n"
                    "# Name, Type, SubType, Offset, Size, Flags\n"
                    "nvs,data,nvs,0x9000,16K,\n"
                    "otadata,data,ota,0xd000,8K,\n"
                    "phy_init,data,phy,0xf000,4K,\n"
                    "factory,app,factory,0x10000,1M,\n"
                    "ota_0,app,ota_0,0x110000,1M,\n"
                    "ota_1,app,ota_1,0x210000,1M,\n");
    free(text);
    free(b);
}

int main(void)
{
    RUN(test_all_vectors);
    RUN(test_known_digests);
    return harness_done();
}
