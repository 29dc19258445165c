/* The OTA write session and boot switching, as ESP-IDF's app_update does it (spec §7),
 * with one deliberate difference: set_boot never overwrites the otadata copy that
 * selects the running app (see choose_copy). */
#include "otakit/update.h"

#include <string.h>

static const char TAG[] = "esp_ota_ops";

#define ROUND_UP(x, a) ((((x) + (a)-1u) / (a)) * (a))

otakit_image_opts_t otakit_ota_image_opts(const otakit_ota_t *ota, const otakit_part_t *part)
{
    otakit_image_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip_id = ota->chip_id;
    o.max_size = part ? part->size : 0;
    return o;
}

/* The table's own record for p (callers may pass a copy), or NULL. */
static const otakit_part_t *in_table(const otakit_ota_t *ota, const otakit_part_t *p)
{
    for (size_t i = 0; i < ota->table->count; i++) {
        const otakit_part_t *q = &ota->table->parts[i];
        if (q->offset == p->offset && q->size == p->size && q->type == p->type &&
            q->subtype == p->subtype) {
            return q;
        }
    }
    return NULL;
}

static bool same_part(const otakit_part_t *a, const otakit_part_t *b)
{
    return a != NULL && b != NULL && a->offset == b->offset && a->size == b->size;
}

static const otakit_part_t *otadata_part(const otakit_ota_t *ota)
{
    return otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, NULL);
}

/* Full verification of the image in part, plus the anti-rollback rule. */
static otakit_err_t check_image(const otakit_ota_t *ota, const otakit_part_t *part,
                                otakit_app_desc_t *desc_out)
{
    otakit_image_opts_t opts = otakit_ota_image_opts(ota, part);
    otakit_image_info_t info;
    otakit_err_t err = otakit_image_verify_flash(ota->flash, part->offset, &opts, &info, NULL);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (desc_out) {
        *desc_out = info.desc;
    }
    if (ota->anti_rollback && ota->efuse && info.has_desc &&
        info.desc.secure_version < ota->efuse->get(ota->efuse->ctx)) {
        return OTAKIT_ERR_OTA_SMALL_SEC_VER;
    }
    return OTAKIT_OK;
}

static otakit_err_t state_of(const otakit_ota_t *ota, const otakit_part_t *part, uint32_t *state);

