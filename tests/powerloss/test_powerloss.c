/* Power-loss sweep: for each scenario, count the flash operations N of a clean run,
 * then cut the power at every operation 1..N in each mode (BEFORE the op, AFTER it,
 * TORN in the middle), reboot with faults off until an app runs, and check that
 *   - an app boots (nothing is bricked),
 *   - its bytes are exactly one of the scenario's images (old or new),
 *   - it is the one that fits the cut point: the outcome of a clean recovery from the
 *     flash state just before op k (BEFORE), just after it (AFTER), or either (TORN),
 *     and, for the plain switches, old before the switch's otadata write and new after,
 *   - otadata holds a valid selection that agrees with what booted,
 *   - a following clean update succeeds and boots.
 * With boot attempts (CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS) the counter's writes
 * are cut too, and a cut during the new app's first run (after the bootloader made it
 * PENDING_VERIFY, before the app's confirmation) must keep the update with 2 attempts
 * and roll it back with 1 (ESP-IDF's rule).
 * A failure prints a replay id; OTAKIT_POWERLOSS_REPLAY=<id> reruns that case alone
 * (verbose). OTAKIT_POWERLOSS_LONG=1 runs larger images and many more random seeds. */
#include "fixture.h"
#include "harness.h"
#include "sbv2.h"
#include "secure.h"

enum {
    IMG_A,
    IMG_B,
    IMG_C,
    IMG_BAD,
    IMG_NOCONFIRM,
    IMG_D,
    IMG_SIGNED_A,
    IMG_SIGNED_C,
    IMG_SIGNED_D,
    IMG_COUNT
};
enum { APP_GOOD, APP_SELFTEST_FAIL, APP_NOCONFIRM };
#define BRICKED (-1)
#define UNKNOWN_IMAGE (-2)

static struct {
    uint8_t *img[IMG_COUNT];
    size_t len[IMG_COUNT];
    uint32_t slot_size;
    uint32_t flash_size;
    int verbose;
} G;

/* --- an interposed flash: counts operations and lets the clean run watch them --- */

typedef struct {
    otakit_flash_t flash;      /* what the device uses */
    const otakit_flash_t *nor; /* the emulated NOR below */
    uint64_t ops;
    void (*after_mutation)(void *ctx, uint64_t op, uint32_t addr, size_t len);
    void *hook_ctx;
    uint32_t guard_addr, guard_len; /* a range no op may touch (0 len = none) */
    int guard_hit;
} tap_t;

static void tap_check_guard(tap_t *t, uint32_t addr, size_t len)
{
    if (t->guard_len && addr < t->guard_addr + t->guard_len && addr + len > t->guard_addr) {
        t->guard_hit = 1;
    }
}

static otakit_err_t tap_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    tap_t *t = ctx;
    t->ops++;
    return t->nor->read(t->nor->ctx, addr, dst, len);
}

static otakit_err_t tap_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    tap_t *t = ctx;
    t->ops++;
    tap_check_guard(t, addr, len);
    otakit_err_t err = t->nor->write(t->nor->ctx, addr, src, len);
    if (err == OTAKIT_OK && t->after_mutation) {
        t->after_mutation(t->hook_ctx, t->ops, addr, len);
    }
    return err;
}

static uint32_t tap_epoch(void *ctx)
{
    tap_t *t = ctx;
    return t->nor->epoch(t->nor->ctx);
}

static otakit_err_t tap_erase(void *ctx, uint32_t addr, size_t len)
{
    tap_t *t = ctx;
    t->ops++;
    tap_check_guard(t, addr, len);
    otakit_err_t err = t->nor->erase(t->nor->ctx, addr, len);
    if (err == OTAKIT_OK && t->after_mutation) {
        t->after_mutation(t->hook_ctx, t->ops, addr, len);
    }
    return err;
}

typedef struct {
    fx_dev_t *d;
    tap_t tap;
    uint8_t *init; /* the flash contents a scenario starts from */
} rig_t;

static void rig_attach(rig_t *r)
{
    memset(&r->tap, 0, sizeof(r->tap));
    r->tap.nor = otakit_nor_flash(r->d->nor);
    r->tap.flash = *r->tap.nor;
    r->tap.flash.ctx = &r->tap;
    r->tap.flash.read = tap_read;
    r->tap.flash.write = tap_write;
    r->tap.flash.erase = tap_erase;
    r->tap.flash.epoch = tap_epoch;
    r->d->flash = &r->tap.flash;
    r->d->ota.flash = &r->tap.flash;
}

static rig_t *rig_new(void)
{
    rig_t *r = calloc(1, sizeof(*r));
    r->d = fx_dev_new(G.flash_size, true, 2, G.slot_size);
    r->d->verbose = G.verbose > 1;
    r->init = malloc(G.flash_size);
    rig_attach(r);
    return r;
}

static void rig_free(rig_t *r)
{
    fx_dev_free(r->d);
    free(r->init);
    free(r);
}

static void rig_restore(rig_t *r, const uint8_t *contents)
{
    otakit_nor_reboot(r->d->nor);
    memcpy(otakit_nor_data(r->d->nor), contents, G.flash_size);
    r->d->efuse = 0;
    r->tap.ops = 0;
}

/* --- apps -------------------------------------------------------------------------- */

static int app_kind(fx_dev_t *d, const otakit_part_t *p)
{
    otakit_app_desc_t desc;
    if (otakit_image_read_desc(d->flash, p->offset, &desc) != OTAKIT_OK) {
        return APP_GOOD;
    }
    if (strcmp(desc.project_name, "selftest-fail") == 0) {
        return APP_SELFTEST_FAIL;
    }
    return strcmp(desc.project_name, "noconfirm") == 0 ? APP_NOCONFIRM : APP_GOOD;
}

/* What the app does at start. Returns OTAKIT_OK when it settles and runs on, 1 when it
 * restarts (failed self-test or no confirmation), or a flash error. */
static otakit_err_t app_start(fx_dev_t *d)
{
    uint32_t state;
    if (!d->ota.rollback || !OTAKIT_PART_IS_OTA(d->ota.running->type, d->ota.running->subtype)) {
        return OTAKIT_OK;
    }
    otakit_err_t err = otakit_ota_get_state(&d->ota, d->ota.running, &state);
    if (err == OTAKIT_ERR_NOT_FOUND ||
        (err == OTAKIT_OK && state != OTAKIT_OTA_IMG_PENDING_VERIFY)) {
        return OTAKIT_OK;
    }
    if (err != OTAKIT_OK) {
        return err; /* the flash failed under us */
    }
    switch (app_kind(d, d->ota.running)) {
    case APP_SELFTEST_FAIL:
        err = otakit_ota_mark_invalid(&d->ota);
        return err == OTAKIT_OK ? 1 : err;
    case APP_NOCONFIRM:
        return 1;
    default:
        return otakit_ota_mark_valid(&d->ota);
    }
}

