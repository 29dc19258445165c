/* `otakit serve` and `otakit fleet` in the otakit binary: run the programs otakit-serve,
 * otakit-fleet and otakit-fleet-sim, built beside otakit. They need libmicrohttpd (and
 * GnuTLS, libcurl, SQLite and libpq behind them); keeping those out of otakit itself means
 * every other command starts without loading them (about 30 shared libraries, most of
 * otakit's start-up time; bench/startup.sh). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

/* Run program (a file beside otakit) with argv, whose argv[0] is the verb the program
 * expects ("serve", "fleet"); returns only when that fails. */
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

/* `otakit fleet sim` runs the simulator (argv[0] "sim"); the other verbs the fleet
 * server's program (argv[0] "fleet"). */
int cmd_fleet(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sim") == 0) {
        return exec_beside("otakit-fleet-sim", argv + 1);
    }
    return exec_beside("otakit-fleet", argv);
}
