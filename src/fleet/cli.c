/* otakit fleet: the command line. `otakit fleet serve` runs the server (server.c); the
 * other verbs are a client of its management API (/rest/v1) over libcurl, and print
 * the server's JSON answer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "cmd.h"
#include "server.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"

static const char USAGE[] =
    "usage: otakit fleet serve [options]\n"
    "       otakit fleet upload IMAGE [--filename NAME]\n"
    "       otakit fleet artifacts | devices | rollouts\n"
    "       otakit fleet device add ID [--group G] [--tag T]... [--device-token T]\n"
    "       otakit fleet device show ID\n"
    "       otakit fleet device set ID [--group G] [--tag T]...\n"
    "       otakit fleet device assign ID ARTIFACT\n"
    "       otakit fleet rollout create --name N --artifact ID [--group G] [--tag T]\n"
    "                            [--groups 10%,30%,rest] [--success-threshold P]\n"
    "                            [--error-threshold P]\n"
    "       otakit fleet rollout start|pause|resume|cancel|show ID\n"
    "       otakit fleet sim --devices N --server URL ...  (virtual devices: 'sim --help')\n"
    "\n"
    "A rollout server for many devices: devices poll it with Eclipse hawkBit's DDI API\n"
    "(/TENANT/controller/v1/ID), operators use its JSON API (/rest/v1) or these verbs.\n"
    "docs/fleet.md describes both.\n"
    "\n"
    "Client options (every verb but serve):\n"
    "  --server URL         the fleet server (default $OTAKIT_FLEET_SERVER, else\n"
    "                       " DEFAULT_SERVER ")\n"
    "  --token T            admin token (default $OTAKIT_FLEET_TOKEN)\n"
    "  --token-file FILE    admin token from a file (the server's DATA/admin-token)\n"
    "\n"
    "Server options (serve):\n"
    "  --data-dir DIR       artifacts, the SQLite database, admin-token (default fleet-data)\n"
    "  --db SPEC            postgresql://... or a libpq conninfo (\"host=... dbname=...\"):\n"
    "                       PostgreSQL; default: SQLite in DIR/fleet.db\n"
    "  --port N             port (default 8080; 0 = any free port, printed at start)\n"
    "  --bind ADDR          numeric address to listen on (default 127.0.0.1)\n"
    "  --tenant NAME        the DDI tenant (default DEFAULT)\n"
    "  --admin-token-file F admin token (default $OTAKIT_FLEET_TOKEN, else DIR/admin-token,\n"
    "                       made at the first start)\n"
    "  --gateway-token-file F  accept 'Authorization: GatewayToken <token in F>'\n"
    "  --auto-register      register unknown devices on their first poll\n"
    "  --anonymous-download artifact downloads need no token\n"
    "  --artifact-base-url URL  devices download URL/<sha256>.bin (nginx, a CDN)\n"
    "  --public-url URL     base of the links given to devices (default http://Host)\n"
    "  --poll-seconds N     config.polling.sleep (default 300)\n"
    "  --max-upload N       largest artifact in bytes (default 16M)\n"
    "  --keyfile KEY.pem    uploads must carry a Secure Boot V2 signature of this key\n"
    "\n"
    "exit codes: 0 ok, 1 the server refused or could not be reached, 2 bad usage\n";

enum {
    OPT_SERVER = 256,
    OPT_TOKEN,
    OPT_TOKEN_FILE,
    OPT_FILENAME,
    OPT_GROUP,
    OPT_TAG,
    OPT_DEVICE_TOKEN,
    OPT_NAME,
    OPT_ARTIFACT,
    OPT_GROUPS,
    OPT_SUCCESS,
    OPT_ERROR,
    OPT_DATA_DIR,
    OPT_DB,
    OPT_PORT,
    OPT_BIND,
    OPT_TENANT,
    OPT_ADMIN_TOKEN_FILE,
    OPT_GATEWAY_TOKEN_FILE,
    OPT_AUTO_REGISTER,
    OPT_ANON,
    OPT_BASE_URL,
    OPT_PUBLIC_URL,
    OPT_POLL,
    OPT_MAX_UPLOAD,
    OPT_KEYFILE,
};

static const struct option OPTS[] = {
    TOOL_OPT_HELP_ENTRY,
    {"server", required_argument, 0, OPT_SERVER},
    {"token", required_argument, 0, OPT_TOKEN},
    {"token-file", required_argument, 0, OPT_TOKEN_FILE},
    {"filename", required_argument, 0, OPT_FILENAME},
    {"group", required_argument, 0, OPT_GROUP},
    {"tag", required_argument, 0, OPT_TAG},
    {"device-token", required_argument, 0, OPT_DEVICE_TOKEN},
    {"name", required_argument, 0, OPT_NAME},
    {"artifact", required_argument, 0, OPT_ARTIFACT},
    {"groups", required_argument, 0, OPT_GROUPS},
    {"success-threshold", required_argument, 0, OPT_SUCCESS},
    {"error-threshold", required_argument, 0, OPT_ERROR},
    {"data-dir", required_argument, 0, OPT_DATA_DIR},
    {"db", required_argument, 0, OPT_DB},
    {"port", required_argument, 0, OPT_PORT},
    {"bind", required_argument, 0, OPT_BIND},
    {"tenant", required_argument, 0, OPT_TENANT},
    {"admin-token-file", required_argument, 0, OPT_ADMIN_TOKEN_FILE},
    {"gateway-token-file", required_argument, 0, OPT_GATEWAY_TOKEN_FILE},
    {"auto-register", no_argument, 0, OPT_AUTO_REGISTER},
    {"anonymous-download", no_argument, 0, OPT_ANON},
    {"artifact-base-url", required_argument, 0, OPT_BASE_URL},
    {"public-url", required_argument, 0, OPT_PUBLIC_URL},
    {"poll-seconds", required_argument, 0, OPT_POLL},
    {"max-upload", required_argument, 0, OPT_MAX_UPLOAD},
    {"keyfile", required_argument, 0, OPT_KEYFILE},
    {0, 0, 0, 0},
};

#define MAX_TAGS 16

struct args {
    const char *server, *token, *token_file;
    const char *filename, *group, *device_token, *name, *artifact, *groups;
    const char *tags[MAX_TAGS];
    size_t ntags;
    int success, error; /* -1: not given */
    fleet_opts_t serve;
    bool serve_opt; /* a server option was given */
    char **pos;
    int npos;
};

