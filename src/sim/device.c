/* The device process: power-on, the ROM stage, the reset loop and the console.
 *
 * Each boot: the ROM stage (here) checks the second-stage bootloader image at 0x1000
 * and runs its program from memory in a child process; the bootloader replaces itself
 * with the chosen app (same process). The child's stdout and stderr come back through
 * a pipe: the device copies them to stdout and the log file and watches for --until. The
 * device's stdin goes on to the program's stdin, as a line typed into the chip's UART.
 * How the child ended (the request it left in the shared block, a signal, a power cut)
 * decides the next reset.
 */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "efuse.h"
#include "nor.h"
#include "otakit/image.h"
#include "program.h"
#include "sim_shared.h"

#define ROM_BOOTLOADER_ADDR 0x1000u
#define MAX_BOOT_RESETS 3 /* bootloader resets in a row before the run gives up */

/* ---- console -------------------------------------------------------------------- */

typedef struct console {
    bool to_stdout;
    FILE *log;
    const char *const *until; /* texts to watch for */
    unsigned until_count;
    size_t until_max; /* longest of them */
    char *tail;       /* last until_max-1 bytes of plain text */
    size_t tail_len;
    bool seen;
    const char *matched;
    int esc; /* ANSI escape parser state: 0 text, 1 after ESC, 2 in CSI */
} console_t;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Console bytes: as they are on stdout; without colour codes in the log and for --until. */
static void console_feed(console_t *c, const char *buf, size_t n)
{
    if (n == 0) {
        return;
    }
    if (c->to_stdout) {
        write_all(STDOUT_FILENO, buf, n);
    }
    char *plain = malloc(c->tail_len + n + 1);
    if (plain == NULL) {
        return;
    }
    if (c->tail_len > 0) {
        memcpy(plain, c->tail, c->tail_len);
    }
    size_t pn = c->tail_len, start = c->tail_len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (c->esc == 1) {
            c->esc = ch == '[' ? 2 : 0;
            continue;
        }
        if (c->esc == 2) {
            if (ch >= 0x40 && ch <= 0x7e) {
                c->esc = 0;
            }
            continue;
        }
        if (ch == 0x1b) {
            c->esc = 1;
            continue;
        }
        plain[pn++] = (char)ch;
    }
    if (c->log != NULL && pn > start) {
        fwrite(plain + start, 1, pn - start, c->log);
        fflush(c->log);
    }
    if (c->until_count > 0 && !c->seen) {
        for (unsigned i = 0; i < c->until_count && !c->seen; i++) {
            size_t ul = strlen(c->until[i]);
            if (pn >= ul && memmem(plain, pn, c->until[i], ul) != NULL) {
                c->seen = true;
                c->matched = c->until[i];
            }
        }
        size_t keep = c->until_max - 1;
        if (keep > pn) {
            keep = pn;
        }
        memcpy(c->tail, plain + pn - keep, keep);
        c->tail_len = keep;
    }
    free(plain);
}

/* Feed line by line, so the console stops right after the line where --until matched. */
static void console_feed_lines(console_t *c, const char *buf, size_t n)
{
    while (n > 0 && !c->seen) {
        const char *nl = memchr(buf, '\n', n);
        size_t len = nl != NULL ? (size_t)(nl - buf) + 1 : n;
        console_feed(c, buf, len);
        buf += len;
        n -= len;
    }
}

static void console_printf(console_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void console_printf(console_t *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    console_feed(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- terminal (monitor) --------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_saved;
static volatile sig_atomic_t got_signal;

static void restore_terminal(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = false;
    }
}

static void on_signal(int sig)
{
    got_signal = sig;
}

static void raw_terminal(void)
{
    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0) {
        return;
    }
    struct termios t = saved_tio;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        tio_saved = true;
        atexit(restore_terminal);
    }
}

/* ---- helpers -------------------------------------------------------------------- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *rom_reset_name(uint32_t code)
{
    switch (code) {
    case OTAKIT_ROM_POWERON_RESET:
        return "POWERON_RESET";
    case OTAKIT_ROM_SW_RESET:
        return "SW_RESET";
    case OTAKIT_ROM_SW_CPU_RESET:
        return "SW_CPU_RESET";
    default:
        return "UNKNOWN_RESET";
    }
}

static const char *cut_mode_name(int mode)
{
    switch (mode) {
    case OTAKIT_HW_CUT_BEFORE:
        return "before";
    case OTAKIT_HW_CUT_AFTER:
        return "after";
    default:
        return "torn";
    }
}

static void default_mac(const char *path, uint8_t mac[6])
{
    /* Espressif's OUI and three bytes of an FNV-1a hash of the flash file's path, so
     * each flash file is its own device with a stable address. */
    uint32_t h = 2166136261u;
    for (const char *p = path; *p != '\0'; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    mac[0] = 0x24;
    mac[1] = 0x0a;
    mac[2] = 0xc4;
    mac[3] = (uint8_t)(h >> 16);
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)(h & 0xfe);
}

