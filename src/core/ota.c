/* Boot-slot switching and the rollback marks, as ESP-IDF's app_update does them (spec
 * §7), with one deliberate difference: set_boot never overwrites the otadata copy that
 * selects the running app (see choose_copy). */
#include "otakit/ota.h"

#include <string.h>

#include "ota_priv.h"

static const char TAG[] = "esp_ota_ops";

otakit_image_opts_t otakit_ota_image_opts(const otakit_ota_t *ota, const otakit_part_t *part)
{
    otakit_image_opts_t o;
    memset(&o, 0, sizeof(o));
    o.chip_id = ota->chip_id;
    o.max_size = part ? part->size : 0;
    return o;
}

const otakit_part_t *otakit_ota_in_table(const otakit_ota_t *ota, const otakit_part_t *p)
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

bool otakit_ota_same_part(const otakit_part_t *a, const otakit_part_t *b)
{
    return a != NULL && b != NULL && a->offset == b->offset && a->size == b->size;
}

static const otakit_part_t *otadata_part(const otakit_ota_t *ota)
{
    return otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA,
                              NULL);
}

/* The eFuse counter the anti-rollback rule uses on this device, or NULL. */
static const otakit_efuse_t *arb(const otakit_ota_t *ota)
{
    return otakit_efuse_rule(ota->anti_rollback, ota->efuse);
}

/* An image that verified may still be refused for its secure_version. */
static otakit_err_t check_version(const otakit_ota_t *ota, bool has_desc, uint32_t secure_version)
{
    return has_desc && !otakit_efuse_allows(arb(ota), secure_version) ? OTAKIT_ERR_OTA_SMALL_SEC_VER
                                                                      : OTAKIT_OK;
}

/* Full verification of the image in part, plus the anti-rollback rule. */
static otakit_err_t check_image(const otakit_ota_t *ota, const otakit_part_t *part)
{
    otakit_image_opts_t opts = otakit_ota_image_opts(ota, part);
    otakit_image_info_t info;
    otakit_err_t err = otakit_image_verify_flash(ota->flash, part->offset, &opts, &info, NULL);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (ota->require_hash && !info.hash_present) {
        return OTAKIT_ERR_IMAGE_INVALID; /* CONFIG_OTAKIT_APP_REQUIRE_SHA256 */
    }
    return check_version(ota, info.has_desc, info.desc.secure_version);
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
        if (otakit_otadata_crc_ok(&e[i]) &&
            otakit_otadata_slot(e[i].seq, n) == (part->subtype & 0x0Fu)) {
            *state = e[i].state;
            return OTAKIT_OK;
        }
    }
    return OTAKIT_ERR_NOT_FOUND;
}

otakit_err_t otakit_ota_get_state(const otakit_ota_t *ota, const otakit_part_t *part,
                                  uint32_t *state)
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
    return check_version(ota, proof->has_desc, proof->secure_version);
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
    const otakit_part_t *p = otakit_ota_in_table(ota, part);
    if (p == NULL || p->type != OTAKIT_PART_TYPE_APP) {
        return OTAKIT_ERR_INVALID_ARG;
    }
    otakit_err_t err = proof_current(ota, p, proof) ? check_proof(ota, proof) : check_image(ota, p);
    if (err == OTAKIT_ERR_OTA_SMALL_SEC_VER) {
        OTAKIT_LOGE(&ota->log, TAG,
                    "The secure_version of the new app is lower than the eFuse value; erasing it");
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
    const otakit_part_t *p =
        otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, NULL);
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
        if (otakit_ota_same_part(p, start)) {
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
    const otakit_part_t *p =
        otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(e[pick].seq, n));
    if (p == NULL) {
        return NULL;
    }
    otakit_image_opts_t opts = otakit_ota_image_opts(ota, p);
    return otakit_image_verify_flash(ota->flash, p->offset, &opts, NULL, NULL) == OTAKIT_OK ? p
                                                                                            : NULL;
}

/* Read otadata: the index of the active copy, or -1 (none, no OTA slots, unreadable). */
static int read_active(const otakit_ota_t *ota, const otakit_part_t **od,
                       otakit_otadata_entry_t e[2], unsigned *n)
{
    *n = otakit_ptable_ota_count(ota->table);
    if (*n == 0 || read_otadata(ota, od, e) != OTAKIT_OK) {
        return -1;
    }
    return otakit_otadata_active(e);
}

/* The otadata copy that is not the active one (it selected the app that ran before), the
 * OTA slot it names, and its index; -1 when otadata cannot be read. The copy may be blank
 * or invalid: the caller checks what it needs. */
static int read_previous(const otakit_ota_t *ota, const otakit_part_t **od,
                         otakit_otadata_entry_t *prev, const otakit_part_t **slot)
{
    unsigned n;
    otakit_otadata_entry_t e[2];
    int active = read_active(ota, od, e, &n);
    if (active < 0) {
        return -1;
    }
    *prev = e[1 - active];
    *slot = otakit_ptable_ota_slot(ota->table, otakit_otadata_slot(prev->seq, n));
    return 1 - active;
}

/* Rewrite the active copy in place with a new state (mark valid / invalid). */
static otakit_err_t rewrite_active(const otakit_ota_t *ota, uint32_t state,
                                   const otakit_part_t **slot_part)
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
    otakit_app_desc_t d;
    if (arb(ota) != NULL && slot != NULL &&
        otakit_image_read_desc(ota->flash, slot->offset, &d) == OTAKIT_OK) {
        return otakit_efuse_raise_to(arb(ota), d.secure_version);
    }
    return OTAKIT_OK;
}

bool otakit_ota_rollback_possible(const otakit_ota_t *ota)
{
    const otakit_part_t *od, *p;
    otakit_otadata_entry_t prev;
    if (read_previous(ota, &od, &prev, &p) < 0) {
        return false;
    }
    if (!otakit_otadata_is_valid(&prev)) {
        /* No previous OTA app: the factory app, unless anti-rollback forbids going back. */
        p = ota->anti_rollback ? NULL
                               : otakit_ptable_find(ota->table, OTAKIT_PART_TYPE_APP,
                                                    OTAKIT_PART_SUBTYPE_FACTORY, NULL);
    }
    return p != NULL && check_image(ota, p) == OTAKIT_OK;
}

otakit_err_t otakit_ota_mark_invalid(const otakit_ota_t *ota)
{
    if (!otakit_ota_rollback_possible(ota)) {
        OTAKIT_LOGE(&ota->log, TAG,
                    "Rollback is not possible, do not have any suitable apps in slots");
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
    const otakit_part_t *od, *p;
    otakit_otadata_entry_t prev;
    int last = read_previous(ota, &od, &prev, &p);
    if (last < 0 || !otakit_otadata_crc_ok(&prev)) {
        return OTAKIT_FAIL;
    }
    if (p == NULL || otakit_ota_same_part(p, ota->running)) {
        return OTAKIT_FAIL;
    }
    otakit_err_t err = otakit_flash_erase(ota->flash, p->offset, p->size);
    if (err != OTAKIT_OK) {
        return err;
    }
    return otakit_flash_erase(ota->flash, od->offset + (uint32_t)last * OTAKIT_SECTOR_SIZE,
                              OTAKIT_SECTOR_SIZE);
}
