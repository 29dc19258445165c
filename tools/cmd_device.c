/* otakit device run: power the virtual ESP32 on a flash file and show its console. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#include <cjson/cJSON.h>

#include "device.h"
#include "sim_shared.h"

static const char USAGE[] =
    "usage: otakit device run [--flash FILE] [--until TEXT] [--max-boots N] [--timeout S]\n"
    "                         [--powercut-at N] [--powercut-mode before|after|torn]\n"
    "                         [--powercut-seed N] [--hold-pin factory|test] [--log FILE]\n"
    "                         [--no-log] [--efuse FILE] [--speedup N] [--mac MAC]\n"
    "                         [--wifi-aps SPEC] [--wifi-drop-at BYTES[:SECONDS]]...\n"
    "                         [--gpio PIN=LEVEL[@MS]]...\n"
    "                         [--color auto|always|never] [--flash-trace FILE]\n"
    "                         [--quiet] [--json]\n"
    "\n"
    "Power the virtual ESP32 on: the ROM stage checks the second-stage bootloader at 0x1000\n"
    "and runs it; the bootloader picks an app from the partition table and otadata and runs\n"
    "it. esp_restart() and crashes (panic) reset the chip and it boots again, until a bound\n"
    "below ends the run. The console goes to stdout and to the log file. On a terminal,\n"
    "Ctrl-] quits and Ctrl-T then R resets the chip (as ESP-IDF's monitor).\n"
    "\n"
    "options:\n"
    "  --flash FILE           the flash file (default build/flash.bin; `make flash` writes it)\n"
    "  --until TEXT           stop, exit 0, as soon as TEXT appears on the console (give it\n"
    "                         up to 8 times: the first of the texts to appear ends the run)\n"
    "  --max-boots N          stop after N boots (resets included)\n"
    "  --timeout S            stop after S seconds (decimals allowed)\n"
    "  --powercut-at N        cut the power at the N-th flash operation (reads, writes and\n"
    "                         erases of the bootloader and the apps, counted from power-on);\n"
    "                         the device then powers on again with faults off\n"
    "  --powercut-mode M      before (the operation never happens), after (it completes) or\n"
    "                         torn (half done: part of a write, part of an erase); default torn\n"
    "  --powercut-seed N      randomness of a torn operation (default: N of --powercut-at)\n"
    "  --hold-pin PIN         hold the factory-reset (factory) or test-app (test) pin at the\n"
    "                         first power-on (needs CONFIG_BOOTLOADER_FACTORY_RESET / _APP_TEST)\n"
    "  --log FILE             console copy without colours (default FLASH.log); --no-log: none\n"
    "  --efuse FILE           the eFuse secure-version file (default FLASH.efuse)\n"
    "  --speedup N            app delays (vTaskDelay) take N times less real time; 0 = no real\n"
    "                         time at all (default: the app's CONFIG_OTAKIT_DEVICE_TIME_SPEEDUP)\n"
    "  --mac MAC              base MAC address (default 24:0a:c4 + 3 bytes from FLASH's path)\n"
    "  --wifi-aps SPEC        access points around the device (sets OTAKIT_WIFI_APS:\n"
    "                         \"SSID:PASSWORD[,SSID:PASSWORD...]\")\n"
    "  --wifi-drop-at B[:S]   the access point goes away once the app has read B bytes of\n"
    "                         HTTP bodies, and comes back S seconds of device time later\n"
    "                         (decimals allowed, default 2); up to 16, each once per run\n"
    "  --gpio PIN=LEVEL[@MS]  drive input GPIO PIN (0-39) to LEVEL (0 or 1) from power-on,\n"
    "                         or from MS milliseconds of device time after the run starts\n"
    "                         on (a button pressed, released...); up to 32, any order\n"
    "  --color WHEN           log colours: auto (stdout is a terminal), always, never\n"
    "  --flash-trace FILE     write one line per flash operation: N r|w|e 0xADDR LEN stage\n"
    "                         (N is what --powercut-at counts)\n"
    "  --quiet                console only to the log file\n"
    "  --json                 print one JSON object with how the run ended (implies --quiet)\n"
    "  -h, --help             this help\n"
    "\n"
    "exit codes: 0 --until seen (or, without --until, the run ended at --max-boots,\n"
    "            --timeout or Ctrl-]); 1 --until not seen, the ROM found no valid bootloader,\n"
    "            no bootable app, or the CPU stopped (an Xtensa image); 2 bad usage or input\n";

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || *s == '-') {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        if (v[i] > 0xff) {
            return -1;
        }
        mac[i] = (uint8_t)v[i];
    }
    return 0;
}

/* --wifi-drop-at BYTES[:SECONDS]: kept in increasing BYTES. */
static int add_wifi_drop(otakit_device_opts_t *o, const char *v)
{
    char bytes[32];
    size_t n = strcspn(v, ":");
    uint64_t at;
    double secs = 2.0;
    if (n == 0 || n >= sizeof(bytes)) {
        tool_error("device run: bad --wifi-drop-at '%s' (BYTES[:SECONDS])", v);
        return -1;
    }
    memcpy(bytes, v, n);
    bytes[n] = '\0';
    if (parse_u64(bytes, &at) != 0) {
        tool_error("device run: bad --wifi-drop-at '%s': BYTES is a number of bytes", v);
        return -1;
    }
    if (v[n] == ':') {
        char *end;
        errno = 0;
        secs = strtod(v + n + 1, &end);
        if (errno != 0 || end == v + n + 1 || *end != '\0' || !(secs >= 0) || secs > 86400) {
            tool_error("device run: bad --wifi-drop-at '%s': SECONDS is 0 to 86400", v);
            return -1;
        }
    }
    if (o->wifi_drop_count == OTAKIT_DEVICE_MAX_WIFI_DROPS) {
        tool_error("device run: at most %d --wifi-drop-at", OTAKIT_DEVICE_MAX_WIFI_DROPS);
        return -1;
    }
    unsigned i = o->wifi_drop_count++;
    for (; i > 0 && o->wifi_drop_at[i - 1] > at; i--) {
        o->wifi_drop_at[i] = o->wifi_drop_at[i - 1];
        o->wifi_drop_us[i] = o->wifi_drop_us[i - 1];
    }
    o->wifi_drop_at[i] = at;
    o->wifi_drop_us[i] = (uint64_t)(secs * 1e6 + 0.5);
    return 0;
}

