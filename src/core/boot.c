/* The second-stage bootloader's decision (spec §6): ESP-IDF's bootloader_utility.c
 * order, over a caller-owned result. Every otadata change is recorded in res->writes
 * (with OTAKIT_TOOLS) and, unless dry_run, made (erase the copy's sector, program 32
 * bytes). */
#include "otakit/boot.h"

#include <string.h>

static const char TAG[] = "boot";

typedef struct {
    const otakit_boot_cfg_t *cfg;
    otakit_boot_result_t *res;
    const otakit_part_t *factory, *test, *otadata;
    const otakit_part_t *ota[16];
    unsigned app_count;
    int confirmed; /* the slot a VALID active copy selects, or OTAKIT_BOOT_INDEX_INVALID */
} boot_ctx_t;

/* The bootloader's own messages (tag "boot"), through the configured sink with the
 * level cap of log.h: one call site shape for all of them. */
static void blog(const boot_ctx_t *c, otakit_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void blog(const boot_ctx_t *c, otakit_log_level_t level, const char *fmt, ...)
{
    const otakit_log_t *log = &c->cfg->log;
    if (log->fn != NULL) {
        va_list ap;
        va_start(ap, fmt);
        log->fn(log->ctx, level, TAG, fmt, ap);
        va_end(ap);
    }
}
#define BLOG_AT(c, level, ...)                                                                     \
    do {                                                                                           \
        if ((level) <= OTAKIT_LOG_MAX_LEVEL) {                                                     \
            blog((c), (level), __VA_ARGS__);                                                       \
        }                                                                                          \
    } while (0)
#define BLOGE(c, ...) BLOG_AT((c), OTAKIT_LOG_ERROR, __VA_ARGS__)
#define BLOGW(c, ...) BLOG_AT((c), OTAKIT_LOG_WARN, __VA_ARGS__)
#define BLOGI(c, ...) BLOG_AT((c), OTAKIT_LOG_INFO, __VA_ARGS__)

static const char *usage_name(const otakit_part_t *p)
{
    if (p->type == OTAKIT_PART_TYPE_APP) {
        if (p->subtype == OTAKIT_PART_SUBTYPE_FACTORY) {
            return "factory app";
        }
        if (p->subtype == OTAKIT_PART_SUBTYPE_TEST) {
            return "test app";
        }
        return OTAKIT_PART_IS_OTA(p->type, p->subtype) ? "OTA app" : "Unknown app";
    }
    if (p->type == OTAKIT_PART_TYPE_DATA) {
        switch (p->subtype) {
        case OTAKIT_PART_SUBTYPE_DATA_OTA:
            return "OTA data";
        case OTAKIT_PART_SUBTYPE_DATA_PHY:
            return "RF data";
        case OTAKIT_PART_SUBTYPE_DATA_NVS:
            return "WiFi data";
        case 0x03:
            return "coredump";
        case 0x04:
            return "NVS keys";
        case 0x05:
            return "efuse";
        default:
            return "Unknown data";
        }
    }
    return "unknown";
}

/* res->writes: what the bootloader writes or, with dry_run, would write (`otakit boot
 * --dry-run` shows it). Both are tools' features: built with OTAKIT_TOOLS 0 (err.h) the
 * list stays empty and a dry run is refused (otakit_boot_select). */
#define DRY_RUN(cfg) (OTAKIT_TOOLS && (cfg)->dry_run)

static void record(boot_ctx_t *c, uint32_t addr, uint32_t len, int copy, uint32_t seq,
                   uint32_t state, const char *what)
{
#if !OTAKIT_TOOLS
    (void)c, (void)addr, (void)len, (void)copy, (void)seq, (void)state, (void)what;
#else
    otakit_boot_result_t *r = c->res;
    if (r->write_count < OTAKIT_BOOT_MAX_WRITES) {
        otakit_boot_write_t *w = &r->writes[r->write_count++];
        w->addr = addr;
        w->len = len;
        w->copy = copy;
        w->seq = seq;
        w->state = state;
        w->what = what;
    }
#endif
}

/* The eFuse counter the anti-rollback rule uses, or NULL (the rule is off). */
static const otakit_efuse_t *arb(const boot_ctx_t *c)
{
    return otakit_efuse_rule(c->cfg->anti_rollback, c->cfg->efuse);
}

/* Rewrite a copy (erase its sector, program the entry), or with erase false program the
 * entry over it (a boot counted: bits only go to 0). */
static otakit_err_t write_entry(boot_ctx_t *c, int copy, const otakit_otadata_entry_t *e,
                                bool erase, const char *what)
{
    record(c, c->otadata->offset + (uint32_t)copy * OTAKIT_SECTOR_SIZE,
           erase ? OTAKIT_SECTOR_SIZE : 0, copy, e->seq, e->state, what);
    if (DRY_RUN(c->cfg)) {
        return OTAKIT_OK;
    }
    return erase ? otakit_otadata_write(c->cfg->flash, c->otadata, copy, e)
                 : otakit_otadata_program(c->cfg->flash, c->otadata, copy, e);
}

static otakit_err_t write_copy(boot_ctx_t *c, int copy, const otakit_otadata_entry_t *e,
                               const char *what)
{
    return write_entry(c, copy, e, true, what);
}

/* Load and verify the image in p, with the anti-rollback rule. */
static bool try_load(boot_ctx_t *c, const otakit_part_t *p)
{
    otakit_image_opts_t opts = {c->cfg->chip_id, p->size, false};
    otakit_image_info_t *info = &c->res->image;
    otakit_diag_t diag = {0, NULL};
    otakit_err_t err = otakit_image_verify_flash(c->cfg->flash, p->offset, &opts, info, &diag);
    if (err == OTAKIT_OK && c->cfg->require_hash && !info->hash_present) {
        err = otakit_diag_set(&diag, 23, "no appended SHA-256", OTAKIT_ERR_IMAGE_INVALID);
    }
    if (err != OTAKIT_OK) {
        if (err == OTAKIT_ERR_IMAGE_INVALID && diag.offset == 0 &&
            info->header.magic != OTAKIT_IMAGE_MAGIC) {
            OTAKIT_LOGE(&c->cfg->log, "esp_image",
                        "image at 0x%x has invalid magic byte (nothing flashed here?)",
                        (unsigned)p->offset);
        } else {
            OTAKIT_LOGE(&c->cfg->log, "esp_image", "image at 0x%x: %s at offset 0x%x",
                        (unsigned)p->offset, diag.msg ? diag.msg : otakit_err_name(err),
                        (unsigned)diag.offset);
        }
        return false;
    }
    if (info->has_desc && !otakit_efuse_allows(arb(c), info->desc.secure_version)) {
        BLOGE(c, "Application version is lower than the eFuse secure version (%u < %u)",
              (unsigned)info->desc.secure_version,
              (unsigned)c->cfg->efuse->get(c->cfg->efuse->ctx));
        return false;
    }
    if (c->cfg->check_app != NULL && !c->cfg->check_app(c->cfg->check_app_ctx, p, info)) {
        return false; /* the port said why */
    }
    BLOGI(c, "Loaded app from partition at offset 0x%x", (unsigned)p->offset);
    return true;
}

static const otakit_part_t *part_at(const boot_ctx_t *c, int index)
{
    if (index == OTAKIT_BOOT_INDEX_FACTORY) {
        return c->factory;
    }
    if (index == OTAKIT_BOOT_INDEX_TEST) {
        return c->test;
    }
    return (index >= 0 && index < 16) ? c->ota[index] : NULL;
}

static bool try_index(boot_ctx_t *c, int index)
{
    const otakit_part_t *p = part_at(c, index);
    if (p == NULL) {
        return false;
    }
    if (try_load(c, p)) {
        c->res->index = index;
        c->res->part = p;
        return true;
    }
    if (index == OTAKIT_BOOT_INDEX_FACTORY) {
        BLOGE(c, "Factory app partition is not bootable");
    } else {
        BLOGE(c, "OTA app partition slot %d is not bootable", index);
    }
    return false;
}

/* load_boot_image(): start, down to factory, then up through the OTA slots, then test. */
static bool load_boot_image(boot_ctx_t *c, int start)
{
    if (start == OTAKIT_BOOT_INDEX_TEST) {
        return c->test != NULL && try_index(c, OTAKIT_BOOT_INDEX_TEST);
    }
    for (int i = start; i >= OTAKIT_BOOT_INDEX_FACTORY; i--) {
        if (try_index(c, i)) {
            return true;
        }
    }
    for (int i = start + 1; i < (int)c->app_count; i++) {
        if (try_index(c, i)) {
            return true;
        }
    }
    if (c->test) {
        BLOGE(c, "Falling back to test app as only bootable partition");
        if (try_index(c, OTAKIT_BOOT_INDEX_TEST)) {
            return true;
        }
    }
    return false;
}

static void print_table(const boot_ctx_t *c)
{
    const otakit_ptable_t *t = &c->res->table;
    BLOGI(c, "Partition Table:");
    BLOGI(c, "## Label            Usage          Type ST Offset   Length");
    for (size_t i = 0; i < t->count; i++) {
        const otakit_part_t *p = &t->parts[i];
        BLOGI(c, "%2u %-16s %-16s %02x %02x %08x %08x", (unsigned)i, p->label, usage_name(p),
              p->type, p->subtype, (unsigned)p->offset, (unsigned)p->size);
    }
    BLOGI(c, "End of partition table");
}

/* A copy counts for selection if valid, and with anti-rollback if its app may run. */
static bool copy_usable(boot_ctx_t *c, const otakit_otadata_entry_t *e)
{
    if (!otakit_otadata_is_valid(e)) {
        return false;
    }
    if (arb(c) == NULL || c->app_count == 0) {
        return true;
    }
    const otakit_part_t *p = c->ota[otakit_otadata_slot(e->seq, c->app_count)];
    otakit_app_desc_t d;
    return p != NULL && otakit_image_read_desc(c->cfg->flash, p->offset, &d) == OTAKIT_OK &&
           otakit_efuse_allows(arb(c), d.secure_version);
}

static otakit_err_t factory_reset(boot_ctx_t *c)
{
    const otakit_boot_cfg_t *cfg = c->cfg;
    BLOGI(c, "Detect a condition of the factory reset");
    for (size_t i = 0; i < cfg->reset_label_count; i++) {
        const otakit_part_t *p = otakit_ptable_find(&c->res->table, OTAKIT_PART_TYPE_DATA,
                                                    OTAKIT_PART_SUBTYPE_ANY, cfg->reset_labels[i]);
        if (p == NULL) {
            BLOGE(c, "Data partition '%s' to erase was not found", cfg->reset_labels[i]);
            continue;
        }
        BLOGI(c, "Erase data partition '%s' at 0x%x", p->label, (unsigned)p->offset);
        record(c, p->offset, p->size, -1, 0, 0, "factory reset");
        if (!DRY_RUN(cfg)) {
            otakit_err_t err = otakit_flash_erase(cfg->flash, p->offset, p->size);
            if (err != OTAKIT_OK) {
                return err;
            }
        }
    }
    if (cfg->reset_erase_otadata && c->otadata) {
        BLOGI(c, "Erase otadata partition at 0x%x", (unsigned)c->otadata->offset);
        record(c, c->otadata->offset, c->otadata->size, -1, 0, 0, "factory reset");
        if (!DRY_RUN(cfg)) {
            return otakit_flash_erase(cfg->flash, c->otadata->offset, c->otadata->size);
        }
    }
    return OTAKIT_OK;
}

/* Read and verify the partition table (against the chip size the bootloader was built
 * for), print it, and find the app and otadata partitions. */
static otakit_err_t load_table(boot_ctx_t *c)
{
    const otakit_boot_cfg_t *cfg = c->cfg;
    otakit_diag_t diag = {0, NULL};
    uint32_t table_offset = cfg->ptable_offset ? cfg->ptable_offset : OTAKIT_PTABLE_OFFSET_DEFAULT;
    uint32_t chip_size = cfg->flash_size ? cfg->flash_size : cfg->flash->size;
    otakit_err_t err =
        otakit_ptable_read(&c->res->table, cfg->flash, table_offset, chip_size, &diag);
    if (err != OTAKIT_OK) {
        OTAKIT_LOGE(&cfg->log, "flash_parts", "partition table at 0x%x: %s (offset 0x%x)",
                    (unsigned)table_offset, diag.msg ? diag.msg : otakit_err_name(err),
                    (unsigned)diag.offset);
        BLOGE(c, "Failed to verify partition table");
        return OTAKIT_ERR_INVALID_STATE;
    }
    print_table(c);
    const otakit_ptable_t *t = &c->res->table;
    c->factory = otakit_ptable_find(t, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, NULL);
    c->test = otakit_ptable_find(t, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_TEST, NULL);
    c->otadata = otakit_ptable_find(t, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, NULL);
    for (size_t i = 0; i < t->count; i++) {
        const otakit_part_t *p = &t->parts[i];
        if (OTAKIT_PART_IS_OTA(p->type, p->subtype)) {
            c->ota[p->subtype & 0x0F] = p;
            c->app_count++;
        }
    }
    return OTAKIT_OK;
}

/* The active copy (otakit_otadata_active) among the copies the bootloader may use:
 * with anti-rollback, a copy whose app is below the eFuse counter is set aside. */
static int usable_active(boot_ctx_t *c, const otakit_otadata_entry_t e[2])
{
    otakit_otadata_entry_t usable[2] = {e[0], e[1]};
    for (int i = 0; i < 2; i++) {
        if (!copy_usable(c, &e[i])) {
            usable[i].seq = 0xFFFFFFFFu; /* reads as invalid */
        }
    }
    return otakit_otadata_active(usable);
}

/* Rollback: an app still PENDING_VERIFY at boot ran without confirming itself. With
 * boot_attempts > 1 the active copy's app gets another boot while it has had fewer: one
 * more bit of its seq_label is programmed to 0 (no erase: a cut leaves the old or the
 * new count, and the entry stays valid either way). Otherwise, and for the other copy,
 * mark it ABORTED so it is not booted again (ESP-IDF's rule). */
static otakit_err_t abort_unconfirmed(boot_ctx_t *c, otakit_otadata_entry_t e[2])
{
    int keep = c->cfg->boot_attempts > 1 ? usable_active(c, e) : -1;
    for (int i = 0; i < 2; i++) {
        if (e[i].state != OTAKIT_OTA_IMG_PENDING_VERIFY) {
            continue;
        }
        otakit_err_t err;
        if (i == keep && otakit_otadata_boot_again(&e[i], c->cfg->boot_attempts) &&
            otakit_otadata_count_boot(&e[i])) {
            BLOGW(c, "otadata[%d]: app not confirmed yet: boot attempt %u of %u", i,
                  otakit_otadata_boots(&e[i]), (unsigned)c->cfg->boot_attempts);
            err = write_entry(c, i, &e[i], false, "PENDING_VERIFY boot counted");
        } else {
            BLOGW(c, "otadata[%d]: app was not confirmed (PENDING_VERIFY): mark ABORTED", i);
            e[i].state = OTAKIT_OTA_IMG_ABORTED;
            err = write_copy(c, i, &e[i], "PENDING_VERIFY->ABORTED");
        }
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    return OTAKIT_OK;
}

/* Rollback: the app a NEW copy selects gets its trial boot: PENDING_VERIFY. With boot
 * attempts, its count starts from an erased seq_label (ESP-IDF's writers keep the label
 * they read, which may hold an earlier entry's count). */
static otakit_err_t start_trial(boot_ctx_t *c, otakit_otadata_entry_t *e, int copy)
{
    e->state = OTAKIT_OTA_IMG_PENDING_VERIFY;
    if (c->cfg->boot_attempts > 1) {
        memset(e->label, 0xFF, sizeof(e->label));
    }
    return write_copy(c, copy, e, "NEW->PENDING_VERIFY");
}

/* Anti-rollback: a confirmed (VALID) app raises the eFuse counter to its
 * secure_version once it has loaded and verified (and passed the port's check), never
 * from the description of an image not yet verified: a corrupt or unsigned image that a
 * VALID copy selects must not raise it for good. (ESP-IDF's bootloader raises before it
 * loads the image.) A failed raise does not stop the boot: the app is valid, and the
 * next boot raises again. */
static void raise_secure_version(boot_ctx_t *c)
{
    const otakit_efuse_t *efuse = arb(c);
    const otakit_image_info_t *img = &c->res->image;
    if (efuse == NULL || DRY_RUN(c->cfg) || c->res->index != c->confirmed || !img->has_desc) {
        return;
    }
    otakit_err_t err = otakit_efuse_raise_to(efuse, img->desc.secure_version);
    if (err != OTAKIT_OK) {
        BLOGE(c, "Failed to raise the eFuse secure version to %u (%s); the next boot tries again",
              (unsigned)img->desc.secure_version, otakit_err_name(err));
    }
}

/* Where to start from what otadata says, after the rollback transitions. */
static otakit_err_t start_from_otadata(boot_ctx_t *c, int *start, bool *initial_contents)
{
    const otakit_boot_cfg_t *cfg = c->cfg;
    otakit_otadata_entry_t e[2];
    otakit_err_t err = otakit_otadata_read(cfg->flash, c->otadata, e);
    if (err == OTAKIT_ERR_INVALID_SIZE) {
        BLOGE(c, "ota_info partition size %u is too small (minimum %u bytes)",
              (unsigned)c->otadata->size, (unsigned)OTAKIT_OTADATA_SIZE);
        return OTAKIT_ERR_INVALID_STATE;
    }
    if (err == OTAKIT_OK && cfg->rollback) {
        err = abort_unconfirmed(c, e);
    }
    if (err != OTAKIT_OK) {
        return err;
    }
    if ((otakit_otadata_is_invalid(&e[0]) && otakit_otadata_is_invalid(&e[1])) ||
        c->app_count == 0) {
        if (c->factory) {
            BLOGI(c, "Defaulting to factory image");
            *start = OTAKIT_BOOT_INDEX_FACTORY;
        } else {
            BLOGI(c, "No factory image, trying OTA 0");
            *start = 0;
            *initial_contents = !otakit_otadata_crc_ok(&e[0]) && !otakit_otadata_crc_ok(&e[1]);
        }
        return OTAKIT_OK;
    }
    int active = usable_active(c, e);
    if (active < 0) {
        BLOGE(c, c->factory ? "ota data partition invalid, falling back to factory"
                            : "ota data partition invalid and no factory, will try all partitions");
        *start = OTAKIT_BOOT_INDEX_FACTORY;
        return OTAKIT_OK;
    }
    *start = (int)otakit_otadata_slot(e[active].seq, c->app_count);
    if (cfg->rollback && e[active].state == OTAKIT_OTA_IMG_NEW) {
        err = start_trial(c, &e[active], active);
        if (err != OTAKIT_OK) {
            return err;
        }
    }
    if (e[active].state == OTAKIT_OTA_IMG_VALID) {
        c->confirmed = *start;
    }
    return OTAKIT_OK;
}

/* The index load_boot_image starts from: the test pin, else otadata, else factory. */
static otakit_err_t choose_start(boot_ctx_t *c, int *start, bool *initial_contents)
{
    const otakit_boot_cfg_t *cfg = c->cfg;
    *initial_contents = false;
    if (cfg->pin == OTAKIT_BOOT_PIN_TEST && c->test != NULL) {
        BLOGI(c, "Detect a boot condition of the test firmware");
        *start = OTAKIT_BOOT_INDEX_TEST;
        return OTAKIT_OK;
    }
    if (c->otadata == NULL) {
        *start = OTAKIT_BOOT_INDEX_FACTORY;
        return OTAKIT_OK;
    }
    if (cfg->pin == OTAKIT_BOOT_PIN_TEST) {
        BLOGE(c, "Test firmware requested but there is no test partition");
    }
    return start_from_otadata(c, start, initial_contents);
}

/* No valid otadata, no factory app, an OTA slot booted: record it in copy 0 so the
 * next boot selects it (ESP-IDF's set_actual_ota_seq). */
static otakit_err_t initial_fixup(boot_ctx_t *c)
{
    otakit_otadata_entry_t fix;
    otakit_otadata_make(&fix, (uint32_t)c->res->index + 1u, OTAKIT_OTA_IMG_VALID);
    BLOGI(c, "Set actual ota_seq=%u in otadata[0]", (unsigned)fix.seq);
    return write_copy(c, 0, &fix, "initial fix-up");
}

otakit_err_t otakit_boot_select(const otakit_boot_cfg_t *cfg, otakit_boot_result_t *res)
{
    boot_ctx_t c;
    memset(&c, 0, sizeof(c));
    memset(res, 0, sizeof(*res));
    c.cfg = cfg;
    c.res = res;
    c.confirmed = OTAKIT_BOOT_INDEX_INVALID;
    res->index = OTAKIT_BOOT_INDEX_INVALID;
    if (cfg->dry_run && !OTAKIT_TOOLS) {
        return OTAKIT_ERR_NOT_SUPPORTED;
    }

    otakit_err_t err = load_table(&c);
    if (err == OTAKIT_OK && cfg->pin == OTAKIT_BOOT_PIN_FACTORY_RESET) {
        err = factory_reset(&c);
    }
    int start = OTAKIT_BOOT_INDEX_FACTORY;
    bool initial_contents = false;
    if (err == OTAKIT_OK) {
        err = choose_start(&c, &start, &initial_contents);
    }
    if (err != OTAKIT_OK) {
        return err;
    }
    if (!load_boot_image(&c, start)) {
        BLOGE(&c, "No bootable app partitions in the partition table");
        return OTAKIT_ERR_NOT_FOUND;
    }
    raise_secure_version(&c);
    if (initial_contents && res->index >= 0) {
        return initial_fixup(&c);
    }
    return OTAKIT_OK;
}
