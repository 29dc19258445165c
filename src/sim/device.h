/* The virtual ESP32 as a process: power, the ROM stage, the reset loop, the console
 * (stdout and a log file), power-cut injection across the programs of a power-on.
 */
#ifndef OTAKIT_SIM_DEVICE_H
#define OTAKIT_SIM_DEVICE_H

#include "sim_shared.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTAKIT_DEVICE_MAX_UNTIL 8
/** At most this many Wi-Fi drops per run. */
#define OTAKIT_DEVICE_MAX_WIFI_DROPS 16

typedef struct otakit_device_opts {
    const char *flash_path; /**< the flash file (must exist) */
    const char *log_path;   /**< console copy; NULL = "<flash>.log"; "" = none */
    const char *efuse_path; /**< NULL = "<flash>.efuse" */
    /** Stop with success when any of these texts appears on the console. */
    const char *until[OTAKIT_DEVICE_MAX_UNTIL];
    unsigned until_count;
    unsigned max_boots;     /**< 0 = no limit */
    double timeout_s;       /**< 0 = no limit */
    uint64_t powercut_at;   /**< flash operation of the first power-on to cut at; 0 = none */
    int powercut_mode;      /**< OTAKIT_HW_CUT_* */
    uint32_t powercut_seed; /**< randomness of a torn operation; 0 = derived from the op number */
    int hold_pin;           /**< OTAKIT_HW_PIN_*, held at the first power-on */
    int speedup; /**< device delays run this many times faster; 0 = instant; -1 = app's Kconfig */
    bool have_mac;
    uint8_t mac[6];
    bool quiet;             /**< console not on stdout (log file only) */
    int color;              /**< -1 auto (stdout is a terminal), 0 off, 1 on */
    bool interactive;       /**< stdin is a terminal: Ctrl-] quits, Ctrl-T R resets */
    const char *trace_path; /**< append one line per flash operation here; NULL = none */
    /** Input levels on GPIO pins, in the order given (see otakit_device_add_gpio). */
    otakit_hw_gpio_event_t gpio[OTAKIT_HW_GPIO_SCHED_MAX];
    unsigned gpio_count;
    /** Wi-Fi drops: after the app read at_bytes HTTP body bytes, no AP for down_us of device
     * time; in increasing at_bytes. */
    unsigned wifi_drop_count;
    uint64_t wifi_drop_at[OTAKIT_DEVICE_MAX_WIFI_DROPS];
    uint64_t wifi_drop_us[OTAKIT_DEVICE_MAX_WIFI_DROPS];
} otakit_device_opts_t;

typedef struct otakit_device_result {
    int exit_code;   /**< 0 ok, 1 the run failed (see end), 2 could not start */
    const char *end; /**< "until", "max-boots", "timeout", "halted", "rom", "no-app", "quit",
                        "signal", "error" */
    bool until_seen;
    const char *until_matched; /**< the --until text that appeared, NULL if none */
    unsigned boots;
    unsigned restarts; /**< software restarts (esp_restart) */
    unsigned panics;
    unsigned power_cuts;
    uint64_t
        flash_ops_first; /**< flash operations of the first power-on (what --powercut-at counts) */
    uint64_t flash_ops_total;
    uint64_t cut_op;          /**< the operation that was cut, 0 if none */
    uint32_t last_app_offset; /**< partition of the last app the bootloader started, 0 if none */
    char message[320];        /**< why the run ended, in words */
} otakit_device_result_t;

void otakit_device_opts_init(otakit_device_opts_t *o);
/**
 * @brief Add an input level from a `--gpio` argument: "PIN=LEVEL" (held from power-on)
 *        or "PIN=LEVEL@MS" (from MS milliseconds of device time after power-on on).
 * @return 0, or -1 with a message in err (a pin that is not 0-39, a level not 0 or 1,
 *         a bad time, too many entries).
 */
int otakit_device_add_gpio(otakit_device_opts_t *o, const char *spec, char *err, size_t errlen);
/** Run the device until one of the bounds ends the run. Fills r; returns r->exit_code. */
int otakit_device_run(const otakit_device_opts_t *o, otakit_device_result_t *r);

#endif