/* Power on until an app settles (at most 4 boots, and one more per boot attempt). */
static otakit_err_t power_on(fx_dev_t *d, otakit_boot_pin_t pin)
{
    for (unsigned boot = 0; boot < 4 + d->boot_attempts; boot++) {
        otakit_err_t err = fx_boot(d, boot == 0 ? pin : OTAKIT_BOOT_PIN_NONE);
        if (err != OTAKIT_OK) {
            return err;
        }
        err = app_start(d);
        if (err != 1) {
            return err;
        }
    }
    return OTAKIT_FAIL;
}

static int which_image(fx_dev_t *d, const otakit_part_t *p)
{
    for (int i = 0; i < IMG_COUNT; i++) {
        if (fx_holds(d, p, G.img[i], G.len[i])) {
            return i;
        }
    }
    return UNKNOWN_IMAGE;
}

/* After a cut: reboot with faults off until an app runs; which image runs. */
static int recover(fx_dev_t *d)
{
    otakit_nor_reboot(d->nor);
    if (power_on(d, OTAKIT_BOOT_PIN_NONE) != OTAKIT_OK) {
        return BRICKED;
    }
    return which_image(d, d->ota.running);
}

/* --- scenarios --------------------------------------------------------------------- */

typedef struct scenario {
    const char *name;
    bool rollback;
    int old_img, new_img;
    bool plain_switch; /* outcome is old before set_boot's final op, new after */
    void (*prepare)(fx_dev_t *d);
    otakit_err_t (*run)(fx_dev_t *d, uint64_t *switch_op, tap_t *tap);
    bool signed_apps;  /* Secure Boot V2: the bootloader and the update check signatures */
    unsigned attempts; /* CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS (0 = 1) */
    /* run() sets its switch_op where the new app's first run starts: a cut from there to
     * the next flash change must boot the new app with attempts > 1, the old one with 1. */
    bool first_run_check;
} scenario_t;

static void put(fx_dev_t *d, int copy, uint32_t seq, uint32_t state)
{
    otakit_otadata_entry_t e;
    otakit_otadata_make(&e, seq, state);
    otakit_otadata_write(d->flash, d->otadata, copy, &e);
}

static void prep_factory(fx_dev_t *d)
{
    fx_flash_image(d, d->factory, G.img[IMG_A], G.len[IMG_A]);
}

static void prep_ota0(fx_dev_t *d)
{
    prep_factory(d);
    fx_flash_image(d, fx_slot(d, 0), G.img[IMG_B], G.len[IMG_B]);
    put(d, 0, 1, OTAKIT_OTA_IMG_VALID);
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        otakit_err_t e_ = (x);                                                                     \
        if (e_ != OTAKIT_OK) {                                                                     \
            return e_;                                                                             \
        }                                                                                          \
    } while (0)

static otakit_err_t update_to(fx_dev_t *d, int img, uint32_t size_arg, uint64_t *switch_op,
                              tap_t *tap)
{
    const otakit_part_t *target = otakit_ota_next_update(&d->ota, NULL);
    TRY(fx_update(d, target, G.img[img], G.len[img], size_arg, 1024));
    if (switch_op) {
        *switch_op = tap->ops; /* the op that made the new selection durable */
    }
    return OTAKIT_OK;
}

static otakit_err_t run_update(fx_dev_t *d, uint64_t *sw, tap_t *tap, int img, uint32_t size_arg)
{
    TRY(power_on(d, OTAKIT_BOOT_PIN_NONE));
    TRY(update_to(d, img, size_arg, sw, tap));
    return power_on(d, OTAKIT_BOOT_PIN_NONE);
}

static otakit_err_t run_factory_update(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    return run_update(d, sw, tap, IMG_B, OTAKIT_OTA_SIZE_UNKNOWN);
}

static otakit_err_t run_ota0_to_ota1(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    return run_update(d, sw, tap, IMG_C, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES);
}

/* The new app's first boot is taken apart: the bootloader's decision (NEW becomes
 * PENDING_VERIFY), then, from *sw on, the app's run, which confirms. */
static otakit_err_t run_rollback_confirm(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    TRY(power_on(d, OTAKIT_BOOT_PIN_NONE));
    TRY(update_to(d, IMG_C, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES, NULL, NULL));
    TRY(fx_boot(d, OTAKIT_BOOT_PIN_NONE));
    *sw = tap->ops;
    otakit_err_t err = app_start(d);
    return err == 1 ? power_on(d, OTAKIT_BOOT_PIN_NONE) : err;
}

static otakit_err_t run_rollback_selftest_fail(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    return run_update(d, sw, tap, IMG_BAD, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES);
}

static otakit_err_t run_rollback_noconfirm(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    return run_update(d, sw, tap, IMG_NOCONFIRM, OTAKIT_OTA_SIZE_UNKNOWN);
}

/* The link drops halfway: the session is dropped and resumed at a KiB boundary below
 * the progress (as ESP-IDF's resumption restarts), without re-erasing. */
static otakit_err_t run_resume(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    TRY(power_on(d, OTAKIT_BOOT_PIN_NONE));
    const otakit_part_t *target = otakit_ota_next_update(&d->ota, NULL);
    const uint8_t *img = G.img[IMG_C];
    size_t len = G.len[IMG_C], half = len / 2 + 123;
    otakit_update_t u;
    TRY(otakit_update_begin(&u, &d->ota, target, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES));
    for (size_t off = 0; off < half; off += 1024) {
        TRY(otakit_update_write(&u, img + off, half - off < 1024 ? half - off : 1024));
    }
    otakit_update_abort(&u);
    uint32_t at = (uint32_t)(half / 1024 * 1024);
    TRY(otakit_update_resume(&u, &d->ota, target, OTAKIT_ERASE_SEQUENTIAL, 0, at));
    for (size_t off = at; off < len; off += 1024) {
        TRY(otakit_update_write(&u, img + off, len - off < 1024 ? len - off : 1024));
    }
    TRY(otakit_update_end(&u));
    TRY(otakit_ota_set_boot_verified(&d->ota, target, &u.proof));
    *sw = tap->ops;
    return power_on(d, OTAKIT_BOOT_PIN_NONE);
}

static otakit_err_t run_factory_reset(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    (void)sw;
    (void)tap;
    return power_on(d, OTAKIT_BOOT_PIN_FACTORY_RESET);
}

