/* Program side of the virtual device: the shared block, the counted flash with power
 * cuts, device time, resets, panics and running a program from flash. */
#include "hw.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "efuse.h"
#include "nor.h"
#include "otakit/image.h"

static struct {
    bool attached;
    otakit_hw_shared_t *shm;
    otakit_nor_t *nor;
    const otakit_flash_t *raw;
    otakit_flash_t flash;
    const char *flash_path; /* from the environment */
    otakit_efuse_t efuse;   /* set up on first use (a bootloader without eFuse rules links none) */
    char efuse_path[PATH_MAX];
    int64_t start_ns; /* when not attached: process start */
    bool trace;       /* trace_fd is a flash operation trace (OTAKIT_HW_TRACE_FD) */
    int trace_fd;
    double sim_us; /* the NOR timing model's total at the last operation */
} hw;
/* One flash operation at a time, as ESP-IDF's flash lock: apps may use several tasks.
 * The bootloader (OTAKIT_HW_LEAN, single-threaded, size-bound) does without. */
#ifdef OTAKIT_HW_LEAN
#define flash_lock_take()
#define flash_lock_give()
#else
static pthread_mutex_t flash_lock = PTHREAD_MUTEX_INITIALIZER;
#define flash_lock_take() pthread_mutex_lock(&flash_lock)
#define flash_lock_give() pthread_mutex_unlock(&flash_lock)
#endif /* zero-initialised (.bss): the bootloader image must stay small */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- power cut ------------------------------------------------------------------ */

/* Count one flash operation (and trace it); arm the NOR's cut when it is the chosen one. */
static uint64_t op_gate(char kind, uint32_t addr, size_t len)
{
    otakit_hw_shared_t *s = hw.shm;
    uint64_t n = atomic_fetch_add(&s->flash_ops, 1) + 1;
    if (hw.trace) {
        uint32_t st = atomic_load(&s->stage);
        dprintf(hw.trace_fd, "%" PRIu64 " %c 0x%06" PRIx32 " %zu %s\n", n, kind, addr, len,
                st == OTAKIT_HW_STAGE_APP ? "app" : "bootloader");
    }
    if (s->cut_at != 0 && n == s->cut_at && atomic_load(&s->cut_done) == 0) {
        otakit_nor_cut_at(hw.nor, 1, (otakit_nor_cut_mode_t)s->cut_mode, s->cut_seed);
        return n;
    }
    return 0;
}

/* The device clock counts what the operation takes on an ESP32 module (the NOR timing
 * model: 45 ms a sector erase, 0.7 ms a page...), without spending it in real time. */
static void op_time(void)
{
#ifndef OTAKIT_HW_LEAN /* the bootloader: small beats exact (its few operations take ~50 ms) */
    otakit_nor_stats_t st;
    otakit_nor_get_stats(hw.nor, &st);
    double d = st.sim_time_us - hw.sim_us;
    hw.sim_us = st.sim_time_us;
    if (d >= 1.0) {
        atomic_fetch_add(&hw.shm->skipped_us, (int64_t)d);
    }
#endif
}

/* The power is gone: the NOR already holds what the cut left; stop at once. */
static void power_lost(uint64_t n)
{
    atomic_store(&hw.shm->cut_done, n);
    kill(getpid(), SIGKILL);
    for (;;) {
        pause();
    }
}

static otakit_err_t hw_read(void *ctx, uint32_t addr, void *dst, size_t len)
{
    (void)ctx;
    flash_lock_take();
    uint64_t cut = op_gate('r', addr, len);
    otakit_err_t err = hw.raw->read(hw.raw->ctx, addr, dst, len);
    if (cut) {
        power_lost(cut);
    }
    op_time();
    flash_lock_give();
    return err;
}

static otakit_err_t hw_write(void *ctx, uint32_t addr, const void *src, size_t len)
{
    (void)ctx;
    flash_lock_take();
    uint64_t cut = op_gate('w', addr, len);
    otakit_err_t err = hw.raw->write(hw.raw->ctx, addr, src, len);
    if (cut) {
        power_lost(cut);
    }
    op_time();
    flash_lock_give();
    return err;
}