/* ---- ROM stage ------------------------------------------------------------------ */

static const char *spi_mode_name(uint8_t m)
{
    static const char *names[] = {"QIO", "QOUT", "DIO", "DOUT", "FAST_READ", "SLOW_READ"};
    return m < 6 ? names[m] : "DIO";
}

static unsigned clock_div(uint8_t speed)
{
    switch (speed) {
    case 0x0:
        return 2;
    case 0x1:
        return 3;
    case 0x2:
        return 4;
    case 0xf:
        return 1;
    default:
        return 2;
    }
}

/* Check the bootloader image at 0x1000 as the ROM does and copy its program into a memfd.
 * Returns the memfd, or -1 after printing the ROM's complaint (why says it in words). */
static int rom_stage(console_t *con, uint32_t rom_code, const char *flash_path, char *why,
                     size_t whyn)
{
    console_printf(
        con, "ets Jul 29 2019 12:21:46\n\nrst:0x%" PRIx32 " (%s),boot:0x13 (SPI_FAST_FLASH_BOOT)\n",
        rom_code, rom_reset_name(rom_code));
    otakit_nor_t *nor = NULL;
    unsigned flags = 0;
#ifdef OTAKIT_NOR_READONLY
    flags |= OTAKIT_NOR_READONLY;
#endif
    otakit_err_t err = otakit_nor_open(&nor, flash_path, 0, flags);
    if (err != OTAKIT_OK) {
        console_printf(con, "flash read err, 1000\nets_main.c 371 \n");
        snprintf(why, whyn, "%s: cannot open the flash file (%s)", flash_path,
                 otakit_err_name(err));
        return -1;
    }
    const otakit_flash_t *f = otakit_nor_flash(nor);
    const uint8_t *data = otakit_nor_data(nor);
    uint32_t size = otakit_nor_size(nor);
    int fd = -1;
    if (size < ROM_BOOTLOADER_ADDR + OTAKIT_IMAGE_HEADER_SIZE) {
        console_printf(con, "flash read err, 1000\nets_main.c 371 \n");
        snprintf(why, whyn, "%s: the flash is too small to hold a bootloader at 0x1000",
                 flash_path);
        goto out;
    }
    const uint8_t *h = data + ROM_BOOTLOADER_ADDR;
    if (h[0] != OTAKIT_IMAGE_MAGIC) {
        uint32_t word = (uint32_t)h[0] | ((uint32_t)h[1] << 8) | ((uint32_t)h[2] << 16) |
                        ((uint32_t)h[3] << 24);
        for (int i = 0; i < 3; i++) {
            console_printf(con, "invalid header: 0x%08" PRIx32 "\n", word);
        }
        snprintf(why, whyn,
                 "%s: offset 0x1000: no second-stage bootloader (invalid magic 0x%02x%s)",
                 flash_path, h[0], word == 0xffffffffu ? ", erased flash" : "");
        goto out;
    }
    otakit_image_opts_t opts = {.chip_id = OTAKIT_CHIP_ESP32, .max_size = 0, .skip_hash = true};
    otakit_image_info_t info;
    otakit_diag_t diag = {0, NULL};
    memset(&info, 0, sizeof(info));
    err = otakit_image_verify_flash(f, ROM_BOOTLOADER_ADDR, &opts, &info, &diag);
    if (err != OTAKIT_OK) {
        console_printf(con, "flash read err, 1000\nets_main.c 371 \n");
        snprintf(why, whyn, "%s: offset 0x%" PRIx32 ": bootloader image: %s", flash_path,
                 ROM_BOOTLOADER_ADDR + diag.offset,
                 diag.msg != NULL ? diag.msg : otakit_err_name(err));
        goto out;
    }
    console_printf(con,
                   "configsip: 0, SPIWP:0xee\n"
                   "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\n"
                   "mode:%s, clock div:%u\n",
                   spi_mode_name(info.header.spi_mode), clock_div(info.header.spi_speed));
    for (unsigned i = 0; i < info.segments_parsed; i++) {
        console_printf(con, "load:0x%08" PRIx32 ",len:%" PRIu32 "\n", info.segments[i].load_addr,
                       info.segments[i].data_len);
    }
    console_printf(con, "entry 0x%08" PRIx32 "\n", info.header.entry_addr);
    uint32_t paddr, plen;
    err = otakit_program_find(f, ROM_BOOTLOADER_ADDR, &info, &paddr, &plen);
    if (err != OTAKIT_OK) {
        snprintf(why, whyn,
                 "%s: offset 0x1000: the bootloader image holds no program the virtual "
                 "device can run (Xtensa code?)",
                 flash_path);
        goto out;
    }
    fd = memfd_create("bootloader", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data + paddr, plen) != (ssize_t)plen) {
        snprintf(why, whyn, "memfd: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
out:
    otakit_nor_close(nor);
    return fd;
}

/* ---- the run -------------------------------------------------------------------- */

void otakit_device_opts_init(otakit_device_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->flash_path = "build/flash.bin";
    o->powercut_mode = OTAKIT_HW_CUT_TORN;
    o->speedup = -1;
    o->color = -1;
}

int otakit_device_add_gpio(otakit_device_opts_t *o, const char *spec, char *err, size_t errlen)
{
    char *end;
    unsigned long pin = strtoul(spec, &end, 10);
    if (end == spec || *end != '=' || pin >= OTAKIT_HW_GPIO_COUNT) {
        snprintf(err, errlen, "'%s': want PIN=LEVEL[@MS] with PIN 0-%d", spec,
                 OTAKIT_HW_GPIO_COUNT - 1);
        return -1;
    }
    const char *lv = end + 1;
    if ((lv[0] != '0' && lv[0] != '1') || (lv[1] != '\0' && lv[1] != '@')) {
        snprintf(err, errlen, "'%s': the level must be 0 or 1", spec);
        return -1;
    }
    uint64_t at_ms = 0;
    if (lv[1] == '@') {
        errno = 0;
        unsigned long long ms = strtoull(lv + 2, &end, 10);
        if (lv[2] == '\0' || *end != '\0' || errno != 0 || ms > UINT64_MAX / 1000) {
            snprintf(err, errlen, "'%s': the time after @ is whole milliseconds", spec);
            return -1;
        }
        at_ms = ms;
    }
    if (o->gpio_count >= OTAKIT_HW_GPIO_SCHED_MAX) {
        snprintf(err, errlen, "at most %d --gpio levels", OTAKIT_HW_GPIO_SCHED_MAX);
        return -1;
    }
    /* Kept in time order (stable for equal times), so the app finds the latest level by
     * one backward scan. */
    unsigned i = o->gpio_count++;
    while (i > 0 && o->gpio[i - 1].at_us > at_ms * 1000) {
        o->gpio[i] = o->gpio[i - 1];
        i--;
    }
    o->gpio[i] = (otakit_hw_gpio_event_t){
        .at_us = at_ms * 1000, .pin = (uint8_t)pin, .level = (uint8_t)(lv[0] - '0')};
    return 0;
}

static void set_end(otakit_device_result_t *r, const char *end, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_end(otakit_device_result_t *r, const char *end, int code, const char *fmt, ...)
{
    r->end = end;
    r->exit_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}

static void panic_report(console_t *con, const otakit_hw_shared_t *s, int sig)
{
    const char *reason =
        s->panic_reason[0] != '\0' ? s->panic_reason : otakit_sim_panic_reason(sig);
    if (strcmp(reason, "abort") == 0) {
        console_printf(con, "\nabort() was called on core 0\n");
    } else {
        console_printf(con,
                       "Guru Meditation Error: Core  0 panic'ed (%s). Exception was unhandled.\n\n"
                       "Core  0 register dump:\n"
                       "EXCVADDR: 0x%08" PRIx64 "  (host signal %d)\n",
                       reason, s->panic_addr, sig);
    }
    console_printf(con, "\nRebooting...\n");
}

/* One run: what lasts across the boots of a device run. */
typedef struct run {
    const otakit_device_opts_t *o;
    otakit_device_result_t *r;
    console_t con;
    otakit_hw_shared_t *s; /* the block the programs share with the device */
    int shm_fd;
    int trace_fd;
    char flash_abs[PATH_MAX];
    char efuse_path[PATH_MAX + 8];
    uint32_t flash_size;
    int64_t deadline;    /* mono_ns() when --timeout ends the run; 0 = none */
    bool power_on;       /* the next boot is a power-on: the power-cut counters start over */
    bool cut_armed;      /* --powercut-at still to come */
    bool first_power_on; /* still in the first power-on (what --powercut-at counts) */
    uint32_t reset_reason, rom_code;
    unsigned boot_resets; /* bootloader resets in a row */
    bool menu;            /* Ctrl-T seen */
    bool stdin_open;      /* the device's stdin has not ended */
} run_t;

/* One boot: the program the ROM stage started (the bootloader, then the app it becomes). */
typedef struct boot {
    pid_t pid;
    int out;   /* the program's stdout and stderr; -1 once closed */
    int in;    /* the program's stdin (its UART's receive side); -1 once closed */
    int pidfd; /* -1 when the kernel has none */
    int status;
    bool exited;
    const char *stop; /* why the device stopped the program while it ran; NULL if it ended */
} boot_t;

static void until_message(run_t *run)
{
    set_end(run->r, "until", 0, "'%s' appeared on the console", run->con.matched);
}

static void timeout_message(run_t *run)
{
    console_printf(&run->con, "\n--- otakit: timeout after %g s\n", run->o->timeout_s);
    set_end(run->r, "timeout", 0, "stopped after %g s (--timeout)", run->o->timeout_s);
}

/* The flash file, the eFuse file, the console's log and --until texts, the trace file. */
static bool run_open(run_t *run)
{
    const otakit_device_opts_t *o = run->o;
    otakit_device_result_t *r = run->r;
    if (realpath(o->flash_path, run->flash_abs) == NULL) {
        set_end(r, "error", 2,
                "%s: %s (make the flash with 'make erase_flash flash' or "
                "'otakit flash')",
                o->flash_path, strerror(errno));
        return false;
    }
    if (o->efuse_path != NULL) {
        snprintf(run->efuse_path, sizeof(run->efuse_path), "%s", o->efuse_path);
    } else {
        otakit_efuse_path(run->flash_abs, run->efuse_path, sizeof(run->efuse_path));
    }
    char log_default[PATH_MAX + 8];
    const char *log_path = o->log_path;
    if (log_path == NULL) {
        snprintf(log_default, sizeof(log_default), "%s.log", o->flash_path);
        log_path = log_default;
    }
    if (log_path[0] != '\0') {
        run->con.log = fopen(log_path, "w");
        if (run->con.log == NULL) {
            set_end(r, "error", 2, "%s: %s", log_path, strerror(errno));
            return false;
        }
    }
    run->con.to_stdout = !o->quiet;
    if (o->until_count > 0) {
        run->con.until = o->until;
        run->con.until_count = o->until_count;
        for (unsigned k = 0; k < o->until_count; k++) {
            size_t ul = strlen(o->until[k]);
            run->con.until_max = ul > run->con.until_max ? ul : run->con.until_max;
        }
        run->con.tail = malloc(run->con.until_max + 1);
        if (run->con.tail == NULL) {
            set_end(r, "error", 2, "out of memory");
            return false;
        }
    }
    if (o->trace_path != NULL) {
        run->trace_fd =
            open(o->trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (run->trace_fd < 0) {
            set_end(r, "error", 2, "%s: %s", o->trace_path, strerror(errno));
            return false;
        }
    }
    /* The flash size is the file's (checked by opening it once). */
    otakit_nor_t *nor = NULL;
    otakit_err_t err = otakit_nor_open(&nor, run->flash_abs, 0, 0);
    if (err != OTAKIT_OK) {
        set_end(r, "error", 2, "%s: cannot open the flash file (%s)", o->flash_path,
                otakit_err_name(err));
        return false;
    }
    run->flash_size = otakit_nor_size(nor);
    otakit_nor_close(nor);
    return true;
}

/* The block the device shares with its programs (sim_shared.h), with the run's settings. */
static bool run_map_shared(run_t *run)
{
    const otakit_device_opts_t *o = run->o;
    run->shm_fd = memfd_create("otakit-hw", MFD_CLOEXEC);
    if (run->shm_fd < 0 || ftruncate(run->shm_fd, sizeof(otakit_hw_shared_t)) != 0) {
        set_end(run->r, "error", 2, "shared memory: %s", strerror(errno));
        return false;
    }
    void *m =
        mmap(NULL, sizeof(otakit_hw_shared_t), PROT_READ | PROT_WRITE, MAP_SHARED, run->shm_fd, 0);
    if (m == MAP_FAILED) {
        set_end(run->r, "error", 2, "shared memory: %s", strerror(errno));
        return false;
    }
    otakit_hw_shared_t *s = m;
    run->s = s;
    memset(s, 0, sizeof(*s));
    s->magic = OTAKIT_HW_MAGIC;
    s->version = OTAKIT_HW_VERSION;
    s->speedup = o->speedup;
    s->color =
        (o->color < 0) ? (uint32_t)(!o->quiet && isatty(STDOUT_FILENO)) : (uint32_t)(o->color > 0);
    s->flash_size = run->flash_size;
    s->chip_revision = 300;
    s->cores = 2;
    if (o->have_mac) {
        memcpy(s->mac, o->mac, 6);
    } else {
        default_mac(run->flash_abs, s->mac);
    }
    _Static_assert(OTAKIT_DEVICE_MAX_WIFI_DROPS == OTAKIT_HW_MAX_WIFI_DROPS, "one limit");
    s->wifi_drop_count = o->wifi_drop_count;
    for (unsigned i = 0; i < o->wifi_drop_count && i < OTAKIT_HW_MAX_WIFI_DROPS; i++) {
        s->wifi_drops[i].at_bytes = o->wifi_drop_at[i];
        s->wifi_drops[i].down_us = o->wifi_drop_us[i];
    }
    return true;
}

/* Signals end the run cleanly; a crashing app leaves no core file; the monitor's terminal. */
static void run_take_signals(run_t *run)
{
    /* No core files from crashing apps: a crash is a panic reset, reported on the console. */
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A device in a terminal's background gets EIO from its stdin, not a stop. */
    signal(SIGTTIN, SIG_IGN);
    if (run->o->interactive) {
        raw_terminal();
        console_printf(&run->con,
                       "--- otakit device: %s (%" PRIu32
                       "MB flash) --- Quit: Ctrl+] | Reset: Ctrl+T followed by R ---\n",
                       run->o->flash_path, run->flash_size >> 20);
    }
}

/* The shared block for the next boot: reset cause, device time, faults of a power-on. */
static void boot_reset_shared(run_t *run)
{
    const otakit_device_opts_t *o = run->o;
    otakit_device_result_t *r = run->r;
    otakit_hw_shared_t *s = run->s;
    if (run->power_on) {
        if (!run->first_power_on) {
            r->flash_ops_total += atomic_load(&s->flash_ops);
        }
        atomic_store(&s->flash_ops, 0);
        s->cut_at = run->cut_armed ? o->powercut_at : 0;
        s->cut_mode = (uint32_t)o->powercut_mode;
        s->cut_seed = o->powercut_seed != 0 ? o->powercut_seed : (uint32_t)o->powercut_at;
        atomic_store(&s->cut_done, 0);
    }
    if (r->boots == 1) {
        s->power_on_us = 0;
        s->gpio_event_count = o->gpio_count;
        memcpy(s->gpio_events, o->gpio, sizeof(s->gpio_events));
    } else {
        /* device time carries on across resets (the GPIO schedule's clock) */
        s->power_on_us += (uint64_t)((mono_ns() - s->boot_mono_ns) / 1000) +
                          (uint64_t)atomic_load(&s->skipped_us);
    }
    s->boot_count = r->boots;
    s->reset_reason = run->reset_reason;
    s->rom_reset_code = run->rom_code;
    s->hold_pin = r->boots == 1 ? (uint32_t)o->hold_pin : OTAKIT_HW_PIN_NONE;
    s->boot_mono_ns = mono_ns();
    atomic_store(&s->skipped_us, 0);
    atomic_store(&s->request, OTAKIT_HW_REQ_NONE);
    atomic_store(&s->stage, OTAKIT_HW_STAGE_ROM);
    s->app_offset = 0;
    s->app_size = 0;
    s->panic_signal = 0;
    s->panic_addr = 0;
    s->panic_reason[0] = '\0';
    s->halt_msg[0] = '\0';
    run->power_on = false;
}

/* Keep fd open across exec, and name it in the environment variable env. */
static void pass_fd(int fd, const char *env)
{
    int flags = fcntl(fd, F_GETFD);
    fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    char num[16];
    snprintf(num, sizeof(num), "%d", fd);
    setenv(env, num, 1);
}

/* In the forked child: the program's console and environment, then the bootloader. */
static void __attribute__((noreturn))
boot_exec(const run_t *run, int prog, int console_w, int console_r)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTTIN, SIG_DFL);
    dup2(console_r, STDIN_FILENO);
    dup2(console_w, STDOUT_FILENO);
    dup2(console_w, STDERR_FILENO);
    pass_fd(run->shm_fd, OTAKIT_HW_ENV_FD);
    setenv(OTAKIT_HW_ENV_FLASH, run->flash_abs, 1);
    setenv(OTAKIT_HW_ENV_EFUSE, run->efuse_path, 1);
    if (run->trace_fd >= 0) {
        pass_fd(run->trace_fd, OTAKIT_HW_ENV_TRACE_FD);
    }
    char *argv[] = {(char *)"bootloader", NULL};
    fexecve(prog, argv, environ);
    dprintf(STDERR_FILENO, "--- otakit: cannot start the bootloader program: %s\n",
            strerror(errno));
    _exit(127);
}

/* Start the bootloader program (a memfd) with its console on two pipes (a fresh receive
 * side each boot: what the last program did not read is gone, as in a reset UART's FIFO).
 * Closes prog. */
static bool boot_start(run_t *run, int prog, boot_t *b)
{
    memset(b, 0, sizeof(*b));
    b->out = -1;
    b->in = -1;
    b->pidfd = -1;
    int pfd[2], ifd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        close(prog);
        set_end(run->r, "error", 2, "pipe: %s", strerror(errno));
        return false;
    }
    if (pipe2(ifd, O_CLOEXEC) != 0) {
        close(prog);
        close(pfd[0]);
        close(pfd[1]);
        set_end(run->r, "error", 2, "pipe: %s", strerror(errno));
        return false;
    }
    fflush(NULL);
    b->pid = fork();
    if (b->pid < 0) {
        close(prog);
        close(pfd[0]);
        close(pfd[1]);
        close(ifd[0]);
        close(ifd[1]);
        set_end(run->r, "error", 2, "fork: %s", strerror(errno));
        return false;
    }
    if (b->pid == 0) {
        boot_exec(run, prog, pfd[1], ifd[0]);
    }
    close(prog);
    close(pfd[1]);
    close(ifd[0]);
    b->out = pfd[0];
    /* Never blocks the device: what does not fit the pipe is lost, as on a UART. */
    fcntl(ifd[1], F_SETFL, fcntl(ifd[1], F_GETFL) | O_NONBLOCK);
    b->in = ifd[1];
    b->pidfd = pidfd_open(b->pid, 0);
    return true;
}