/* Secure Boot V2: the key digest the scenario's eFuse trusts. */
static uint8_t g_trusted[1][OTAKIT_SIG_KEY_DIGEST_LEN];

/* The bootloader's check (as firmware/bootloader does it with the device's crypto). */
static bool sig_check(void *ctx, const otakit_part_t *part, const otakit_image_info_t *image)
{
    fx_dev_t *d = ctx;
    otakit_sig_result_t r;
    return otakit_secure_verify(d->flash, part->offset, part->size, image->image_len,
                                (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN])g_trusted, 1, &r,
                                NULL) == OTAKIT_OK;
}

static void prep_signed(fx_dev_t *d)
{
    fx_flash_image(d, d->factory, G.img[IMG_SIGNED_A], G.len[IMG_SIGNED_A]);
}

/* esp_ota_end with CONFIG_SECURE_BOOT_V2_ENABLED: the image verifies, then its signature
 * (a read-only check), then the switch. */
static otakit_err_t run_signed_update(fx_dev_t *d, uint64_t *sw, tap_t *tap)
{
    TRY(power_on(d, OTAKIT_BOOT_PIN_NONE));
    const otakit_part_t *target = otakit_ota_next_update(&d->ota, NULL);
    const uint8_t *img = G.img[IMG_SIGNED_C];
    size_t len = G.len[IMG_SIGNED_C];
    otakit_update_t u;
    TRY(otakit_update_begin(&u, &d->ota, target, OTAKIT_OTA_WITH_SEQUENTIAL_WRITES));
    for (size_t off = 0; off < len; off += 1024) {
        otakit_err_t err = otakit_update_write(&u, img + off, len - off < 1024 ? len - off : 1024);
        if (err != OTAKIT_OK) {
            otakit_update_abort(&u);
            return err;
        }
    }
    TRY(otakit_update_end(&u));
    otakit_sig_result_t r;
    TRY(otakit_secure_verify(d->flash, target->offset, target->size, u.proof.image_len,
                             (const uint8_t(*)[OTAKIT_SIG_KEY_DIGEST_LEN])g_trusted, 1, &r, NULL));
    TRY(otakit_ota_set_boot_verified(&d->ota, target, &u.proof));
    *sw = tap->ops;
    return power_on(d, OTAKIT_BOOT_PIN_NONE);
}

static const scenario_t SCENARIOS[] = {
    {"1 update from factory and switch", false, IMG_A, IMG_B, true, prep_factory,
     run_factory_update, false, 0, false},
    {"2 ota_0 to ota_1", false, IMG_B, IMG_C, true, prep_ota0, run_ota0_to_ota1, false, 0, false},
    {"3 first boot with rollback, self-test, mark valid", true, IMG_B, IMG_C, false, prep_ota0,
     run_rollback_confirm, false, 1, true},
    {"4a failed self-test rolls back", true, IMG_B, IMG_BAD, false, prep_ota0,
     run_rollback_selftest_fail, false, 0, false},
    {"4b no confirmation rolls back", true, IMG_B, IMG_NOCONFIRM, false, prep_ota0,
     run_rollback_noconfirm, false, 0, false},
    {"5 resume after a dropped link", false, IMG_B, IMG_C, true, prep_ota0, run_resume, false, 0,
     false},
    {"6 factory reset", false, IMG_B, IMG_A, false, prep_ota0, run_factory_reset, false, 0, false},
    {"7 signed update (Secure Boot V2)", true, IMG_SIGNED_A, IMG_SIGNED_C, false, prep_signed,
     run_signed_update, true, 0, false},
    {"8 first boot with 2 boot attempts, mark valid", true, IMG_B, IMG_C, false, prep_ota0,
     run_rollback_confirm, false, 2, true},
    {"9 no confirmation, 3 boot attempts, rolls back", true, IMG_B, IMG_NOCONFIRM, false, prep_ota0,
     run_rollback_noconfirm, false, 3, false},
};
#define NSCEN (sizeof(SCENARIOS) / sizeof(SCENARIOS[0]))

/* --- the oracle: clean recovery outcome after each mutation of a clean run ----------- */

typedef struct {
    rig_t *scratch;
    const uint8_t *live;
    bool rollback;
    unsigned attempts;
    int *outcome;     /* indexed by op number; filled forward */
    uint8_t *changed; /* indexed by op number: 1 where the op wrote or erased */
    uint64_t cap, last;
} oracle_t;

static void oracle_hook(void *ctx, uint64_t op, uint32_t addr, size_t len)
{
    (void)addr;
    (void)len;
    oracle_t *o = ctx;
    if (op >= o->cap) {
        return;
    }
    for (uint64_t i = o->last + 1; i < op; i++) {
        o->outcome[i] = o->outcome[o->last];
    }
    o->changed[op] = 1;
    rig_restore(o->scratch, o->live);
    o->scratch->d->ota.rollback = o->rollback;
    o->scratch->d->boot_attempts = o->attempts;
    o->outcome[op] = recover(o->scratch->d);
    o->last = op;
}

static int expected_ok(const int *E, uint64_t k, otakit_nor_cut_mode_t mode, int got)
{
    switch (mode) {
    case OTAKIT_NOR_CUT_BEFORE:
        return got == E[k - 1];
    case OTAKIT_NOR_CUT_AFTER:
        return got == E[k];
    default:
        return got == E[k - 1] || got == E[k];
    }
}

static const char *MODE_NAMES[] = {"BEFORE", "AFTER", "TORN"};

static int parse_replay(const char *id, unsigned *scen, int *mode, uint64_t *k)
{
    char m[16];
    unsigned long long kk;
    if (id == NULL || sscanf(id, "%u:%15[A-Z]:%llu", scen, m, &kk) != 3) {
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(m, MODE_NAMES[i]) == 0) {
            *mode = i;
            *k = kk;
            return 1;
        }
    }
    return 0;
}

