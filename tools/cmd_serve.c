/* otakit serve: parse the command line, then tools/serve.c does the rest. */
#include <getopt.h>
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
        "  --no-status          no status line (connections open, requests, bytes sent,\n"
        "                       rate), which is drawn under the log when stdout and\n"
        "                       stderr are terminals\n"
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
    enum {
        OPT_PORT = 256,
        OPT_TLS_PORT,
        OPT_THREADS,
        OPT_MAX_CONNECTIONS,
        OPT_MAX_PER_IP,
        OPT_MAX_HEADER_SIZE,
        OPT_IDLE_TIMEOUT,
        OPT_HEADER_TIMEOUT,
        OPT_DRAIN_TIMEOUT,
        OPT_BIND,
        OPT_TLS_CERT,
        OPT_TLS_KEY,
        OPT_ACCESS_LOG,
        OPT_IO,
        OPT_QUIET,
        OPT_JSON,
        OPT_NO_STATUS,
    };
    static const struct option OPTS[] = {
        TOOL_OPT_HELP_ENTRY,
        {"port", required_argument, 0, OPT_PORT},
        {"tls-port", required_argument, 0, OPT_TLS_PORT},
        {"threads", required_argument, 0, OPT_THREADS},
        {"max-connections", required_argument, 0, OPT_MAX_CONNECTIONS},
        {"max-per-ip", required_argument, 0, OPT_MAX_PER_IP},
        {"max-header-size", required_argument, 0, OPT_MAX_HEADER_SIZE},
        {"idle-timeout", required_argument, 0, OPT_IDLE_TIMEOUT},
        {"header-timeout", required_argument, 0, OPT_HEADER_TIMEOUT},
        {"drain-timeout", required_argument, 0, OPT_DRAIN_TIMEOUT},
        {"bind", required_argument, 0, OPT_BIND},
        {"tls-cert", required_argument, 0, OPT_TLS_CERT},
        {"tls-key", required_argument, 0, OPT_TLS_KEY},
        {"access-log", required_argument, 0, OPT_ACCESS_LOG},
        {"io", required_argument, 0, OPT_IO},
        {"quiet", no_argument, 0, OPT_QUIET},
        {"json", no_argument, 0, OPT_JSON},
        {"no-status", no_argument, 0, OPT_NO_STATUS},
        {0, 0, 0, 0},
    };
    tool_getopt_begin();
    int c;
    while ((c = tool_getopt(argc, argv, "serve", OPTS)) != -1) {
        uint32_t n;
        switch (c) {
        case TOOL_OPT_HELP:
            usage(stdout);
            return EXIT_OK;
        case OPT_PORT:
            if (parse_num("--port", optarg, 65535, &n) != 0) {
                return EXIT_USAGE;
            }
            o.port = n;
            break;
        case OPT_TLS_PORT:
            if (parse_num("--tls-port", optarg, 65535, &n) != 0) {
                return EXIT_USAGE;
            }
            o.tls_port = (int)n;
            break;
        case OPT_THREADS:
            if (parse_num("--threads", optarg, 1024, &n) != 0) {
                return EXIT_USAGE;
            }
            o.threads = n;
            break;
        case OPT_MAX_CONNECTIONS:
            if (parse_num("--max-connections", optarg, 1000000, &n) != 0) {
                return EXIT_USAGE;
            }
            if (n == 0) {
                tool_error("serve: --max-connections must be at least 1");
                return EXIT_USAGE;
            }
            o.max_connections = n;
            break;
        case OPT_MAX_PER_IP:
            if (parse_num("--max-per-ip", optarg, 1000000, &n) != 0) {
                return EXIT_USAGE;
            }
            o.max_per_ip = n;
            break;
        case OPT_MAX_HEADER_SIZE:
            if (parse_num("--max-header-size", optarg, 64 * 1024 * 1024, &n) != 0) {
                return EXIT_USAGE;
            }
            if (n < 4096) {
                tool_error("serve: --max-header-size must be at least 4096");
                return EXIT_USAGE;
            }
            o.max_header_size = n;
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_num("--idle-timeout", optarg, 86400, &n) != 0) {
                return EXIT_USAGE;
            }
            o.idle_timeout = n;
            break;
        case OPT_HEADER_TIMEOUT:
            if (parse_num("--header-timeout", optarg, 86400, &n) != 0) {
                return EXIT_USAGE;
            }
            o.header_timeout = n;
            break;
        case OPT_DRAIN_TIMEOUT:
            if (parse_num("--drain-timeout", optarg, 86400, &n) != 0) {
                return EXIT_USAGE;
            }
            o.drain_timeout = n;
            break;
        case OPT_BIND:
            o.bind_addr = optarg;
            break;
        case OPT_TLS_CERT:
            o.tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            o.tls_key = optarg;
            break;
        case OPT_ACCESS_LOG:
            o.access_log = optarg;
            break;
        case OPT_IO:
            if (strcmp(optarg, "threads") == 0) {
                o.io_threads = true;
            } else if (strcmp(optarg, "epoll") == 0) {
                o.io_threads = false;
            } else {
                tool_error("serve: --io is 'threads' or 'epoll'");
                return EXIT_USAGE;
            }
            break;
        case OPT_QUIET:
            o.access_log = NULL;
            break;
        case OPT_JSON:
            o.json = true;
            break;
        case OPT_NO_STATUS:
            o.status = false;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        o.root = argv[optind];
    }
    if (argc - optind > 1) {
        tool_error("serve: one directory only ('%s' and '%s')", o.root, argv[optind + 1]);
        return EXIT_USAGE;
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
