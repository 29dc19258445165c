/* `otakit serve` and `otakit fleet` in the otakit binary: run the programs otakit-serve and
 * otakit-fleet-sim, built beside otakit. They need libmicrohttpd and libcurl (and GnuTLS
 * behind them); keeping those out of otakit itself means every other command starts
 * without loading them (about 30 shared libraries, most of otakit's start-up time;
 * bench/startup.sh). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* Run program (a file beside otakit) with argv, whose argv[0] is the verb the program
 * expects; returns only when that fails. */
static int exec_beside(const char *program, char **argv)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n < 0) {
        tool_error("%s: cannot find otakit's own path: %s", argv[0], strerror(errno));
        return EXIT_CHECK_FAILED;
    }
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    if (dir_len + strlen(program) + 1 > sizeof(path)) {
        tool_error("%s: otakit's path is too long", argv[0]);
        return EXIT_CHECK_FAILED;
    }
    memcpy(path + dir_len, program, strlen(program) + 1);
    execv(path, argv);
    tool_error("%s: cannot run %s (built beside otakit): %s", argv[0], path, strerror(errno));
    return EXIT_CHECK_FAILED;
}

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    return exec_beside("otakit-serve", argv);
}

static const char FLEET_USAGE[] = "usage: otakit fleet <verb> [options]\n"
                                  "\n"
                                  "verbs:\n"
                                  "  sim     run N virtual devices against a hawkBit DDI server\n"
                                  "\n"
                                  "'otakit fleet <verb> --help' describes a verb.\n";

int cmd_fleet(int argc, char **argv)
{
    if (argc < 2) {
        fputs(FLEET_USAGE, stderr);
        return EXIT_USAGE;
    }
    if (tool_is_help(argv[1])) {
        fputs(FLEET_USAGE, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "sim") == 0) {
        return exec_beside("otakit-fleet-sim", argv + 1); /* argv[0] "sim" */
    }
    tool_error("fleet: unknown verb '%s' (see 'otakit fleet --help')", argv[1]);
    return EXIT_USAGE;
}