/* One cut: returns 0 when every check holds, else prints why. */
static int one_cut(rig_t *r, const scenario_t *s, unsigned si, int mode, uint64_t k, const int *E,
                   const uint8_t *init, uint64_t switch_op, uint64_t run_end, int *bricked,
                   int *wrong)
{
    fx_dev_t *d = r->d;
    rig_restore(r, init);
    d->ota.rollback = s->rollback;
    d->boot_attempts = s->attempts;
    otakit_nor_cut_at(d->nor, k, (otakit_nor_cut_mode_t)mode, (uint32_t)k * 7919u + si);
    uint64_t sw = 0;
    otakit_err_t err = s->run(d, &sw, &r->tap);
    int fail = 0;
    if (err == OTAKIT_OK || !otakit_nor_is_dead(d->nor)) {
        fprintf(stderr, "scenario %s: the run did not stop at op %llu (%s)\n", s->name,
                (unsigned long long)k, otakit_err_name(err));
        fail = 1;
    }
    int got = recover(d);
    if (got == BRICKED) {
        (*bricked)++;
        fprintf(stderr, "BRICKED: ");
        fail = 1;
    } else if (got != s->old_img && got != s->new_img) {
        (*wrong)++;
        fprintf(stderr, "WRONG IMAGE (%d): ", got);
        fail = 1;
    } else if (!expected_ok(E, k, (otakit_nor_cut_mode_t)mode, got)) {
        (*wrong)++;
        fprintf(stderr, "UNEXPECTED IMAGE (%d, clean recovery before/after gives %d/%d): ", got,
                E[k - 1], E[k]);
        fail = 1;
    } else if (s->plain_switch &&
               got != ((k < switch_op || (k == switch_op && mode != OTAKIT_NOR_CUT_AFTER))
                           ? s->old_img
                           : s->new_img)) {
        (*wrong)++;
        fprintf(stderr, "SWITCH NOT ATOMIC (got %d, switch at op %llu): ", got,
                (unsigned long long)switch_op);
        fail = 1;
    } else if (s->first_run_check && k > switch_op && k < run_end &&
               got != (s->attempts > 1 ? s->new_img : s->old_img)) {
        (*wrong)++;
        fprintf(stderr, "CUT IN THE FIRST RUN (ops %llu..%llu) GIVES %d: ",
                (unsigned long long)switch_op + 1, (unsigned long long)run_end - 1, got);
        fail = 1;
    }
    if (!fail && otakit_ota_get_boot(&d->ota) != d->ota.running) {
        fprintf(stderr, "OTADATA DISAGREES (selects %s, runs %s): ",
                otakit_ota_get_boot(&d->ota) ? otakit_ota_get_boot(&d->ota)->label : "-",
                d->ota.running->label);
        fail = 1;
    }
    if (!fail) {
        /* A following clean update succeeds and boots. */
        const otakit_part_t *next = otakit_ota_next_update(&d->ota, NULL);
        int follow = s->signed_apps ? IMG_SIGNED_D : IMG_D; /* Secure Boot boots signed apps only */
        if (fx_update(d, next, G.img[follow], G.len[follow], OTAKIT_OTA_WITH_SEQUENTIAL_WRITES,
                      4096) != OTAKIT_OK ||
            power_on(d, OTAKIT_BOOT_PIN_NONE) != OTAKIT_OK ||
            which_image(d, d->ota.running) != follow) {
            fprintf(stderr, "FOLLOW-UP UPDATE FAILED: ");
            fail = 1;
        }
    }
    if (fail) {
        fprintf(stderr,
                "scenario %s, cut %s at op %llu; replay: OTAKIT_POWERLOSS_REPLAY=%u:%s:%llu\n",
                s->name, MODE_NAMES[mode], (unsigned long long)k, si, MODE_NAMES[mode],
                (unsigned long long)k);
    }
    return fail;
}

static void sweep(unsigned si, const char *replay)
{
    const scenario_t *s = &SCENARIOS[si];
    unsigned rs = 0;
    int rmode = -1;
    uint64_t rk = 0;
    if (replay && (!parse_replay(replay, &rs, &rmode, &rk) || rs != si)) {
        return;
    }
    rig_t *r = rig_new();
    rig_t *scratch = rig_new();
    fx_dev_t *d = r->d;
    d->check_app = scratch->d->check_app = s->signed_apps ? sig_check : NULL;
    s->prepare(d);
    memcpy(r->init, otakit_nor_data(d->nor), G.flash_size);

    /* Clean run: count ops and compute the recovery outcome after every mutation. */
    oracle_t o = {scratch, otakit_nor_data(d->nor), s->rollback, s->attempts, NULL, NULL, 0, 0};
    o.cap = 1u << 16;
    o.outcome = calloc(o.cap, sizeof(int));
    o.changed = calloc(o.cap, 1);
    rig_restore(scratch, r->init);
    scratch->d->ota.rollback = s->rollback;
    scratch->d->boot_attempts = s->attempts;
    o.outcome[0] = recover(scratch->d);
    rig_restore(r, r->init);
    d->ota.rollback = s->rollback;
    d->boot_attempts = s->attempts;
    r->tap.after_mutation = oracle_hook;
    r->tap.hook_ctx = &o;
    uint64_t switch_op = 0;
    otakit_err_t err = s->run(d, &switch_op, &r->tap);
    r->tap.after_mutation = NULL;
    uint64_t n = r->tap.ops;
    for (uint64_t i = o.last + 1; i <= n && i < o.cap; i++) {
        o.outcome[i] = o.outcome[o.last];
    }
    CHECK_EQ(err, OTAKIT_OK);
    CHECK(n > 0); /* no counted operations would mean no cuts below, and a vacuous pass */
    CHECK(n < o.cap);
    CHECK_EQ(o.outcome[0], s->old_img); /* recovery before anything happens: the old app */
    if (s->plain_switch || s->first_run_check) {
        CHECK(switch_op > 0);
    }
    /* The first run: from its start to the app's first flash change (its confirmation). */
    uint64_t run_end = switch_op + 1;
    while (run_end < n && !o.changed[run_end]) {
        run_end++;
    }
    if (s->first_run_check) {
        CHECK(run_end > switch_op + 1); /* the app reads before it confirms: cuts to check */
    }
    /* The clean run ends on the expected image. */
    bool rolls_back = s->new_img == IMG_BAD || s->new_img == IMG_NOCONFIRM;
    CHECK_EQ(which_image(d, d->ota.running), rolls_back ? s->old_img : s->new_img);

    for (int mode = 0; mode < 3; mode++) {
        if (rmode >= 0 && mode != rmode) {
            continue;
        }
        int bricked = 0, wrong = 0, failed = 0;
        uint64_t cuts = 0;
        for (uint64_t k = 1; k <= n; k++) {
            if (rmode >= 0 && k != rk) {
                continue;
            }
            d->verbose = replay != NULL;
            failed += one_cut(r, s, si, mode, k, o.outcome, r->init, switch_op, run_end, &bricked,
                              &wrong);
            cuts++;
        }
        printf("scenario %-50s %-6s: %llu cuts, %d bricked, %d wrong image\n", s->name,
               MODE_NAMES[mode], (unsigned long long)cuts, bricked, wrong);
        CHECK_EQ(failed, 0);
    }
    free(o.outcome);
    free(o.changed);
    rig_free(scratch);
    rig_free(r);
}

