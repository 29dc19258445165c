/* The fleet simulator (sim.h): device model, DDI client state machine, one libcurl multi
 * event loop over a virtual clock. */
#include "sim.h"

#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ddi_device.h"
#include "image_build.h"
#include "otakit/boot.h"
#include "otakit/hash.h"
#include "otakit/nvs.h"
#include "otakit/ota.h"
#include "otakit/otadata.h"
#include "otakit/ptable.h"
#include "otakit/update.h"
#include "sflash.h"

/* ---- The factory image: ESP-IDF's two-OTA layout on a 4 MB chip. ------------------- */

#define FLASH_SIZE 0x400000u
#define NVS_OFFSET 0x9000u
#define NVS_SIZE 0x4000u
#define NVS_PAGES (NVS_SIZE / OTAKIT_NVS_PAGE_SIZE)
#define SLOT_SIZE 0x100000u
#define FACTORY_VERSION "factory"

/* What a device keeps in NVS (namespace "ddi"): the action it works on and how far it
 * got, so that a power cut resumes instead of starting again. */
enum {
    PH_IDLE = 0,
    PH_DOWNLOADING, /* "act" being downloaded, "off" bytes durable in the slot */
    PH_INSTALLED,   /* set_boot done to slot "slot"; reboot into it */
    PH_ROLLBACK,    /* the self-test failed: report failure once the old app runs */
    PH_REPORT_OK,   /* confirmed: report success */
    PH_REPORT_FAIL, /* the update failed before install: report failure */
};

/* Device states: what its next event does. */
enum {
    ST_BOOT = 0,
    ST_SELFTEST,
    ST_POLL,
    ST_DEPLOY,
    ST_DOWNLOAD,
    ST_FEEDBACK, /* send fb_* */
    ST_CONFIG,
    ST_CANCEL,
    ST_STOPPED,
};

/* Request kinds. */
enum { RQ_POLL, RQ_DEPLOY, RQ_DOWNLOAD, RQ_FEEDBACK, RQ_CONFIG, RQ_CANCEL };

/* A download in progress (allocated only while a device is updating). */
typedef struct dl {
    otakit_update_t u;
    otakit_hash_ctx_t sha;
    bool session, hashing;
    const otakit_part_t *slot;
    char *url;
    uint8_t sha256[32];
    uint32_t size;
    uint32_t saved;    /* offset last saved to NVS */
    unsigned failures; /* attempts in a row without progress */
    char version[32];  /* the chunk's version */
} dl_t;

typedef struct dev {
    fleet_flash_t fl;
    otakit_ota_t ota;
    otakit_nvs_t nvs;
    otakit_nvs_page_t pages[NVS_PAGES];
    uint8_t ns;
    uint8_t state, final, phase;
    bool config_sent, nvs_ok, timed;
    bool bad_app; /* runs the --bad-version app: its self-test fails */
    bool confirm; /* its last action is closed: one more poll to see the server took it */
    bool resend;  /* the final feedback in flight is sent again */
    uint32_t index;
    uint32_t rng;
    double t;    /* the device's clock, virtual seconds */
    double rate; /* link bytes per virtual second */
    uint32_t sleep_s;
    uint64_t action, done_action;
    unsigned closed; /* actions closed */
    unsigned errors; /* request failures in a row */
    double t_seen;   /* virtual time the current action was first seen */
    dl_t *dl;
    /* The feedback to send (ST_FEEDBACK). */
    uint8_t fb_exec, fb_finished, fb_cnt, fb_final;
    const char *fb_detail;
    /* The observer's record (not the device's memory): what may legitimately boot. */
    char ver_old[32], ver_new[32];
    uint32_t fetched_to; /* highest artifact offset received for this action */
} sdev_t;

typedef struct req {
    CURL *easy;
    struct curl_slist *hdrs;
    sdev_t *d;
    int kind;
    bool busy;
    char *body;
    size_t body_len, body_cap;
    char *post;
    uint64_t got;   /* download bytes accepted this transfer */
    uint64_t skip;  /* bytes to discard first (the server ignored our Range) */
    uint64_t limit; /* drop the link after this many bytes (0: no drop) */
    uint32_t start; /* the Range start asked for */
    bool dropped, flash_failed, range_ok;
    long status;
} req_t;

typedef struct sim {
    const fleet_cfg_t *cfg;
    fleet_result_t *res;
    fleet_store_t *store;
    otakit_ptable_t table;
    const otakit_part_t *factory;
    sdev_t *devs;
    uint32_t *heap;
    size_t heap_n;
    req_t *reqs;
    unsigned inflight;
    CURLM *multi;
    double now;
    double wall0;
    uint64_t ops_estimate;
    double *times;
    otakit_boot_result_t boot;   /* scratch: one boot at a time */
    otakit_ddi_deployment_t dep; /* scratch */
    char auth[512];
    unsigned running; /* devices not stopped */
    double last_draw;
} sim_t;

static const char *const FINAL_NAMES[FLEET_STATE_COUNT] = {"pending", "updated",  "rolled_back",
                                                           "failed",  "canceled", "bricked"};

const char *fleet_final_name(fleet_final_t s)
{
    return (unsigned)s < FLEET_STATE_COUNT ? FINAL_NAMES[s] : "?";
}

void fleet_cfg_init(fleet_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->devices = 10;
    cfg->tenant = "DEFAULT";
    cfg->id_prefix = "sim-";
    cfg->duration = 3600.0;
    cfg->actions = 1;
    cfg->rate = 100.0 * 1024.0;
    cfg->boot_s = 1.5;
    cfg->selftest_s = 2.0;
    cfg->jitter = 0.2;
    cfg->first_poll_s = 30.0;
    cfg->concurrency = 64;
    cfg->seed = 1;
}

int fleet_parse_faults(const char *spec, fleet_cfg_t *cfg, char *err, size_t err_len)
{
    char buf[256];
    if (strlen(spec) >= sizeof(buf)) {
        snprintf(err, err_len, "fault mix too long");
        return -1;
    }
    strcpy(buf, spec);
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        char *end = NULL;
        double p = eq != NULL ? strtod(eq + 1, &end) : -1.0;
        if (eq == NULL || end == eq + 1 || *end != '\0' || !(p >= 0.0 && p <= 1.0)) {
            snprintf(err, err_len, "'%s': want NAME=P with P a probability in [0, 1]", item);
            return -1;
        }
        *eq = '\0';
        if (strcmp(item, "cut") == 0) {
            cfg->p_cut = p;
        } else if (strcmp(item, "link") == 0) {
            cfg->p_link = p;
        } else if (strcmp(item, "selftest") == 0) {
            cfg->p_selftest = p;
        } else {
            snprintf(err, err_len, "'%s': unknown fault (cut, link, selftest)", item);
            return -1;
        }
    }
    return 0;
}

