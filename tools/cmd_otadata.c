/* otakit otadata show | switch SLOT | erase: otatool.py's operations on a flash file,
 * plus the states and the slot the bootloader would boot. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "otakit/boot.h"
#include "otakit/otadata.h"

static const char USAGE[] =
    "usage: otakit otadata show FLASH [--json] [--rollback] [--table-offset 0x8000]\n"
    "       otakit otadata switch FLASH SLOT [--json] [--table-offset 0x8000]\n"
    "       otakit otadata erase FLASH [--json] [--table-offset 0x8000]\n"
    "\n"
    "Reads the partition table of the flash file, then works on its otadata partition:\n"
    "  show    both select entries (seq, state, CRC, validity), the active copy, and the\n"
    "          slot the bootloader would boot (--rollback: with rollback enabled)\n"
    "  switch  select OTA slot SLOT (a number 0..15 or a partition label), as otatool.py's\n"
    "          switch_ota_partition: the inactive copy gets the next seq, keeping its\n"
    "          state and label bytes\n"
    "  erase   erase the otadata partition (the bootloader then boots the factory app)\n"
    "exit codes: 0 ok, 1 the check failed, 2 bad usage or input\n";

struct opts {
    const char *cmd, *flash, *slot;
    bool json, rollback;
    uint32_t table_offset;
};

/* @return 0, 1 when --help was asked (printed), -1 on bad usage (said). */
static int parse(int argc, char **argv, struct opts *o)
{
    enum { OPT_JSON = 256, OPT_ROLLBACK, OPT_TABLE_OFFSET };
    static const struct option OPTS[] = {
        TOOL_OPT_HELP_ENTRY,
        {"json", no_argument, 0, OPT_JSON},
        {"rollback", no_argument, 0, OPT_ROLLBACK},
        {"table-offset", required_argument, 0, OPT_TABLE_OFFSET},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof(*o));
    o->table_offset = OTAKIT_PTABLE_OFFSET_DEFAULT;
    tool_getopt_begin();
    int c;
    while ((c = tool_getopt(argc, argv, "otadata", OPTS)) != -1) {
        switch (c) {
        case TOOL_OPT_HELP:
            fputs(USAGE, stdout);
            return 1;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_ROLLBACK:
            o->rollback = true;
            break;
        case OPT_TABLE_OFFSET:
            if (tool_parse_u32(optarg, &o->table_offset) != 0) {
                tool_error("otadata: --table-offset '%s': not a number such as 0x8000", optarg);
                return -1;
            }
            break;
        default:
            return -1;
        }
    }
    char **pos = argv + optind;
    int npos = argc - optind;
    if (npos < 2) {
        tool_error("otadata: missing arguments (see 'otakit otadata --help')");
        return -1;
    }
    o->cmd = pos[0];
    o->flash = pos[1];
    o->slot = npos > 2 ? pos[2] : NULL;
    if (strcmp(o->cmd, "switch") == 0 ? npos != 3 : npos != 2) {
        tool_error("otadata %s: wrong number of arguments", o->cmd);
        return -1;
    }
    return 0;
}

static cJSON *entry_json(const otakit_otadata_entry_t *e, int copy, uint32_t addr, unsigned n)
{
    cJSON *j = cJSON_CreateObject();
    char hex[16];
    cJSON_AddNumberToObject(j, "copy", copy);
    snprintf(hex, sizeof(hex), "0x%x", (unsigned)addr);
    cJSON_AddStringToObject(j, "address", hex);
    bool blank = e->seq == 0xFFFFFFFFu && e->crc == 0xFFFFFFFFu && e->state == 0xFFFFFFFFu;
    cJSON_AddBoolToObject(j, "erased", blank);
    cJSON_AddNumberToObject(j, "seq", e->seq);
    cJSON_AddNumberToObject(j, "state", e->state);
    cJSON_AddStringToObject(j, "state_name", otakit_otadata_state_name(e->state));
    snprintf(hex, sizeof(hex), "0x%08x", (unsigned)e->crc);
    cJSON_AddStringToObject(j, "crc", hex);
    cJSON_AddBoolToObject(j, "crc_ok", e->crc == otakit_otadata_crc(e->seq));
    cJSON_AddBoolToObject(j, "valid", otakit_otadata_is_valid(e));
    if (otakit_otadata_crc_ok(e) && n > 0) {
        cJSON_AddNumberToObject(j, "slot", otakit_otadata_slot(e->seq, n));
    } else {
        cJSON_AddNullToObject(j, "slot");
    }
    return j;
}

