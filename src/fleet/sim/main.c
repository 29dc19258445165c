/* otakit-fleet-sim: the program behind `otakit fleet sim` (tools/cmd_fleet.c runs it with
 * argv[0] = "sim"). Parses the options, runs the fleet (sim.h), prints the summary. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "sim.h"

static const char USAGE[] =
    "usage: otakit fleet sim --devices N --server URL [--tenant T]\n"
    "                        [--token-file FILE | --gateway-token FILE] [--faults SPEC]\n"
    "                        [--duration S] [--json] [options]\n"
    "\n"
    "Runs N virtual ESP32 devices in one process against a hawkBit DDI v1 server. Each\n"
    "device has its own flash (sparse: only the sectors it changed are stored), the OTA\n"
    "core's update engine, boot decision and NVS; it polls\n"
    "  SERVER/TENANT/controller/v1/<id>  (ids: <prefix><index, 5 digits>)\n"
    "downloads the deployment's first artifact (resuming by Range), checks its SHA-256\n"
    "from the deployment, installs it, reboots, runs a self-test, confirms or rolls\n"
    "back, and reports each step as DDI feedback.\n"
    "\n"
    "Time is virtual: each device has its own clock, an HTTP exchange takes none, a\n"
    "download takes its bytes over the device's link rate; the server's polling sleep,\n"
    "boot, self-test and back-off times are virtual seconds (--realtime: wall clock).\n"
    "\n"
    "  --devices N          devices (default 10)\n"
    "  --server URL         the DDI server, e.g. http://127.0.0.1:8080 (required); given\n"
    "                       more than once (instances of one service), device i talks\n"
    "                       to the (i mod count)-th\n"
    "  --tenant T           tenant (default DEFAULT)\n"
    "  --id-prefix P        controller id prefix (default sim-)\n"
    "  --token-file FILE    'Authorization: TargetToken': lines '<controllerId> <token>'\n"
    "                       ('*' for every device)\n"
    "  --gateway-token FILE 'Authorization: GatewayToken <the file's first line>'\n"
    "  --faults SPEC        cut=P,link=P,selftest=P: at each power-on, with probability P\n"
    "                       a power cut is armed at a random flash write or erase of the\n"
    "                       update to come; each download request's link drops at a\n"
    "                       random byte with probability P; each self-test fails with P\n"
    "  --bad-version V      an app of version V fails its self-test on every device (a\n"
    "                       bad release: each device that takes it rolls back)\n"
    "  --duration S         stop after S virtual seconds (default 3600)\n"
    "  --actions N          a device stops after closing N actions (default 1)\n"
    "  --rate BYTES         median link rate per device, bytes/s; k, M suffixes (default\n"
    "                       100k; each device's is spread log-uniformly over 0.5x..2x)\n"
    "  --boot-time S        --selftest-time S   virtual seconds (default 1.5 and 2)\n"
    "  --first-poll S       first polls spread over S seconds (default 30)\n"
    "  --jitter F           poll interval spread, +-F (default 0.2)\n"
    "  --concurrency N      HTTP requests in flight at most (default 64)\n"
    "  --seed N             random seed (default 1)\n"
    "  --realtime           hold the virtual clock to the wall clock\n"
    "  --factory FILE       the factory app image (default: a built-in 'factory' app)\n"
    "  --json               print the summary as one JSON object\n"
    "  --verbose            every device's log on stderr\n"
    "A progress bar is drawn on stderr when it is a terminal.\n"
    "exit codes: 0 ran and no device bricked, 1 a device bricked or the run could not\n"
    "start, 2 bad usage\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "otakit: fleet sim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'otakit fleet sim --help')\n");
    return EXIT_USAGE;
}

static int parse_num(const char *s, double *out, bool suffix)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0)) {
        return -1;
    }
    if (suffix && (*end == 'k' || *end == 'K')) {
        v *= 1024.0;
        end++;
    } else if (suffix && *end == 'M') {
        v *= 1024.0 * 1024.0;
        end++;
    }
    if (*end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

/* A whole file, NUL-terminated (tool_read_file names the file when it fails). */
static char *read_text(const char *path, size_t *len)
{
    uint8_t *buf = NULL;
    if (tool_read_file(path, &buf, len) != 0) {
        return NULL;
    }
    char *text = realloc(buf, *len + 1);
    if (text == NULL) {
        free(buf);
        return NULL;
    }
    text[*len] = '\0';
    return text;
}