/* ---- Small helpers. -------------------------------------------------------------- */

/* Copy a string into a fixed field, cut to fit (versions are 32 bytes on the device). */
static void set_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static double rnd01(uint32_t *x)
{
    return (double)(rnd(x) >> 8) / (double)(1u << 24);
}

static void dev_log(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt,
                    va_list ap)
{
    const sdev_t *d = ctx;
    fprintf(stderr, "[%05u %9.2f] %c %s: ", (unsigned)d->index, d->t, otakit_log_letter(level),
            tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void say(sim_t *s, const sdev_t *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(sim_t *s, const sdev_t *d, const char *fmt, ...)
{
    if (!s->cfg->verbose) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%05u %9.2f] fleet: ", (unsigned)d->index, d->t);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- The event heap (by device clock). ------------------------------------------- */

static bool earlier(const sim_t *s, uint32_t a, uint32_t b)
{
    return s->devs[a].t < s->devs[b].t || (s->devs[a].t == s->devs[b].t && a < b);
}

static void heap_push(sim_t *s, uint32_t i)
{
    size_t k = s->heap_n++;
    s->heap[k] = i;
    while (k > 0 && earlier(s, s->heap[k], s->heap[(k - 1) / 2])) {
        uint32_t t = s->heap[k];
        s->heap[k] = s->heap[(k - 1) / 2];
        s->heap[(k - 1) / 2] = t;
        k = (k - 1) / 2;
    }
}

static uint32_t heap_pop(sim_t *s)
{
    uint32_t top = s->heap[0];
    s->heap[0] = s->heap[--s->heap_n];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < s->heap_n && earlier(s, s->heap[l], s->heap[m])) {
            m = l;
        }
        if (r < s->heap_n && earlier(s, s->heap[r], s->heap[m])) {
            m = r;
        }
        if (m == k) {
            break;
        }
        uint32_t t = s->heap[k];
        s->heap[k] = s->heap[m];
        s->heap[m] = t;
        k = m;
    }
    return top;
}

static void sched(sim_t *s, sdev_t *d, double at, int state)
{
    d->t = at;
    d->state = (uint8_t)state;
    fleet_flash_compact(&d->fl);
    heap_push(s, d->index);
}

/* ---- NVS state. ------------------------------------------------------------------ */

/* true when a flash operation failed because the power was cut (the device reboots). */
static bool cut(const sdev_t *d)
{
    return d->fl.dead;
}

static otakit_err_t nvs_put_u64(sdev_t *d, const char *key, uint64_t v)
{
    return otakit_nvs_set(&d->nvs, d->ns, key, OTAKIT_NVS_U64, &v, sizeof(v));
}

static otakit_err_t nvs_put_u32(sdev_t *d, const char *key, uint32_t v)
{
    return otakit_nvs_set(&d->nvs, d->ns, key, OTAKIT_NVS_U32, &v, sizeof(v));
}

static otakit_err_t set_phase(sdev_t *d, uint8_t phase)
{
    d->phase = phase;
    return otakit_nvs_set(&d->nvs, d->ns, "phase", OTAKIT_NVS_U8, &phase, 1);
}

static uint64_t nvs_u64(sdev_t *d, const char *key)
{
    uint64_t v = 0;
    return otakit_nvs_get(&d->nvs, d->ns, key, OTAKIT_NVS_U64, &v, sizeof(v)) == OTAKIT_OK ? v : 0;
}

static uint32_t nvs_u32(sdev_t *d, const char *key)
{
    uint32_t v = 0;
    return otakit_nvs_get(&d->nvs, d->ns, key, OTAKIT_NVS_U32, &v, sizeof(v)) == OTAKIT_OK ? v : 0;
}

/* ---- Device life. ---------------------------------------------------------------- */

static void dl_drop(sdev_t *d)
{
    dl_t *dl = d->dl;
    if (dl == NULL) {
        return;
    }
    if (dl->session) {
        otakit_update_abort(&dl->u);
    }
    if (dl->hashing) {
        otakit_hash_finish(&dl->sha, NULL);
    }
    free(dl->url);
    free(dl);
    d->dl = NULL;
}

static void stop(sim_t *s, sdev_t *d, fleet_final_t final)
{
    d->final = (uint8_t) final;
    d->state = ST_STOPPED;
    dl_drop(d);
    fleet_flash_compact(&d->fl);
    s->running--;
}

/* Power is gone (a cut): everything in RAM is lost; boot again after a moment. */
static void power_cut(sim_t *s, sdev_t *d)
{
    s->res->power_cuts++;
    say(s, d, "power cut at flash op %llu", (unsigned long long)d->fl.ops);
    dl_drop(d);
    sched(s, d, d->t + 1.0, ST_BOOT);
}

/* A flash or NVS call failed: a power cut reboots, anything else is a device failure. */
static void device_error(sim_t *s, sdev_t *d, const char *what, otakit_err_t err)
{
    if (cut(d)) {
        power_cut(s, d);
        return;
    }
    say(s, d, "%s failed: %s", what, otakit_err_name(err));
    stop(s, d, FLEET_FAILED);
}

static void next_poll(sim_t *s, sdev_t *d)
{
    double sleep = d->sleep_s > 0 ? (double)d->sleep_s : 60.0;
    double j = 1.0 + s->cfg->jitter * (2.0 * rnd01(&d->rng) - 1.0);
    sched(s, d, d->t + sleep * j, ST_POLL);
}

static void retry_later(sim_t *s, sdev_t *d, int state)
{
    d->errors++;
    unsigned k = d->errors < 5 ? d->errors : 5;
    double wait = 2.0 * (double)(1u << k) * (0.5 + rnd01(&d->rng));
    sched(s, d, d->t + wait, state);
}

/* Queue a feedback; ST_FEEDBACK sends it. final: the device's final state once it is
 * delivered (FLEET_PENDING for an intermediate one). */
static void feedback(sim_t *s, sdev_t *d, otakit_ddi_exec_t exec, otakit_ddi_finished_t fin,
                     unsigned cnt, fleet_final_t final, const char *detail)
{
    d->fb_exec = (uint8_t)exec;
    d->fb_finished = (uint8_t)fin;
    d->fb_cnt = (uint8_t)cnt;
    d->fb_final = (uint8_t) final;
    d->fb_detail = detail;
    sched(s, d, d->t, ST_FEEDBACK);
}

static const otakit_part_t *table_part(sim_t *s, uint32_t offset)
{
    for (size_t i = 0; i < s->table.count; i++) {
        if (s->table.parts[i].offset == offset) {
            return &s->table.parts[i];
        }
    }
    return NULL;
}

static void do_boot(sim_t *s, sdev_t *d)
{
    s->res->boots++;
    fleet_flash_reboot(&d->fl);
    d->config_sent = false;
    d->errors = 0;
    if (s->cfg->p_cut > 0 && rnd01(&d->rng) < s->cfg->p_cut) {
        uint64_t n = 1 + rnd(&d->rng) % s->ops_estimate;
        fleet_flash_cut_in(&d->fl, n, (fleet_cut_mode_t)(rnd(&d->rng) % 3));
    }
    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = &d->fl.flash;
    cfg.rollback = true;
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    cfg.log = d->ota.log;
    otakit_err_t err = otakit_boot_select(&cfg, &s->boot);
    if (err != OTAKIT_OK) {
        if (cut(d)) {
            power_cut(s, d);
            return;
        }
        say(s, d, "BRICKED: the bootloader found no app (%s)", otakit_err_name(err));
        stop(s, d, FLEET_BRICKED);
        return;
    }
    const char *ver = s->boot.image.desc.version;
    if (strcmp(ver, d->ver_old) != 0 && (d->ver_new[0] == '\0' || strcmp(ver, d->ver_new) != 0)) {
        say(s, d, "BRICKED: booted '%s', neither the old '%s' nor the new '%s'", ver, d->ver_old,
            d->ver_new);
        stop(s, d, FLEET_BRICKED);
        return;
    }
    d->bad_app = s->cfg->bad_version != NULL && strcmp(ver, s->cfg->bad_version) == 0;
    d->ota.running = table_part(s, s->boot.part->offset);
    if (d->ota.running == NULL) {
        stop(s, d, FLEET_BRICKED);
        return;
    }
    d->t += s->cfg->boot_s;
    say(s, d, "booted %s from %s", ver, d->ota.running->label);

    err = otakit_nvs_init(&d->nvs, &d->fl.flash, NVS_OFFSET, NVS_SIZE, d->pages, NVS_PAGES, false);
    if (err == OTAKIT_OK) {
        err = otakit_nvs_ns_open(&d->nvs, "ddi", true, &d->ns);
    }
    if (err != OTAKIT_OK) {
        device_error(s, d, "nvs init", err);
        return;
    }
    uint8_t phase = PH_IDLE;
    (void)otakit_nvs_get(&d->nvs, d->ns, "phase", OTAKIT_NVS_U8, &phase, 1);
    d->phase = phase;
    d->action = nvs_u64(d, "act");
    d->done_action = nvs_u64(d, "done");

    uint32_t state = OTAKIT_OTA_IMG_UNDEFINED;
    (void)otakit_ota_get_state(&d->ota, d->ota.running, &state);
    if (state == OTAKIT_OTA_IMG_PENDING_VERIFY) {
        sched(s, d, d->t + s->cfg->selftest_s, ST_SELFTEST);
        return;
    }
    switch (d->phase) {
    case PH_INSTALLED:
        /* Rebooted after set_boot, and the new app is not pending: either it was
         * confirmed (a cut between the confirmation and the NVS write), or the bootloader
         * fell back. */
        if (d->ota.running->offset == nvs_u32(d, "slot") && state == OTAKIT_OTA_IMG_VALID) {
            feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_SUCCESS, 3, FLEET_UPDATED,
                     "updated: the new app passed its self-test and is confirmed");
        } else {
            feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_FAILURE, 3,
                     FLEET_ROLLED_BACK, "rolled back: the new app did not stay booted");
        }
        return;
    case PH_ROLLBACK:
        feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_FAILURE, 3, FLEET_ROLLED_BACK,
                 "rolled back: the new app failed its self-test");
        return;
    case PH_REPORT_OK:
        feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_SUCCESS, 3, FLEET_UPDATED,
                 "updated: the new app passed its self-test and is confirmed");
        return;
    case PH_REPORT_FAIL:
        feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_FAILURE, 3, FLEET_FAILED,
                 "update failed before install");
        return;
    default:
        sched(s, d, d->t, ST_POLL);
        return;
    }
}