/* Milliseconds poll() may wait before --timeout; -1 without one. */
static int run_poll_ms(const run_t *run)
{
    if (run->deadline == 0) {
        return -1;
    }
    int64_t left = run->deadline - mono_ns();
    return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* The program's console output: onto the console; true when --until matched. */
static bool boot_read_console(run_t *run, boot_t *b)
{
    char buf[4096];
    ssize_t n = read(b->out, buf, sizeof(buf));
    if (n > 0) {
        console_feed_lines(&run->con, buf, (size_t)n);
    } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(b->out);
        b->out = -1;
    }
    return run->con.seen;
}

/*
 * Bytes from the device's stdin go to the program's stdin. On the monitor's terminal
 * Ctrl-] quits, Ctrl-T R resets (Ctrl-T Ctrl-T sends one Ctrl-T; Ctrl-T and another key
 * send nothing), and Enter (CR) arrives as LF, as ESP-IDF's console turns the CR a
 * terminal sends into LF (CONFIG_NEWLIB_STDIN_LINE_ENDING_CR). At the end of stdin the
 * program's stdin stays open: like a UART, it just receives nothing more.
 * Returns why the run stops the program, or NULL.
 */
static const char *boot_read_stdin(run_t *run, boot_t *b)
{
    char buf[512];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return NULL;
    }
    if (n <= 0) {
        run->stdin_open = false;
        return NULL;
    }
    const char *stop = NULL;
    size_t k = 0;
    for (ssize_t i = 0; i < n && stop == NULL; i++) {
        char ch = buf[i];
        if (run->o->interactive) {
            bool menu = run->menu;
            run->menu = false;
            if (ch == 0x1d) {
                stop = "quit";
                continue;
            }
            if (menu && (ch == 'r' || ch == 'R' || ch == 0x12)) {
                stop = "reset";
                continue;
            }
            if (ch == 0x14 && !menu) {
                run->menu = true;
                continue;
            }
            if (menu && ch != 0x14) {
                continue;
            }
            ch = ch == '\r' ? '\n' : ch;
        }
        buf[k++] = ch;
    }
    if (k > 0 && b->in >= 0 && write(b->in, buf, k) < 0 && errno != EAGAIN) {
        close(b->in); /* the program closed its stdin */
        b->in = -1;
    }
    return stop;
}

