/* The virtual device's "hardware" as every program on it sees it: one small block of
 * shared memory (a memfd the device process creates and every program inherits, named
 * by the environment variable OTAKIT_HW_FD), plus the flash file (OTAKIT_HW_FLASH).
 *
 * The device process writes the fields above `request` before each boot; the programs
 * (bootloader, app) write `request`, the running partition and the panic record, and
 * count flash operations in `flash_ops`. Counters touched by more than one process are
 * C11 atomics (lock-free on every target Linux runs otakit on).
 */
#ifndef OTAKIT_SIM_SHARED_H
#define OTAKIT_SIM_SHARED_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#define OTAKIT_HW_MAGIC 0x4f544b48u /* "OTKH" */
#define OTAKIT_HW_VERSION 2u

#define OTAKIT_HW_ENV_FD "OTAKIT_HW_FD"
#define OTAKIT_HW_ENV_FLASH "OTAKIT_HW_FLASH"
#define OTAKIT_HW_ENV_EFUSE "OTAKIT_HW_EFUSE"
/* Optional: an fd the programs append one line per flash operation to
 * ("N r|w|e 0xADDR LEN bootloader|app"); `otakit device run --flash-trace FILE`. */
#define OTAKIT_HW_ENV_TRACE_FD "OTAKIT_HW_TRACE_FD"

/* What a program asks of the device when it ends (shm->request). */
enum {
    OTAKIT_HW_REQ_NONE = 0,
    OTAKIT_HW_REQ_RESTART,    /* esp_restart(): software CPU reset */
    OTAKIT_HW_REQ_PANIC,      /* a fault or abort(): panic reset */
    OTAKIT_HW_REQ_BOOT_RESET, /* the bootloader gave up (no table, no app): system reset */
    OTAKIT_HW_REQ_HALT,       /* the CPU cannot go on (e.g. Xtensa code): the run ends */
};

/* Which program is running (shm->stage). */
enum {
    OTAKIT_HW_STAGE_ROM = 0,
    OTAKIT_HW_STAGE_BOOTLOADER,
    OTAKIT_HW_STAGE_APP,
};

/* ESP-IDF's esp_reset_reason_t values the device produces. */
#define OTAKIT_RST_POWERON 1
#define OTAKIT_RST_EXT 2
#define OTAKIT_RST_SW 3
#define OTAKIT_RST_PANIC 4

/* The ESP32 ROM's reset cause codes (the "rst:0x.." line). */
#define OTAKIT_ROM_POWERON_RESET 0x1
#define OTAKIT_ROM_SW_RESET 0x3
#define OTAKIT_ROM_SW_CPU_RESET 0xc

/* Hold-pin states at power-on (the bootloader's GPIO options). */
#define OTAKIT_HW_PIN_NONE 0
#define OTAKIT_HW_PIN_FACTORY 1
#define OTAKIT_HW_PIN_TEST 2

/* GPIO: the pins an ESP32 has, and how many input changes the host can schedule. */
#define OTAKIT_HW_GPIO_COUNT 40
#define OTAKIT_HW_GPIO_SCHED_MAX 32

/* One input level the host drives onto a pin from a moment of device time on
 * (`otakit device run --gpio PIN=LEVEL[@MS]`). */
typedef struct otakit_hw_gpio_event {
    uint64_t at_us; /* device time since power-on */
    uint8_t pin;
    uint8_t level;
    uint8_t pad[6];
} otakit_hw_gpio_event_t;
/* At most this many --wifi-drop-at. */
#define OTAKIT_HW_MAX_WIFI_DROPS 16

/* Power-cut modes, numbered as otakit_nor_cut_mode_t. */
#define OTAKIT_HW_CUT_BEFORE 0
#define OTAKIT_HW_CUT_AFTER 1
#define OTAKIT_HW_CUT_TORN 2

typedef struct otakit_hw_shared {
    uint32_t magic;
    uint32_t version;

    /* Set by the device before each boot. */
    uint32_t boot_count;     /* boots since the device process started, 1 = first */
    uint32_t reset_reason;   /* OTAKIT_RST_* for esp_reset_reason() */
    uint32_t rom_reset_code; /* OTAKIT_ROM_* */
    uint32_t hold_pin;       /* OTAKIT_HW_PIN_*, for this boot */
    int64_t boot_mono_ns;    /* CLOCK_MONOTONIC at the reset */
    int32_t speedup; /* delays run this many times faster; 0 = instant; -1 = app's Kconfig */
    uint32_t color;  /* 1: the console is a terminal, log lines may use colour */
    uint32_t flash_size;
    uint32_t chip_revision; /* major*100 + minor, 300 = v3.0 */
    uint32_t cores;
    uint8_t mac[6];
    uint8_t pad0[2];

    /* Power cut: the flash operation count of this power-on, shared by every program. */
    _Atomic uint64_t flash_ops;
    uint64_t cut_at;   /* 0 = off */
    uint32_t cut_mode; /* OTAKIT_HW_CUT_* */
    uint32_t cut_seed;
    _Atomic uint64_t cut_done; /* the operation that was cut, 0 if none */

    /* Device time: delays that were not slept in real time (speed-up) move the clock. */
    _Atomic int64_t skipped_us;

    /* Written by the programs. */
    _Atomic uint32_t request; /* OTAKIT_HW_REQ_* */
    _Atomic uint32_t stage;   /* OTAKIT_HW_STAGE_* */
    uint32_t app_offset;      /* partition the bootloader started */
    uint32_t app_size;
    int32_t panic_signal;
    uint32_t pad1;
    uint64_t panic_addr;
    char panic_reason[64]; /* "LoadProhibited", "abort() was called" ... */
    char halt_msg[256];    /* why the CPU stopped (REQ_HALT) */

    /* Device time since power-on at the start of this boot (the GPIO schedule's clock). */
    uint64_t power_on_us;
    /* Input levels driven from the host, in device-time order (set once by the device). */
    uint32_t gpio_event_count;
    uint32_t pad3;
    otakit_hw_gpio_event_t gpio_events[OTAKIT_HW_GPIO_SCHED_MAX];
    /* Levels the app drives on its output pins (bit n = GPIO n), for the device's report. */
    _Atomic uint64_t gpio_out;
    /* Wi-Fi drops (otakit device run --wifi-drop-at BYTES[:SECONDS]), in increasing
     * at_bytes: once the app has read at_bytes HTTP body bytes, the access point is gone
     * for down_us of device time. Each happens once per device run (done). */
    uint32_t wifi_drop_count;
    uint32_t pad2;
    struct {
        uint64_t at_bytes;
        uint64_t down_us;
        _Atomic uint32_t done;
        uint32_t pad;
    } wifi_drops[OTAKIT_HW_MAX_WIFI_DROPS];
} otakit_hw_shared_t;

/* ESP-IDF's exception name for the host signal a program died of (0: abort). */
static inline const char *otakit_sim_panic_reason(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "LoadProhibited";
    case SIGBUS:
        return "LoadStoreAlignment";
    case SIGILL:
        return "IllegalInstruction";
    case SIGFPE:
        return "IntegerDivideByZero";
    case SIGABRT:
    case 0:
        return "abort";
    default:
        return "Unhandled debug exception";
    }
}

#endif