static const char *g_replay;

#define SWEEP_TEST(i)                                                                              \
    static void test_sweep_##i(void)                                                               \
    {                                                                                              \
        sweep(i, g_replay);                                                                        \
    }
SWEEP_TEST(0)
SWEEP_TEST(1)
SWEEP_TEST(2)
SWEEP_TEST(3)
SWEEP_TEST(4)
SWEEP_TEST(5)
SWEEP_TEST(6)
SWEEP_TEST(7)
SWEEP_TEST(8)
SWEEP_TEST(9)

/* Five cuts in a row at random points of successive updates, then a clean boot. */
static void test_random_cuts(void)
{
    if (g_replay && strncmp(g_replay, "seed:", 5) != 0) {
        return;
    }
    unsigned seeds = getenv("OTAKIT_POWERLOSS_LONG") ? 3000 : 150;
    unsigned only = 0;
    if (g_replay) {
        only = (unsigned)strtoul(g_replay + 5, NULL, 10);
    }
    rig_t *r = rig_new();
    fx_dev_t *d = r->d;
    prep_ota0(d);
    memcpy(r->init, otakit_nor_data(d->nor), G.flash_size);
    int bad = 0;
    unsigned ran = 0;
    for (unsigned seed = 1; seed <= seeds; seed++) {
        if (only && seed != only) {
            continue;
        }
        ran++;
        uint32_t x = seed * 0x9E3779B9u;
        rig_restore(r, r->init);
        d->ota.rollback = seed % 2 == 0;
        d->boot_attempts = seed / 2 % 3 + 1; /* 1..3 */
        const int imgs[3] = {IMG_C, IMG_D, IMG_B};
        for (int cut = 0; cut < 5; cut++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            uint64_t k = 1 + x % 900;
            otakit_nor_cut_at(d->nor, k, (otakit_nor_cut_mode_t)(x % 3), x);
            if (power_on(d, OTAKIT_BOOT_PIN_NONE) == OTAKIT_OK) {
                update_to(d, imgs[cut % 3],
                          (x & 4) ? OTAKIT_OTA_WITH_SEQUENTIAL_WRITES : OTAKIT_OTA_SIZE_UNKNOWN,
                          NULL, NULL);
                power_on(d, OTAKIT_BOOT_PIN_NONE);
            }
            otakit_nor_reboot(d->nor);
        }
        int got = recover(d);
        bool ok = got >= 0 && otakit_ota_get_boot(&d->ota) == d->ota.running;
        if (ok) {
            const otakit_part_t *next = otakit_ota_next_update(&d->ota, NULL);
            ok = fx_update(d, next, G.img[IMG_A], G.len[IMG_A], OTAKIT_OTA_SIZE_UNKNOWN, 1024) ==
                     OTAKIT_OK &&
                 power_on(d, OTAKIT_BOOT_PIN_NONE) == OTAKIT_OK &&
                 which_image(d, d->ota.running) == IMG_A;
        }
        if (!ok) {
            bad++;
            fprintf(stderr, "random cuts, seed %u: %s; replay: OTAKIT_POWERLOSS_REPLAY=seed:%u\n",
                    seed,
                    got < 0 ? "bricked or unknown image" : "otadata disagrees or no clean update",
                    seed);
        }
    }
    printf("random: %u seeds x 5 cuts, %d failed\n", ran, bad);
    CHECK_EQ(bad, 0);
    rig_free(r);
}

/* The newest slot is damaged, boot falls back; the next update must never touch the
 * otadata copy that selects the running app, whatever the cut. */
static void test_fallback_then_update(void)
{
    if (g_replay && strncmp(g_replay, "fallback:", 9) != 0) {
        return;
    }
    rig_t *r = rig_new();
    fx_dev_t *d = r->d;
    prep_ota0(d);
    fx_flash_image(d, fx_slot(d, 1), G.img[IMG_C], G.len[IMG_C]);
    put(d, 1, 2, OTAKIT_OTA_IMG_VALID);
    uint8_t z = 0;
    otakit_flash_write(d->flash, fx_slot(d, 1)->offset + 0x10080, &z, 1); /* damage ota_1 */
    memcpy(r->init, otakit_nor_data(d->nor), G.flash_size);
    CHECK_EQ(power_on(d, OTAKIT_BOOT_PIN_NONE), OTAKIT_OK);
    CHECK(d->ota.running == fx_slot(d, 0));
    CHECK(otakit_ota_get_boot(&d->ota) == fx_slot(d, 1));
    rig_restore(r, r->init);
    r->tap.guard_addr = d->otadata->offset; /* copy 0 selects the running ota_0 */
    r->tap.guard_len = 0x1000;
    r->tap.guard_hit = 0;
    CHECK_EQ(run_update(d, NULL, &r->tap, IMG_D, OTAKIT_OTA_SIZE_UNKNOWN), OTAKIT_OK);
    uint64_t n = r->tap.ops;
    CHECK(n > 0); /* the cuts below are 1..n */
    CHECK_EQ(which_image(d, d->ota.running), IMG_D);
    int bad = 0;
    for (int mode = 0; mode < 3; mode++) {
        for (uint64_t k = 1; k <= n; k++) {
            rig_restore(r, r->init);
            otakit_nor_cut_at(d->nor, k, (otakit_nor_cut_mode_t)mode, (uint32_t)k);
            run_update(d, NULL, &r->tap, IMG_D, OTAKIT_OTA_SIZE_UNKNOWN);
            int got = recover(d);
            if (got != IMG_B && got != IMG_D) {
                bad++;
                fprintf(stderr, "fallback then update: cut %s at %llu gives %d\n", MODE_NAMES[mode],
                        (unsigned long long)k, got);
            }
        }
    }
    printf(
        "fallback then update: %llu cuts x 3 modes, %d bad, copy of the running app touched: %s\n",
        (unsigned long long)n, bad, r->tap.guard_hit ? "YES" : "never");
    CHECK_EQ(bad, 0);
    CHECK(!r->tap.guard_hit);
    rig_free(r);
}

/* --- NVS ------------------------------------------------------------------------------
 * Each scenario prepares a partition, then runs a list of set/erase calls. The clean run
 * records which flash operations each call made; a cut at op k leaves the calls that
 * ended before k done and the call in progress either done or not. After the cut, init
 * must succeed and every key must read a value it may hold: its value after the calls
 * done, or (for the key of the call in progress) the new one. "corrupt": init failed, a
 * read failed, a value that is neither, or the partition takes no new write; "lost": a
 * key that may only be present reads as absent. */

