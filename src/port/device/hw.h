/* The program side of the virtual device: what the bootloader and the apps get from
 * the "hardware" (sim_shared.h). One set per process, as on a chip: these functions
 * keep process-wide state and are not meant for the fleet path.
 */
#ifndef OTAKIT_SIM_HW_H
#define OTAKIT_SIM_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otakit/flash.h"
#include "otakit/update.h"
#include "sim_shared.h"

#if defined(__GNUC__)
#define OTAKIT_NORETURN __attribute__((noreturn))
#else
#define OTAKIT_NORETURN _Noreturn
#endif

/**
 * Attach to the device this process runs on (environment OTAKIT_HW_FD / OTAKIT_HW_FLASH):
 * map the shared block, open the flash, install the panic handlers, make stdout line
 * buffered. Safe to call more than once.
 * @return 0; -1 (message on stderr) when the process was not started by `otakit device
 *         run` or the flash cannot be opened.
 */
int otakit_hw_attach(void);
/** Whether otakit_hw_attach() succeeded. */
bool otakit_hw_attached(void);
/** The shared block, or NULL when not attached. */
otakit_hw_shared_t *otakit_hw_shared(void);

/** Mark which program runs now (OTAKIT_HW_STAGE_*). */
void otakit_hw_set_stage(uint32_t stage);

/**
 * The flash as the core sees it. Every read, write and erase is counted in the shared
 * block; at the armed operation the emulated NOR applies the cut (before, after or torn)
 * and the process dies at once (SIGKILL), as a chip does when the power goes.
 */
const otakit_flash_t *otakit_hw_flash(void);

/** The eFuse SECURE_VERSION counter (file beside the flash), for update.h / boot.h. */
const otakit_efuse_t *otakit_hw_efuse(void);
/** The device's eFuse file (efuse.h: counter, Secure Boot key digests), or "" when
 * not attached. */
const char *otakit_hw_efuse_path(void);

/** esp_reset_reason_t value of this boot (OTAKIT_RST_*). */
uint32_t otakit_hw_reset_reason(void);

/** Device time since the reset, in microseconds (real time plus sped-up delays). */
uint64_t otakit_hw_time_us(void);
/**
 * Sleep us microseconds of device time. The device's speed-up S divides the real sleep
 * (S = 0: no real sleep); default_speedup applies when the device leaves it to the app.
 */
void otakit_hw_delay_us(uint64_t us, int default_speedup);

/** The factory MAC address (base MAC). */
void otakit_hw_mac(uint8_t mac[6]);
/** Chip facts: revision (major*100+minor), cores, flash size in bytes. */
uint32_t otakit_hw_chip_revision(void);
uint32_t otakit_hw_cores(void);
uint32_t otakit_hw_flash_size(void);
/** The level the host drives onto GPIO pin now (`--gpio`), or -1 when it drives none. */
int otakit_hw_gpio_input(unsigned pin);
/** Record the level the app drives on an output pin. */
void otakit_hw_gpio_output(unsigned pin, int level);
/**
 * The flash size the bootloader's image header at 0x1000 gives (what the ROM and the
 * bootloader configure, ESP-IDF's g_rom_flashchip.chip_size), or 0 when there is no
 * header. Read past the operation counter: it is a register on a chip, not a flash access.
 */
uint32_t otakit_hw_header_flash_size(void);

/**
 * The first Wi-Fi drop of this device run not yet done (otakit device run
 * --wifi-drop-at): the app's HTTP body byte count that triggers it and how long the
 * access point then stays away (device time). @return false when none is left.
 */
bool otakit_hw_wifi_next_drop(unsigned *index, uint64_t *at_bytes, uint64_t *down_us);
/** Mark that drop done (it does not happen again after a reset). */
void otakit_hw_wifi_drop_done(unsigned index);

/** Whether the console is a terminal (log colours on). */
bool otakit_hw_color(void);

/** Record the partition the bootloader starts (the app finds its running partition by it). */
void otakit_hw_set_app(uint32_t offset, uint32_t size);
/** Offset of the partition the app runs from (0 if unknown). */
uint32_t otakit_hw_app_offset(void);

/** End this program and ask the device for a reset of the given kind (OTAKIT_HW_REQ_*). */
OTAKIT_NORETURN void otakit_hw_reset(uint32_t request);
/** Stop the CPU for good: the device run ends with msg. */
OTAKIT_NORETURN void otakit_hw_halt(const char *msg);

/**
 * Run the Linux program held in flash [addr, addr+len) in place of this process
 * (memfd_create + fexecve), keeping the hardware (shared block, flash, console).
 * Returns only on failure (-1, errno set).
 */
int otakit_hw_exec_flash(uint32_t addr, uint32_t len, const char *name);

#endif
