/* `otakit serve` in the otakit binary: run the server program otakit-serve, built beside
 * otakit. The server needs libmicrohttpd (and GnuTLS, libcurl's URL escaping behind it);
 * keeping them out of otakit itself means every other command starts without loading
 * them (about 30 shared libraries, most of otakit's start-up time; bench/startup.sh). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define SERVE_PROGRAM "otakit-serve"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n < 0) {
        tool_error("serve: cannot find otakit's own path: %s", strerror(errno));
        return EXIT_CHECK_FAILED;
    }
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    if (dir_len + sizeof(SERVE_PROGRAM) > sizeof(path)) {
        tool_error("serve: otakit's path is too long");
        return EXIT_CHECK_FAILED;
    }
    memcpy(path + dir_len, SERVE_PROGRAM, sizeof(SERVE_PROGRAM));
    /* argv[0] is "serve", as cmd_serve expects it; the rest is passed as given. */
    execv(path, argv);
    tool_error("serve: cannot run %s (built beside otakit): %s", path, strerror(errno));
    return EXIT_CHECK_FAILED;
}