static void print_entry(const otakit_otadata_entry_t *e, int copy, uint32_t addr, unsigned n)
{
    if (e->seq == 0xFFFFFFFFu && e->crc == 0xFFFFFFFFu && e->state == 0xFFFFFFFFu) {
        printf("  otadata[%d] @0x%06x: erased\n", copy, (unsigned)addr);
        return;
    }
    printf("  otadata[%d] @0x%06x: seq %u, state %s, crc 0x%08x (%s)", copy, (unsigned)addr,
           (unsigned)e->seq, otakit_otadata_state_name(e->state), (unsigned)e->crc,
           e->crc == otakit_otadata_crc(e->seq) ? "ok" : "bad");
    if (otakit_otadata_crc_ok(e) && n > 0) {
        printf(" -> ota_%u", otakit_otadata_slot(e->seq, n));
    }
    printf("%s\n", otakit_otadata_is_valid(e) ? "" : " [not valid]");
}

static int run_show(const struct opts *o, otakit_nor_t *nor, const otakit_ptable_t *t,
                    const otakit_part_t *od)
{
    const otakit_flash_t *f = otakit_nor_flash(nor);
    otakit_otadata_entry_t e[2];
    if (otakit_otadata_read(f, od, e) != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: otadata partition cannot be read (size 0x%x, needs 0x2000)",
                   o->flash, (unsigned)od->offset, (unsigned)od->size);
        return EXIT_USAGE;
    }
    unsigned n = otakit_ptable_ota_count(t);
    int active = otakit_otadata_active(e);

    otakit_boot_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flash = f;
    cfg.ptable_offset = o->table_offset;
    cfg.rollback = o->rollback;
    cfg.chip_id = OTAKIT_CHIP_ESP32;
    cfg.dry_run = true;
    otakit_boot_result_t *res = malloc(sizeof(*res));
    if (res == NULL) {
        return EXIT_USAGE;
    }
    otakit_err_t berr = otakit_boot_select(&cfg, res);

    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON *p = cJSON_AddObjectToObject(j, "partition");
        char hex[16];
        cJSON_AddStringToObject(p, "label", od->label);
        snprintf(hex, sizeof(hex), "0x%x", (unsigned)od->offset);
        cJSON_AddStringToObject(p, "offset", hex);
        snprintf(hex, sizeof(hex), "0x%x", (unsigned)od->size);
        cJSON_AddStringToObject(p, "size", hex);
        cJSON_AddNumberToObject(j, "ota_slots", n);
        cJSON *arr = cJSON_AddArrayToObject(j, "copies");
        for (int i = 0; i < 2; i++) {
            cJSON_AddItemToArray(
                arr, entry_json(&e[i], i, od->offset + (uint32_t)i * OTAKIT_SECTOR_SIZE, n));
        }
        if (active >= 0) {
            cJSON_AddNumberToObject(j, "active", active);
        } else {
            cJSON_AddNullToObject(j, "active");
        }
        cJSON *b = cJSON_AddObjectToObject(j, "boot");
        if (berr == OTAKIT_OK) {
            cJSON_AddStringToObject(b, "label", res->part->label);
            snprintf(hex, sizeof(hex), "0x%x", (unsigned)res->part->offset);
            cJSON_AddStringToObject(b, "offset", hex);
            cJSON_AddNumberToObject(b, "index", res->index);
        } else {
            cJSON_AddNullToObject(b, "label");
            cJSON_AddStringToObject(b, "error", otakit_err_name(berr));
        }
        tool_print_json(j, true);
    } else {
        printf("otadata partition '%s' at 0x%x (size 0x%x), %u OTA slot(s)\n", od->label,
               (unsigned)od->offset, (unsigned)od->size, n);
        for (int i = 0; i < 2; i++) {
            print_entry(&e[i], i, od->offset + (uint32_t)i * OTAKIT_SECTOR_SIZE, n);
        }
        if (active >= 0) {
            printf("active copy: otadata[%d] (seq %u)\n", active, (unsigned)e[active].seq);
        } else {
            printf("active copy: none\n");
        }
        if (berr == OTAKIT_OK) {
            printf("the bootloader would boot: %s at 0x%x\n", res->part->label,
                   (unsigned)res->part->offset);
        } else {
            printf("the bootloader would boot: nothing (%s)\n", otakit_err_name(berr));
        }
    }
    free(res);
    return EXIT_OK;
}

static const otakit_part_t *find_slot(const otakit_ptable_t *t, const char *arg, unsigned *slot)
{
    uint32_t v;
    const otakit_part_t *p = NULL;
    if (tool_parse_u32(arg, &v) == 0) {
        if (v < 16) {
            p = otakit_ptable_ota_slot(t, v);
        }
    } else {
        p = otakit_ptable_find(t, OTAKIT_PART_TYPE_APP, OTAKIT_PART_SUBTYPE_ANY, arg);
    }
    if (p == NULL || !OTAKIT_PART_IS_OTA(p->type, p->subtype)) {
        return NULL;
    }
    *slot = p->subtype & 0x0Fu;
    return p;
}