/* Pump the console until the program ends (b->exited) or a bound stops the run (b->stop). */
static void boot_pump(run_t *run, boot_t *b)
{
    while (!b->exited) {
        struct pollfd pf[3];
        int npf = 0;
        int i_out = -1, i_pid = -1, i_in = -1;
        if (b->out >= 0) {
            pf[npf] = (struct pollfd){.fd = b->out, .events = POLLIN};
            i_out = npf++;
        }
        if (b->pidfd >= 0) {
            pf[npf] = (struct pollfd){.fd = b->pidfd, .events = POLLIN};
            i_pid = npf++;
        }
        if (run->stdin_open) {
            pf[npf] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
            i_in = npf++;
        }
        int pr = poll(pf, (nfds_t)npf, run_poll_ms(run));
        if (pr < 0 && errno != EINTR) {
            b->stop = "error";
            return;
        }
        if (got_signal) {
            b->stop = "signal";
            return;
        }
        if (pr > 0 && i_out >= 0 && (pf[i_out].revents & (POLLIN | POLLHUP | POLLERR)) &&
            boot_read_console(run, b)) {
            b->stop = "until";
            return;
        }
        if (pr > 0 && i_in >= 0 && pf[i_in].revents != 0 &&
            (b->stop = boot_read_stdin(run, b)) != NULL) {
            return;
        }
        bool child_done = false;
        if (b->pidfd >= 0) {
            child_done = pr > 0 && i_pid >= 0 && (pf[i_pid].revents & POLLIN);
        } else if (b->out < 0) {
            child_done = true; /* no pidfd: the end of the console means the end */
        }
        if (child_done && waitpid(b->pid, &b->status, 0) == b->pid) {
            b->exited = true;
        }
        if (!b->exited && run->deadline != 0 && mono_ns() >= run->deadline) {
            b->stop = "timeout";
            return;
        }
    }
}

