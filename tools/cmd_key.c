/* otakit key generate | digest | extract-public: Secure Boot V2 keys, as espsecure.py's
 * generate_signing_key, digest_sbv2_public_key and extract_public_key make them. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "sbv2.h"

static const char USAGE[] =
    "usage: otakit key generate --scheme rsa3072|ecdsa256|ecdsa384|ecdsa192 OUT.pem\n"
    "       otakit key digest --keyfile KEY.pem [-o OUT.bin] [--json]\n"
    "       otakit key extract-public --keyfile KEY.pem OUT.pem\n"
    "\n"
    "  generate        a new Secure Boot V2 signing key (PEM, never overwrites a file)\n"
    "  digest          the SHA-256 of the public key as a signature block holds it: the\n"
    "                  32 bytes an ESP32 burns into eFuse\n"
    "  extract-public  the public key of a private key (PEM)\n"
    "'otakit key <verb> --help' describes a verb.\n"
    "exit codes: 0 ok, 1 the operation failed, 2 bad usage or input\n";

static const char USAGE_GENERATE[] =
    "usage: otakit key generate --scheme SCHEME OUT.pem\n"
    "\n"
    "Writes a new private key as PEM (OpenSSL's traditional format, as espsecure.py\n"
    "generate_signing_key --version 2 does), readable by its owner only. Refuses to\n"
    "overwrite an existing file.\n"
    "  --scheme SCHEME  rsa3072 (RSA-3072, RSA-PSS signatures; every chip with Secure Boot\n"
    "                   V2), ecdsa256 (P-256), ecdsa384 (P-384) or ecdsa192 (P-192)\n"
    "exit codes: 0 written, 1 key generation failed, 2 bad usage, OUT exists or unwritable\n";

static const char USAGE_DIGEST[] =
    "usage: otakit key digest --keyfile KEY.pem [-o OUT.bin] [--json]\n"
    "\n"
    "The public key digest of a Secure Boot V2 key (private or public PEM): SHA-256 of\n"
    "the key as a signature block holds it (RSA: n, e, R^2 mod n, M'; ECDSA: curve id, X,\n"
    "Y). This is what espsecure.py digest_sbv2_public_key writes and what an ESP32 burns\n"
    "into an eFuse key block. Prints the digest in hex.\n"
    "  --keyfile KEY.pem   the key\n"
    "  -o, --output OUT    also write the 32 raw bytes to OUT\n"
    "  --json              print one JSON object\n"
    "exit codes: 0 ok, 2 bad usage, unreadable or unsupported key\n";

static const char USAGE_EXTRACT[] =
    "usage: otakit key extract-public --keyfile KEY.pem OUT.pem\n"
    "\n"
    "Writes the public key of KEY.pem as PEM (SubjectPublicKeyInfo), byte for byte what\n"
    "espsecure.py extract_public_key --version 2 writes.\n"
    "exit codes: 0 written, 2 bad usage, unreadable or unsupported key\n";

/* Load a PEM key file; prints the problem and returns -1 on failure. */
static int run_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scheme", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *scheme_s = NULL;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE_GENERATE, stdout);
            return EXIT_OK;
        } else if (c == 's') {
            scheme_s = optarg;
        } else {
            return tool_getopt_error("key generate", c, argv);
        }
    }
    if (scheme_s == NULL || optind != argc - 1) {
        tool_error("key generate: needs --scheme and one OUT.pem (see 'otakit key generate "
                   "--help')");
        return EXIT_USAGE;
    }
    const char *out = argv[optind];
    otakit_sig_scheme_t scheme;
    if (strcmp(scheme_s, "rsa3072") == 0) {
        scheme = OTAKIT_SIG_RSA3072;
    } else if (strcmp(scheme_s, "ecdsa256") == 0) {
        scheme = OTAKIT_SIG_ECDSA_P256;
    } else if (strcmp(scheme_s, "ecdsa384") == 0) {
        scheme = OTAKIT_SIG_ECDSA_P384;
    } else if (strcmp(scheme_s, "ecdsa192") == 0) {
        scheme = OTAKIT_SIG_ECDSA_P192;
    } else {
        tool_error("key generate: unknown scheme '%s' (rsa3072, ecdsa256, ecdsa384, ecdsa192)",
                   scheme_s);
        return EXIT_USAGE;
    }
    otakit_sbv2_key_t *key;
    if (otakit_sbv2_key_generate(scheme, &key) != OTAKIT_OK) {
        tool_error("key generate: generating a %s key failed", otakit_sig_scheme_name(scheme));
        return EXIT_CHECK_FAILED;
    }
    char *pem;
    size_t len;
    otakit_err_t err = otakit_sbv2_key_pem(key, true, &pem, &len);
    otakit_sbv2_key_free(key);
    if (err != OTAKIT_OK) {
        tool_error("key generate: cannot encode the key");
        return EXIT_CHECK_FAILED;
    }
    /* O_EXCL: never overwrite a key; 0600: a private key is its owner's alone. */
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        tool_error("%s: %s%s", out, strerror(errno),
                   errno == EEXIST ? " (refusing to overwrite a key file)" : "");
        free(pem);
        return EXIT_USAGE;
    }
    bool ok = write(fd, pem, len) == (ssize_t)len;
    ok = (close(fd) == 0) && ok;
    free(pem);
    if (!ok) {
        tool_error("%s: write failed", out);
        unlink(out);
        return EXIT_USAGE;
    }
    printf("%s: %s private key\n", out, otakit_sig_scheme_name(scheme));
    return EXIT_OK;
}

