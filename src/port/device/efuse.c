/* The virtual device's eFuse file (see efuse.h): parse, change one field one way, write
 * back, all under one flock so the device and `otakit efuse` never interleave. */
#include "efuse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The file is small: three digests and a few numbers. */
#define EFUSE_FILE_MAX 1024

int otakit_efuse_path(const char *flash_path, char *out, size_t n)
{
    int w = snprintf(out, n, "%s.efuse", flash_path);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

/* The parser and writer are kept small: the bootloader links them (28 KiB budget). */

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* "key_digestN" / "key_revokeN" with N in 0..2 -> N, else -1. */
static int block_of(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] < '0' || name[n] > '2' || name[n + 1] != '\0') {
        return -1;
    }
    return name[n] - '0';
}

static bool parse_digest(const char *s, uint8_t out[OTAKIT_EFUSE_DIGEST_LEN])
{
    if (strlen(s) != 2 * OTAKIT_EFUSE_DIGEST_LEN ||
        strspn(s, "0123456789abcdefABCDEF") != 2 * OTAKIT_EFUSE_DIGEST_LEN) {
        return false;
    }
    for (unsigned i = 0; i < OTAKIT_EFUSE_DIGEST_LEN; i++) {
        sscanf(s + 2 * i, "%2hhx", &out[i]);
    }
    return true;
}

/* One "name value" pair; NULL, or what is wrong. */
static const char *parse_field(const char *name, const char *value, otakit_efuse_state_t *st)
{
    int b;
    uint32_t v;
    if (strcmp(name, "secure_version") == 0) {
        return parse_u32(value, &st->secure_version) ? NULL : "bad secure_version";
    }
    if ((b = block_of(name, "key_digest")) >= 0) {
        st->key_set[b] = parse_digest(value, st->key_digest[b]);
        return st->key_set[b] ? NULL : "a key digest is not 64 hex digits";
    }
    if ((b = block_of(name, "key_revoke")) >= 0) {
        if (!parse_u32(value, &v) || v > 1) {
            return "bad revocation bit";
        }
        st->key_revoked[b] = v == 1;
        return NULL;
    }
    return "unknown field";
}

const char *otakit_efuse_parse(const char *text, otakit_efuse_state_t *st)
{
    memset(st, 0, sizeof(*st));
    char name[32], value[80];
    int n = 0;
    int got = sscanf(text, "%31s %79s%n", name, value, &n);
    if (got == 1) {
        /* The older format: the whole file is the counter. */
        return parse_u32(name, &st->secure_version) ? NULL : "not an eFuse file";
    }
    for (const char *p = text; got == 2; got = sscanf(p, "%31s %79s%n", name, value, &n)) {
        const char *why = parse_field(name, value, st);
        if (why != NULL) {
            return why;
        }
        p += n;
    }
    return got == 1 ? "no value" : NULL;
}

/* Read and parse the open file. OTAKIT_ERR_INVALID_ARG with *why for a malformed one. */
static otakit_err_t read_fd(int fd, otakit_efuse_state_t *st, const char **why)
{
    char buf[EFUSE_FILE_MAX + 1];
    ssize_t n = pread(fd, buf, EFUSE_FILE_MAX + 1, 0);
    if (n < 0) {
        *why = "cannot be read";
        return OTAKIT_FAIL;
    }
    if (n > EFUSE_FILE_MAX) {
        *why = "too large";
        return OTAKIT_ERR_INVALID_ARG;
    }
    buf[n] = '\0';
    *why = otakit_efuse_parse(buf, st);
    return *why == NULL ? OTAKIT_OK : OTAKIT_ERR_INVALID_ARG;
}