/* "<id> <token>" lines into parallel arrays pointing into text (modified in place). */
static int parse_tokens(char *text, const char ***ids, const char ***toks, size_t *n)
{
    size_t cap = 0;
    *n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *sp = NULL;
        char *id = strtok_r(line, " \t\r", &sp);
        char *tok = strtok_r(NULL, " \t\r", &sp);
        if (id == NULL || id[0] == '#') {
            continue;
        }
        if (tok == NULL || strtok_r(NULL, " \t\r", &sp) != NULL) {
            return -1;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            const char **a = realloc(*ids, cap * sizeof(char *));
            const char **b = a != NULL ? realloc(*toks, cap * sizeof(char *)) : NULL;
            if (a == NULL || b == NULL) {
                return -1;
            }
            *ids = a;
            *toks = b;
        }
        (*ids)[*n] = id;
        (*toks)[*n] = tok;
        (*n)++;
    }
    return 0;
}

static void print_text(const fleet_result_t *r)
{
    printf("devices: %u in %.0f virtual s (%.1f s wall)\n", r->devices, r->virtual_s, r->wall_s);
    for (int i = 0; i < FLEET_STATE_COUNT; i++) {
        printf("  %-12s %u\n", fleet_final_name((fleet_final_t)i), r->by_state[i]);
    }
    printf("bricked: %u\n", r->by_state[FLEET_BRICKED]);
    printf("update time (virtual s, %u closed actions): p50 %.1f  p90 %.1f  p99 %.1f\n",
           r->updates_timed, r->p50_s, r->p90_s, r->p99_s);
    printf("bytes fetched: %llu (fetched again: %llu)\n", (unsigned long long)r->bytes_fetched,
           (unsigned long long)r->bytes_refetched);
    printf("faults: %llu power cuts, %llu link drops, %llu self-test failures; %llu boots, "
           "%llu resumes after a reboot\n",
           (unsigned long long)r->power_cuts, (unsigned long long)r->link_drops,
           (unsigned long long)r->selftest_failures, (unsigned long long)r->boots,
           (unsigned long long)r->resumes);
    if (r->feedback_resent > 0) {
        printf("final feedbacks sent again (the server still offered a closed action): %llu\n",
               (unsigned long long)r->feedback_resent);
    }
    printf("requests: %llu (%.0f/s wall), %llu failed\n", (unsigned long long)r->requests,
           r->wall_s > 0 ? (double)r->requests / r->wall_s : 0.0,
           (unsigned long long)r->http_errors);
    printf("cpu: %.2f s user, %.2f s sys; max RSS %ld MiB; changed sectors held at most %llu "
           "(%.1f MiB)\n",
           r->cpu_user_s, r->cpu_sys_s, r->max_rss_kib / 1024,
           (unsigned long long)r->pool_sectors_peak, (double)r->pool_sectors_peak / 256.0);
}

static void print_json(const fleet_result_t *r)
{
    printf("{\"devices\":%u,\"states\":{", r->devices);
    for (int i = 0; i < FLEET_STATE_COUNT; i++) {
        printf("%s\"%s\":%u", i ? "," : "", fleet_final_name((fleet_final_t)i), r->by_state[i]);
    }
    printf("},\"bricked\":%u,\"virtual_s\":%.3f,\"wall_s\":%.3f,", r->by_state[FLEET_BRICKED],
           r->virtual_s, r->wall_s);
    printf("\"update_time_s\":{\"count\":%u,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f},",
           r->updates_timed, r->p50_s, r->p90_s, r->p99_s);
    printf("\"bytes_fetched\":%llu,\"bytes_refetched\":%llu,", (unsigned long long)r->bytes_fetched,
           (unsigned long long)r->bytes_refetched);
    printf("\"power_cuts\":%llu,\"link_drops\":%llu,\"selftest_failures\":%llu,\"boots\":%llu,"
           "\"resumes\":%llu,\"feedback_resent\":%llu,",
           (unsigned long long)r->power_cuts, (unsigned long long)r->link_drops,
           (unsigned long long)r->selftest_failures, (unsigned long long)r->boots,
           (unsigned long long)r->resumes, (unsigned long long)r->feedback_resent);
    printf("\"requests\":%llu,\"requests_per_s\":%.1f,\"http_errors\":%llu,",
           (unsigned long long)r->requests, r->wall_s > 0 ? (double)r->requests / r->wall_s : 0.0,
           (unsigned long long)r->http_errors);
    printf(
        "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"max_rss_kib\":%ld,\"pool_sectors_peak\":%llu}\n",
        r->cpu_user_s, r->cpu_sys_s, r->max_rss_kib, (unsigned long long)r->pool_sectors_peak);
}