/* The program is over (or stopped here): what it printed before it ended, its state. */
static void boot_reap(run_t *run, boot_t *b)
{
    if (!b->exited) {
        kill(b->pid, SIGKILL);
        while (waitpid(b->pid, &b->status, 0) < 0 && errno == EINTR) {
        }
    }
    if (b->out >= 0) {
        int fl = fcntl(b->out, F_GETFL);
        fcntl(b->out, F_SETFL, fl | O_NONBLOCK);
        char buf[4096];
        ssize_t n;
        while (!run->con.seen && (n = read(b->out, buf, sizeof(buf))) > 0) {
            console_feed_lines(&run->con, buf, (size_t)n);
        }
        close(b->out);
        b->out = -1;
    }
    if (b->in >= 0) {
        close(b->in);
        b->in = -1;
    }
    if (b->pidfd >= 0) {
        close(b->pidfd);
        b->pidfd = -1;
    }
    if (run->s->app_offset != 0) {
        run->r->last_app_offset = run->s->app_offset;
    }
    if (run->first_power_on) {
        run->r->flash_ops_first = atomic_load(&run->s->flash_ops);
    }
}

/* The device stopped the program (b->stop): the run ends, or (Ctrl-T R) the chip resets.
 * Returns true to boot again. */
static bool run_stopped(run_t *run, const char *stop)
{
    otakit_device_result_t *r = run->r;
    if (strcmp(stop, "until") == 0) {
        until_message(run);
    } else if (strcmp(stop, "timeout") == 0) {
        timeout_message(run);
    } else if (strcmp(stop, "quit") == 0) {
        console_printf(&run->con, "\n--- exit\n");
        set_end(r, "quit", 0, "quit from the terminal");
    } else if (strcmp(stop, "reset") == 0) {
        console_printf(&run->con, "\n--- otakit: reset (EN pin)\n");
        run->reset_reason = OTAKIT_RST_POWERON;
        run->rom_code = OTAKIT_ROM_POWERON_RESET;
        return true;
    } else if (strcmp(stop, "signal") == 0) {
        set_end(r, "signal", 1, "stopped by signal %d", (int)got_signal);
    } else {
        set_end(r, "error", 2, "poll: %s", strerror(errno));
    }
    return false;
}