#include "otakit/nvs.h"

#define NVS_KEYS 6
#define NVS_MAX_OPS 600

typedef struct {
    uint8_t key;  /* index into the scenario's keys */
    uint16_t v;   /* value version; 0 erases */
    uint16_t len; /* strings (with the NUL) and blobs */
    uint16_t rep; /* repeat with v, v+1, ... (0 = once) */
} nvs_op_t;

typedef struct {
    const char *name;
    uint32_t pages;
    const char *keys[NVS_KEYS];
    otakit_nvs_type_t types[NVS_KEYS];
    nvs_op_t prep[8];
    nvs_op_t run[8];
} nvs_scn_t;

#define U8 OTAKIT_NVS_U8
#define U32 OTAKIT_NVS_U32
#define I64 OTAKIT_NVS_I64
#define STR OTAKIT_NVS_STR
#define BLOB OTAKIT_NVS_BLOB
static const nvs_scn_t NVS_SCN[] = {
    {"nvs: set integers",
     3,
     {"a", "b", "c", "d"},
     {U8, U32, I64, U32},
     {{0, 1, 0, 0}, {1, 1, 0, 0}, {2, 1, 0, 0}},
     {{0, 2, 0, 0}, {1, 2, 0, 0}, {2, 2, 0, 0}, {3, 1, 0, 0}, {1, 3, 0, 0}}},
    {"nvs: set strings",
     3,
     {"s1", "s2", "n"},
     {STR, STR, U32},
     {{0, 1, 10, 0}, {2, 1, 0, 0}},
     {{0, 2, 100, 0}, {1, 1, 40, 0}, {0, 3, 7, 0}, {2, 2, 0, 0}}},
    {"nvs: blob spanning pages",
     5,
     {"bl", "n", "small"},
     {BLOB, U32, BLOB},
     {{0, 1, 5000, 0}, {1, 1, 0, 0}},
     {{0, 2, 6000, 0}, {1, 2, 0, 0}, {2, 1, 20, 0}, {0, 3, 4500, 0}}},
    {"nvs: erase key",
     4,
     {"a", "s", "bl", "keep"},
     {U32, STR, BLOB, U32},
     {{0, 1, 0, 0}, {1, 1, 50, 0}, {2, 1, 4200, 0}, {3, 1, 0, 0}},
     {{0, 0, 0, 0}, {1, 0, 0, 0}, {2, 0, 0, 0}}},
    {"nvs: writes that reclaim pages",
     3,
     {"n", "s", "keep", "bl"},
     {U32, STR, U32, BLOB},
     {{2, 1, 0, 0}, {3, 1, 300, 0}, {0, 1, 0, 150}, {1, 1, 60, 30}},
     {{0, 500, 0, 60}, {1, 500, 60, 20}, {3, 2, 300, 0}}},
};
#undef U8
#undef U32
#undef I64
#undef STR
#undef BLOB

typedef struct {
    otakit_nor_t *nor;
    tap_t tap;
    otakit_nvs_t nvs;
    otakit_nvs_page_t pages[16];
    uint32_t size;
    nvs_op_t ops[NVS_MAX_OPS]; /* the run, repeats expanded */
    size_t nops;
    uint64_t start[NVS_MAX_OPS], end[NVS_MAX_OPS]; /* op counts around each call */
    int verbose;
} nvs_rig_t;

static void nvs_content(const nvs_scn_t *s, unsigned k, uint16_t v, uint16_t len, uint8_t *out,
                        size_t *n)
{
    size_t isz = otakit_nvs_int_size(s->types[k]);
    if (isz) {
        uint64_t x = (uint64_t)v * 0x9E3779B97F4A7C15ull + k;
        for (size_t i = 0; i < isz; i++) {
            out[i] = (uint8_t)(x >> (8 * i));
        }
        *n = isz;
    } else if (s->types[k] == OTAKIT_NVS_STR) {
        for (size_t i = 0; i + 1 < len; i++) {
            out[i] = (uint8_t)('a' + (i + v * 7u + k) % 26);
        }
        out[len - 1] = 0;
        *n = len;
    } else {
        for (size_t i = 0; i < len; i++) {
            out[i] = (uint8_t)(i * 13 + v * 101u + k * 7);
        }
        *n = len;
    }
}

static otakit_err_t nvs_apply(nvs_rig_t *r, const nvs_scn_t *s, const nvs_op_t *op)
{
    uint8_t ns;
    otakit_err_t err = otakit_nvs_ns_open(&r->nvs, "pl", true, &ns);
    if (err != OTAKIT_OK) {
        return err;
    }
    if (op->v == 0) {
        return otakit_nvs_erase_key(&r->nvs, ns, s->keys[op->key]);
    }
    static uint8_t buf[8192];
    size_t n;
    nvs_content(s, op->key, op->v, op->len, buf, &n);
    return otakit_nvs_set(&r->nvs, ns, s->keys[op->key], s->types[op->key], buf, n);
}

static size_t nvs_expand(const nvs_op_t *in, size_t cap, nvs_op_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < cap && (in[i].v || in[i].len || in[i].rep || in[i].key); i++) {
        unsigned rep = in[i].rep ? in[i].rep : 1;
        for (unsigned j = 0; j < rep && n < NVS_MAX_OPS; j++) {
            out[n] = in[i];
            out[n].v = in[i].v ? (uint16_t)(in[i].v + j) : 0;
            n++;
        }
    }
    return n;
}

static otakit_err_t nvs_boot(nvs_rig_t *r)
{
    return otakit_nvs_init(&r->nvs, &r->tap.flash, 0, r->size, r->pages, 16, false);
}

/* The state (value version and length) a key may hold: after the calls done before op k,
 * plus the new state of the call in progress. Returns how many (1 or 2). */
static int nvs_allowed(const nvs_rig_t *r, const nvs_scn_t *s, unsigned key, const nvs_op_t *prep,
                       size_t nprep, uint64_t k, nvs_op_t out[2])
{
    nvs_op_t cur = {(uint8_t)key, 0, 0, 0};
    for (size_t i = 0; i < nprep; i++) {
        if (prep[i].key == key) {
            cur = prep[i];
        }
    }
    int n = 1;
    for (size_t i = 0; i < r->nops; i++) {
        if (r->ops[i].key != key) {
            continue;
        }
        if (r->end[i] < k) {
            cur = r->ops[i];
        } else if (r->start[i] < k) {
            out[1] = r->ops[i];
            n = 2;
            break;
        }
    }
    out[0] = cur;
    (void)s;
    return n;
}

