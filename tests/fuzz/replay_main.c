/* Corpus replay for the fuzz targets under plain gcc: runs LLVMFuzzerTestOneInput on
 * every file in the directories given, then on a fixed set of derived inputs (every
 * truncation of each file and seeded random bytes), so CI covers the parsers' edges
 * without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rng = 0x12345678u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "replay: out of memory\n");
        exit(1);
    }
    return p;
}

/* Replays one file; a file that cannot be read fails the run (exit 1) rather than
 * counting as replayed. */
static size_t run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) {
        fprintf(stderr, "replay: cannot size %s\n", path);
        exit(1);
    }
    uint8_t *buf = xmalloc((size_t)n);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        fprintf(stderr, "replay: short read of %s\n", path);
        exit(1);
    }
    size_t runs = 0;
    /* The file, each truncation (step keeps big files quick), and byte flips. */
    size_t step = got > 4096 ? got / 512 : 1;
    for (size_t len = 0; len <= got; len += step) {
        uint8_t *copy = xmalloc(len);
        memcpy(copy, buf, len);
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        runs++;
    }
    for (int k = 0; k < 64 && got > 0; k++) {
        uint8_t *copy = xmalloc(got);
        memcpy(copy, buf, got);
        copy[next_rand() % got] ^= (uint8_t)(1u << (next_rand() % 8));
        LLVMFuzzerTestOneInput(copy, got);
        free(copy);
        runs++;
    }
    free(buf);
    return runs;
}

int main(int argc, char **argv)
{
    size_t runs = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            runs += run_file(argv[i]);
            files++;
            continue;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' || de->d_type == DT_DIR) {
                continue; /* a target's own corpus folder is given to that target */
            }
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            runs += run_file(path);
            files++;
        }
        closedir(d);
    }
    for (int k = 0; k < 2000; k++) {
        size_t len = next_rand() % 4096;
        uint8_t *buf = xmalloc(len);
        for (size_t j = 0; j < len; j++) {
            buf[j] = (uint8_t)next_rand();
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        runs++;
    }
    printf("replayed %zu files, %zu inputs\n", files, runs);
    /* An empty or missing corpus would leave only the random inputs: that is a failure. */
    if (files == 0) {
        fprintf(stderr, "replay: no corpus file replayed\n");
        return 1;
    }
    return 0;
}
