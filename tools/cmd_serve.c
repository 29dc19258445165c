/* otakit serve: parse the command line, then tools/serve.c does the rest. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "serve.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: otakit serve [DIR] [options]\n"
        "\n"
        "Serve a directory of firmware over HTTP and/or HTTPS until SIGINT or SIGTERM.\n"
        "GET and HEAD, single byte ranges, ETag / Last-Modified revalidation, and an\n"
        "index of the directory (HTML, or JSON with ?format=json) that shows each app\n"
        "image's project, version, secure version, size and SHA-256.\n"
        "\n"
        "  DIR                  directory to serve (default: .)\n"
        "  --port N             port (default 8070; 0 = any free port, printed at start)\n"
        "  --bind ADDR          numeric address to listen on (default 127.0.0.1;\n"
        "                       0.0.0.0 or :: for every interface)\n"
        "  --tls-cert FILE      PEM certificate: serve HTTPS (needs --tls-key)\n"
        "  --tls-key FILE       PEM private key\n"
        "  --tls-port N         HTTPS on N beside plain HTTP on --port (default: HTTPS\n"
        "                       alone on --port)\n"
        "  --io MODEL           threads: a thread per connection, the fastest for bulk\n"
        "                       downloads (default); epoll: an event loop per core\n"
        "  --threads N          event-loop threads per listener with --io epoll\n"
        "                       (default: one per core)\n"
        "  --max-connections N  connections at once (default 1024)\n"
        "  --max-per-ip N       connections at once from one address (default 64; 0 = no limit)\n"
        "  --max-header-size N  bytes per connection for the request line and headers\n"
        "                       (default 32K; larger requests get 431 or 414)\n"
        "  --idle-timeout S     close a connection silent for S seconds (default 30)\n"
        "  --header-timeout S   close a connection that has not sent a whole request head\n"
        "                       S seconds after connecting or after its last response\n"
        "                       (default 15; 0 = never)\n"
        "  --drain-timeout S    after SIGINT/SIGTERM, let requests in flight finish for up\n"
        "                       to S seconds (default 10)\n"
        "  --access-log FILE    append the access log (common log format) to FILE\n"
        "                       (default -: standard output)\n"
        "  --quiet              no access log\n"
        "  --json               at exit print the summary as one JSON object on stdout\n"
        "                       (the start line and the access log go to stderr)\n"
        "  -h, --help           this help\n"
        "\n"
        "The start line is \"serving DIR on URL\", one per listener, on stdout; the summary\n"
        "(requests, bytes, errors) goes to stderr at exit.\n"
        "exit codes: 0 stopped by a signal, 2 bad usage or the server could not start\n");
}

static int parse_num(const char *opt, const char *val, uint32_t max, uint32_t *out)
{
    if (val == NULL) {
        tool_error("serve: %s needs a value", opt);
        return -1;
    }
    if (tool_parse_u32(val, out) != 0 || *out > max) {
        tool_error("serve: %s: '%s' is not a number from 0 to %u", opt, val, (unsigned)max);
        return -1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    serve_opts_t o;
    serve_opts_default(&o);
    bool have_dir = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t n;
        if (tool_is_help(a)) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_num(a, v, 65535, &n) != 0) {
                return EXIT_USAGE;
            }
            o.port = n;
            i++;
        } else if (strcmp(a, "--tls-port") == 0) {
            if (parse_num(a, v, 65535, &n) != 0) {
                return EXIT_USAGE;
            }
            o.tls_port = (int)n;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_num(a, v, 1024, &n) != 0) {
                return EXIT_USAGE;
            }
            o.threads = n;
            i++;
        } else if (strcmp(a, "--max-connections") == 0) {
            if (parse_num(a, v, 1000000, &n) != 0) {
                return EXIT_USAGE;
            }
            if (n == 0) {
                tool_error("serve: --max-connections must be at least 1");
                return EXIT_USAGE;
            }
            o.max_connections = n;
            i++;
        } else if (strcmp(a, "--max-per-ip") == 0) {
            if (parse_num(a, v, 1000000, &n) != 0) {
                return EXIT_USAGE;
            }
            o.max_per_ip = n;
            i++;
        } else if (strcmp(a, "--max-header-size") == 0) {
            if (parse_num(a, v, 64 * 1024 * 1024, &n) != 0) {
                return EXIT_USAGE;
            }
            if (n < 4096) {
                tool_error("serve: --max-header-size must be at least 4096");
                return EXIT_USAGE;
            }
            o.max_header_size = n;
            i++;
        } else if (strcmp(a, "--idle-timeout") == 0) {
            if (parse_num(a, v, 86400, &n) != 0) {
                return EXIT_USAGE;
            }
            o.idle_timeout = n;
            i++;
        } else if (strcmp(a, "--header-timeout") == 0) {
            if (parse_num(a, v, 86400, &n) != 0) {
                return EXIT_USAGE;
            }
            o.header_timeout = n;
            i++;
        } else if (strcmp(a, "--drain-timeout") == 0) {
            if (parse_num(a, v, 86400, &n) != 0) {
                return EXIT_USAGE;
            }
            o.drain_timeout = n;
            i++;
        } else if (strcmp(a, "--bind") == 0 || strcmp(a, "--tls-cert") == 0 ||
                   strcmp(a, "--tls-key") == 0 || strcmp(a, "--access-log") == 0) {
            if (v == NULL) {
                tool_error("serve: %s needs a value", a);
                return EXIT_USAGE;
            }
            if (strcmp(a, "--bind") == 0) {
                o.bind_addr = v;
            } else if (strcmp(a, "--tls-cert") == 0) {
                o.tls_cert = v;
            } else if (strcmp(a, "--tls-key") == 0) {
                o.tls_key = v;
            } else {
                o.access_log = v;
            }
            i++;
        } else if (strcmp(a, "--io") == 0) {
            if (v != NULL && strcmp(v, "threads") == 0) {
                o.io_threads = true;
            } else if (v != NULL && strcmp(v, "epoll") == 0) {
                o.io_threads = false;
            } else {
                tool_error("serve: --io is 'threads' or 'epoll'");
                return EXIT_USAGE;
            }
            i++;
        } else if (strcmp(a, "--quiet") == 0) {
            o.access_log = NULL;
        } else if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            tool_error("serve: unknown option '%s' (see 'otakit serve --help')", a);
            return EXIT_USAGE;
        } else if (!have_dir) {
            o.root = a;
            have_dir = true;
        } else {
            tool_error("serve: one directory only ('%s' and '%s')", o.root, a);
            return EXIT_USAGE;
        }
    }
    if ((o.tls_cert == NULL) != (o.tls_key == NULL)) {
        tool_error("serve: --tls-cert and --tls-key go together");
        return EXIT_USAGE;
    }
    if (o.tls_port >= 0 && o.tls_cert == NULL) {
        tool_error("serve: --tls-port needs --tls-cert and --tls-key");
        return EXIT_USAGE;
    }
    return serve_run(&o);
}