static int run(int argc, char **argv)
{
    otakit_device_opts_t o;
    otakit_device_opts_init(&o);
    bool json = false;
    enum {
        OPT_JSON = 256,
        OPT_QUIET,
        OPT_NO_LOG,
        OPT_FLASH,
        OPT_UNTIL,
        OPT_MAX_BOOTS,
        OPT_TIMEOUT,
        OPT_POWERCUT_AT,
        OPT_POWERCUT_MODE,
        OPT_POWERCUT_SEED,
        OPT_HOLD_PIN,
        OPT_LOG,
        OPT_FLASH_TRACE,
        OPT_EFUSE,
        OPT_SPEEDUP,
        OPT_MAC,
        OPT_WIFI_APS,
        OPT_WIFI_DROP_AT,
        OPT_GPIO,
        OPT_COLOR,
    };
    static const struct option OPTS[] = {
        TOOL_OPT_HELP_ENTRY,
        {"json", no_argument, 0, OPT_JSON},
        {"quiet", no_argument, 0, OPT_QUIET},
        {"no-log", no_argument, 0, OPT_NO_LOG},
        {"flash", required_argument, 0, OPT_FLASH},
        {"until", required_argument, 0, OPT_UNTIL},
        {"max-boots", required_argument, 0, OPT_MAX_BOOTS},
        {"timeout", required_argument, 0, OPT_TIMEOUT},
        {"powercut-at", required_argument, 0, OPT_POWERCUT_AT},
        {"powercut-mode", required_argument, 0, OPT_POWERCUT_MODE},
        {"powercut-seed", required_argument, 0, OPT_POWERCUT_SEED},
        {"hold-pin", required_argument, 0, OPT_HOLD_PIN},
        {"log", required_argument, 0, OPT_LOG},
        {"flash-trace", required_argument, 0, OPT_FLASH_TRACE},
        {"efuse", required_argument, 0, OPT_EFUSE},
        {"speedup", required_argument, 0, OPT_SPEEDUP},
        {"mac", required_argument, 0, OPT_MAC},
        {"wifi-aps", required_argument, 0, OPT_WIFI_APS},
        {"wifi-drop-at", required_argument, 0, OPT_WIFI_DROP_AT},
        {"gpio", required_argument, 0, OPT_GPIO},
        {"color", required_argument, 0, OPT_COLOR},
        {0, 0, 0, 0},
    };
    tool_getopt_begin();
    int c;
    while ((c = tool_getopt(argc, argv, "device run", OPTS)) != -1) {
        const char *v = optarg;
        uint64_t n;
        switch (c) {
        case TOOL_OPT_HELP:
            fputs(USAGE, stdout);
            return EXIT_OK;
        case OPT_JSON:
            json = true;
            break;
        case OPT_QUIET:
            o.quiet = true;
            break;
        case OPT_NO_LOG:
            o.log_path = "";
            break;
        case OPT_FLASH:
            o.flash_path = v;
            break;
        case OPT_UNTIL:
            if (*v == '\0') {
                tool_error("device run: --until needs a non-empty text");
                return EXIT_USAGE;
            }
            if (o.until_count == OTAKIT_DEVICE_MAX_UNTIL) {
                tool_error("device run: at most %d --until texts", OTAKIT_DEVICE_MAX_UNTIL);
                return EXIT_USAGE;
            }
            o.until[o.until_count++] = v;
            break;
        case OPT_MAX_BOOTS:
            if (parse_u64(v, &n) != 0 || n == 0 || n > 1000000) {
                tool_error("device run: bad --max-boots '%s' (1..1000000)", v);
                return EXIT_USAGE;
            }
            o.max_boots = (unsigned)n;
            break;
        case OPT_TIMEOUT: {
            char *end;
            errno = 0;
            double t = strtod(v, &end);
            if (errno != 0 || end == v || *end != '\0' || !(t > 0) || t > 1e7) {
                tool_error("device run: bad --timeout '%s' (seconds, > 0)", v);
                return EXIT_USAGE;
            }
            o.timeout_s = t;
            break;
        }
        case OPT_POWERCUT_AT:
            if (parse_u64(v, &n) != 0 || n == 0) {
                tool_error(
                    "device run: bad --powercut-at '%s' (a flash operation number, 1 or more)", v);
                return EXIT_USAGE;
            }
            o.powercut_at = n;
            break;
        case OPT_POWERCUT_MODE:
            if (strcmp(v, "before") == 0) {
                o.powercut_mode = OTAKIT_HW_CUT_BEFORE;
            } else if (strcmp(v, "after") == 0) {
                o.powercut_mode = OTAKIT_HW_CUT_AFTER;
            } else if (strcmp(v, "torn") == 0) {
                o.powercut_mode = OTAKIT_HW_CUT_TORN;
            } else {
                tool_error("device run: bad --powercut-mode '%s' (before, after, torn)", v);
                return EXIT_USAGE;
            }
            break;
        case OPT_POWERCUT_SEED:
            if (parse_u64(v, &n) != 0 || n > 0xffffffffu) {
                tool_error("device run: bad --powercut-seed '%s'", v);
                return EXIT_USAGE;
            }
            o.powercut_seed = (uint32_t)n;
            break;
        case OPT_HOLD_PIN:
            if (strcmp(v, "factory") == 0) {
                o.hold_pin = OTAKIT_HW_PIN_FACTORY;
            } else if (strcmp(v, "test") == 0) {
                o.hold_pin = OTAKIT_HW_PIN_TEST;
            } else {
                tool_error("device run: bad --hold-pin '%s' (factory, test)", v);
                return EXIT_USAGE;
            }
            break;
        case OPT_LOG:
            o.log_path = v;
            break;
        case OPT_FLASH_TRACE:
            o.trace_path = v;
            break;
        case OPT_EFUSE:
            o.efuse_path = v;
            break;
        case OPT_SPEEDUP:
            if (parse_u64(v, &n) != 0 || n > 1000000) {
                tool_error(
                    "device run: bad --speedup '%s' (0..1000000; 0 = delays take no real time)", v);
                return EXIT_USAGE;
            }
            o.speedup = (int)n;
            break;
        case OPT_MAC:
            if (parse_mac(v, o.mac) != 0) {
                tool_error("device run: bad --mac '%s' (XX:XX:XX:XX:XX:XX)", v);
                return EXIT_USAGE;
            }
            o.have_mac = true;
            break;
        case OPT_WIFI_APS:
            setenv("OTAKIT_WIFI_APS", v, 1);
            break;
        case OPT_WIFI_DROP_AT:
            if (add_wifi_drop(&o, v) != 0) {
                return EXIT_USAGE;
            }
            break;
        case OPT_GPIO: {
            char why[128];
            if (otakit_device_add_gpio(&o, v, why, sizeof(why)) != 0) {
                tool_error("device run: bad --gpio %s", why);
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_COLOR:
            if (strcmp(v, "auto") == 0) {
                o.color = -1;
            } else if (strcmp(v, "always") == 0) {
                o.color = 1;
            } else if (strcmp(v, "never") == 0) {
                o.color = 0;
            } else {
                tool_error("device run: bad --color '%s' (auto, always, never)", v);
                return EXIT_USAGE;
            }
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tool_error("device run: unexpected argument '%s' (see 'otakit device run --help')",
                   argv[optind]);
        return EXIT_USAGE;
    }
    if (json) {
        o.quiet = true;
    }
    o.interactive = !o.quiet && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

    otakit_device_result_t r;
    int rc = otakit_device_run(&o, &r);
    if (rc == EXIT_USAGE && r.end != NULL && strcmp(r.end, "error") == 0) {
        tool_error("%s", r.message);
    } else if (!json && rc != EXIT_OK) {
        tool_error("device run: %s", r.message);
    }
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "flash", o.flash_path);
        cJSON_AddStringToObject(j, "end", r.end != NULL ? r.end : "error");
        cJSON_AddNumberToObject(j, "exit_code", rc);
        cJSON_AddStringToObject(j, "message", r.message);
        if (o.until_count > 0) {
            cJSON_AddStringToObject(j, "until", o.until[0]);
        }
        cJSON_AddBoolToObject(j, "until_seen", r.until_seen);
        if (r.until_matched != NULL) {
            cJSON_AddStringToObject(j, "until_matched", r.until_matched);
        } else {
            cJSON_AddNullToObject(j, "until_matched");
        }
        cJSON_AddNumberToObject(j, "boots", r.boots);
        cJSON_AddNumberToObject(j, "restarts", r.restarts);
        cJSON_AddNumberToObject(j, "panics", r.panics);
        cJSON_AddNumberToObject(j, "power_cuts", r.power_cuts);
        if (r.cut_op != 0) {
            cJSON_AddNumberToObject(j, "cut_op", (double)r.cut_op);
        } else {
            cJSON_AddNullToObject(j, "cut_op");
        }
        cJSON_AddNumberToObject(j, "flash_ops_first_power_on", (double)r.flash_ops_first);
        cJSON_AddNumberToObject(j, "flash_ops_total", (double)r.flash_ops_total);
        if (r.last_app_offset != 0) {
            cJSON_AddNumberToObject(j, "last_app_offset", r.last_app_offset);
        } else {
            cJSON_AddNullToObject(j, "last_app_offset");
        }
        char *s = cJSON_PrintUnformatted(j);
        if (s != NULL) {
            puts(s);
            cJSON_free(s);
        }
        cJSON_Delete(j);
    }
    return rc;
}

int cmd_device(int argc, char **argv)
{
    static const tool_verb_t VERBS[] = {
        {"run", run},
    };
    return tool_dispatch("device", USAGE, VERBS, sizeof(VERBS) / sizeof(VERBS[0]), argc, argv);
}