static void do_selftest(sim_t *s, sdev_t *d)
{
    otakit_err_t err;
    if (d->bad_app || (s->cfg->p_selftest > 0 && rnd01(&d->rng) < s->cfg->p_selftest)) {
        s->res->selftest_failures++;
        say(s, d, "self-test failed: rolling back");
        /* NVS first: a cut before mark_invalid leaves the app PENDING_VERIFY, which the
         * bootloader aborts, so the old app comes up and reports the rollback. */
        if ((err = set_phase(d, PH_ROLLBACK)) != OTAKIT_OK ||
            (err = otakit_ota_mark_invalid(&d->ota)) != OTAKIT_OK) {
            device_error(s, d, "rollback", err);
            return;
        }
        sched(s, d, d->t + 0.1, ST_BOOT);
        return;
    }
    if ((err = otakit_ota_mark_valid(&d->ota)) != OTAKIT_OK ||
        (err = set_phase(d, PH_REPORT_OK)) != OTAKIT_OK) {
        device_error(s, d, "confirm", err);
        return;
    }
    say(s, d, "self-test passed: confirmed");
    feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_SUCCESS, 3, FLEET_UPDATED,
             "updated: the new app passed its self-test and is confirmed");
}

/* ---- HTTP. ----------------------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    req_t *r = userdata;
    size_t n = size * nmemb;
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + n + 1) {
            cap *= 2;
        }
        if (cap > 1u << 20) {
            return 0; /* a DDI document is never this large */
        }
        char *b = realloc(r->body, cap);
        if (b == NULL) {
            return 0;
        }
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, ptr, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

/* Download data: into the update session, hashed, NVS offset saved every 64 KiB. */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    req_t *r = userdata;
    sdev_t *d = r->d;
    dl_t *dl = d->dl;
    size_t n = size * nmemb;
    size_t take = n;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200 && code != 206) {
        return on_body(ptr, size, nmemb, userdata);
    }
    if (!r->range_ok) {
        /* First bytes: a 200 to a Range request carries the whole file. */
        r->range_ok = true;
        r->skip = (r->start > 0 && code == 200) ? r->start : 0;
    }
    const char *p = ptr;
    if (r->skip > 0) {
        size_t k = r->skip < take ? (size_t)r->skip : take;
        r->skip -= k;
        p += k;
        take -= k;
        r->got += k; /* received, though not new */
    }
    if (r->limit > 0 && r->got + take >= r->limit) {
        take = r->got < r->limit ? (size_t)(r->limit - r->got) : 0;
        r->dropped = true;
    }
    if (dl->u.written + take > dl->size) {
        take = dl->size - dl->u.written; /* the server sends more than announced */
    }
    if (take > 0) {
        otakit_err_t err = otakit_update_write(&dl->u, p, take);
        if (err != OTAKIT_OK) {
            r->flash_failed = true;
            return 0;
        }
        otakit_hash_update(&dl->sha, p, take);
        r->got += take;
        if (dl->u.written - dl->saved >= 64u * 1024u) {
            if (nvs_put_u32(d, "off", dl->u.written) != OTAKIT_OK) {
                r->flash_failed = true;
                return 0;
            }
            dl->saved = dl->u.written;
        }
    }
    return r->dropped ? 0 : n;
}