/* The program ended by itself: how (a power cut, its request, a crash) makes the next reset. */
static void boot_next_reset(run_t *run, int status)
{
    const otakit_device_opts_t *o = run->o;
    otakit_device_result_t *r = run->r;
    otakit_hw_shared_t *s = run->s;
    uint64_t cut = atomic_load(&s->cut_done);
    uint32_t req = atomic_load(&s->request);
    uint32_t stage = atomic_load(&s->stage);
    if (cut != 0) {
        /* The power went at a flash operation: the next boot is a power-on, faults off. */
        r->power_cuts++;
        r->cut_op = cut;
        run->cut_armed = false;
        console_printf(&run->con,
                       "\n--- otakit: power cut at flash operation %" PRIu64
                       " (%s, %s); powering on again\n",
                       cut, cut_mode_name(o->powercut_mode),
                       stage == OTAKIT_HW_STAGE_APP ? "in the app" : "in the bootloader");
        if (run->first_power_on) {
            r->flash_ops_first = atomic_load(&s->flash_ops);
            run->first_power_on = false;
        }
        run->power_on = true;
        run->reset_reason = OTAKIT_RST_POWERON;
        run->rom_code = OTAKIT_ROM_POWERON_RESET;
    } else if (req == OTAKIT_HW_REQ_HALT) {
        console_printf(&run->con, "--- otakit: the CPU stopped: %s\n", s->halt_msg);
        set_end(r, "halted", 1, "%s", s->halt_msg);
    } else if (req == OTAKIT_HW_REQ_RESTART) {
        r->restarts++;
        run->boot_resets = 0;
        run->reset_reason = OTAKIT_RST_SW;
        run->rom_code = OTAKIT_ROM_SW_CPU_RESET;
    } else if (req == OTAKIT_HW_REQ_BOOT_RESET) {
        run->boot_resets++;
        if (run->boot_resets >= MAX_BOOT_RESETS) {
            console_printf(&run->con,
                           "--- otakit: the bootloader reset %u times in a row without starting "
                           "an app; stopping\n",
                           run->boot_resets);
            set_end(r, "no-app", 1, "no bootable app: the bootloader reset %u times in a row",
                    run->boot_resets);
        }
        run->reset_reason = OTAKIT_RST_SW;
        run->rom_code = OTAKIT_ROM_SW_RESET;
    } else {
        /* A panic: a fault, abort(), or a program that ended on its own. */
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        if (req != OTAKIT_HW_REQ_PANIC && sig == 0) {
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            console_printf(&run->con,
                           "--- otakit: the %s exited with status %d (a program on the chip "
                           "never returns: treated as abort())\n",
                           stage == OTAKIT_HW_STAGE_APP ? "app" : "bootloader", code);
        }
        r->panics++;
        run->boot_resets = 0;
        panic_report(&run->con, s, req == OTAKIT_HW_REQ_PANIC ? s->panic_signal : sig);
        run->reset_reason = OTAKIT_RST_PANIC;
        run->rom_code = OTAKIT_ROM_SW_CPU_RESET;
    }
}

