/* otakit: ESP-IDF-compatible partition tables, images, otadata, flash files, the
 * bootloader's decision, a firmware server and the virtual device, from one command. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand SUBCOMMANDS[] = {
    {"partition", cmd_partition, "compile a partition table CSV, or show a binary table"},
    {"image", cmd_image, "inspect, verify, sign, create and extract app images"},
    {"key", cmd_key, "Secure Boot V2 signing keys: generate, digest, extract-public"},
    {"otadata", cmd_otadata, "show, switch or erase the otadata of a flash file"},
    {"flash", cmd_flash, "read, write and erase a flash file"},
    {"boot", cmd_boot, "run the bootloader's decision on a flash file"},
    {"nvs", cmd_nvs, "show, get, set and erase NVS keys; compile an NVS CSV"},
    {"serve", cmd_serve, "serve a directory of firmware over HTTP(S)"},
    {"fleet", cmd_fleet, "a rollout server (hawkBit DDI), its client, simulated devices"},
    {"device", cmd_device, "run the virtual ESP32"},
    {"efuse", cmd_efuse, "the virtual device's eFuses: secure version, Secure Boot key digests"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: otakit <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(SUBCOMMANDS) / sizeof(SUBCOMMANDS[0]); i++) {
        fprintf(out, "  %-10s %s\n", SUBCOMMANDS[i].name, SUBCOMMANDS[i].summary);
    }
    fprintf(out, "\n'otakit <command> --help' describes a command.\n"
                 "exit codes: 0 ok, 1 the check failed, 2 bad usage or input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (tool_is_help(argv[1])) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("otakit 0.1.0\n");
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(SUBCOMMANDS) / sizeof(SUBCOMMANDS[0]); i++) {
        if (strcmp(argv[1], SUBCOMMANDS[i].name) == 0) {
            return SUBCOMMANDS[i].run(argc - 1, argv + 1);
        }
    }
    tool_error("unknown command '%s' (see 'otakit --help')", argv[1]);
    return EXIT_USAGE;
}