static req_t *req_get(sim_t *s)
{
    for (unsigned i = 0; i < s->cfg->concurrency; i++) {
        if (!s->reqs[i].busy) {
            return &s->reqs[i];
        }
    }
    return NULL;
}

/* The server a device talks to. */
static const char *dev_server(const sim_t *s, const sdev_t *d)
{
    const fleet_cfg_t *c = s->cfg;
    return c->server_count > 0 ? c->servers[d->index % c->server_count] : c->server;
}

static void url_base(sim_t *s, const sdev_t *d, char *out, size_t cap)
{
    const char *srv = dev_server(s, d);
    size_t n = strlen(srv);
    while (n > 0 && srv[n - 1] == '/') {
        n--;
    }
    snprintf(out, cap, "%.*s/%s/controller/v1/%s%05u", (int)n, srv, s->cfg->tenant,
             s->cfg->id_prefix, (unsigned)d->index);
}

/* The Authorization header line for a device. */
static const char *auth_line(sim_t *s, const sdev_t *d)
{
    const fleet_cfg_t *c = s->cfg;
    const char *tok = c->token;
    if (c->token_count > 0) {
        char id[96];
        snprintf(id, sizeof(id), "%s%05u", c->id_prefix, (unsigned)d->index);
        for (size_t i = 0; i < c->token_count; i++) {
            if (strcmp(c->token_ids[i], id) == 0 || strcmp(c->token_ids[i], "*") == 0) {
                tok = c->tokens[i];
                break;
            }
        }
    }
    if (tok == NULL) {
        return NULL;
    }
    snprintf(s->auth, sizeof(s->auth), "Authorization: %s %s",
             c->gateway ? "GatewayToken" : "TargetToken", tok);
    return s->auth;
}

