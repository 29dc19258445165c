#include "efuse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int otakit_efuse_path(const char *flash_path, char *out, size_t n)
{
    int w = snprintf(out, n, "%s.efuse", flash_path);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

static uint32_t parse_value(const char *buf)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 0);
    if (errno != 0 || end == buf || v > UINT32_MAX) {
        return 0;
    }
    return (uint32_t)v;
}

static uint32_t read_fd(int fd)
{
    char buf[64];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    return parse_value(buf);
}

uint32_t otakit_efuse_file_get(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    flock(fd, LOCK_SH);
    uint32_t v = read_fd(fd);
    close(fd);
    return v;
}

otakit_err_t otakit_efuse_file_raise(const char *path, uint32_t v)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return OTAKIT_FAIL;
    }
    otakit_err_t err = OTAKIT_OK;
    flock(fd, LOCK_EX);
    uint32_t cur = read_fd(fd);
    if (v > cur) {
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%" PRIu32 "\n", v);
        if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
            err = OTAKIT_FAIL;
        }
    }
    close(fd);
    return err;
}
