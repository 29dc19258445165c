/* NVS partitions made by ESP-IDF's generator (tests/vectors/data/nvs/): every value that
 * nvs_tool.py lists in the .json beside each .bin reads back through the engine, the
 * engine's own listing equals that .json, the partition opens read-write (and stays
 * byte-identical: nothing to recover), and `otakit nvs gen`'s compiler turns each .csv
 * into the very same .bin. */
#include <dirent.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "nor.h"
#include "nvs_gen.h"
#include "otakit/nvs.h"

#define NDIR OTAKIT_VECTORS "/nvs"

static int n_vectors;

typedef struct {
    otakit_nor_t *nor;
    otakit_nvs_t nvs;
    otakit_nvs_page_t pages[64];
} part_t;

static int open_part(part_t *p, const uint8_t *bin, size_t len, bool readonly)
{
    if (otakit_nor_open_mem(&p->nor, (uint32_t)len, 0) != OTAKIT_OK) {
        return -1;
    }
    memcpy(otakit_nor_data(p->nor), bin, len);
    return otakit_nvs_init(&p->nvs, otakit_nor_flash(p->nor), 0, (uint32_t)len, p->pages, 64,
                           readonly) == OTAKIT_OK
               ? 0
               : -1;
}

static uint8_t *b64_decode(const char *s, size_t *n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t *out = malloc(strlen(s) + 1);
    uint32_t acc = 0;
    int bits = 0;
    *n = 0;
    for (; *s && *s != '='; s++) {
        const char *q = strchr(A, *s);
        acc = (acc << 6) | (uint32_t)(q - A);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*n)++] = (uint8_t)(acc >> bits);
        }
    }
    return out;
}

static otakit_nvs_type_t type_of(const char *enc)
{
    static const struct {
        const char *n;
        otakit_nvs_type_t t;
    } T[] = {{"uint8_t", OTAKIT_NVS_U8},   {"int8_t", OTAKIT_NVS_I8},
             {"uint16_t", OTAKIT_NVS_U16}, {"int16_t", OTAKIT_NVS_I16},
             {"uint32_t", OTAKIT_NVS_U32}, {"int32_t", OTAKIT_NVS_I32},
             {"uint64_t", OTAKIT_NVS_U64}, {"int64_t", OTAKIT_NVS_I64}};
    for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
        if (strcmp(enc, T[i].n) == 0) {
            return T[i].t;
        }
    }
    return OTAKIT_NVS_ANY;
}

/* Each record of the listing, read through the API. Blob chunks of one key are joined
 * in listing order and compared with the whole blob. */
static void check_reads(otakit_nvs_t *nvs, cJSON *list)
{
    cJSON *rec;
    int n = 0;
    cJSON_ArrayForEach(rec, list)
    {
        const char *ns_name = cJSON_GetObjectItem(rec, "namespace")->valuestring;
        const char *key = cJSON_GetObjectItem(rec, "key")->valuestring;
        const char *enc = cJSON_GetObjectItem(rec, "encoding")->valuestring;
        cJSON *data = cJSON_GetObjectItem(rec, "data");
        uint8_t ns;
        CHECK_EQ(otakit_nvs_ns_open(nvs, ns_name, false, &ns), OTAKIT_OK);
        otakit_nvs_type_t t = type_of(enc);
        n++;
        if (t != OTAKIT_NVS_ANY) {
            uint8_t v[8] = {0};
            size_t sz = otakit_nvs_int_size(t);
            CHECK_EQ(otakit_nvs_get(nvs, ns, key, t, v, sz), OTAKIT_OK);
            uint64_t u = 0;
            for (size_t i = 0; i < sz; i++) {
                u |= (uint64_t)v[i] << (8 * i);
            }
            double d;
            if (t & 0x10) {
                int64_t s = sz == 8 ? (int64_t)u
                                    : (int64_t)(u ^ ((uint64_t)1 << (8 * sz - 1))) -
                                          ((int64_t)1 << (8 * sz - 1));
                d = (double)s;
            } else {
                d = (double)u;
            }
            CHECK(cJSON_IsNumber(data) && data->valuedouble == d);
        } else if (strcmp(enc, "string") == 0) {
            size_t len = 0;
            CHECK_EQ(otakit_nvs_get_size(nvs, ns, key, OTAKIT_NVS_STR, &len), OTAKIT_OK);
            char *s = malloc(len + 1);
            CHECK_EQ(otakit_nvs_get(nvs, ns, key, OTAKIT_NVS_STR, s, len), OTAKIT_OK);
            s[len] = 0;
            CHECK_STR(s, data->valuestring);
            free(s);
        } else if (strcmp(enc, "blob_data") == 0) {
            /* join this key's chunks from here on (the listing keeps them in order) */
            size_t total = 0, cap = 0;
            uint8_t *all = NULL;
            for (cJSON *r = rec; r != NULL; r = r->next) {
                if (strcmp(cJSON_GetObjectItem(r, "key")->valuestring, key) != 0 ||
                    strcmp(cJSON_GetObjectItem(r, "namespace")->valuestring, ns_name) != 0) {
                    continue;
                }
                size_t cn;
                uint8_t *c = b64_decode(cJSON_GetObjectItem(r, "data")->valuestring, &cn);
                if (total + cn > cap) {
                    cap = (total + cn) * 2 + 16;
                    all = realloc(all, cap);
                }
                memcpy(all + total, c, cn);
                total += cn;
                free(c);
            }
            size_t len = 0;
            CHECK_EQ(otakit_nvs_get_size(nvs, ns, key, OTAKIT_NVS_BLOB, &len), OTAKIT_OK);
            CHECK_EQ(len, total);
            uint8_t *b = malloc(len + 1);
            CHECK_EQ(otakit_nvs_get(nvs, ns, key, OTAKIT_NVS_BLOB, b, len), OTAKIT_OK);
            CHECK(total == 0 || memcmp(b, all, total) == 0);
            free(b);
            free(all);
        } else {
            fprintf(stderr, "unexpected encoding %s\n", enc);
            CHECK(0);
        }
    }
    CHECK(n > 0);
}

