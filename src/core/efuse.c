/* The anti-rollback rule, in one place for the app side and the bootloader. */
#include "otakit/efuse.h"

#include <stddef.h>

bool otakit_efuse_allows(const otakit_efuse_t *efuse, uint32_t secure_version)
{
    return efuse == NULL || secure_version >= efuse->get(efuse->ctx);
}

otakit_err_t otakit_efuse_raise_to(const otakit_efuse_t *efuse, uint32_t secure_version)
{
    if (efuse == NULL || secure_version <= efuse->get(efuse->ctx)) {
        return OTAKIT_OK;
    }
    return efuse->raise(efuse->ctx, secure_version);
}
