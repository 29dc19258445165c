/* A tiny test harness (in the spirit of cmark's): TEST functions, CHECK macros that
 * record a failure with file:line and carry on, and a closing "N passed, N failed"
 * line that CI reads. */
#ifndef OTAKIT_TEST_HARNESS_H
#define OTAKIT_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_passed, h_failed, h_test_failed;
static const char *h_current;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, h_current,        \
                    #cond);                                                                        \
            h_test_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long h_a = (long long)(a), h_b = (long long)(b);                                      \
        if (h_a != h_b) {                                                                          \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: 0x%llx != 0x%llx\n", __FILE__, __LINE__,  \
                    h_current, #a, #b, h_a, h_b);                                                  \
            h_test_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *h_sa = (a), *h_sb = (b);                                                       \
        if (h_sa == NULL || h_sb == NULL || strcmp(h_sa, h_sb) != 0) {                             \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,  \
                    h_current, #a, #b, h_sa ? h_sa : "(null)", h_sb ? h_sb : "(null)");            \
            h_test_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        h_current = #fn;                                                                           \
        h_test_failed = 0;                                                                         \
        fn();                                                                                      \
        if (h_test_failed) {                                                                       \
            h_failed++;                                                                            \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            h_passed++;                                                                            \
        }                                                                                          \
    } while (0)

static inline int harness_done(void)
{
    printf("%d passed, %d failed\n", h_passed, h_failed);
    return h_failed ? 1 : 0;
}

/* Read a whole file; returns NULL (and *len 0) if it cannot. Caller frees. */
static inline unsigned char *harness_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    } else if (buf) {
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

#endif