/* Boot after boot until a bound ends the run. */
static void run_boots(run_t *run)
{
    const otakit_device_opts_t *o = run->o;
    otakit_device_result_t *r = run->r;
    for (;;) {
        if (o->max_boots != 0 && r->boots >= o->max_boots) {
            set_end(r, "max-boots", 0, "stopped after %u boots (--max-boots)", r->boots);
            break;
        }
        r->boots++;
        boot_reset_shared(run);
        char why[PATH_MAX + 200];
        int prog = rom_stage(&run->con, run->rom_code, run->flash_abs, why, sizeof(why));
        if (prog < 0) {
            console_printf(&run->con, "--- otakit: ROM: %s; the chip stays in the ROM\n", why);
            set_end(r, run->con.seen ? "until" : "rom", run->con.seen ? 0 : 1, "%s", why);
            break;
        }
        if (run->con.seen) { /* --until matched a ROM line */
            close(prog);
            until_message(run);
            break;
        }
        boot_t b;
        if (!boot_start(run, prog, &b)) {
            break;
        }
        boot_pump(run, &b);
        boot_reap(run, &b);
        if (b.stop != NULL) {
            if (run_stopped(run, b.stop)) {
                continue;
            }
            break;
        }
        boot_next_reset(run, b.status);
        if (run->con.seen) {
            until_message(run);
            break;
        }
        if (r->end != NULL) {
            break;
        }
        if (run->deadline != 0 && mono_ns() >= run->deadline) {
            timeout_message(run);
            break;
        }
    }
    if (run->first_power_on) {
        r->flash_ops_first = atomic_load(&run->s->flash_ops);
    }
    r->flash_ops_total += atomic_load(&run->s->flash_ops);
}