/* Reads every key: 0 fine, 1 corrupt, 2 lost. */
static int nvs_check(nvs_rig_t *r, const nvs_scn_t *s, const nvs_op_t *prep, size_t nprep,
                     uint64_t k)
{
    otakit_err_t err =
        otakit_nvs_init(&r->nvs, otakit_nor_flash(r->nor), 0, r->size, r->pages, 16, false);
    if (err != OTAKIT_OK) {
        if (r->verbose) {
            fprintf(stderr, "init after the cut: %s\n", otakit_err_name(err));
        }
        return 1;
    }
    uint8_t ns;
    bool have_ns = otakit_nvs_ns_open(&r->nvs, "pl", false, &ns) == OTAKIT_OK;
    static uint8_t got[8192], want[8192];
    for (unsigned key = 0; key < NVS_KEYS && s->keys[key]; key++) {
        nvs_op_t ok[2];
        int nok = nvs_allowed(r, s, key, prep, nprep, k, ok);
        otakit_nvs_type_t t = s->types[key];
        size_t len = otakit_nvs_int_size(t);
        err = OTAKIT_ERR_NVS_NOT_FOUND;
        if (have_ns && len == 0) {
            err = otakit_nvs_get_size(&r->nvs, ns, s->keys[key], t, &len);
        }
        if (have_ns && (err == OTAKIT_OK || otakit_nvs_int_size(t))) {
            err = otakit_nvs_get(&r->nvs, ns, s->keys[key], t, got, len);
        }
        bool absent = err == OTAKIT_ERR_NVS_NOT_FOUND;
        if (err != OTAKIT_OK && !absent) {
            if (r->verbose) {
                fprintf(stderr, "key %s: %s\n", s->keys[key], otakit_err_name(err));
            }
            return 1;
        }
        bool match = false, may_be_absent = false;
        for (int i = 0; i < nok; i++) {
            if (ok[i].v == 0) {
                may_be_absent = true;
                match |= absent;
                continue;
            }
            size_t wn;
            nvs_content(s, key, ok[i].v, ok[i].len, want, &wn);
            match |= !absent && wn == len && memcmp(want, got, wn) == 0;
        }
        if (!match) {
            if (r->verbose) {
                fprintf(stderr, "key %s: %s (allowed versions %u%s%u)\n", s->keys[key],
                        absent ? "absent" : "a value it never had", ok[0].v, nok > 1 ? " or " : "",
                        nok > 1 ? ok[1].v : 0);
            }
            return absent && !may_be_absent ? 2 : 1;
        }
    }
    /* The partition takes new writes of every key and keeps them (a duplicate left
     * behind by the recovery would show here: the next write replaces only one copy). */
    nvs_op_t last[NVS_KEYS];
    size_t nkeys = 0;
    for (unsigned key = 0; key < NVS_KEYS && s->keys[key]; key++, nkeys++) {
        nvs_op_t op = {(uint8_t)key, (uint16_t)(900 + key),
                       (uint16_t)(s->types[key] == OTAKIT_NVS_BLOB ? 100 : 20), 0};
        last[key] = op;
        if (nvs_apply(r, s, &op) != OTAKIT_OK) {
            if (r->verbose) {
                fprintf(stderr, "key %s: no new write after recovery\n", s->keys[key]);
            }
            return 1;
        }
    }
    if (otakit_nvs_init(&r->nvs, otakit_nor_flash(r->nor), 0, r->size, r->pages, 16, false) !=
            OTAKIT_OK ||
        otakit_nvs_ns_open(&r->nvs, "pl", false, &ns) != OTAKIT_OK) {
        return 1;
    }
    for (size_t key = 0; key < nkeys; key++) {
        size_t wn, len = otakit_nvs_int_size(s->types[key]);
        nvs_content(s, (unsigned)key, last[key].v, last[key].len, want, &wn);
        err = len ? OTAKIT_OK : otakit_nvs_get_size(&r->nvs, ns, s->keys[key], s->types[key], &len);
        if (err == OTAKIT_OK) {
            err = otakit_nvs_get(&r->nvs, ns, s->keys[key], s->types[key], got, len);
        }
        if (err != OTAKIT_OK || len != wn || memcmp(got, want, wn) != 0) {
            if (r->verbose) {
                fprintf(stderr, "key %s: the write after recovery reads back wrong (%s)\n",
                        s->keys[key], otakit_err_name(err));
            }
            return 1;
        }
    }
    return 0;
}

