#include "otakit/flash.h"

#include <string.h>

static int range_ok(const otakit_flash_t *f, uint32_t addr, size_t len)
{
    return addr <= f->size && len <= (size_t)(f->size - addr);
}

otakit_err_t otakit_flash_read(const otakit_flash_t *f, uint32_t addr, void *dst, size_t len)
{
    if (f == NULL || (dst == NULL && len > 0)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (!range_ok(f, addr, len)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    if (len == 0) {
        return OTAKIT_OK;
    }
    return f->read(f->ctx, addr, dst, len);
}

otakit_err_t otakit_flash_write(const otakit_flash_t *f, uint32_t addr, const void *src, size_t len)
{
    if (f == NULL || (src == NULL && len > 0)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (!range_ok(f, addr, len)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    if (f->write_align > 1 && (addr % f->write_align || len % f->write_align)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (len == 0) {
        return OTAKIT_OK;
    }
    return f->write(f->ctx, addr, src, len);
}

otakit_err_t otakit_flash_erase(const otakit_flash_t *f, uint32_t addr, size_t len)
{
    if (f == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (addr % f->sector_size) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (len % f->sector_size || !range_ok(f, addr, len)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    if (len == 0) {
        return OTAKIT_OK;
    }
    return f->erase(f->ctx, addr, len);
}

otakit_err_t otakit_flash_is_blank(const otakit_flash_t *f, uint32_t addr, size_t len, int *blank)
{
    uint8_t buf[256];
    *blank = 0;
    while (len > 0) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);
        otakit_err_t err = otakit_flash_read(f, addr, buf, n);
        if (err != OTAKIT_OK) {
            return err;
        }
        for (size_t i = 0; i < n; i++) {
            if (buf[i] != 0xFF) {
                return OTAKIT_OK;
            }
        }
        addr += (uint32_t)n;
        len -= n;
    }
    *blank = 1;
    return OTAKIT_OK;
}

bool otakit_flash_epoch(const otakit_flash_t *f, uint32_t *epoch)
{
    if (f == NULL || f->epoch == NULL) {
        return false;
    }
    *epoch = f->epoch(f->ctx);
    return true;
}