/* The NOR's own count: every write and erase reaches it through hw_write / hw_erase. */
static uint32_t hw_epoch(void *ctx)
{
    (void)ctx;
    return hw.raw->epoch ? hw.raw->epoch(hw.raw->ctx) : 0;
}

static otakit_err_t hw_erase(void *ctx, uint32_t addr, size_t len)
{
    (void)ctx;
    flash_lock_take();
    uint64_t cut = op_gate('e', addr, len);
    otakit_err_t err = hw.raw->erase(hw.raw->ctx, addr, len);
    if (cut) {
        power_lost(cut);
    }
    op_time();
    flash_lock_give();
    return err;
}

/* ---- eFuse ---------------------------------------------------------------------- */

static uint32_t efuse_get(void *ctx)
{
    (void)ctx;
    return otakit_efuse_file_get(hw.efuse_path);
}

static otakit_err_t efuse_raise(void *ctx, uint32_t v)
{
    (void)ctx;
    return otakit_efuse_file_raise(hw.efuse_path, v);
}

/* ---- panic ---------------------------------------------------------------------- */

static void copy_reason(const char *s)
{
    char *d = hw.shm->panic_reason;
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < sizeof(hw.shm->panic_reason); i++) {
        d[i] = s[i];
    }
    d[i] = '\0';
}