static void nvs_sweep(unsigned si, const char *replay)
{
    const nvs_scn_t *s = &NVS_SCN[si];
    int rmode = -1;
    unsigned long long rk = 0;
    unsigned rs = 0, rseed = 0;
    if (replay != NULL && strcmp(replay, "nvs") == 0) {
        replay = NULL; /* OTAKIT_POWERLOSS_REPLAY=nvs: every NVS sweep, nothing else */
    }
    if (replay != NULL) {
        char m[8];
        if (sscanf(replay, "nvs%u:%7[A-Z]:%llu:%u", &rs, m, &rk, &rseed) < 3 || rs != si) {
            return;
        }
        for (int i = 0; i < 3; i++) {
            rmode = strcmp(m, MODE_NAMES[i]) == 0 ? i : rmode;
        }
    }
    nvs_rig_t *r = calloc(1, sizeof(*r));
    r->verbose = replay != NULL;
    r->size = s->pages * OTAKIT_NVS_PAGE_SIZE;
    CHECK_EQ(otakit_nor_open_mem(&r->nor, r->size, OTAKIT_NOR_STRICT), OTAKIT_OK);
    r->tap.nor = otakit_nor_flash(r->nor);
    r->tap.flash = *r->tap.nor;
    r->tap.flash.ctx = &r->tap;
    r->tap.flash.read = tap_read;
    r->tap.flash.write = tap_write;
    r->tap.flash.erase = tap_erase;

    nvs_op_t *prep = calloc(NVS_MAX_OPS, sizeof(*prep));
    size_t nprep = nvs_expand(s->prep, 8, prep);
    CHECK_EQ(nvs_boot(r), OTAKIT_OK);
    for (size_t i = 0; i < nprep; i++) {
        CHECK_EQ(nvs_apply(r, s, &prep[i]), OTAKIT_OK);
    }
    uint8_t *base = malloc(r->size);
    memcpy(base, otakit_nor_data(r->nor), r->size);

    /* clean run */
    r->nops = nvs_expand(s->run, 8, r->ops);
    r->tap.ops = 0;
    CHECK_EQ(nvs_boot(r), OTAKIT_OK);
    for (size_t i = 0; i < r->nops; i++) {
        r->start[i] = r->tap.ops;
        CHECK_EQ(nvs_apply(r, s, &r->ops[i]), OTAKIT_OK);
        r->end[i] = r->tap.ops;
    }
    uint64_t n = r->tap.ops;
    CHECK(n > 0);
    CHECK_EQ(nvs_check(r, s, prep, nprep, n + 1), 0); /* the clean end: every key new */
    otakit_nor_stats_t st;
    otakit_nor_get_stats(r->nor, &st);

    for (int mode = 0; mode < 3; mode++) {
        if (rmode >= 0 && mode != rmode) {
            continue;
        }
        int corrupt = 0, lost = 0;
        uint64_t cuts = 0;
        /* torn operations tear differently with each seed: the long run tries 16 */
        unsigned seeds =
            mode == OTAKIT_NOR_CUT_TORN && getenv("OTAKIT_POWERLOSS_LONG") != NULL ? 16 : 1;
        if (rmode >= 0) {
            seeds = rseed + 1;
        }
        for (uint64_t kk = 1; kk <= n * seeds; kk++) {
            uint64_t k = (kk - 1) % n + 1;
            unsigned seed = (unsigned)((kk - 1) / n);
            if (rmode >= 0 && (k != rk || seed != rseed)) {
                continue;
            }
            otakit_nor_reboot(r->nor);
            memcpy(otakit_nor_data(r->nor), base, r->size);
            r->tap.ops = 0;
            otakit_nor_cut_at(r->nor, k, (otakit_nor_cut_mode_t)mode,
                              (uint32_t)(k * 2654435761u + (unsigned)mode + seed * 0x9E3779B9u));
            otakit_err_t err = nvs_boot(r);
            for (size_t i = 0; err == OTAKIT_OK && i < r->nops; i++) {
                err = nvs_apply(r, s, &r->ops[i]);
            }
            bool dead = otakit_nor_is_dead(r->nor);
            otakit_nor_reboot(r->nor);
            int res = dead ? nvs_check(r, s, prep, nprep, k) : 1;
            if (!dead && r->verbose) {
                fprintf(stderr, "the run did not stop at op %llu\n", (unsigned long long)k);
            }
            corrupt += res == 1;
            lost += res == 2;
            if (res != 0) {
                fprintf(
                    stderr,
                    "%s: cut %s at op %llu: %s; replay: OTAKIT_POWERLOSS_REPLAY=nvs%u:%s:%llu:%u\n",
                    s->name, MODE_NAMES[mode], (unsigned long long)k, res == 1 ? "corrupt" : "lost",
                    si, MODE_NAMES[mode], (unsigned long long)k, seed);
            }
            cuts++;
        }
        printf("scenario %-50s %-6s: %llu cuts, %d corrupt, %d lost\n", s->name, MODE_NAMES[mode],
               (unsigned long long)cuts, corrupt, lost);
        CHECK_EQ(corrupt, 0);
        CHECK_EQ(lost, 0);
    }
    free(base);
    free(prep);
    otakit_nor_close(r->nor);
    free(r);
}

#define NVS_SWEEP_TEST(i)                                                                          \
    static void test_nvs_sweep_##i(void)                                                           \
    {                                                                                              \
        if (g_replay == NULL || strncmp(g_replay, "nvs", 3) == 0) {                                \
            nvs_sweep(i, g_replay);                                                                \
        }                                                                                          \
    }
NVS_SWEEP_TEST(0)
NVS_SWEEP_TEST(1)
NVS_SWEEP_TEST(2)
NVS_SWEEP_TEST(3)
NVS_SWEEP_TEST(4)

/* Sign IMG_SIGNED_A, _C and _D with one new RSA-3072 key, the one the eFuse trusts. */
static void sign_images(void)
{
    otakit_sbv2_key_t *key;
    if (otakit_sbv2_key_generate(OTAKIT_SIG_RSA3072, &key) != OTAKIT_OK ||
        otakit_sbv2_key_digest(key, g_trusted[0]) != OTAKIT_OK) {
        fprintf(stderr, "cannot make a signing key\n");
        exit(2);
    }
    const int which[] = {IMG_SIGNED_A, IMG_SIGNED_C, IMG_SIGNED_D};
    for (size_t i = 0; i < 3; i++) {
        int k = which[i];
        uint8_t *out;
        size_t out_len;
        if (otakit_sbv2_sign_image(key, G.img[k], G.len[k], (uint32_t)G.len[k], false, &out,
                                   &out_len, NULL) != OTAKIT_OK) {
            fprintf(stderr, "cannot sign image %d\n", k);
            exit(2);
        }
        free(G.img[k]);
        G.img[k] = out;
        G.len[k] = out_len;
    }
    otakit_sbv2_key_free(key);
}

int main(void)
{
    bool lng = getenv("OTAKIT_POWERLOSS_LONG") != NULL;
    g_replay = getenv("OTAKIT_POWERLOSS_REPLAY");
    G.verbose = g_replay ? 2 : 0;
    G.slot_size = lng ? 0x80000 : 0x20000;
    G.flash_size = lng ? 0x400000 : 0x100000;
    size_t prog = lng ? 0x30000 : 0x6000;
    const char *proj[IMG_COUNT] = {"factory", "app", "app", "selftest-fail", "noconfirm", "app",
                                   "factory", "app", "app"};
    const char *ver[IMG_COUNT] = {"1.0", "2.0",        "3.0",        "4.0-bad",   "5.0-noconfirm",
                                  "6.0", "1.0-signed", "3.0-signed", "6.0-signed"};
    for (int i = 0; i < IMG_COUNT; i++) {
        G.img[i] =
            fx_image(proj[i], ver[i], 0, prog + (size_t)i * 1000, (uint32_t)i + 1, &G.len[i]);
    }
    sign_images();
    RUN(test_sweep_0);
    RUN(test_sweep_1);
    RUN(test_sweep_2);
    RUN(test_sweep_3);
    RUN(test_sweep_4);
    RUN(test_sweep_5);
    RUN(test_sweep_6);
    RUN(test_sweep_7);
    RUN(test_sweep_8);
    RUN(test_sweep_9);
    RUN(test_random_cuts);
    RUN(test_fallback_then_update);
    RUN(test_nvs_sweep_0);
    RUN(test_nvs_sweep_1);
    RUN(test_nvs_sweep_2);
    RUN(test_nvs_sweep_3);
    RUN(test_nvs_sweep_4);
    for (int i = 0; i < IMG_COUNT; i++) {
        free(G.img[i]);
    }
    return harness_done();
}