static int run_digest(int argc, char **argv)
{
    static const struct option opts[] = {{"keyfile", required_argument, NULL, 'k'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *keyfile = NULL, *output = NULL;
    bool json = false;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE_DIGEST, stdout);
            return EXIT_OK;
        } else if (c == 'k') {
            keyfile = optarg;
        } else if (c == 'o') {
            output = optarg;
        } else if (c == 'j') {
            json = true;
        } else {
            return tool_getopt_error("key digest", c, argv);
        }
    }
    if (keyfile == NULL || optind != argc) {
        tool_error("key digest: needs --keyfile KEY.pem and nothing else (see 'otakit key "
                   "digest --help')");
        return EXIT_USAGE;
    }
    if (json && output != NULL && strcmp(output, "-") == 0) {
        tool_error("key digest: --json cannot be used with -o -");
        return EXIT_USAGE;
    }
    otakit_sbv2_key_t *key;
    if (tool_load_sbv2_key(keyfile, &key) != 0) {
        return EXIT_USAGE;
    }
    uint8_t digest[OTAKIT_SIG_KEY_DIGEST_LEN];
    otakit_sig_scheme_t scheme = otakit_sbv2_key_scheme(key);
    otakit_err_t err = otakit_sbv2_key_digest(key, digest);
    otakit_sbv2_key_free(key);
    if (err != OTAKIT_OK) {
        tool_error("%s: cannot compute the key digest", keyfile);
        return EXIT_CHECK_FAILED;
    }
    if (output != NULL && tool_write_file(output, digest, sizeof(digest)) != 0) {
        return EXIT_USAGE;
    }
    char hex[2 * OTAKIT_SIG_KEY_DIGEST_LEN + 1];
    tool_hex(hex, digest, sizeof(digest));
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "keyfile", keyfile);
        cJSON_AddStringToObject(j, "scheme", otakit_sig_scheme_name(scheme));
        cJSON_AddStringToObject(j, "digest", hex);
        if (output != NULL) {
            cJSON_AddStringToObject(j, "output", output);
        } else {
            cJSON_AddNullToObject(j, "output");
        }
        tool_print_json(j, false);
    } else if (output == NULL || strcmp(output, "-") != 0) {
        printf("%s\n", hex);
    }
    return EXIT_OK;
}

static int run_extract(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keyfile", required_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *keyfile = NULL;
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE_EXTRACT, stdout);
            return EXIT_OK;
        } else if (c == 'k') {
            keyfile = optarg;
        } else {
            return tool_getopt_error("key extract-public", c, argv);
        }
    }
    if (keyfile == NULL || optind != argc - 1) {
        tool_error("key extract-public: needs --keyfile KEY.pem and one OUT.pem (see 'otakit "
                   "key extract-public --help')");
        return EXIT_USAGE;
    }
    otakit_sbv2_key_t *key;
    if (tool_load_sbv2_key(keyfile, &key) != 0) {
        return EXIT_USAGE;
    }
    char *pem;
    size_t len;
    otakit_err_t err = otakit_sbv2_key_pem(key, false, &pem, &len);
    otakit_sbv2_key_free(key);
    if (err != OTAKIT_OK) {
        tool_error("%s: cannot encode the public key", keyfile);
        return EXIT_CHECK_FAILED;
    }
    int rc = tool_write_file(argv[optind], pem, len) == 0 ? EXIT_OK : EXIT_USAGE;
    free(pem);
    return rc;
}

int cmd_key(int argc, char **argv)
{
    static const tool_verb_t VERBS[] = {
        {"generate", run_generate},
        {"digest", run_digest},
        {"extract-public", run_extract},
    };
    return tool_dispatch("key", USAGE, VERBS, sizeof(VERBS) / sizeof(VERBS[0]), argc, argv);
}
