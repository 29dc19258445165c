/* esp_efuse.h: the secure version, over the virtual device's eFuse counter. */
#include "esp_efuse.h"

#include "hw.h"
#include "otakit/efuse.h"

uint32_t esp_efuse_read_secure_version(void)
{
    const otakit_efuse_t *e = otakit_hw_efuse();
    return e != NULL ? e->get(e->ctx) : 0;
}

bool esp_efuse_check_secure_version(uint32_t secure_version)
{
    return secure_version >= esp_efuse_read_secure_version();
}

esp_err_t esp_efuse_update_secure_version(uint32_t secure_version)
{
    const otakit_efuse_t *e = otakit_hw_efuse();
    if (e == NULL) {
        return ESP_FAIL;
    }
    return otakit_efuse_raise_to(e, secure_version) == OTAKIT_OK ? ESP_OK : ESP_FAIL;
}
