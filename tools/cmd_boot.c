/* otakit boot FLASH: the bootloader's decision on a flash file, with the otadata writes
 * it makes (or, with --dry-run, would make). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "otakit/boot.h"
#include "otakit/otadata.h"

static const char USAGE[] =
    "usage: otakit boot FLASH [--dry-run] [--rollback [--boot-attempts N]]\n"
    "                         [--anti-rollback --secure-version N]\n"
    "                         [--hold-pin factory|test] [--reset-erase LABEL[,LABEL...]]\n"
    "                         [--reset-erase-otadata] [--table-offset 0x8000] [--json] [--quiet]\n"
    "\n"
    "Runs the second-stage bootloader's decision on a flash file: verifies the partition\n"
    "table, reads otadata, applies the rollback transitions (--rollback: NEW becomes\n"
    "PENDING_VERIFY on the boot that selects it, PENDING_VERIFY becomes ABORTED; with\n"
    "--boot-attempts N, as CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS, an unconfirmed app\n"
    "is booted up to N times, each boot counted in its entry's seq_label), picks a\n"
    "slot, verifies its image and falls back as ESP-IDF's bootloader does. Prints the\n"
    "bootloader's log, the chosen partition and the otadata writes; without --dry-run the\n"
    "writes are made. --json prints one object: label, offset, index, writes[].\n"
    "exit codes: 0 an app was chosen, 1 nothing bootable, 2 bad usage or input\n";

static void log_stdout(void *ctx, otakit_log_level_t level, const char *tag, const char *fmt,
                       va_list ap)
{
    (void)ctx;
    printf("%c %s: ", otakit_log_letter(level), tag);
    vprintf(fmt, ap);
    putchar('\n');
}

static uint32_t efuse_get(void *ctx)
{
    return *(uint32_t *)ctx;
}

static otakit_err_t efuse_raise(void *ctx, uint32_t v)
{
    uint32_t *cur = ctx;
    if (v > *cur) {
        *cur = v;
    }
    return OTAKIT_OK;
}

static const char *write_target(const otakit_boot_write_t *w, char *buf, size_t n)
{
    if (w->copy >= 0) {
        snprintf(buf, n, "otadata[%d]", w->copy);
    } else {
        snprintf(buf, n, "erase");
    }
    return buf;
}

int cmd_boot(int argc, char **argv)
{
    const char *flash_path = NULL;
    bool json = false, quiet = false, have_secver = false;
    uint32_t secver = 0;
    char *labels_buf = NULL;
    const char *labels[16];
    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    cfg.ptable_offset = OTAKIT_PTABLE_OFFSET_DEFAULT;

    enum {
        OPT_DRY_RUN = 256,
        OPT_ROLLBACK,
        OPT_ANTI_ROLLBACK,
        OPT_JSON,
        OPT_QUIET,
        OPT_RESET_ERASE_OTADATA,
        OPT_SECURE_VERSION,
        OPT_TABLE_OFFSET,
        OPT_HOLD_PIN,
        OPT_RESET_ERASE,
        OPT_BOOT_ATTEMPTS,
    };
    static const struct option OPTS[] = {
        TOOL_OPT_HELP_ENTRY,
        {"dry-run", no_argument, 0, OPT_DRY_RUN},
        {"rollback", no_argument, 0, OPT_ROLLBACK},
        {"anti-rollback", no_argument, 0, OPT_ANTI_ROLLBACK},
        {"json", no_argument, 0, OPT_JSON},
        {"quiet", no_argument, 0, OPT_QUIET},
        {"reset-erase-otadata", no_argument, 0, OPT_RESET_ERASE_OTADATA},
        {"secure-version", required_argument, 0, OPT_SECURE_VERSION},
        {"table-offset", required_argument, 0, OPT_TABLE_OFFSET},
        {"hold-pin", required_argument, 0, OPT_HOLD_PIN},
        {"reset-erase", required_argument, 0, OPT_RESET_ERASE},
        {"boot-attempts", required_argument, 0, OPT_BOOT_ATTEMPTS},
        {0, 0, 0, 0},
    };
    tool_getopt_begin();
    int c;
    while ((c = tool_getopt(argc, argv, "boot", OPTS)) != -1) {
        const char *bad = NULL; /* what the value of the option should be */
        switch (c) {
        case TOOL_OPT_HELP:
            fputs(USAGE, stdout);
            free(labels_buf);
            return EXIT_OK;
        case OPT_DRY_RUN:
            cfg.dry_run = true;
            break;
        case OPT_ROLLBACK:
            cfg.rollback = true;
            break;
        case OPT_ANTI_ROLLBACK:
            cfg.anti_rollback = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        case OPT_RESET_ERASE_OTADATA:
            cfg.reset_erase_otadata = true;
            break;
        case OPT_SECURE_VERSION:
            if (tool_parse_u32(optarg, &secver) != 0) {
                bad = "--secure-version: a number";
            }
            have_secver = true;
            break;
        case OPT_BOOT_ATTEMPTS: {
            uint32_t n = 0;
            if (tool_parse_u32(optarg, &n) != 0 || n < 1 || n > 16) {
                bad = "--boot-attempts: a number from 1 to 16";
            }
            cfg.boot_attempts = n;
            break;
        }
        case OPT_TABLE_OFFSET:
            if (tool_parse_u32(optarg, &cfg.ptable_offset) != 0) {
                bad = "--table-offset: a number such as 0x8000";
            }
            break;
        case OPT_HOLD_PIN:
            if (strcmp(optarg, "factory") == 0 || strcmp(optarg, "test") == 0) {
                cfg.pin = strcmp(optarg, "factory") == 0 ? OTAKIT_BOOT_PIN_FACTORY_RESET
                                                         : OTAKIT_BOOT_PIN_TEST;
            } else {
                bad = "--hold-pin: factory or test";
            }
            break;
        case OPT_RESET_ERASE:
            if (labels_buf != NULL) {
                bad = "--reset-erase: given once, as LABEL[,LABEL...]";
                break;
            }
            labels_buf = strdup(optarg);
            for (char *save = NULL, *tok = labels_buf ? strtok_r(labels_buf, ",", &save) : NULL;
                 tok && cfg.reset_label_count < 16; tok = strtok_r(NULL, ",", &save)) {
                labels[cfg.reset_label_count++] = tok;
            }
            cfg.reset_labels = labels;
            break;
        default:
            free(labels_buf);
            return EXIT_USAGE;
        }
        if (bad != NULL) {
            tool_error("boot: '%s' for %s (see 'otakit boot --help')", optarg, bad);
            free(labels_buf);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        flash_path = argv[optind];
    }
    if (argc - optind > 1) {
        tool_error("boot: unexpected argument '%s'", argv[optind + 1]);
        free(labels_buf);
        return EXIT_USAGE;
    }
    if (flash_path == NULL) {
        tool_error("boot: missing FLASH (see 'otakit boot --help')");
        free(labels_buf);
        return EXIT_USAGE;
    }
    if (cfg.anti_rollback && !have_secver) {
        tool_error("boot: --anti-rollback needs --secure-version N (the eFuse value)");
        free(labels_buf);
        return EXIT_USAGE;
    }
    otakit_efuse_t efuse = {&secver, efuse_get, efuse_raise};
    cfg.efuse = &efuse;

    otakit_nor_t *nor;
    if (tool_open_flash(flash_path, cfg.dry_run ? OTAKIT_NOR_READONLY : 0, &nor) != 0) {
        free(labels_buf);
        return EXIT_USAGE;
    }
    cfg.flash = otakit_nor_flash(nor);
    if (!json && !quiet) {
        cfg.log.fn = log_stdout;
    }
    otakit_boot_result_t *res = malloc(sizeof(*res));
    otakit_err_t err = res ? otakit_boot_select(&cfg, res) : OTAKIT_ERR_NO_MEM;
    int rc = err == OTAKIT_OK              ? EXIT_OK
             : err == OTAKIT_ERR_NOT_FOUND ? EXIT_CHECK_FAILED
                                           : EXIT_USAGE;
    if (err == OTAKIT_ERR_INVALID_STATE) {
        tool_error("%s: offset 0x%x: the partition table does not verify", flash_path,
                   (unsigned)cfg.ptable_offset);
    } else if (err != OTAKIT_OK && err != OTAKIT_ERR_NOT_FOUND) {
        tool_error("%s: %s", flash_path, otakit_err_name(err));
    }

    if (json) {
        cJSON *j = cJSON_CreateObject();
        char hex[16];
        if (err == OTAKIT_OK) {
            cJSON_AddStringToObject(j, "label", res->part->label);
            snprintf(hex, sizeof(hex), "0x%x", (unsigned)res->part->offset);
            cJSON_AddStringToObject(j, "offset", hex);
            cJSON_AddNumberToObject(j, "index", res->index);
            if (res->image.has_desc) {
                cJSON_AddStringToObject(j, "project", res->image.desc.project_name);
                cJSON_AddStringToObject(j, "version", res->image.desc.version);
            }
        } else {
            cJSON_AddNullToObject(j, "label");
            cJSON_AddNullToObject(j, "offset");
            cJSON_AddStringToObject(j, "error", otakit_err_name(err));
        }
        cJSON_AddBoolToObject(j, "dry_run", cfg.dry_run);
        if (cfg.anti_rollback) {
            cJSON_AddNumberToObject(j, "secure_version", secver);
        }
        cJSON *arr = cJSON_AddArrayToObject(j, "writes");
        for (size_t i = 0; res && i < res->write_count; i++) {
            const otakit_boot_write_t *w = &res->writes[i];
            cJSON *o = cJSON_CreateObject();
            snprintf(hex, sizeof(hex), "0x%x", (unsigned)w->addr);
            cJSON_AddStringToObject(o, "address", hex);
            cJSON_AddNumberToObject(o, "copy", w->copy);
            cJSON_AddStringToObject(o, "what", w->what);
            if (w->copy >= 0) {
                cJSON_AddNumberToObject(o, "seq", w->seq);
                cJSON_AddStringToObject(o, "state", otakit_otadata_state_name(w->state));
            } else {
                snprintf(hex, sizeof(hex), "0x%x", (unsigned)w->len);
                cJSON_AddStringToObject(o, "length", hex);
            }
            cJSON_AddItemToArray(arr, o);
        }
        tool_print_json(j, true);
    } else if (err == OTAKIT_OK) {
        printf("boot: %s at 0x%x", res->part->label, (unsigned)res->part->offset);
        if (res->image.has_desc) {
            printf(" (%s %s)", res->image.desc.project_name, res->image.desc.version);
        }
        putchar('\n');
        for (size_t i = 0; i < res->write_count; i++) {
            const otakit_boot_write_t *w = &res->writes[i];
            char buf[32];
            printf("%s %s @0x%x: ", cfg.dry_run ? "would write" : "wrote",
                   write_target(w, buf, sizeof(buf)), (unsigned)w->addr);
            if (w->copy >= 0) {
                printf("seq %u, state %s (%s)\n", (unsigned)w->seq,
                       otakit_otadata_state_name(w->state), w->what);
            } else {
                printf("0x%x bytes (%s)\n", (unsigned)w->len, w->what);
            }
        }
    }
    free(res);
    free(labels_buf);
    otakit_nor_close(nor);
    return rc;
}