static void check_vector(const char *bin_name)
{
    char bin_path[1024], json_path[1024], csv_path[1024];
    int stem = (int)(strlen(bin_name) - 4);
    snprintf(bin_path, sizeof(bin_path), "%s/%s", NDIR, bin_name);
    snprintf(json_path, sizeof(json_path), "%s/%.*s.json", NDIR, stem, bin_name);
    snprintf(csv_path, sizeof(csv_path), "%s/%.*s.csv", NDIR, stem, bin_name);
    size_t bin_len, json_len, csv_len;
    unsigned char *bin = harness_read_file(bin_path, &bin_len);
    unsigned char *json = harness_read_file(json_path, &json_len);
    unsigned char *csv = harness_read_file(csv_path, &csv_len);
    CHECK(bin != NULL && json != NULL && csv != NULL);
    if (bin == NULL || json == NULL || csv == NULL) {
        goto out;
    }
    n_vectors++;
    cJSON *expect = cJSON_ParseWithLength((const char *)json, json_len);
    CHECK(expect != NULL);

    /* read-only: the values, and the listing equal to nvs_tool.py's */
    part_t p;
    CHECK_EQ(open_part(&p, bin, bin_len, true), 0);
    check_reads(&p.nvs, expect);
    cJSON *mine = otakit_nvs_listing(&p.nvs);
    char *text = cJSON_Print(mine);
    cJSON *reparsed = cJSON_Parse(text);
    if (!cJSON_Compare(reparsed, expect, true)) {
        fprintf(stderr, "%s: listing differs from %s:\n%s\n", bin_name, json_path, text);
        CHECK(0);
    }
    free(text);
    cJSON_Delete(reparsed);
    cJSON_Delete(mine);
    otakit_nor_close(p.nor);

    /* read-write: opens with nothing to recover, writes nothing */
    CHECK_EQ(open_part(&p, bin, bin_len, false), 0);
    check_reads(&p.nvs, expect);
    CHECK(memcmp(otakit_nor_data(p.nor), bin, bin_len) == 0);
    otakit_nor_close(p.nor);

    /* the CSV compiles to the same bytes */
    uint8_t *gen = NULL;
    size_t gen_len = 0;
    char err[256] = "";
    CHECK_EQ(otakit_nvs_gen((const char *)csv, csv_len, (uint32_t)bin_len, &gen, &gen_len, err,
                            sizeof(err)),
             0);
    if (gen == NULL || gen_len != bin_len || memcmp(gen, bin, bin_len) != 0) {
        size_t first = 0;
        while (gen != NULL && first < gen_len && first < bin_len && gen[first] == bin[first]) {
            first++;
        }
        fprintf(stderr, "%s: generated image differs (%s), first at 0x%zx\n", bin_name, err, first);
        CHECK(0);
    }
    free(gen);
    cJSON_Delete(expect);
out:
    free(bin);
    free(json);
    free(csv);
}

static void test_vectors(void)
{
    DIR *d = opendir(NDIR);
    CHECK(d != NULL);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".bin") == 0) {
            check_vector(e->d_name);
        }
    }
    closedir(d);
    CHECK(n_vectors >= 2);
}

int main(void)
{
    RUN(test_vectors);
    printf("%d NVS vectors\n", n_vectors);
    return harness_done();
}
