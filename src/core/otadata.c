#include "otakit/otadata.h"

#include <string.h>

#include "otakit/le.h"

uint32_t otakit_otadata_crc(uint32_t seq)
{
    /* esp_rom_crc32_le(0xFFFFFFFF, ...): the ROM inverts the seed, so the register
     * starts at 0; reflected CRC-32 (0xEDB88320), output inverted. */
    uint8_t b[4];
    otakit_le32_put(b, seq);
    uint32_t crc = 0;
    for (int i = 0; i < 4; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

void otakit_otadata_decode(otakit_otadata_entry_t *e, const uint8_t buf[32])
{
    e->seq = otakit_le32_get(buf);
    memcpy(e->label, buf + 4, sizeof(e->label));
    e->state = otakit_le32_get(buf + 24);
    e->crc = otakit_le32_get(buf + 28);
}

void otakit_otadata_encode(const otakit_otadata_entry_t *e, uint8_t buf[32])
{
    otakit_le32_put(buf, e->seq);
    memcpy(buf + 4, e->label, sizeof(e->label));
    otakit_le32_put(buf + 24, e->state);
    otakit_le32_put(buf + 28, e->crc);
}

void otakit_otadata_make(otakit_otadata_entry_t *e, uint32_t seq, uint32_t state)
{
    e->seq = seq;
    memset(e->label, 0xFF, sizeof(e->label));
    e->state = state;
    e->crc = otakit_otadata_crc(seq);
}

bool otakit_otadata_is_invalid(const otakit_otadata_entry_t *e)
{
    return e->seq == 0xFFFFFFFFu || e->state == OTAKIT_OTA_IMG_INVALID ||
           e->state == OTAKIT_OTA_IMG_ABORTED;
}

bool otakit_otadata_is_valid(const otakit_otadata_entry_t *e)
{
    return !otakit_otadata_is_invalid(e) && e->crc == otakit_otadata_crc(e->seq);
}

bool otakit_otadata_crc_ok(const otakit_otadata_entry_t *e)
{
    return e->seq != 0xFFFFFFFFu && e->crc == otakit_otadata_crc(e->seq);
}

int otakit_otadata_active(const otakit_otadata_entry_t e[2])
{
    bool v0 = otakit_otadata_is_valid(&e[0]);
    bool v1 = otakit_otadata_is_valid(&e[1]);
    if (v0 && v1) {
        return e[1].seq > e[0].seq ? 1 : 0; /* ties go to copy 0 */
    }
    return v0 ? 0 : v1 ? 1 : -1;
}

unsigned otakit_otadata_slot(uint32_t seq, unsigned n)
{
    return (unsigned)((uint32_t)(seq - 1u) % n);
}

uint32_t otakit_otadata_next_seq(bool have_active, uint32_t cur_seq, unsigned slot, unsigned n)
{
    if (!have_active) {
        return (uint32_t)slot + 1u;
    }
    /* The smallest ((slot + 1) mod n) + i*n that is >= cur_seq, as ESP-IDF's loop finds it. */
    uint32_t base = (uint32_t)((slot + 1u) % n);
    if (cur_seq <= base) {
        return base;
    }
    uint32_t i = (cur_seq - base + n - 1u) / n;
    return base + i * n;
}

unsigned otakit_otadata_boots(const otakit_otadata_entry_t *e)
{
    unsigned n = 1;
    for (size_t i = 0; i < sizeof(e->label); i++) {
        for (uint8_t b = (uint8_t)~e->label[i]; b != 0; b &= (uint8_t)(b - 1u)) {
            n++;
        }
    }
    return n;
}

bool otakit_otadata_boot_again(const otakit_otadata_entry_t *e, unsigned attempts)
{
    return otakit_otadata_boots(e) < attempts;
}

bool otakit_otadata_count_boot(otakit_otadata_entry_t *e)
{
    for (size_t i = 0; i < sizeof(e->label); i++) {
        if (e->label[i] != 0) {
            e->label[i] &= (uint8_t)(e->label[i] - 1u); /* its lowest set bit */
            return true;
        }
    }
    return false;
}

const char *otakit_otadata_state_name(uint32_t state)
{
#if OTAKIT_TOOLS
    switch (state) {
    case OTAKIT_OTA_IMG_NEW:
        return "NEW";
    case OTAKIT_OTA_IMG_PENDING_VERIFY:
        return "PENDING_VERIFY";
    case OTAKIT_OTA_IMG_VALID:
        return "VALID";
    case OTAKIT_OTA_IMG_INVALID:
        return "INVALID";
    case OTAKIT_OTA_IMG_ABORTED:
        return "ABORTED";
    case OTAKIT_OTA_IMG_UNDEFINED:
        return "UNDEFINED";
    default:
        break;
    }
#else
    (void)state;
#endif
    return "UNKNOWN";
}

otakit_err_t otakit_otadata_read(const otakit_flash_t *f, const otakit_part_t *p,
                                 otakit_otadata_entry_t e[2])
{
    if (p->size < OTAKIT_OTADATA_SIZE) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    for (int i = 0; i < 2; i++) {
        uint8_t buf[OTAKIT_OTADATA_ENTRY_SIZE];
        otakit_err_t err =
            otakit_flash_read(f, p->offset + (uint32_t)i * OTAKIT_SECTOR_SIZE, buf, sizeof(buf));
        if (err != OTAKIT_OK) {
            return err;
        }
        otakit_otadata_decode(&e[i], buf);
    }
    return OTAKIT_OK;
}

static otakit_err_t put_copy(const otakit_flash_t *f, const otakit_part_t *p, int copy,
                             const otakit_otadata_entry_t *e, bool erase)
{
    if ((copy != 0 && copy != 1) || p->size < OTAKIT_OTADATA_SIZE) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    uint32_t addr = p->offset + (uint32_t)copy * OTAKIT_SECTOR_SIZE;
    uint8_t buf[OTAKIT_OTADATA_ENTRY_SIZE];
    otakit_otadata_encode(e, buf);
    otakit_err_t err = erase ? otakit_flash_erase(f, addr, OTAKIT_SECTOR_SIZE) : OTAKIT_OK;
    if (err != OTAKIT_OK) {
        return err;
    }
    return otakit_flash_write(f, addr, buf, sizeof(buf));
}

otakit_err_t otakit_otadata_write(const otakit_flash_t *f, const otakit_part_t *p, int copy,
                                  const otakit_otadata_entry_t *e)
{
    return put_copy(f, p, copy, e, true);
}

otakit_err_t otakit_otadata_program(const otakit_flash_t *f, const otakit_part_t *p, int copy,
                                    const otakit_otadata_entry_t *e)
{
    return put_copy(f, p, copy, e, false);
}