int main(int argc, char **argv)
{
    enum {
        O_DEVICES = 256,
        O_SERVER,
        O_TENANT,
        O_PREFIX,
        O_TOKEN_FILE,
        O_GATEWAY,
        O_FAULTS,
        O_DURATION,
        O_ACTIONS,
        O_RATE,
        O_BOOT,
        O_SELFTEST,
        O_FIRST,
        O_JITTER,
        O_CONC,
        O_SEED,
        O_REALTIME,
        O_FACTORY,
        O_JSON,
        O_VERBOSE,
        O_BAD,
    };
    static const struct option OPTS[] = {
        {"help", no_argument, 0, 'h'},
        {"devices", required_argument, 0, O_DEVICES},
        {"server", required_argument, 0, O_SERVER},
        {"tenant", required_argument, 0, O_TENANT},
        {"id-prefix", required_argument, 0, O_PREFIX},
        {"token-file", required_argument, 0, O_TOKEN_FILE},
        {"gateway-token", required_argument, 0, O_GATEWAY},
        {"faults", required_argument, 0, O_FAULTS},
        {"duration", required_argument, 0, O_DURATION},
        {"actions", required_argument, 0, O_ACTIONS},
        {"rate", required_argument, 0, O_RATE},
        {"boot-time", required_argument, 0, O_BOOT},
        {"selftest-time", required_argument, 0, O_SELFTEST},
        {"first-poll", required_argument, 0, O_FIRST},
        {"jitter", required_argument, 0, O_JITTER},
        {"concurrency", required_argument, 0, O_CONC},
        {"seed", required_argument, 0, O_SEED},
        {"realtime", no_argument, 0, O_REALTIME},
        {"factory", required_argument, 0, O_FACTORY},
        {"json", no_argument, 0, O_JSON},
        {"verbose", no_argument, 0, O_VERBOSE},
        {"bad-version", required_argument, 0, O_BAD},
        {0, 0, 0, 0},
    };
    fleet_cfg_t cfg;
    fleet_cfg_init(&cfg);
    bool json = false;
    const char *servers[16];
    size_t nservers = 0;
    const char *token_file = NULL, *gateway_file = NULL, *factory = NULL;
    char err[160];
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", OPTS, NULL)) != -1) {
        double v = 0;
        switch (c) {
        case 'h':
            fputs(USAGE, stdout);
            return EXIT_OK;
        case O_DEVICES:
            if (parse_num(optarg, &v, false) != 0 || v < 1 || v > 1000000 || v != (unsigned)v) {
                return usage_error("--devices '%s': want a count from 1 to 1000000", optarg);
            }
            cfg.devices = (unsigned)v;
            break;
        case O_SERVER:
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) {
                return usage_error("--server '%s': want an http:// or https:// URL", optarg);
            }
            if (nservers == sizeof(servers) / sizeof(servers[0])) {
                return usage_error("--server %s: at most 16 servers", optarg);
            }
            servers[nservers++] = optarg;
            cfg.server = servers[0];
            break;
        case O_BAD:
            if (*optarg == '\0' || strlen(optarg) >= 32) {
                return usage_error("--bad-version '%s': want an app version (1 to 31 "
                                   "characters)",
                                   optarg);
            }
            cfg.bad_version = optarg;
            break;
        case O_TENANT:
            cfg.tenant = optarg;
            break;
        case O_PREFIX:
            cfg.id_prefix = optarg;
            break;
        case O_TOKEN_FILE:
            token_file = optarg;
            break;
        case O_GATEWAY:
            gateway_file = optarg;
            break;
        case O_FAULTS:
            if (fleet_parse_faults(optarg, &cfg, err, sizeof(err)) != 0) {
                return usage_error("--faults: %s", err);
            }
            break;
        case O_DURATION:
            if (parse_num(optarg, &cfg.duration, false) != 0 || cfg.duration <= 0) {
                return usage_error("--duration '%s': want seconds > 0", optarg);
            }
            break;
        case O_ACTIONS:
            if (parse_num(optarg, &v, false) != 0 || v < 1 || v > 1000 || v != (unsigned)v) {
                return usage_error("--actions '%s': want a count from 1 to 1000", optarg);
            }
            cfg.actions = (unsigned)v;
            break;
        case O_RATE:
            if (parse_num(optarg, &cfg.rate, true) != 0 || cfg.rate < 1) {
                return usage_error("--rate '%s': want bytes per second (k, M suffixes)", optarg);
            }
            break;
        case O_BOOT:
            if (parse_num(optarg, &cfg.boot_s, false) != 0) {
                return usage_error("--boot-time '%s': want seconds", optarg);
            }
            break;
        case O_SELFTEST:
            if (parse_num(optarg, &cfg.selftest_s, false) != 0) {
                return usage_error("--selftest-time '%s': want seconds", optarg);
            }
            break;
        case O_FIRST:
            if (parse_num(optarg, &cfg.first_poll_s, false) != 0) {
                return usage_error("--first-poll '%s': want seconds", optarg);
            }
            break;
        case O_JITTER:
            if (parse_num(optarg, &cfg.jitter, false) != 0 || cfg.jitter > 1) {
                return usage_error("--jitter '%s': want a fraction from 0 to 1", optarg);
            }
            break;
        case O_CONC:
            if (parse_num(optarg, &v, false) != 0 || v < 1 || v > 4096 || v != (unsigned)v) {
                return usage_error("--concurrency '%s': want a count from 1 to 4096", optarg);
            }
            cfg.concurrency = (unsigned)v;
            break;
        case O_SEED:
            if (parse_num(optarg, &v, false) != 0 || v > 4294967295.0 || v != (uint32_t)v) {
                return usage_error("--seed '%s': want a 32-bit number", optarg);
            }
            cfg.seed = (uint32_t)v;
            break;
        case O_REALTIME:
            cfg.realtime = true;
            break;
        case O_FACTORY:
            factory = optarg;
            break;
        case O_JSON:
            json = true;
            break;
        case O_VERBOSE:
            cfg.verbose = true;
            break;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (cfg.server == NULL) {
        return usage_error("%s", "--server URL is required");
    }
    if (token_file != NULL && gateway_file != NULL) {
        return usage_error("%s", "--token-file and --gateway-token exclude each other");
    }
    size_t len = 0;
    char *tokens_text = NULL;
    const char **ids = NULL, **toks = NULL;
    uint8_t *factory_img = NULL;
    int rc = EXIT_CHECK_FAILED;
    if (token_file != NULL || gateway_file != NULL) {
        const char *path = token_file != NULL ? token_file : gateway_file;
        tokens_text = read_text(path, &len);
        if (tokens_text == NULL) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (gateway_file != NULL) {
            cfg.gateway = true;
            tokens_text[strcspn(tokens_text, "\r\n")] = '\0';
            if (tokens_text[0] == '\0') {
                fprintf(stderr, "otakit: fleet sim: %s: no token on its first line\n", path);
                rc = EXIT_USAGE;
                goto out;
            }
            cfg.token = tokens_text;
        } else if (parse_tokens(tokens_text, &ids, &toks, &cfg.token_count) != 0 ||
                   cfg.token_count == 0) {
            fprintf(stderr, "otakit: fleet sim: %s: want lines '<controllerId> <token>'\n", path);
            rc = EXIT_USAGE;
            goto out;
        }
        cfg.token_ids = ids;
        cfg.tokens = toks;
    }
    if (factory != NULL) {
        factory_img = (uint8_t *)read_text(factory, &cfg.factory_app_len);
        if (factory_img == NULL) {
            rc = EXIT_USAGE;
            goto out;
        }
        cfg.factory_app = factory_img;
    }
    if (nservers > 1) {
        cfg.servers = servers;
        cfg.server_count = nservers;
    }
    cfg.progress = !json && isatty(STDERR_FILENO) && !cfg.verbose;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "otakit: fleet sim: libcurl does not start\n");
        goto out;
    }
    fleet_result_t res;
    if (fleet_sim_run(&cfg, &res) != 0) {
        fprintf(stderr, "otakit: fleet sim: %s\n", res.error);
        curl_global_cleanup();
        goto out;
    }
    curl_global_cleanup();
    if (json) {
        print_json(&res);
    } else {
        print_text(&res);
    }
    rc = res.by_state[FLEET_BRICKED] > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
out:
    free(tokens_text);
    free(ids);
    free(toks);
    free(factory_img);
    return rc;
}