/* Start a request for d on a free slot (the caller made sure there is one). */
static void start(sim_t *s, sdev_t *d, int kind, const char *url, const char *method, char *body)
{
    req_t *r = req_get(s);
    CURL *e = r->easy;
    curl_easy_reset(e);
    r->d = d;
    r->kind = kind;
    r->busy = true;
    r->body_len = 0;
    r->got = 0;
    r->skip = 0;
    r->limit = 0;
    r->start = 0;
    r->dropped = r->flash_failed = r->range_ok = false;
    r->status = 0;
    free(r->post);
    r->post = body;
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    r->hdrs = curl_slist_append(r->hdrs, kind == RQ_DOWNLOAD ? "Accept: application/octet-stream"
                                                             : "Accept: application/hal+json");
    const char *a = auth_line(s, d);
    if (a != NULL) {
        r->hdrs = curl_slist_append(r->hdrs, a);
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
    if (body != NULL) {
        r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    }
    if (kind == RQ_DOWNLOAD) {
        dl_t *dl = d->dl;
        r->start = dl->u.written;
        if (r->start > 0) {
            char range[48];
            snprintf(range, sizeof(range), "%lu-", (unsigned long)r->start);
            curl_easy_setopt(e, CURLOPT_RANGE, range);
        }
        if (s->cfg->p_link > 0 && rnd01(&d->rng) < s->cfg->p_link && dl->size > r->start + 1) {
            r->limit = 1 + rnd(&d->rng) % (dl->size - r->start - 1);
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    } else {
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    }
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    curl_multi_add_handle(s->multi, e);
    s->inflight++;
}

static char *xstrdup(const char *src)
{
    size_t n = strlen(src) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        memcpy(p, src, n);
    }
    return p;
}

static void send_feedback(sim_t *s, sdev_t *d)
{
    otakit_ddi_feedback_t fb;
    memset(&fb, 0, sizeof(fb));
    snprintf(fb.id, sizeof(fb.id), "%llu", (unsigned long long)d->action);
    fb.execution = (otakit_ddi_exec_t)d->fb_exec;
    fb.finished = (otakit_ddi_finished_t)d->fb_finished;
    fb.has_progress = true;
    fb.progress_cnt = d->fb_cnt;
    fb.progress_of = 3;
    fb.detail_count = 1;
    snprintf(fb.details[0], sizeof(fb.details[0]), "%s", d->fb_detail);
    char json[1024];
    int n = otakit_ddi_feedback_json(&fb, json, sizeof(json));
    char url[OTAKIT_DDI_HREF_MAX + 64], base[OTAKIT_DDI_HREF_MAX];
    url_base(s, d, base, sizeof(base));
    snprintf(url, sizeof(url), "%s/deploymentBase/%llu/feedback", base,
             (unsigned long long)d->action);
    start(s, d, RQ_FEEDBACK, url, "POST", n > 0 ? xstrdup(json) : NULL);
}

static void dev_step(sim_t *s, sdev_t *d)
{
    char url[OTAKIT_DDI_HREF_MAX + 64];
    switch (d->state) {
    case ST_BOOT:
        do_boot(s, d);
        return;
    case ST_SELFTEST:
        do_selftest(s, d);
        return;
    case ST_POLL:
        url_base(s, d, url, sizeof(url));
        start(s, d, RQ_POLL, url, NULL, NULL);
        return;
    case ST_DEPLOY:
        url_base(s, d, url, sizeof(url));
        snprintf(url + strlen(url), sizeof(url) - strlen(url), "/deploymentBase/%llu",
                 (unsigned long long)d->action);
        start(s, d, RQ_DEPLOY, url, NULL, NULL);
        return;
    case ST_DOWNLOAD:
        start(s, d, RQ_DOWNLOAD, d->dl->url, NULL, NULL);
        return;
    case ST_FEEDBACK:
        send_feedback(s, d);
        return;
    case ST_CONFIG: {
        static const char *const KEYS[] = {"client", "version"};
        const char *vals[] = {"otakit-fleet-sim", d->ver_old};
        char json[256];
        int n = otakit_ddi_config_json(KEYS, vals, 2, json, sizeof(json));
        url_base(s, d, url, sizeof(url));
        strncat(url, "/configData", sizeof(url) - strlen(url) - 1);
        start(s, d, RQ_CONFIG, url, "PUT", n > 0 ? xstrdup(json) : NULL);
        return;
    }
    case ST_CANCEL: {
        otakit_ddi_feedback_t fb;
        memset(&fb, 0, sizeof(fb));
        snprintf(fb.id, sizeof(fb.id), "%llu", (unsigned long long)d->action);
        fb.execution = OTAKIT_DDI_EXEC_CLOSED;
        fb.finished = OTAKIT_DDI_FINISHED_SUCCESS;
        fb.detail_count = 1;
        snprintf(fb.details[0], sizeof(fb.details[0]), "canceled before install");
        char json[512];
        int n = otakit_ddi_feedback_json(&fb, json, sizeof(json));
        url_base(s, d, url, sizeof(url));
        snprintf(url + strlen(url), sizeof(url) - strlen(url), "/cancelAction/%llu/feedback",
                 (unsigned long long)d->action);
        start(s, d, RQ_CANCEL, url, "POST", n > 0 ? xstrdup(json) : NULL);
        return;
    }
    default:
        return;
    }
}

/* Send the closing feedback of the action closed last (done_action) again, with the
 * result kept in NVS. */
static void resend_final(sim_t *s, sdev_t *d)
{
    uint8_t res = FLEET_FAILED;
    (void)otakit_nvs_get(&d->nvs, d->ns, "dres", OTAKIT_NVS_U8, &res, 1);
    s->res->feedback_resent++;
    say(s, d, "action %llu closed here but still offered: its result again",
        (unsigned long long)d->done_action);
    d->action = d->done_action;
    d->resend = true;
    feedback(s, d, OTAKIT_DDI_EXEC_CLOSED,
             res == FLEET_UPDATED ? OTAKIT_DDI_FINISHED_SUCCESS : OTAKIT_DDI_FINISHED_FAILURE, 3,
             (fleet_final_t)res,
             res == FLEET_UPDATED ? "updated: the new app passed its self-test and is confirmed"
                                  : "closed with a failure (sent again)");
}

/* The base resource came back. */
static void on_poll(sim_t *s, sdev_t *d, req_t *r)
{
    otakit_ddi_base_t base;
    otakit_ddi_error_t err;
    if (r->status != 200 || otakit_ddi_parse_base(r->body, r->body_len, &base, &err) != 0) {
        if (r->status == 200) {
            say(s, d, "bad base resource: %s", err.what);
        }
        s->res->http_errors++;
        retry_later(s, d, ST_POLL);
        return;
    }
    d->errors = 0;
    d->sleep_s = base.sleep_s;
    bool offers_done =
        base.has_deployment && d->done_action != 0 && base.deployment_action == d->done_action;
    if (offers_done) {
        /* Closed here, but the server still offers it: the final feedback did not stick
         * (a reply lost, a server that failed to store it). Send it again. */
        resend_final(s, d);
        return;
    }
    if (base.has_config_data && !d->config_sent) {
        /* Before stopping too: the server asks again once an action finishes, and the
         * attributes then name the version now running. */
        d->config_sent = true;
        sched(s, d, d->t, ST_CONFIG);
        return;
    }
    if (d->confirm) {
        stop(s, d, (fleet_final_t)d->final); /* the server took the last action */
        return;
    }
    if (base.has_cancel) {
        if (d->phase == PH_IDLE || d->phase == PH_DOWNLOADING) {
            otakit_err_t e;
            dl_drop(d);
            d->action = base.cancel_action;
            uint8_t res = FLEET_CANCELED;
            if ((e = nvs_put_u64(d, "done", d->action)) != OTAKIT_OK ||
                (e = otakit_nvs_set(&d->nvs, d->ns, "dres", OTAKIT_NVS_U8, &res, 1)) != OTAKIT_OK ||
                (e = set_phase(d, PH_IDLE)) != OTAKIT_OK) {
                device_error(s, d, "cancel", e);
                return;
            }
            d->done_action = d->action;
            sched(s, d, d->t, ST_CANCEL);
            return;
        }
        /* Installed already: too late to cancel; the action closes as it ends. */
    }
    if (!base.has_deployment) {
        next_poll(s, d);
        return;
    }
    if (!d->timed || d->action != base.deployment_action) {
        d->t_seen = d->t;
        d->timed = true;
        d->fetched_to = 0;
    }
    d->action = base.deployment_action;
    sched(s, d, d->t, ST_DEPLOY);
}

static void fail_update(sim_t *s, sdev_t *d, const char *why)
{
    otakit_err_t e;
    dl_drop(d);
    if ((e = set_phase(d, PH_REPORT_FAIL)) != OTAKIT_OK) {
        device_error(s, d, "nvs", e);
        return;
    }
    say(s, d, "update failed: %s", why);
    feedback(s, d, OTAKIT_DDI_EXEC_CLOSED, OTAKIT_DDI_FINISHED_FAILURE, 3, FLEET_FAILED, why);
}

static void on_deploy(sim_t *s, sdev_t *d, req_t *r)
{
    otakit_ddi_error_t err;
    if (r->status != 200 || otakit_ddi_parse_deployment(r->body, r->body_len, &s->dep, &err) != 0) {
        if (r->status == 200) {
            say(s, d, "bad deploymentBase: %s", err.what);
        }
        s->res->http_errors++;
        retry_later(s, d, ST_POLL);
        return;
    }
    d->errors = 0;
    if (s->dep.download == OTAKIT_DDI_HANDLING_SKIP) {
        next_poll(s, d); /* not now: the server will say when */
        return;
    }
    const otakit_ddi_chunk_t *chunk = NULL;
    const otakit_ddi_artifact_t *a = otakit_ddi_first_artifact(&s->dep, &chunk);
    if (a == NULL || !a->has_sha256) {
        fail_update(s, d,
                    a == NULL ? "the deployment has no artifact"
                              : "the artifact has no SHA-256 in the deployment");
        return;
    }
    const otakit_part_t *slot = otakit_ota_next_update(&d->ota, NULL);
    if (slot == NULL || a->size == 0 || a->size > slot->size) {
        fail_update(s, d, "the artifact does not fit the update slot");
        return;
    }
    uint64_t est = 2 * (a->size / OTAKIT_SECTOR_SIZE) + 64;
    if (est > s->ops_estimate) {
        s->ops_estimate = est;
    }
    dl_drop(d);
    dl_t *dl = calloc(1, sizeof(*dl));
    char abs[OTAKIT_DDI_HREF_MAX + 256];
    if (strstr(a->href, "://") == NULL) {
        snprintf(abs, sizeof(abs), "%s%s", dev_server(s, d), a->href);
    } else {
        snprintf(abs, sizeof(abs), "%s", a->href);
    }
    if (dl == NULL || (dl->url = xstrdup(abs)) == NULL) {
        free(dl);
        device_error(s, d, "memory", OTAKIT_ERR_NO_MEM);
        return;
    }
    d->dl = dl;
    dl->slot = slot;
    dl->size = (uint32_t)a->size;
    memcpy(dl->sha256, a->sha256, 32);
    set_str(dl->version, sizeof(dl->version), chunk->version);

    /* Resume what a power cut interrupted, if it is this action into this slot. */
    uint32_t off = 0;
    otakit_err_t e = OTAKIT_OK;
    if (d->phase == PH_DOWNLOADING && nvs_u64(d, "act") == d->action &&
        nvs_u32(d, "slot") == slot->offset) {
        off = nvs_u32(d, "off");
        if (off > dl->size) {
            off = 0;
        }
    }
    if (off > 0) {
        s->res->resumes++;
        e = otakit_update_resume(&dl->u, &d->ota, slot, OTAKIT_ERASE_SEQUENTIAL, dl->size, off);
    } else {
        if ((e = nvs_put_u64(d, "act", d->action)) == OTAKIT_OK &&
            (e = nvs_put_u32(d, "slot", slot->offset)) == OTAKIT_OK &&
            (e = nvs_put_u32(d, "off", 0)) == OTAKIT_OK &&
            (e = set_phase(d, PH_DOWNLOADING)) == OTAKIT_OK) {
            e = otakit_update_begin_policy(&dl->u, &d->ota, slot, OTAKIT_ERASE_SEQUENTIAL,
                                           dl->size);
        }
    }
    if (e != OTAKIT_OK) {
        device_error(s, d, "update begin", e);
        return;
    }
    dl->session = true;
    dl->saved = off;
    if (otakit_hash_start(&dl->sha, OTAKIT_HASH_SHA256) != OTAKIT_OK) {
        device_error(s, d, "sha256", OTAKIT_FAIL);
        return;
    }
    dl->hashing = true;
    /* The bytes already in the slot count in the artifact's hash: read them back. */
    uint8_t buf[4096];
    for (uint32_t pos = 0; pos < off;) {
        uint32_t n = off - pos < sizeof(buf) ? off - pos : (uint32_t)sizeof(buf);
        if ((e = otakit_flash_read(&d->fl.flash, slot->offset + pos, buf, n)) != OTAKIT_OK) {
            device_error(s, d, "read back", e);
            return;
        }
        otakit_hash_update(&dl->sha, buf, n);
        pos += n;
    }
    say(s, d, "action %llu: %s %s (%u bytes) from offset %u", (unsigned long long)d->action,
        chunk->part, chunk->version, (unsigned)dl->size, (unsigned)off);
    /* Proceeding 1/3, then ST_DOWNLOAD (after the feedback). */
    feedback(s, d, OTAKIT_DDI_EXEC_PROCEEDING, OTAKIT_DDI_FINISHED_NONE, 1, FLEET_PENDING,
             "downloading");
}

static void install(sim_t *s, sdev_t *d)
{
    dl_t *dl = d->dl;
    otakit_err_t e;
    uint8_t digest[32];
    dl->hashing = false;
    if (otakit_hash_finish(&dl->sha, digest) != OTAKIT_OK) {
        device_error(s, d, "sha256", OTAKIT_FAIL);
        return;
    }
    if (memcmp(digest, dl->sha256, 32) != 0) {
        fail_update(s, d, "SHA-256 of the artifact differs from the deployment's");
        return;
    }
    dl->session = false;
    if ((e = otakit_update_end(&dl->u)) != OTAKIT_OK) {
        if (cut(d)) {
            power_cut(s, d);
            return;
        }
        fail_update(s, d, "the artifact is not a valid app image");
        return;
    }
    /* The observer notes the new version before set_boot: from here on it may boot. */
    set_str(d->ver_new, sizeof(d->ver_new), dl->u.verifier.info.desc.version);
    if ((e = otakit_ota_set_boot_verified(&d->ota, dl->slot, &dl->u.proof)) != OTAKIT_OK ||
        (e = set_phase(d, PH_INSTALLED)) != OTAKIT_OK) {
        device_error(s, d, "set boot", e);
        return;
    }
    say(s, d, "installed %s in %s", d->ver_new, dl->slot->label);
    dl_drop(d);
    feedback(s, d, OTAKIT_DDI_EXEC_PROCEEDING, OTAKIT_DDI_FINISHED_NONE, 2, FLEET_PENDING,
             "installed, SHA-256 verified; rebooting");
}

static void on_download(sim_t *s, sdev_t *d, req_t *r, CURLcode cc)
{
    dl_t *dl = d->dl;
    uint64_t fresh = 0;
    uint32_t end = dl->u.written;
    s->res->bytes_fetched += r->got;
    if (end > d->fetched_to) {
        fresh = end - d->fetched_to;
        d->fetched_to = end;
    }
    s->res->bytes_refetched += r->got > fresh ? r->got - fresh : 0;
    d->t += (double)r->got / d->rate;
    if (r->flash_failed) {
        if (cut(d)) {
            power_cut(s, d);
        } else {
            fail_update(s, d, "flash write failed");
        }
        return;
    }
    if (r->dropped) {
        s->res->link_drops++;
        say(s, d, "link dropped at %u; resuming", (unsigned)end);
    }
    if (end >= dl->size) {
        install(s, d);
        return;
    }
    bool progress = end > r->start;
    if (!r->dropped && (cc != CURLE_OK || (r->status != 200 && r->status != 206))) {
        s->res->http_errors++;
    }
    dl->failures = progress ? 0 : dl->failures + 1;
    if (dl->failures >= 8) {
        fail_update(s, d, "download failed 8 times in a row");
        return;
    }
    d->errors = dl->failures;
    retry_later(s, d, ST_DOWNLOAD);
}

static void on_feedback(sim_t *s, sdev_t *d, req_t *r)
{
    /* 410 Gone to a closing feedback: the server has the action closed already (it took
     * an earlier copy whose reply was lost). Nothing is left to tell it. */
    bool gone = r->status == 410 && d->fb_exec == OTAKIT_DDI_EXEC_CLOSED;
    if ((r->status < 200 || r->status > 299) && !gone) {
        s->res->http_errors++;
        retry_later(s, d, ST_FEEDBACK);
        return;
    }
    d->errors = 0;
    if (d->resend) {
        d->resend = false;
        next_poll(s, d); /* and look again */
        return;
    }
    if (d->fb_exec != OTAKIT_DDI_EXEC_CLOSED) {
        if (d->fb_cnt == 1) {
            sched(s, d, d->t, ST_DOWNLOAD);
        } else {
            sched(s, d, d->t + 0.1, ST_BOOT); /* installed: restart */
        }
        return;
    }
    otakit_err_t e;
    uint8_t res = d->fb_final;
    if ((e = nvs_put_u64(d, "done", d->action)) != OTAKIT_OK ||
        (e = otakit_nvs_set(&d->nvs, d->ns, "dres", OTAKIT_NVS_U8, &res, 1)) != OTAKIT_OK ||
        (e = set_phase(d, PH_IDLE)) != OTAKIT_OK) {
        device_error(s, d, "nvs", e);
        return;
    }
    d->done_action = d->action;
    d->closed++;
    if (d->timed) {
        s->times[s->res->updates_timed++] = d->t - d->t_seen;
        d->timed = false;
    }
    d->final = d->fb_final;
    if (d->fb_final == FLEET_UPDATED) {
        set_str(d->ver_old, sizeof(d->ver_old), d->ver_new);
    }
    d->config_sent = false; /* the attributes changed: send them when asked */
    say(s, d, "action %llu closed: %s", (unsigned long long)d->action,
        otakit_ddi_finished_name((otakit_ddi_finished_t)d->fb_finished));
    if (d->closed >= s->cfg->actions) {
        d->confirm = true; /* stops on the next poll that no longer offers it */
    }
    next_poll(s, d);
}

static void on_done(sim_t *s, req_t *r, CURLcode cc)
{
    sdev_t *d = r->d;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    curl_multi_remove_handle(s->multi, r->easy);
    r->busy = false;
    s->inflight--;
    s->res->requests++;
    if (cc != CURLE_OK && r->kind != RQ_DOWNLOAD) {
        r->status = 0;
    }
    switch (r->kind) {
    case RQ_POLL:
        on_poll(s, d, r);
        break;
    case RQ_DEPLOY:
        on_deploy(s, d, r);
        break;
    case RQ_DOWNLOAD:
        on_download(s, d, r, cc);
        break;
    case RQ_FEEDBACK:
        on_feedback(s, d, r);
        break;
    case RQ_CONFIG:
        if (r->status < 200 || r->status > 299) {
            s->res->http_errors++;
        }
        sched(s, d, d->t, ST_POLL);
        break;
    case RQ_CANCEL:
        if (r->status < 200 || r->status > 299) {
            s->res->http_errors++;
            retry_later(s, d, ST_CANCEL);
            break;
        }
        d->closed++;
        d->final = FLEET_CANCELED;
        if (d->closed >= s->cfg->actions) {
            stop(s, d, FLEET_CANCELED);
        } else {
            next_poll(s, d);
        }
        break;
    default:
        break;
    }
}

/* ---- Set-up and the loop. -------------------------------------------------------- */

static int build_factory(sim_t *s, uint8_t **out, char *err, size_t err_len)
{
    const fleet_cfg_t *c = s->cfg;
    uint8_t *img = malloc(FLASH_SIZE);
    if (img == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memset(img, 0xFF, FLASH_SIZE);
    static const struct {
        const char *label;
        uint8_t type, subtype;
        uint32_t offset, size;
    } LAYOUT[] = {
        {"nvs", OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_NVS, NVS_OFFSET, NVS_SIZE},
        {"otadata", OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, 0xd000, 0x2000},
        {"phy_init", OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_PHY, 0xf000, 0x1000},
        {"factory", OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_FACTORY, 0x10000, SLOT_SIZE},
        {"ota_0", OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_OTA_0, 0x110000, SLOT_SIZE},
        {"ota_1", OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_OTA_0 + 1, 0x210000, SLOT_SIZE},
    };
    otakit_part_t parts[6];
    memset(parts, 0, sizeof(parts));
    for (size_t i = 0; i < 6; i++) {
        snprintf(parts[i].label, sizeof(parts[i].label), "%s", LAYOUT[i].label);
        parts[i].type = LAYOUT[i].type;
        parts[i].subtype = LAYOUT[i].subtype;
        parts[i].offset = LAYOUT[i].offset;
        parts[i].size = LAYOUT[i].size;
    }
    if (otakit_ptable_encode(parts, 6, true, img + OTAKIT_PTABLE_OFFSET_DEFAULT) != OTAKIT_OK) {
        snprintf(err, err_len, "cannot encode the partition table");
        free(img);
        return -1;
    }
    uint8_t *app = NULL;
    size_t app_len = 0;
    if (c->factory_app != NULL) {
        app_len = c->factory_app_len;
        if (app_len > SLOT_SIZE) {
            snprintf(err, err_len, "the factory app (%zu bytes) is larger than its 1 MiB slot",
                     app_len);
            free(img);
            return -1;
        }
        memcpy(img + 0x10000, c->factory_app, app_len);
    } else {
        uint8_t prog[4096];
        uint32_t x = 0x2545F491u;
        for (size_t i = 0; i < sizeof(prog); i++) {
            prog[i] = (uint8_t)rnd(&x);
        }
        otakit_image_build_opts_t o;
        otakit_image_build_opts_init(&o);
        o.project = "fleet-sim";
        o.version = FACTORY_VERSION;
        o.date = "Dec  2 2026";
        o.time = "12:00:00";
        if (otakit_image_build(&o, prog, sizeof(prog), &app, &app_len) != OTAKIT_OK) {
            snprintf(err, err_len, "cannot build the factory app");
            free(img);
            return -1;
        }
        memcpy(img + 0x10000, app, app_len);
        free(app);
    }
    *out = img;
    return 0;
}

static void draw(sim_t *s, bool last)
{
    double w = wall_now();
    if (!last && w - s->last_draw < 0.2) {
        return;
    }
    s->last_draw = w;
    unsigned n = s->cfg->devices, done = n - s->running;
    unsigned fill = n ? (unsigned)(30.0 * done / n) : 30;
    char bar[31];
    memset(bar, '#', fill);
    memset(bar + fill, '.', 30 - fill);
    bar[30] = '\0';
    unsigned by[FLEET_STATE_COUNT] = {0};
    for (unsigned i = 0; i < n; i++) {
        if (s->devs[i].state == ST_STOPPED) {
            by[s->devs[i].final]++;
        }
    }
    double el = w - s->wall0;
    fprintf(stderr,
            "\r[%s] %u/%u done  updated %u  rolled back %u  failed %u  bricked %u  t=%.0fs  "
            "%.0f req/s ",
            bar, done, n, by[FLEET_UPDATED], by[FLEET_ROLLED_BACK], by[FLEET_FAILED],
            by[FLEET_BRICKED], s->now, el > 0 ? (double)s->res->requests / el : 0.0);
    if (last) {
        fputc('\n', stderr);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, unsigned n, double p)
{
    if (n == 0) {
        return 0.0;
    }
    double rank = ceil(p / 100.0 * n);
    unsigned i = rank < 1 ? 0 : (unsigned)rank - 1;
    return v[i < n ? i : n - 1];
}

static int setup(sim_t *s, char *err, size_t err_len)
{
    const fleet_cfg_t *c = s->cfg;
    uint8_t *img = NULL;
    if (build_factory(s, &img, err, err_len) != 0) {
        return -1;
    }
    s->store = fleet_store_new(img, FLASH_SIZE);
    free(img);
    if (s->store == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* The table is read-only on every device: one copy for all. */
    fleet_flash_t probe;
    if (fleet_flash_init(&probe, s->store, 1) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    otakit_err_t e =
        otakit_ptable_load(&s->table, &probe.flash, OTAKIT_PTABLE_OFFSET_DEFAULT, NULL);
    fleet_flash_deinit(&probe);
    if (e != OTAKIT_OK) {
        snprintf(err, err_len, "the factory partition table does not load: %s", otakit_err_name(e));
        return -1;
    }
    s->devs = calloc(c->devices, sizeof(sdev_t));
    s->heap = calloc(c->devices, sizeof(uint32_t));
    s->times = calloc(c->devices * (size_t)(c->actions ? c->actions : 1) + 1, sizeof(double));
    s->reqs = calloc(c->concurrency, sizeof(req_t));
    if (s->devs == NULL || s->heap == NULL || s->times == NULL || s->reqs == NULL) {
        snprintf(err, err_len, "out of memory for %u devices", c->devices);
        return -1;
    }
    s->multi = curl_multi_init();
    if (s->multi == NULL) {
        snprintf(err, err_len, "curl_multi_init failed");
        return -1;
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->concurrency);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)c->concurrency);
    for (unsigned i = 0; i < c->concurrency; i++) {
        if ((s->reqs[i].easy = curl_easy_init()) == NULL) {
            snprintf(err, err_len, "curl_easy_init failed");
            return -1;
        }
    }
    s->ops_estimate = 64;
    s->running = c->devices;
    uint32_t seed = c->seed ? c->seed : 1u;
    for (unsigned i = 0; i < c->devices; i++) {
        sdev_t *d = &s->devs[i];
        d->index = i;
        d->rng = (seed * 2654435761u) ^ (i * 0x9E3779B9u) ^ 0xA5A5A5A5u;
        if (d->rng == 0) {
            d->rng = 1;
        }
        (void)rnd(&d->rng);
        if (fleet_flash_init(&d->fl, s->store, rnd(&d->rng)) != 0) {
            snprintf(err, err_len, "out of memory at device %u", i);
            return -1;
        }
        d->ota.flash = &d->fl.flash;
        d->ota.table = &s->table;
        d->ota.rollback = true;
        d->ota.chip_id = OTAKIT_CHIP_ESP32;
        if (c->verbose) {
            d->ota.log.fn = dev_log;
            d->ota.log.ctx = d;
        }
        /* Link rates spread over a factor of 4 around the median (log-uniform). */
        d->rate = c->rate * exp2(2.0 * rnd01(&d->rng) - 1.0);
        d->t = c->first_poll_s * rnd01(&d->rng);
        d->state = ST_BOOT;
        heap_push(s, i);
    }
    /* The factory app's version: what every device may boot before its update. */
    otakit_boot_cfg_t bc;
    memset(&bc, 0, sizeof(bc));
    bc.flash = &s->devs[0].fl.flash;
    bc.chip_id = OTAKIT_CHIP_ESP32;
    bc.dry_run = true;
    if (c->devices > 0) {
        if ((e = otakit_boot_select(&bc, &s->boot)) != OTAKIT_OK) {
            snprintf(err, err_len, "the factory image does not boot: %s", otakit_err_name(e));
            return -1;
        }
        for (unsigned i = 0; i < c->devices; i++) {
            set_str(s->devs[i].ver_old, sizeof(s->devs[i].ver_old), s->boot.image.desc.version);
        }
    }
    return 0;
}

static void teardown(sim_t *s)
{
    if (s->devs != NULL) {
        for (unsigned i = 0; i < s->cfg->devices; i++) {
            dl_drop(&s->devs[i]);
            fleet_flash_deinit(&s->devs[i].fl);
        }
    }
    if (s->reqs != NULL) {
        for (unsigned i = 0; i < s->cfg->concurrency; i++) {
            if (s->reqs[i].easy != NULL) {
                if (s->reqs[i].busy) {
                    curl_multi_remove_handle(s->multi, s->reqs[i].easy);
                }
                curl_easy_cleanup(s->reqs[i].easy);
            }
            curl_slist_free_all(s->reqs[i].hdrs);
            free(s->reqs[i].body);
            free(s->reqs[i].post);
        }
    }
    if (s->multi != NULL) {
        curl_multi_cleanup(s->multi);
    }
    fleet_store_free(s->store);
    free(s->devs);
    free(s->heap);
    free(s->times);
    free(s->reqs);
}

int fleet_sim_run(const fleet_cfg_t *cfg, fleet_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->devices = cfg->devices;
    if (cfg->concurrency == 0 || cfg->server == NULL) {
        snprintf(res->error, sizeof(res->error), "no server, or concurrency 0");
        return -1;
    }
    sim_t sim;
    sim_t *s = &sim;
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->res = res;
    s->wall0 = wall_now();
    if (setup(s, res->error, sizeof(res->error)) != 0) {
        teardown(s);
        return -1;
    }
    while (s->running > 0) {
        /* Start every due event while a request slot is free. */
        bool busy = false;
        while (s->heap_n > 0 && s->inflight < cfg->concurrency) {
            sdev_t *d = &s->devs[s->heap[0]];
            if (d->t > cfg->duration) {
                break;
            }
            if (cfg->realtime && d->t > wall_now() - s->wall0) {
                break;
            }
            heap_pop(s);
            busy = true;
            if (d->t > s->now) {
                s->now = d->t;
            }
            dev_step(s, d);
        }
        if (s->inflight == 0) {
            if (s->heap_n == 0 || s->devs[s->heap[0]].t > cfg->duration) {
                break; /* nothing left to do before the end */
            }
        }
        int still = 0;
        curl_multi_perform(s->multi, &still);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (m->msg == CURLMSG_DONE) {
                req_t *r = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
                on_done(s, r, m->data.result);
                busy = true; /* its device may have a next step due now */
            }
        }
        if (!busy && (s->inflight > 0 || cfg->realtime)) {
            curl_multi_poll(s->multi, NULL, 0, s->inflight > 0 ? 100 : 20, NULL);
        }
        if (cfg->progress) {
            draw(s, false);
        }
    }
    if (cfg->progress) {
        draw(s, true);
    }
    res->virtual_s = s->now;
    res->wall_s = wall_now() - s->wall0;
    for (unsigned i = 0; i < cfg->devices; i++) {
        const sdev_t *d = &s->devs[i];
        res->by_state[d->state == ST_STOPPED ? d->final : FLEET_PENDING]++;
    }
    qsort(s->times, res->updates_timed, sizeof(double), cmp_double);
    res->p50_s = pct(s->times, res->updates_timed, 50);
    res->p90_s = pct(s->times, res->updates_timed, 90);
    res->p99_s = pct(s->times, res->updates_timed, 99);
    fleet_store_stats_t st;
    fleet_store_stats(s->store, &st);
    res->pool_sectors_peak = st.peak_pool_sectors;
    teardown(s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    res->cpu_user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
    res->cpu_sys_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    res->max_rss_kib = ru.ru_maxrss;
    return 0;
}