static void panic_handler(int sig, siginfo_t *si, void *uctx)
{
    if (hw.shm != NULL) {
        const char *reason = otakit_sim_panic_reason(sig);
#if defined(__x86_64__) && defined(REG_ERR)
        /* A write fault is a store, as the CPU would report it. */
        if (sig == SIGSEGV && uctx != NULL &&
            (((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0) {
            reason = "StoreProhibited";
        }
#endif
        hw.shm->panic_signal = sig;
        hw.shm->panic_addr = (uint64_t)(uintptr_t)si->si_addr;
        copy_reason(reason);
        atomic_store(&hw.shm->request, OTAKIT_HW_REQ_PANIC);
    }
    _exit(128 + sig);
}

static void install_panic_handlers(void)
{
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = panic_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- attach --------------------------------------------------------------------- */

int otakit_hw_attach(void)
{
    if (hw.attached) {
        return 0;
    }
    if (hw.start_ns == 0) {
        hw.start_ns = mono_ns();
    }
    const char *fds = getenv(OTAKIT_HW_ENV_FD);
    const char *flash_path = getenv(OTAKIT_HW_ENV_FLASH);
    if (fds == NULL || flash_path == NULL) {
        fprintf(stderr, "otakit: this program runs on the virtual device: "
                        "start it with 'otakit device run' (or 'make monitor')\n");
        return -1;
    }
    char *end;
    long fd = strtol(fds, &end, 10);
    struct stat st;
    if (*end != '\0' || fd < 0 || fd > INT_MAX || fstat((int)fd, &st) != 0 ||
        (size_t)st.st_size < sizeof(otakit_hw_shared_t)) {
        fprintf(stderr, "otakit: %s=%s: not the device's shared block\n", OTAKIT_HW_ENV_FD, fds);
        return -1;
    }
    void *m =
        mmap(NULL, sizeof(otakit_hw_shared_t), PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "otakit: cannot map the device's shared block: %s\n", strerror(errno));
        return -1;
    }
    otakit_hw_shared_t *s = m;
    if (s->magic != OTAKIT_HW_MAGIC || s->version != OTAKIT_HW_VERSION) {
        fprintf(stderr, "otakit: the device's shared block has another version\n");
        munmap(m, sizeof(*s));
        return -1;
    }
    otakit_err_t err = otakit_nor_open(&hw.nor, flash_path, 0, 0);
    if (err != OTAKIT_OK) {
        fprintf(stderr, "otakit: %s: cannot open the flash (%s)\n", flash_path,
                otakit_err_name(err));
        munmap(m, sizeof(*s));
        return -1;
    }
    hw.shm = s;
#ifndef OTAKIT_HW_LEAN
    otakit_nor_timing_t timing = otakit_nor_timing_default();
    otakit_nor_set_timing(hw.nor, &timing);
#endif
    hw.raw = otakit_nor_flash(hw.nor);
    hw.flash = *hw.raw;
    hw.flash.ctx = NULL;
    hw.flash.read = hw_read;
    hw.flash.write = hw_write;
    hw.flash.erase = hw_erase;
    hw.flash.epoch = hw_epoch;

    hw.flash_path = flash_path;
#ifndef OTAKIT_HW_LEAN
    (void)otakit_hw_efuse(); /* now, before an app's tasks could race to it */
#endif

    const char *tfd = getenv(OTAKIT_HW_ENV_TRACE_FD);
    if (tfd != NULL) {
        long t = strtol(tfd, &end, 10);
        if (*end == '\0' && t >= 0 && t <= INT_MAX && fcntl((int)t, F_GETFD) != -1) {
            hw.trace_fd = (int)t;
            hw.trace = true;
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    install_panic_handlers();
    hw.attached = true;
    return 0;
}

bool otakit_hw_attached(void)
{
    return hw.attached;
}

otakit_hw_shared_t *otakit_hw_shared(void)
{
    return hw.shm;
}

void otakit_hw_set_stage(uint32_t stage)
{
    if (hw.shm != NULL) {
        atomic_store(&hw.shm->stage, stage);
    }
}

const otakit_flash_t *otakit_hw_flash(void)
{
    return hw.attached ? &hw.flash : NULL;
}

const char *otakit_hw_efuse_path(void)
{
    if (!hw.attached) {
        return "";
    }
    if (hw.efuse_path[0] == '\0') {
        const char *ef = getenv(OTAKIT_HW_ENV_EFUSE);
        if (ef != NULL && strlen(ef) < sizeof(hw.efuse_path)) {
            memcpy(hw.efuse_path, ef, strlen(ef) + 1);
        } else if (otakit_efuse_path(hw.flash_path, hw.efuse_path, sizeof(hw.efuse_path)) != 0) {
            hw.efuse_path[0] = '\0';
        }
    }
    return hw.efuse_path;
}

/* Set up on first use: a program that never asks links no eFuse code. */
const otakit_efuse_t *otakit_hw_efuse(void)
{
    if (!hw.attached) {
        return NULL;
    }
    if (hw.efuse.get == NULL) {
        (void)otakit_hw_efuse_path();
        hw.efuse.ctx = NULL;
        hw.efuse.get = efuse_get;
        hw.efuse.raise = efuse_raise;
    }
    return &hw.efuse;
}

uint32_t otakit_hw_reset_reason(void)
{
    return hw.shm != NULL ? hw.shm->reset_reason : OTAKIT_RST_POWERON;
}

uint64_t otakit_hw_time_us(void)
{
    if (hw.start_ns == 0) {
        hw.start_ns = mono_ns();
    }
    int64_t base = hw.shm != NULL ? hw.shm->boot_mono_ns : hw.start_ns;
    int64_t us = (mono_ns() - base) / 1000;
    if (hw.shm != NULL) {
        us += atomic_load(&hw.shm->skipped_us);
    }
    return us < 0 ? 0 : (uint64_t)us;
}

void otakit_hw_delay_us(uint64_t us, int default_speedup)
{
    int speed = hw.shm != NULL ? hw.shm->speedup : -1;
    if (speed < 0) {
        speed = default_speedup < 0 ? 1 : default_speedup;
    }
    uint64_t real = speed == 0 ? 0 : us / (uint64_t)speed;
    if (hw.shm != NULL && us > real) {
        atomic_fetch_add(&hw.shm->skipped_us, (int64_t)(us - real));
    }
    struct timespec ts = {.tv_sec = (time_t)(real / 1000000u),
                          .tv_nsec = (long)(real % 1000000u) * 1000};
    while (real > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void otakit_hw_mac(uint8_t mac[6])
{
    static const uint8_t fallback[6] = {0x24, 0x0a, 0xc4, 0x00, 0x00, 0x01};
    memcpy(mac, hw.shm != NULL ? hw.shm->mac : fallback, 6);
}

uint32_t otakit_hw_chip_revision(void)
{
    return hw.shm != NULL ? hw.shm->chip_revision : 300;
}

uint32_t otakit_hw_cores(void)
{
    return hw.shm != NULL ? hw.shm->cores : 2;
}

uint32_t otakit_hw_flash_size(void)
{
    return hw.attached ? hw.flash.size : 0x400000u;
}

bool otakit_hw_wifi_next_drop(unsigned *index, uint64_t *at_bytes, uint64_t *down_us)
{
    if (hw.shm == NULL) {
        return false;
    }
    uint32_t n = hw.shm->wifi_drop_count;
    for (uint32_t i = 0; i < n && i < OTAKIT_HW_MAX_WIFI_DROPS; i++) {
        if (atomic_load(&hw.shm->wifi_drops[i].done) == 0) {
            *index = i;
            *at_bytes = hw.shm->wifi_drops[i].at_bytes;
            *down_us = hw.shm->wifi_drops[i].down_us;
            return true;
        }
    }
    return false;
}

void otakit_hw_wifi_drop_done(unsigned index)
{
    if (hw.shm != NULL && index < OTAKIT_HW_MAX_WIFI_DROPS) {
        atomic_store(&hw.shm->wifi_drops[index].done, 1);
    }
}

uint32_t otakit_hw_header_flash_size(void)
{
    if (!hw.attached || otakit_nor_size(hw.nor) < 0x1000u + 4u) {
        return 0;
    }
    const uint8_t *hdr = otakit_nor_data(hw.nor) + 0x1000u;
    if (hdr[0] != OTAKIT_IMAGE_MAGIC || (hdr[3] >> 4) > 7) {
        return 0;
    }
    return 0x100000u << (hdr[3] >> 4); /* 0 = 1MB ... 7 = 128MB */
}

bool otakit_hw_color(void)
{
    return hw.shm != NULL ? hw.shm->color != 0 : isatty(STDOUT_FILENO) == 1;
}

void otakit_hw_set_app(uint32_t offset, uint32_t size)
{
    if (hw.shm != NULL) {
        hw.shm->app_offset = offset;
        hw.shm->app_size = size;
    }
}

uint32_t otakit_hw_app_offset(void)
{
    return hw.shm != NULL ? hw.shm->app_offset : 0;
}

void otakit_hw_reset(uint32_t request)
{
    fflush(stdout);
    fflush(stderr);
    if (hw.shm != NULL) {
        atomic_store(&hw.shm->request, request);
    }
    _exit(0);
}

void otakit_hw_halt(const char *msg)
{
    if (hw.shm != NULL) {
        snprintf(hw.shm->halt_msg, sizeof(hw.shm->halt_msg), "%s", msg);
    }
    otakit_hw_reset(OTAKIT_HW_REQ_HALT);
}

int otakit_hw_exec_flash(uint32_t addr, uint32_t len, const char *name)
{
    if (!hw.attached || len == 0) {
        errno = EINVAL;
        return -1;
    }
    uint8_t *buf = malloc(len);
    if (buf == NULL) {
        return -1;
    }
    if (otakit_flash_read(&hw.flash, addr, buf, len) != OTAKIT_OK) {
        free(buf);
        errno = EIO;
        return -1;
    }
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        free(buf);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            free(buf);
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    free(buf);
    fflush(stdout);
    fflush(stderr);
    char *argv[] = {(char *)name, NULL};
    fexecve(fd, argv, environ);
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int otakit_hw_gpio_input(unsigned pin)
{
    if (hw.shm == NULL || pin >= OTAKIT_HW_GPIO_COUNT) {
        return -1;
    }
    uint64_t now = hw.shm->power_on_us + otakit_hw_time_us();
    uint32_t n = hw.shm->gpio_event_count;
    if (n > OTAKIT_HW_GPIO_SCHED_MAX) {
        n = OTAKIT_HW_GPIO_SCHED_MAX;
    }
    /* the events are in time order: the last one for this pin that has begun */
    for (uint32_t i = n; i-- > 0;) {
        const otakit_hw_gpio_event_t *e = &hw.shm->gpio_events[i];
        if (e->pin == pin && e->at_us <= now) {
            return e->level;
        }
    }
    return -1;
}

void otakit_hw_gpio_output(unsigned pin, int level)
{
    if (hw.shm == NULL || pin >= OTAKIT_HW_GPIO_COUNT) {
        return;
    }
    if (level) {
        atomic_fetch_or(&hw.shm->gpio_out, (uint64_t)1 << pin);
    } else {
        atomic_fetch_and(&hw.shm->gpio_out, ~((uint64_t)1 << pin));
    }
}
