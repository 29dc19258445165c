/* The OTA write session, as ESP-IDF's esp_ota_begin / write / end (spec §7.1-7.3), with
 * the image verified as it is written (see the streaming section below). */
#include "otakit/update.h"

#include <string.h>

#include "ota_priv.h"

static const char TAG[] = "esp_ota_ops";

#define ROUND_UP(x, a) ((((x) + (a)-1u) / (a)) * (a))

static otakit_err_t begin_common(otakit_update_t *u, const otakit_ota_t *ota,
                                 const otakit_part_t *part)
{
    if (u == NULL || ota == NULL || part == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    memset(u, 0, sizeof(*u));
    const otakit_part_t *p = otakit_ota_in_table(ota, part);
    if (p == NULL) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    if (!OTAKIT_PART_IS_OTA(p->type, p->subtype)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (otakit_ota_same_part(p, ota->running)) {
        return OTAKIT_ERR_OTA_PARTITION_CONFLICT;
    }
    if (ota->rollback && ota->running &&
        OTAKIT_PART_IS_OTA(ota->running->type, ota->running->subtype)) {
        uint32_t st;
        if (otakit_ota_get_state(ota, ota->running, &st) == OTAKIT_OK &&
            st == OTAKIT_OTA_IMG_PENDING_VERIFY) {
            OTAKIT_LOGE(&ota->log, TAG,
                        "Running app has not confirmed state (ESP_OTA_IMG_PENDING_VERIFY)");
            return OTAKIT_ERR_OTA_ROLLBACK_INVALID_STATE;
        }
    }
    u->ota = ota;
    u->part = p;
    return OTAKIT_OK;
}

static otakit_erase_policy_t policy_of(uint32_t image_size)
{
    if (image_size == 0 || image_size == OTAKIT_OTA_SIZE_UNKNOWN) {
        return OTAKIT_ERASE_WHOLE;
    }
    if (image_size == OTAKIT_OTA_WITH_SEQUENTIAL_WRITES) {
        return OTAKIT_ERASE_SEQUENTIAL;
    }
    return OTAKIT_ERASE_SIZE;
}

/* Slot offset up to which a session with this policy erases at begin. */
static uint32_t prepared_end(const otakit_update_t *u)
{
    switch (u->policy) {
    case OTAKIT_ERASE_WHOLE:
        return u->part->size;
    case OTAKIT_ERASE_SIZE:
        return ROUND_UP(u->image_size, OTAKIT_SECTOR_SIZE);
    default:
        return 0;
    }
}

static otakit_err_t erase_range(otakit_update_t *u, uint32_t from, uint32_t to, bool skip_blank)
{
    const otakit_flash_t *f = u->ota->flash;
    if (!skip_blank) {
        otakit_err_t err = otakit_flash_erase(f, u->part->offset + from, to - from);
        if (err == OTAKIT_OK) {
            u->sectors_erased += (to - from) / OTAKIT_SECTOR_SIZE;
        }
        return err;
    }
    for (uint32_t off = from; off < to; off += OTAKIT_SECTOR_SIZE) {
        int blank = 0;
        otakit_err_t err =
            otakit_flash_is_blank(f, u->part->offset + off, OTAKIT_SECTOR_SIZE, &blank);
        if (err == OTAKIT_OK && !blank) {
            err = otakit_flash_erase(f, u->part->offset + off, OTAKIT_SECTOR_SIZE);
            u->sectors_erased++;
        }
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_update_begin_policy(otakit_update_t *u, const otakit_ota_t *ota,
                                        const otakit_part_t *part, otakit_erase_policy_t policy,
                                        uint32_t image_size)
{
    /* A session resumed at 0, whose size must fit whatever the policy; then the erase. */
    otakit_err_t err = otakit_update_resume(u, ota, part, policy, image_size, 0);
    bool known =
        image_size != OTAKIT_OTA_SIZE_UNKNOWN && image_size != OTAKIT_OTA_WITH_SEQUENTIAL_WRITES;
    if (err == OTAKIT_OK && known && image_size > u->part->size) {
        err = OTAKIT_ERR_INVALID_SIZE;
    }
    if (err == OTAKIT_ERR_INVALID_SIZE) {
        OTAKIT_LOGE(&ota->log, TAG, "image size %u does not fit partition size %u",
                    (unsigned)image_size, (unsigned)u->part->size);
    }
    if (err == OTAKIT_OK && u->erased_end > 0) {
        err = erase_range(u, 0, u->erased_end, false);
        if (err != OTAKIT_OK) {
            OTAKIT_LOGE(&ota->log, TAG, "erase of partition at 0x%x failed (%s)",
                        (unsigned)u->part->offset, otakit_err_name(err));
        }
    }
    if (err != OTAKIT_OK) {
        u->open = false;
    }
    return err;
}

otakit_err_t otakit_update_begin(otakit_update_t *u, const otakit_ota_t *ota,
                                 const otakit_part_t *part, uint32_t image_size)
{
    return otakit_update_begin_policy(u, ota, part, policy_of(image_size), image_size);
}

otakit_err_t otakit_update_resume(otakit_update_t *u, const otakit_ota_t *ota,
                                  const otakit_part_t *part, otakit_erase_policy_t policy,
                                  uint32_t image_size, uint32_t offset)
{
    otakit_err_t err = begin_common(u, ota, part);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (offset > u->part->size) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (policy == OTAKIT_ERASE_SIZE &&
        (image_size == OTAKIT_OTA_SIZE_UNKNOWN || image_size > u->part->size)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    u->policy = policy;
    u->image_size = image_size;
    u->written = offset;
    /* What begin erased stays erased; a sequential session had prepared every sector
     * up to the one that holds offset. */
    u->erased_end =
        policy == OTAKIT_ERASE_SEQUENTIAL ? ROUND_UP(offset, OTAKIT_SECTOR_SIZE) : prepared_end(u);
    u->open = true;
    return OTAKIT_OK;
}

/* --- streaming verification ----------------------------------------------------------
 * A session verifies as it writes: each write is read back, compared with what was
 * given and fed to the verifier, so at update_end the verdict is about what flash holds
 * and nothing is read or hashed again. The verifier is live ("verifying") only while it
 * has consumed exactly [0, written) and nothing else has written to the flash since
 * (the port's write epoch, when it keeps one, says so). A session that resumed past 0,
 * a read-back that failed half way, or a write by someone else ends the streaming;
 * update_end then verifies [0, written) from flash once, as before. */

#define READBACK_CHUNK 1024u

static void drop_verifier(otakit_update_t *u)
{
    if (u->verifying) {
        otakit_image_verifier_finish(&u->verifier, NULL, NULL); /* releases its hash */
        u->verifying = false;
    }
}

/* Remember the epoch our own last operation left, to see a foreign write later. */
static void mark_epoch(otakit_update_t *u)
{
    u->has_epoch = otakit_flash_epoch(u->ota->flash, &u->epoch);
}

/* Drop the streaming verifier if anything else wrote or erased since our last write. */
static void check_epoch(otakit_update_t *u)
{
    uint32_t now;
    if (u->verifying && u->has_epoch && otakit_flash_epoch(u->ota->flash, &now) &&
        now != u->epoch) {
        OTAKIT_LOGD(&u->ota->log, TAG,
                    "flash written by someone else during the session; "
                    "verifying the image from flash at the end");
        drop_verifier(u);
    }
}

/* Read [off, off + len) of the slot back, check it holds src, and feed it to the
 * verifier while it streams. On any failure the verifier is out of step with
 * `written` and is dropped. */
static otakit_err_t read_back(otakit_update_t *u, uint32_t off, const uint8_t *src, size_t len)
{
    uint8_t buf[READBACK_CHUNK];
    while (len > 0) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);
        otakit_err_t err = otakit_flash_read(u->ota->flash, u->part->offset + off, buf, n);
        if (err == OTAKIT_OK && memcmp(buf, src, n) != 0) {
            OTAKIT_LOGE(&u->ota->log, TAG,
                        "write at 0x%x did not take: flash reads back other bytes",
                        (unsigned)(u->part->offset + off));
            err = OTAKIT_ERR_FLASH_OP_FAIL;
        }
        if (err != OTAKIT_OK) {
            drop_verifier(u);
            return err;
        }
        if (u->verifying) {
            otakit_image_verifier_feed(&u->verifier, buf, n); /* errors stick; end reports them */
        }
        off += (uint32_t)n;
        src += n;
        len -= n;
    }
    return OTAKIT_OK;
}

/* The verdict on [0, written) when the session did not stream it: read it from flash. */
static otakit_err_t verify_written(otakit_update_t *u, otakit_image_info_t *info,
                                   otakit_diag_t *diag)
{
    otakit_image_opts_t opts = otakit_ota_image_opts(u->ota, u->part);
    otakit_image_verifier_init(&u->verifier, &opts);
    return otakit_image_verifier_run_flash(&u->verifier, u->ota->flash, u->part->offset, u->written,
                                           info, diag);
}

otakit_err_t otakit_update_write(otakit_update_t *u, const void *data, size_t len)
{
    if (u == NULL || !u->open || (data == NULL && len > 0)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (len == 0) {
        return OTAKIT_OK;
    }
    const uint8_t *bytes = data;
    if (u->written == 0 && bytes[0] != OTAKIT_IMAGE_MAGIC) {
        OTAKIT_LOGE(&u->ota->log, TAG,
                    "OTA image has invalid magic byte (expected 0xE9, saw 0x%02x)", bytes[0]);
        return OTAKIT_ERR_OTA_VALIDATE_FAILED;
    }
    if (len > (size_t)(u->part->size - u->written)) {
        OTAKIT_LOGE(&u->ota->log, TAG,
                    "write of %u bytes at 0x%x passes the end of partition (size 0x%x)",
                    (unsigned)len, (unsigned)u->written, (unsigned)u->part->size);
        return OTAKIT_ERR_INVALID_SIZE;
    }
    check_epoch(u);
    if (u->written == 0 && !u->verifying) {
        /* The image starts here: stream it from its first byte. */
        otakit_image_opts_t opts = otakit_ota_image_opts(u->ota, u->part);
        otakit_image_verifier_init(&u->verifier, &opts);
        u->verifying = true;
    }
    uint32_t end = u->written + (uint32_t)len;
    otakit_err_t err = OTAKIT_OK;
    if (end > u->erased_end) {
        /* Sequential sessions (and writes past a declared size) erase sectors as they
         * are first touched; sectors that already read blank are left alone. */
        uint32_t to = ROUND_UP(end, OTAKIT_SECTOR_SIZE);
        err = erase_range(u, u->erased_end, to, true);
        if (err == OTAKIT_OK) {
            u->erased_end = to;
        }
    }
    if (err == OTAKIT_OK) {
        err = otakit_flash_write(u->ota->flash, u->part->offset + u->written, data, len);
    }
    if (err == OTAKIT_OK) {
        err = read_back(u, u->written, bytes, len);
    }
    mark_epoch(u); /* our own erase and write moved it */
    if (err != OTAKIT_OK) {
        return err;
    }
    u->written = end;
    return OTAKIT_OK;
}

otakit_err_t otakit_update_end(otakit_update_t *u)
{
    if (u == NULL || !u->open) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    u->open = false;
    if (u->written == 0) {
        drop_verifier(u);
        return OTAKIT_ERR_INVALID_ARG;
    }
    check_epoch(u);
    uint32_t epoch = 0;
    bool has_epoch = otakit_flash_epoch(u->ota->flash, &epoch);
    otakit_image_info_t info;
    otakit_diag_t diag = {0, NULL};
    otakit_err_t err;
    if (u->verifying) {
        err = otakit_image_verifier_finish(&u->verifier, &info, &diag);
        u->verifying = false;
    } else {
        err = verify_written(u, &info, &diag);
    }
    if (err == OTAKIT_OK && u->ota->require_hash && !info.hash_present) {
        err = otakit_diag_set(&diag, 23, "no appended SHA-256", OTAKIT_ERR_IMAGE_INVALID);
    }
    if (err != OTAKIT_OK) {
        OTAKIT_LOGE(&u->ota->log, TAG, "New image failed verification (%s at image offset 0x%x)",
                    diag.msg ? diag.msg : otakit_err_name(err), (unsigned)diag.offset);
        return OTAKIT_ERR_OTA_VALIDATE_FAILED;
    }
    otakit_image_proof_t *p = &u->proof;
    p->valid = has_epoch;
    p->part_offset = u->part->offset;
    p->part_size = u->part->size;
    p->epoch = epoch;
    p->image_len = info.image_len;
    p->has_desc = info.has_desc;
    p->secure_version = info.desc.secure_version;
    return OTAKIT_OK;
}

void otakit_update_abort(otakit_update_t *u)
{
    if (u) {
        drop_verifier(u);
        u->open = false;
    }
}