static otakit_err_t write_fd(int fd, const otakit_efuse_state_t *st)
{
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
        dprintf(fd, "secure_version %" PRIu32 "\n", st->secure_version) < 0) {
        return OTAKIT_FAIL;
    }
    for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
        if (st->key_set[b]) {
            dprintf(fd, "key_digest%u ", b);
            for (unsigned i = 0; i < OTAKIT_EFUSE_DIGEST_LEN; i++) {
                dprintf(fd, "%02x", st->key_digest[b][i]);
            }
            dprintf(fd, "\n");
        }
        if (st->key_revoked[b]) {
            dprintf(fd, "key_revoke%u 1\n", b);
        }
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_efuse_file_read(const char *path, otakit_efuse_state_t *st, const char **why)
{
    const char *dummy;
    why = why != NULL ? why : &dummy;
    *why = NULL;
    memset(st, 0, sizeof(*st));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return OTAKIT_OK;
        }
        *why = strerror(errno);
        return OTAKIT_FAIL;
    }
    flock(fd, LOCK_SH);
    otakit_err_t err = read_fd(fd, st, why);
    close(fd);
    return err;
}

uint32_t otakit_efuse_file_get(const char *path)
{
    otakit_efuse_state_t st;
    return otakit_efuse_file_read(path, &st, NULL) == OTAKIT_OK ? st.secure_version : 0;
}

/* One read-modify-write under the exclusive lock: change() edits the state and says
 * whether to write it back (OTAKIT_OK) or why not. */
typedef otakit_err_t (*change_fn)(otakit_efuse_state_t *st, void *arg);

static otakit_err_t modify(const char *path, change_fn change, void *arg)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return OTAKIT_FAIL;
    }
    flock(fd, LOCK_EX);
    otakit_efuse_state_t st;
    const char *why;
    otakit_err_t err = read_fd(fd, &st, &why);
    if (err == OTAKIT_OK) {
        err = change(&st, arg);
    }
    if (err == OTAKIT_OK) {
        err = write_fd(fd, &st);
    }
    close(fd);
    return err;
}

static otakit_err_t do_raise(otakit_efuse_state_t *st, void *arg)
{
    uint32_t v = *(const uint32_t *)arg;
    if (v > st->secure_version) {
        st->secure_version = v;
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_efuse_file_raise(const char *path, uint32_t v)
{
    return modify(path, do_raise, &v);
}

struct burn_arg {
    const uint8_t *digest;
    unsigned block;
};

static otakit_err_t do_burn(otakit_efuse_state_t *st, void *arg)
{
    struct burn_arg *a = arg;
    for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
        if (st->key_set[b] && memcmp(st->key_digest[b], a->digest, OTAKIT_EFUSE_DIGEST_LEN) == 0) {
            a->block = b;
            return OTAKIT_ERR_INVALID_STATE;
        }
    }
    for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
        if (!st->key_set[b]) {
            memcpy(st->key_digest[b], a->digest, OTAKIT_EFUSE_DIGEST_LEN);
            st->key_set[b] = true;
            a->block = b;
            return OTAKIT_OK;
        }
    }
    a->block = OTAKIT_EFUSE_KEY_BLOCKS;
    return OTAKIT_ERR_INVALID_STATE;
}

otakit_err_t otakit_efuse_file_burn_key(const char *path, const uint8_t digest[32],
                                        unsigned *block_out)
{
    struct burn_arg a = {digest, 0};
    otakit_err_t err = modify(path, do_burn, &a);
    if (block_out != NULL) {
        *block_out = a.block;
    }
    return err;
}

static otakit_err_t do_revoke(otakit_efuse_state_t *st, void *arg)
{
    st->key_revoked[*(const unsigned *)arg] = true;
    return OTAKIT_OK;
}

otakit_err_t otakit_efuse_file_revoke(const char *path, unsigned block)
{
    if (block >= OTAKIT_EFUSE_KEY_BLOCKS) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    return modify(path, do_revoke, &block);
}

unsigned otakit_efuse_trusted_keys(const otakit_efuse_state_t *st,
                                   uint8_t out[OTAKIT_EFUSE_KEY_BLOCKS][OTAKIT_EFUSE_DIGEST_LEN])
{
    unsigned n = 0;
    for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
        if (st->key_set[b] && !st->key_revoked[b]) {
            memcpy(out[n++], st->key_digest[b], OTAKIT_EFUSE_DIGEST_LEN);
        }
    }
    return n;
}