static int num_opt(const char *opt, const char *val, uint32_t max, uint32_t *out)
{
    if (tool_parse_u32(val, out) != 0 || *out > max) {
        tool_error("fleet: %s: '%s' is not a number from 0 to %u", opt, val, (unsigned)max);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    a->success = a->error = -1;
    fleet_opts_default(&a->serve);
    tool_getopt_begin();
    int c;
    uint32_t n;
    while ((c = tool_getopt(argc, argv, "fleet", OPTS)) != -1) {
        switch (c) {
        case TOOL_OPT_HELP:
            fputs(USAGE, stdout);
            exit(EXIT_OK);
        case OPT_SERVER:
            a->server = optarg;
            break;
        case OPT_TOKEN:
            a->token = optarg;
            break;
        case OPT_TOKEN_FILE:
            a->token_file = optarg;
            break;
        case OPT_FILENAME:
            a->filename = optarg;
            break;
        case OPT_GROUP:
            a->group = optarg;
            break;
        case OPT_TAG:
            if (a->ntags == MAX_TAGS) {
                tool_error("fleet: at most %d --tag", MAX_TAGS);
                return -1;
            }
            a->tags[a->ntags++] = optarg;
            break;
        case OPT_DEVICE_TOKEN:
            a->device_token = optarg;
            break;
        case OPT_NAME:
            a->name = optarg;
            break;
        case OPT_ARTIFACT:
            a->artifact = optarg;
            break;
        case OPT_GROUPS:
            a->groups = optarg;
            break;
        case OPT_SUCCESS:
        case OPT_ERROR:
            if (num_opt(c == OPT_SUCCESS ? "--success-threshold" : "--error-threshold", optarg, 100,
                        &n) != 0) {
                return -1;
            }
            *(c == OPT_SUCCESS ? &a->success : &a->error) = (int)n;
            break;
        case OPT_DATA_DIR:
            a->serve.data_dir = optarg;
            break;
        case OPT_DB:
            a->serve.db = optarg;
            break;
        case OPT_PORT:
            if (num_opt("--port", optarg, 65535, &n) != 0) {
                return -1;
            }
            a->serve.port = n;
            break;
        case OPT_BIND:
            a->serve.bind_addr = optarg;
            break;
        case OPT_TENANT:
            a->serve.tenant = optarg;
            break;
        case OPT_ADMIN_TOKEN_FILE:
            a->serve.admin_token_file = optarg;
            break;
        case OPT_GATEWAY_TOKEN_FILE:
            a->serve.gateway_token_file = optarg;
            break;
        case OPT_AUTO_REGISTER:
            a->serve.auto_register = true;
            break;
        case OPT_ANON:
            a->serve.anonymous_download = true;
            break;
        case OPT_BASE_URL:
            a->serve.artifact_base_url = optarg;
            break;
        case OPT_PUBLIC_URL:
            a->serve.public_url = optarg;
            break;
        case OPT_POLL:
            if (num_opt("--poll-seconds", optarg, 86400, &n) != 0) {
                return -1;
            }
            a->serve.poll_seconds = n;
            break;
        case OPT_MAX_UPLOAD:
            if (num_opt("--max-upload", optarg, 1024u * 1024 * 1024, &n) != 0) {
                return -1;
            }
            a->serve.max_upload = n;
            break;
        case OPT_KEYFILE:
            a->serve.keyfile = optarg;
            break;
        default:
            return -1;
        }
        a->serve_opt |= c >= OPT_DATA_DIR; /* the server's options come last */
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return 0;
}

/* ---------------------------------------------------------------- client */

struct buf {
    char *p;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct buf *b = user;
    size_t n = size * nmemb;
    if (b->len + n > 64u * 1024 * 1024) {
        return 0;
    }
    char *np = realloc(b->p, b->len + n + 1);
    if (np == NULL) {
        return 0;
    }
    memcpy(np + b->len, ptr, n);
    b->p = np;
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* Send one request to the management API and print the answer. @return exit code. */
static int call(const struct args *a, const char *method, const char *path, const void *body,
                size_t body_len, const char *type)
{
    const char *server = a->server;
    if (server == NULL) {
        server = getenv("OTAKIT_FLEET_SERVER");
    }
    if (server == NULL || *server == '\0') {
        server = DEFAULT_SERVER;
    }
    char token[512] = "";
    if (a->token_file != NULL) {
        FILE *f = fopen(a->token_file, "re");
        if (f == NULL || fgets(token, sizeof(token), f) == NULL) {
            tool_error("fleet: %s: cannot read the token", a->token_file);
            if (f != NULL) {
                fclose(f);
            }
            return EXIT_USAGE;
        }
        fclose(f);
        token[strcspn(token, "\r\n")] = '\0';
    } else {
        const char *t = a->token != NULL ? a->token : getenv("OTAKIT_FLEET_TOKEN");
        snprintf(token, sizeof(token), "%s", t != NULL ? t : "");
    }
    if (token[0] == '\0') {
        tool_error("fleet: no admin token (--token, --token-file or $OTAKIT_FLEET_TOKEN)");
        return EXIT_USAGE;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        tool_error("fleet: cannot start libcurl");
        return EXIT_CHECK_FAILED;
    }
    char url[2048], auth[600], ctype[128];
    size_t sl = strlen(server);
    snprintf(url, sizeof(url), "%.*s%s", (int)(sl > 0 && server[sl - 1] == '/' ? sl - 1 : sl),
             server, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(ctype, sizeof(ctype), "Content-Type: %s", type != NULL ? type : "application/json");
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, ctype);
    if (body != NULL) {
        /* The server refuses an oversized body (413) from its headers: with the body
         * held back until "100 Continue", that answer arrives instead of a reset. */
        h = curl_slist_append(h, "Expect: 100-continue");
    }
    struct buf resp = {NULL, 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    int rc = EXIT_OK;
    if (cc != CURLE_OK && status == 0) { /* a reply that came before a send error counts */
        tool_error("fleet: %s: %s", url, curl_easy_strerror(cc));
        rc = EXIT_CHECK_FAILED;
    } else if (cc != CURLE_OK || status < 200 || status > 299) {
        cJSON *j = resp.p != NULL ? cJSON_Parse(resp.p) : NULL;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        tool_error("fleet: %s %s: HTTP %ld: %s", method, path, status,
                   cJSON_IsString(m) ? m->valuestring : (resp.p != NULL ? resp.p : ""));
        cJSON_Delete(j);
        rc = EXIT_CHECK_FAILED;
    } else if (resp.len > 0) {
        cJSON *j = cJSON_Parse(resp.p);
        char *pretty = j != NULL ? cJSON_Print(j) : NULL;
        printf("%s\n", pretty != NULL ? pretty : resp.p);
        cJSON_free(pretty);
        cJSON_Delete(j);
    }
    free(resp.p);
    return rc;
}

/* Takes j. */
static int call_json(const struct args *a, const char *method, const char *path, cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (text == NULL) {
        tool_error("fleet: out of memory");
        return EXIT_CHECK_FAILED;
    }
    int rc = call(a, method, path, text, strlen(text), NULL);
    cJSON_free(text);
    return rc;
}

static bool is_name(const char *s)
{
    if (*s == '\0' || strlen(s) > 64) {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.' || *s == ':')) {
            return false;
        }
    }
    return true;
}

static int want_pos(const struct args *a, int n, const char *what)
{
    if (a->npos != n) {
        tool_error("fleet: %s (see 'otakit fleet --help')", what);
        return -1;
    }
    return 0;
}

static void add_tags(const struct args *a, cJSON *o)
{
    cJSON *t = cJSON_AddArrayToObject(o, "tags");
    for (size_t i = 0; i < a->ntags; i++) {
        cJSON_AddItemToArray(t, cJSON_CreateString(a->tags[i]));
    }
}

static int fleet_upload(const struct args *a)
{
    if (want_pos(a, 1, "upload needs one IMAGE") != 0) {
        return EXIT_USAGE;
    }
    uint8_t *img;
    size_t len;
    if (tool_read_file(a->pos[0], &img, &len) != 0) {
        return EXIT_USAGE;
    }
    char path[256] = "/rest/v1/artifacts";
    if (a->filename != NULL) {
        CURL *curl = curl_easy_init();
        char *esc = curl != NULL ? curl_easy_escape(curl, a->filename, 0) : NULL;
        snprintf(path, sizeof(path), "/rest/v1/artifacts?filename=%s", esc != NULL ? esc : "");
        curl_free(esc);
        curl_easy_cleanup(curl);
    }
    int rc = call(a, "POST", path, img, len, "application/octet-stream");
    free(img);
    return rc;
}

static int fleet_device(const struct args *a)
{
    if (a->npos < 2) {
        tool_error("fleet: device add|show|set|assign ID (see 'otakit fleet --help')");
        return EXIT_USAGE;
    }
    const char *verb = a->pos[0], *id = a->pos[1];
    if (!is_name(id)) {
        tool_error("fleet: device ID '%s': 1 to 64 of A-Z a-z 0-9 . _ - :", id);
        return EXIT_USAGE;
    }
    char path[256];
    snprintf(path, sizeof(path), "/rest/v1/devices/%s", id);
    if (strcmp(verb, "show") == 0) {
        return want_pos(a, 2, "device show ID") != 0 ? EXIT_USAGE
                                                     : call(a, "GET", path, NULL, 0, NULL);
    }
    cJSON *o = cJSON_CreateObject();
    if (strcmp(verb, "add") == 0 || strcmp(verb, "set") == 0) {
        bool add = verb[0] == 'a';
        if (want_pos(a, 2, add ? "device add ID" : "device set ID") != 0) {
            cJSON_Delete(o);
            return EXIT_USAGE;
        }
        if (add) {
            cJSON_AddStringToObject(o, "controllerId", id);
        }
        if (a->device_token != NULL) {
            cJSON_AddStringToObject(o, "token", a->device_token);
        }
        if (a->group != NULL) {
            cJSON_AddStringToObject(o, "group", a->group);
        }
        if (add || a->ntags > 0) {
            add_tags(a, o);
        }
        return add ? call_json(a, "POST", "/rest/v1/devices", o) : call_json(a, "PUT", path, o);
    }
    if (strcmp(verb, "assign") == 0) {
        uint32_t art;
        if (want_pos(a, 3, "device assign ID ARTIFACT") != 0 ||
            tool_parse_u32(a->pos[2], &art) != 0) {
            tool_error("fleet: device assign ID ARTIFACT (an artifact id)");
            cJSON_Delete(o);
            return EXIT_USAGE;
        }
        cJSON_AddNumberToObject(o, "artifact", art);
        strncat(path, "/assign", sizeof(path) - strlen(path) - 1);
        return call_json(a, "POST", path, o);
    }
    cJSON_Delete(o);
    tool_error("fleet: device %s: unknown (add, show, set, assign)", verb);
    return EXIT_USAGE;
}

/* "10%,30%,rest" or "1,2,rest" into [{"percent":10},{"percent":30},{"percent":100}]. */
static cJSON *parse_groups(const char *spec)
{
    cJSON *arr = cJSON_CreateArray();
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, g);
        uint32_t n;
        size_t l = strlen(t);
        if (strcmp(t, "rest") == 0) {
            cJSON_AddNumberToObject(g, "percent", 100);
        } else if (l > 1 && t[l - 1] == '%') {
            t[l - 1] = '\0';
            if (tool_parse_u32(t, &n) != 0 || n < 1 || n > 100) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddNumberToObject(g, "percent", n);
        } else if (tool_parse_u32(t, &n) == 0 && n >= 1) {
            cJSON_AddNumberToObject(g, "count", n);
        } else {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    if (cJSON_GetArraySize(arr) == 0) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

static int fleet_rollout(const struct args *a)
{
    if (a->npos < 1) {
        tool_error("fleet: rollout create|start|pause|resume|cancel|show (see 'otakit fleet "
                   "--help')");
        return EXIT_USAGE;
    }
    const char *verb = a->pos[0];
    if (strcmp(verb, "create") == 0) {
        uint32_t art;
        if (want_pos(a, 1, "rollout create takes options only") != 0) {
            return EXIT_USAGE;
        }
        if (a->name == NULL || a->artifact == NULL || tool_parse_u32(a->artifact, &art) != 0) {
            tool_error("fleet: rollout create needs --name and --artifact ID");
            return EXIT_USAGE;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", a->name);
        cJSON_AddNumberToObject(o, "artifact", art);
        cJSON *f = cJSON_AddObjectToObject(o, "filter");
        if (a->group != NULL) {
            cJSON_AddStringToObject(f, "group", a->group);
        }
        if (a->ntags > 1) {
            tool_error("fleet: rollout create: one --tag");
            cJSON_Delete(o);
            return EXIT_USAGE;
        }
        if (a->ntags == 1) {
            cJSON_AddStringToObject(f, "tag", a->tags[0]);
        }
        if (a->groups != NULL) {
            cJSON *g = parse_groups(a->groups);
            if (g == NULL) {
                tool_error("fleet: --groups '%s': a list such as 10%%,30%%,rest or 1,5,rest",
                           a->groups);
                cJSON_Delete(o);
                return EXIT_USAGE;
            }
            cJSON_AddItemToObject(o, "groups", g);
        }
        if (a->success >= 0) {
            cJSON_AddNumberToObject(o, "successThreshold", a->success);
        }
        if (a->error >= 0) {
            cJSON_AddNumberToObject(o, "errorThreshold", a->error);
        }
        return call_json(a, "POST", "/rest/v1/rollouts", o);
    }
    static const char *const VERBS[] = {"start", "pause", "resume", "cancel", "show"};
    for (size_t i = 0; i < sizeof(VERBS) / sizeof(VERBS[0]); i++) {
        if (strcmp(verb, VERBS[i]) != 0) {
            continue;
        }
        uint32_t id;
        if (want_pos(a, 2, "rollout VERB ID") != 0 || tool_parse_u32(a->pos[1], &id) != 0) {
            tool_error("fleet: rollout %s ID (a rollout id)", verb);
            return EXIT_USAGE;
        }
        char path[128];
        if (i == 4) {
            snprintf(path, sizeof(path), "/rest/v1/rollouts/%u", (unsigned)id);
            return call(a, "GET", path, NULL, 0, NULL);
        }
        snprintf(path, sizeof(path), "/rest/v1/rollouts/%u/%s", (unsigned)id, verb);
        return call(a, "POST", path, "", 0, NULL);
    }
    tool_error("fleet: rollout %s: unknown (create, start, pause, resume, cancel, show)", verb);
    return EXIT_USAGE;
}

/* Every verb: argv[0] is the verb (tool_dispatch's convention). */
static int fleet_verb(int argc, char **argv)
{
    const char *verb = argv[0];
    struct args a;
    if (parse_args(argc, argv, &a) != 0) {
        return EXIT_USAGE;
    }
    if (strcmp(verb, "serve") == 0) {
        if (a.npos != 0) {
            tool_error("fleet: serve takes options only ('%s')", a.pos[0]);
            return EXIT_USAGE;
        }
        return fleet_serve(&a.serve);
    }
    if (a.serve_opt) {
        tool_error("fleet: %s: a server option given to a client verb (see 'otakit fleet "
                   "--help')",
                   verb);
        return EXIT_USAGE;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (strcmp(verb, "upload") == 0) {
        rc = fleet_upload(&a);
    } else if (strcmp(verb, "device") == 0) {
        rc = fleet_device(&a);
    } else if (strcmp(verb, "rollout") == 0) {
        rc = fleet_rollout(&a);
    } else { /* artifacts, devices, rollouts */
        char path[64];
        snprintf(path, sizeof(path), "/rest/v1/%s", verb);
        rc = want_pos(&a, 0, "this verb takes no arguments") != 0
                 ? EXIT_USAGE
                 : call(&a, "GET", path, NULL, 0, NULL);
    }
    curl_global_cleanup();
    return rc;
}

int cmd_fleet(int argc, char **argv)
{
    static const tool_verb_t VERBS[] = {
        {"serve", fleet_verb},   {"upload", fleet_verb}, {"artifacts", fleet_verb},
        {"devices", fleet_verb}, {"device", fleet_verb}, {"rollouts", fleet_verb},
        {"rollout", fleet_verb},
    };
    return tool_dispatch("fleet", USAGE, VERBS, sizeof(VERBS) / sizeof(VERBS[0]), argc, argv);
}