static otakit_err_t begin_common(otakit_update_t *u, const otakit_ota_t *ota,
                                 const otakit_part_t *part)
{
    if (u == NULL || ota == NULL || part == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    memset(u, 0, sizeof(*u));
    const otakit_part_t *p = in_table(ota, part);
    if (p == NULL) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    if (!OTAKIT_PART_IS_OTA(p->type, p->subtype)) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (same_part(p, ota->running)) {
        return OTAKIT_ERR_OTA_PARTITION_CONFLICT;
    }
    if (ota->rollback && ota->running && OTAKIT_PART_IS_OTA(ota->running->type, ota->running->subtype)) {
        uint32_t st;
        if (state_of(ota, ota->running, &st) == OTAKIT_OK && st == OTAKIT_OTA_IMG_PENDING_VERIFY) {
            OTAKIT_LOGE(&ota->log, TAG, "Running app has not confirmed state (ESP_OTA_IMG_PENDING_VERIFY)");
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
        otakit_err_t err = otakit_flash_is_blank(f, u->part->offset + off, OTAKIT_SECTOR_SIZE, &blank);
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
    otakit_err_t err = begin_common(u, ota, part);
    if (err != OTAKIT_OK) {
        return err;
    }
    u->policy = policy;
    u->image_size = image_size;
    bool known = image_size != OTAKIT_OTA_SIZE_UNKNOWN && image_size != OTAKIT_OTA_WITH_SEQUENTIAL_WRITES;
    if ((known && image_size > u->part->size) || (policy == OTAKIT_ERASE_SIZE && !known)) {
        OTAKIT_LOGE(&ota->log, TAG, "image size %u does not fit partition size %u", (unsigned)image_size,
                    (unsigned)u->part->size);
        return OTAKIT_ERR_INVALID_SIZE;
    }
    uint32_t end = prepared_end(u);
    if (end > 0) {
        err = erase_range(u, 0, end, false);
        if (err != OTAKIT_OK) {
            OTAKIT_LOGE(&ota->log, TAG, "erase of partition at 0x%x failed (%s)",
                        (unsigned)u->part->offset, otakit_err_name(err));
            return err;
        }
    }
    u->erased_end = end;
    u->open = true;
    return OTAKIT_OK;
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
    if (policy == OTAKIT_ERASE_SIZE && (image_size == OTAKIT_OTA_SIZE_UNKNOWN || image_size > u->part->size)) {
        return OTAKIT_ERR_INVALID_SIZE;
    }
    u->policy = policy;
    u->image_size = image_size;
    u->written = offset;
    /* What begin erased stays erased; a sequential session had prepared every sector
     * up to the one that holds offset. */
    u->erased_end = policy == OTAKIT_ERASE_SEQUENTIAL ? ROUND_UP(offset, OTAKIT_SECTOR_SIZE)
                                                      : prepared_end(u);
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
    if (u->verifying && u->has_epoch && otakit_flash_epoch(u->ota->flash, &now) && now != u->epoch) {
        OTAKIT_LOGD(&u->ota->log, TAG, "flash written by someone else during the session; "
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
            OTAKIT_LOGE(&u->ota->log, TAG, "write at 0x%x did not take: flash reads back other bytes",
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
static otakit_err_t verify_written(otakit_update_t *u, otakit_image_info_t *info, otakit_diag_t *diag)
{
    otakit_image_opts_t opts = otakit_ota_image_opts(u->ota, u->part);
    otakit_image_verifier_t *v = &u->verifier;
    uint8_t buf[READBACK_CHUNK];
    otakit_image_verifier_init(v, &opts);
    for (uint32_t off = 0; off < u->written && !otakit_image_verifier_complete(v);) {
        uint32_t n = u->written - off < sizeof(buf) ? u->written - off : (uint32_t)sizeof(buf);
        if (otakit_flash_read(u->ota->flash, u->part->offset + off, buf, n) != OTAKIT_OK) {
            otakit_image_verifier_finish(v, info, NULL);
            return otakit_diag_set(diag, off, "flash read failed", OTAKIT_ERR_IMAGE_FLASH_FAIL);
        }
        otakit_image_verifier_feed(v, buf, n);
        off += n;
    }
    return otakit_image_verifier_finish(v, info, diag);
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
        OTAKIT_LOGE(&u->ota->log, TAG, "OTA image has invalid magic byte (expected 0xE9, saw 0x%02x)",
                    bytes[0]);
        return OTAKIT_ERR_OTA_VALIDATE_FAILED;
    }
    if (len > (size_t)(u->part->size - u->written)) {
        OTAKIT_LOGE(&u->ota->log, TAG, "write of %u bytes at 0x%x passes the end of partition (size 0x%x)",
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

/* --- otadata ---------------------------------------------------------------------- */

static otakit_err_t read_otadata(const otakit_ota_t *ota, const otakit_part_t **od,
                                 otakit_otadata_entry_t e[2])
{
    *od = otadata_part(ota);
    if (*od == NULL) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    return otakit_otadata_read(ota->flash, *od, e);
}

static otakit_err_t state_of(const otakit_ota_t *ota, const otakit_part_t *part, uint32_t *state)
{
    unsigned n = otakit_ptable_ota_count(ota->table);
    const otakit_part_t *od;
    otakit_otadata_entry_t e[2];
    if (n == 0) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    otakit_err_t err = read_otadata(ota, &od, e);
    if (err != OTAKIT_OK) {
        return err;
    }
    for (int i = 0; i < 2; i++) {
        if (otakit_otadata_crc_ok(&e[i]) && otakit_otadata_slot(e[i].seq, n) == (part->subtype & 0x0Fu)) {
            *state = e[i].state;
            return OTAKIT_OK;
        }
    }
    return OTAKIT_ERR_NOT_FOUND;
}

otakit_err_t otakit_ota_get_state(const otakit_ota_t *ota, const otakit_part_t *part, uint32_t *state)
{
    if (ota == NULL || part == NULL || state == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    if (!OTAKIT_PART_IS_OTA(part->type, part->subtype)) {
        return OTAKIT_ERR_NOT_SUPPORTED;
    }
    return state_of(ota, part, state);
}

/* Whether copy e selects the app that runs now. */
static bool selects_running(const otakit_ota_t *ota, const otakit_otadata_entry_t *e, unsigned n)
{
    const otakit_part_t *run = ota->running;
    return run && OTAKIT_PART_IS_OTA(run->type, run->subtype) && otakit_otadata_is_valid(e) &&
           otakit_otadata_slot(e->seq, n) == (run->subtype & 0x0Fu);
}

/* Which otadata copy to write when switching to slot, and with which seq.
 *
 * As ESP-IDF: the inactive copy, with the next seq that maps to slot, so that until
 * its last byte is programmed the active copy still decides. Two deliberate
 * differences, both so that a cut at any point falls back to an app that can run:
 * - slot already selected by the active copy: ESP-IDF v6 rewrites that copy in place
 *   (a cut after its erase hands the boot to the other, older copy); otakit writes the
 *   inactive copy with seq + n instead (same slot, larger seq, the active copy intact);
 * - the inactive copy selects the running app (the active copy points at a slot that
 *   failed and the bootloader fell back): that copy is never overwritten; the active
 *   copy is rewritten in place, so a cut falls back to the running app. */
static int choose_copy(const otakit_ota_t *ota, const otakit_otadata_entry_t e[2], unsigned n,
                       unsigned slot, uint32_t *seq)
{
    int active = otakit_otadata_active(e);
    if (active < 0) {
        *seq = otakit_otadata_next_seq(false, 0, slot, n);
        return 0;
    }
    int other = 1 - active;
    bool same_slot = otakit_otadata_slot(e[active].seq, n) == slot;
    bool keep_other = selects_running(ota, &e[other], n) && !selects_running(ota, &e[active], n);
    if (keep_other) {
        *seq = same_slot ? e[active].seq : otakit_otadata_next_seq(true, e[active].seq, slot, n);
        return active;
    }
    *seq = same_slot ? e[active].seq + n : otakit_otadata_next_seq(true, e[active].seq, slot, n);
    return other;
}

/* Whether proof still describes the image in p: made for this slot, and the flash's
 * write epoch has not moved since (nothing wrote or erased anything). */
static bool proof_current(const otakit_ota_t *ota, const otakit_part_t *p,
                          const otakit_image_proof_t *proof)
{
    uint32_t now;
    return proof != NULL && proof->valid && proof->part_offset == p->offset &&
           proof->part_size == p->size && otakit_flash_epoch(ota->flash, &now) &&
           now == proof->epoch;
}

/* check_image for a slot whose verification is on record: only the anti-rollback rule. */
static otakit_err_t check_proof(const otakit_ota_t *ota, const otakit_image_proof_t *proof)
{
    OTAKIT_LOGD(&ota->log, TAG, "image at 0x%x verified by its update session, not read again",
                (unsigned)proof->part_offset);
    if (ota->anti_rollback && ota->efuse && proof->has_desc &&
        proof->secure_version < ota->efuse->get(ota->efuse->ctx)) {
        return OTAKIT_ERR_OTA_SMALL_SEC_VER;
    }
    return OTAKIT_OK;
}

otakit_err_t otakit_ota_set_boot(const otakit_ota_t *ota, const otakit_part_t *part)
{
    return otakit_ota_set_boot_verified(ota, part, NULL);
}

otakit_err_t otakit_ota_set_boot_verified(const otakit_ota_t *ota, const otakit_part_t *part,
                                          const otakit_image_proof_t *proof)
{
    if (ota == NULL || part == NULL) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    const otakit_part_t *p = in_table(ota, part);
    if (p == NULL || p->type != OTAKIT_PART_TYPE_APP) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_err_t err = proof_current(ota, p, proof) ? check_proof(ota, proof) : check_image(ota, p, NULL);
    if (err == OTAKIT_ERR_OTA_SMALL_SEC_VER) {
        OTAKIT_LOGE(&ota->log, TAG, "The secure_version of the new app is lower than the eFuse value; erasing it");
        otakit_flash_erase(ota->flash, p->offset, p->size);
        return err;
    }
    if (err != OTAKIT_OK) {
        OTAKIT_LOGE(&ota->log, TAG, "New image failed verification");
        return OTAKIT_ERR_OTA_VALIDATE_FAILED;
    }
    const otakit_part_t *od = otadata_part(ota);
    if (od == NULL) {
        return OTAKIT_ERR_NOT_FOUND;
    }
    if (p->subtype == OTAKIT_PART_SUBTYPE_FACTORY) {
        return otakit_flash_erase(ota->flash, od->offset, od->size);
    }
    if (!OTAKIT_PART_IS_OTA(p->type, p->subtype)) {
        return OTAKIT_ERR_INVALID_ARG; /* ESP-IDF would select ota_0 for the test app */
    }
    unsigned n = otakit_ptable_ota_count(ota->table);
    unsigned slot = p->subtype & 0x0Fu;
    if (slot >= n) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_otadata_entry_t e[2];
    err = otakit_otadata_read(ota->flash, od, e);
    if (err != OTAKIT_OK) {
        return err;
    }
    uint32_t seq;
    int copy = choose_copy(ota, e, n, slot, &seq);
    otakit_otadata_entry_t w = e[copy]; /* keep seq_label as read */
    w.seq = seq;
    w.state = ota->rollback ? OTAKIT_OTA_IMG_NEW : OTAKIT_OTA_IMG_UNDEFINED;
    w.crc = otakit_otadata_crc(seq);
    return otakit_otadata_write(ota->flash, od, copy, &w);
}

static const otakit_part_t *default_boot(const otakit_ota_t *ota)
{
    const otakit_part_t *p = otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, NULL);
    if (p == NULL) {
        p = otakit_ptable_ota_slot(ota->table, 0);
    }
    if (p == NULL) {
        p = otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_TEST, NULL);
    }
    return p;
}

const otakit_part_t *otakit_ota_get_boot(const otakit_ota_t *ota)
{
    unsigned n = otakit_ptable_ota_count(ota->table);
    const otakit_part_t *od;
    otakit_otadata_entry_t e[2];
    if (n == 0 || read_otadata(ota, &od, e) != OTAKIT_OK) {
        return default_boot(ota);
    }
    if (otakit_otadata_is_invalid(&e[0]) && otakit_otadata_is_invalid(&e[1])) {
        return default_boot(ota);
    }
    int active = otakit_otadata_active(e);
    if (active < 0) {
        OTAKIT_LOGE(&ota->log, TAG, "ota data invalid, no current app. Assuming factory");
        return default_boot(ota);
    }
    return otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(e[active].seq, n));
}

const otakit_part_t *otakit_ota_next_update(const otakit_ota_t *ota, const otakit_part_t *start)
{
    if (start == NULL) {
        start = ota->running;
    }
    const otakit_part_t *first = NULL;
    bool take_next = false;
    for (unsigned i = 0; i < 16; i++) {
        const otakit_part_t *p = otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_APP,
                                                    (uint8_t)(OTAKIT_PART_SUBTYPE_OTA_0 + i), NULL);
        if (p == NULL) {
            continue;
        }
        if (first == NULL) {
            first = p;
        }
        if (take_next) {
            return p;
        }
        if (same_part(p, start)) {
            take_next = true;
        }
    }
    return first;
}

const otakit_part_t *otakit_ota_last_invalid(const otakit_ota_t *ota)
{
    unsigned n = otakit_ptable_ota_count(ota->table);
    const otakit_part_t *od;
    otakit_otadata_entry_t e[2];
    if (n == 0 || read_otadata(ota, &od, e) != OTAKIT_OK) {
        return NULL;
    }
    int pick = -1;
    for (int i = 0; i < 2; i++) {
        bool bad = otakit_otadata_crc_ok(&e[i]) &&
                   (e[i].state == OTAKIT_OTA_IMG_INVALID || e[i].state == OTAKIT_OTA_IMG_ABORTED);
        if (bad && (pick < 0 || e[i].seq < e[pick].seq)) {
            pick = i;
        }
    }
    if (pick < 0) {
        return NULL;
    }
    const otakit_part_t *p = otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(e[pick].seq, n));
    if (p == NULL) {
        return NULL;
    }
    otakit_image_opts_t opts = otakit_ota_image_opts(ota, p);
    return otakit_image_verify_flash(ota->flash, p->offset, &opts, NULL, NULL) == OTAKIT_OK ? p : NULL;
}

/* Read otadata: the index of the active copy, or -1 (none, no OTA slots, unreadable). */
static int read_active(const otakit_ota_t *ota, const otakit_part_t **od, otakit_otadata_entry_t e[2],
                       unsigned *n)
{
    *n = otakit_ptable_ota_count(ota->table);
    if (*n == 0 || read_otadata(ota, od, e) != OTAKIT_OK) {
        return -1;
    }
    return otakit_otadata_active(e);
}

/* Rewrite the active copy in place with a new state (mark valid / invalid). */
static otakit_err_t rewrite_active(const otakit_ota_t *ota, uint32_t state, const otakit_part_t **slot_part)
{
    unsigned n;
    const otakit_part_t *od;
    otakit_otadata_entry_t e[2];
    int active = read_active(ota, &od, e, &n);
    if (active < 0) {
        return OTAKIT_FAIL;
    }
    if (slot_part) {
        *slot_part = otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(e[active].seq, n));
    }
    if (e[active].state == state) {
        return OTAKIT_OK;
    }
    e[active].state = state;
    return otakit_otadata_write(ota->flash, od, active, &e[active]);
}

otakit_err_t otakit_ota_mark_valid(const otakit_ota_t *ota)
{
    if (ota->running && !OTAKIT_PART_IS_OTA(ota->running->type, ota->running->subtype)) {
        OTAKIT_LOGE(&ota->log, TAG, "Running firmware is factory");
        return OTAKIT_FAIL;
    }
    const otakit_part_t *slot = NULL;
    otakit_err_t err = rewrite_active(ota, OTAKIT_OTA_IMG_VALID, &slot);
    if (err != OTAKIT_OK) {
        OTAKIT_LOGE(&ota->log, TAG, "Running firmware is factory");
        return err;
    }
    if (ota->anti_rollback && ota->efuse && slot) {
        otakit_app_desc_t d;
        if (otakit_image_read_desc(ota->flash, slot->offset, &d) == OTAKIT_OK &&
            d.secure_version > ota->efuse->get(ota->efuse->ctx)) {
            return ota->efuse->raise(ota->efuse->ctx, d.secure_version);
        }
    }
    return OTAKIT_OK;
}

bool otakit_ota_rollback_possible(const otakit_ota_t *ota)
{
    unsigned n;
    const otakit_part_t *od;
    otakit_otadata_entry_t e[2];
    int active = read_active(ota, &od, e, &n);
    if (active < 0) {
        return false;
    }
    int last = 1 - active;
    if (!ota->anti_rollback && !otakit_otadata_is_valid(&e[last])) {
        const otakit_part_t *f = otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, NULL);
        if (f && check_image(ota, f, NULL) == OTAKIT_OK) {
            return true;
        }
    }
    if (otakit_otadata_is_valid(&e[last])) {
        const otakit_part_t *p = otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(e[last].seq, n));
        if (p && check_image(ota, p, NULL) == OTAKIT_OK) {
            return true;
        }
    }
    return false;
}

otakit_err_t otakit_ota_mark_invalid(const otakit_ota_t *ota)
{
    if (!otakit_ota_rollback_possible(ota)) {
        OTAKIT_LOGE(&ota->log, TAG, "Rollback is not possible, do not have any suitable apps in slots");
        return OTAKIT_ERR_OTA_ROLLBACK_FAILED;
    }
    otakit_err_t err = rewrite_active(ota, OTAKIT_OTA_IMG_INVALID, NULL);
    if (err == OTAKIT_OK) {
        OTAKIT_LOGI(&ota->log, TAG, "Rollback to previously worked partition.");
    }
    return err;
}

otakit_err_t otakit_ota_erase_last_boot_app(const otakit_ota_t *ota)
{
    unsigned n;
    const otakit_part_t *od;
    otakit_otadata_entry_t e[2];
    int active = read_active(ota, &od, e, &n);
    if (active < 0) {
        return OTAKIT_FAIL;
    }
    int last = 1 - active;
    if (!otakit_otadata_crc_ok(&e[last])) {
        return OTAKIT_FAIL;
    }
    const otakit_part_t *p = otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(e[last].seq, n));
    if (p == NULL || same_part(p, ota->running)) {
        return OTAKIT_FAIL;
    }
    otakit_err_t err = otakit_flash_erase(ota->flash, p->offset, p->size);
    if (err != OTAKIT_OK) {
        return err;
    }
    return otakit_flash_erase(ota->flash, od->offset + (uint32_t)last * OTAKIT_SECTOR_SIZE, OTAKIT_SECTOR_SIZE);
}