static int run_switch(const struct opts *o, otakit_nor_t *nor, const otakit_ptable_t *t,
                      const otakit_part_t *od)
{
    const otakit_flash_t *f = otakit_nor_flash(nor);
    unsigned slot, n = otakit_ptable_ota_count(t);
    const otakit_part_t *target = find_slot(t, o->slot, &slot);
    if (target == NULL || slot >= n) {
        tool_error("%s: no OTA app partition '%s' in the partition table (%u slot(s))", o->flash,
                   o->slot, n);
        return EXIT_USAGE;
    }
    otakit_otadata_entry_t e[2];
    if (otakit_otadata_read(f, od, e) != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: otadata partition cannot be read", o->flash,
                   (unsigned)od->offset);
        return EXIT_USAGE;
    }
    /* otatool: validity is seq + CRC only (state ignored); ties go to copy 0. */
    bool v0 = otakit_otadata_crc_ok(&e[0]), v1 = otakit_otadata_crc_ok(&e[1]);
    int base = (v0 && v1) ? (e[1].seq > e[0].seq ? 1 : 0) : v0 ? 0 : v1 ? 1 : -1;
    int copy = base < 0 ? 0 : 1 - base;
    uint32_t seq = otakit_otadata_next_seq(base >= 0, base >= 0 ? e[base].seq : 0, slot, n);
    otakit_otadata_entry_t w = e[copy]; /* keep its label and state bytes, as otatool does */
    w.seq = seq;
    w.crc = otakit_otadata_crc(seq);
    otakit_err_t err = otakit_otadata_write(f, od, copy, &w);
    if (err != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: write failed (%s)", o->flash,
                   (unsigned)(od->offset + (uint32_t)copy * 0x1000), otakit_err_name(err));
        return EXIT_CHECK_FAILED;
    }
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "slot", target->label);
        cJSON_AddNumberToObject(j, "copy", copy);
        cJSON_AddNumberToObject(j, "seq", seq);
        cJSON_AddStringToObject(j, "state_name", otakit_otadata_state_name(w.state));
        cJSON_AddBoolToObject(j, "valid", otakit_otadata_is_valid(&w));
        tool_print_json(j, true);
    } else {
        printf("otadata[%d] = seq %u -> %s%s\n", copy, (unsigned)seq, target->label,
               otakit_otadata_is_valid(&w)
                   ? ""
                   : " (its state keeps the copy invalid for the bootloader)");
    }
    return EXIT_OK;
}

static int run_erase(const struct opts *o, otakit_nor_t *nor, const otakit_part_t *od)
{
    otakit_err_t err = otakit_flash_erase(otakit_nor_flash(nor), od->offset, od->size);
    if (err != OTAKIT_OK) {
        tool_error("%s: offset 0x%x: erase failed (%s)", o->flash, (unsigned)od->offset,
                   otakit_err_name(err));
        return EXIT_CHECK_FAILED;
    }
    if (o->json) {
        printf("{\"erased\": true, \"offset\": \"0x%x\", \"size\": \"0x%x\"}\n",
               (unsigned)od->offset, (unsigned)od->size);
    } else {
        printf("erased otadata '%s' at 0x%x (0x%x bytes)\n", od->label, (unsigned)od->offset,
               (unsigned)od->size);
    }
    return EXIT_OK;
}

int cmd_otadata(int argc, char **argv)
{
    struct opts o;
    int p = parse(argc, argv, &o);
    if (p != 0) {
        return p > 0 ? EXIT_OK : EXIT_USAGE;
    }
    bool show = strcmp(o.cmd, "show") == 0;
    if (!show && strcmp(o.cmd, "switch") != 0 && strcmp(o.cmd, "erase") != 0) {
        tool_error("otadata: unknown subcommand '%s'", o.cmd);
        return EXIT_USAGE;
    }
    otakit_nor_t *nor;
    if (tool_open_flash(o.flash, show ? OTAKIT_NOR_READONLY : 0, &nor) != 0) {
        return EXIT_USAGE;
    }
    int rc = EXIT_USAGE;
    otakit_ptable_t *t = malloc(sizeof(*t));
    if (t == NULL || tool_load_table(o.flash, otakit_nor_flash(nor), o.table_offset, t) != 0) {
        goto out;
    }
    const otakit_part_t *od =
        otakit_ptable_find(t, OTAKIT_PART_TYPE_DATA, OTAKIT_PART_SUBTYPE_DATA_OTA, NULL);
    if (od == NULL) {
        tool_error("%s: the partition table has no otadata (data, ota) partition", o.flash);
        goto out;
    }
    if (show) {
        rc = run_show(&o, nor, t, od);
    } else if (strcmp(o.cmd, "switch") == 0) {
        rc = run_switch(&o, nor, t, od);
    } else {
        rc = run_erase(&o, nor, od);
    }
out:
    free(t);
    otakit_nor_close(nor);
    return rc;
}