/* The report's last words (an --until text that never appeared fails the run), clean-up. */
static void run_close(run_t *run)
{
    otakit_device_result_t *r = run->r;
    r->until_seen = run->con.seen;
    r->until_matched = run->con.matched;
    if (run->con.until_count > 0 && !run->con.seen && r->exit_code == 0 && r->end != NULL &&
        strcmp(r->end, "quit") != 0) {
        r->exit_code = 1;
        snprintf(r->message + strlen(r->message), sizeof(r->message) - strlen(r->message),
                 "; '%s'%s did not appear", run->o->until[0],
                 run->o->until_count > 1 ? " (nor the other --until texts)" : "");
    }
    restore_terminal();
    if (run->s != NULL) {
        munmap(run->s, sizeof(*run->s));
    }
    if (run->shm_fd >= 0) {
        close(run->shm_fd);
    }
    if (run->trace_fd >= 0) {
        close(run->trace_fd);
    }
    if (run->con.log != NULL) {
        fclose(run->con.log);
    }
    free(run->con.tail);
}

int otakit_device_run(const otakit_device_opts_t *o, otakit_device_result_t *r)
{
    memset(r, 0, sizeof(*r));
    run_t run;
    memset(&run, 0, sizeof(run));
    run.o = o;
    run.r = r;
    run.shm_fd = -1;
    run.trace_fd = -1;
    run.power_on = true;
    run.cut_armed = o->powercut_at != 0;
    run.first_power_on = true;
    run.reset_reason = OTAKIT_RST_POWERON;
    run.rom_code = OTAKIT_ROM_POWERON_RESET;
    run.stdin_open = true;
    if (run_open(&run) && run_map_shared(&run)) {
        run_take_signals(&run);
        const int64_t t0 = mono_ns();
        run.deadline = o->timeout_s > 0 ? t0 + (int64_t)(o->timeout_s * 1e9) : 0;
        run_boots(&run);
    }
    run_close(&run);
    return r->exit_code;
}
