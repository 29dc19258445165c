/* otakit efuse: the virtual device's eFuses (FLASH.efuse, src/port/device/efuse.h): the
 * anti-rollback counter and the Secure Boot V2 key digests with their revocation bits,
 * as espefuse.py summary / burn_key_digest / burn_efuse SECURE_BOOT_KEY_REVOKEn show and
 * burn them on a chip. Every change only moves a field one way, like a real eFuse. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "efuse.h"
#include "sbv2.h"

static const char USAGE[] =
    "usage: otakit efuse show [--flash FILE | --efuse FILE] [--json]\n"
    "       otakit efuse burn-key-digest [--flash FILE | --efuse FILE]\n"
    "                                    (--keyfile KEY.pem | DIGEST.bin)\n"
    "       otakit efuse revoke [--flash FILE | --efuse FILE] BLOCK\n"
    "       otakit efuse set-secure-version [--flash FILE | --efuse FILE] N\n"
    "\n"
    "The virtual device's eFuses, kept beside its flash file (FLASH.efuse):\n"
    "  show                the anti-rollback counter (secure_version) and the three\n"
    "                      Secure Boot V2 key digest blocks with their revocation bits\n"
    "  burn-key-digest     burn a key's digest (SHA-256 of its public part, as `otakit key\n"
    "                      digest` prints it) into the first empty block: a bootloader\n"
    "                      built with CONFIG_SECURE_BOOT_V2_ENABLED boots only apps signed\n"
    "                      by a key whose digest is burned and not revoked\n"
    "  revoke              set the revocation bit of key block BLOCK (0, 1 or 2)\n"
    "  set-secure-version  raise the anti-rollback counter to N (it never goes down)\n"
    "\n"
    "  --flash FILE   the device's flash file (default build/flash.bin): eFuses in FILE.efuse\n"
    "  --efuse FILE   the eFuse file itself\n"
    "  --keyfile KEY  a Secure Boot V2 key (PEM, private or public)\n"
    "  --json         show: one JSON object {efuse, secure_version, key_blocks: [{block,\n"
    "                 digest (hex or null), revoked}]}\n"
    "\n"
    "exit codes: 0 done, 1 refused (digest already burned, no empty block, N below the\n"
    "counter) or the file cannot be written, 2 bad usage or input\n";

enum { OPT_FLASH = 256, OPT_EFUSE, OPT_KEYFILE, OPT_JSON };

struct efuse_args {
    char path[PATH_MAX];
    const char *keyfile;
    bool json;
};

/* Options shared by every verb; positionals are left in argv[optind..]. */
static int parse_args(int argc, char **argv, const char *cmd, struct efuse_args *a)
{
    static const struct option opts[] = {{"flash", required_argument, NULL, OPT_FLASH},
                                         {"efuse", required_argument, NULL, OPT_EFUSE},
                                         {"keyfile", required_argument, NULL, OPT_KEYFILE},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *flash = "build/flash.bin", *efuse = NULL;
    memset(a, 0, sizeof(*a));
    tool_getopt_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(USAGE, stdout);
            return EXIT_OK + 100; /* help printed */
        case OPT_FLASH:
            flash = optarg;
            break;
        case OPT_EFUSE:
            efuse = optarg;
            break;
        case OPT_KEYFILE:
            a->keyfile = optarg;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        default:
            return tool_getopt_error(cmd, c, argv);
        }
    }
    if (efuse != NULL) {
        if (strlen(efuse) >= sizeof(a->path)) {
            tool_error("%s: --efuse path too long", cmd);
            return EXIT_USAGE;
        }
        strcpy(a->path, efuse);
    } else if (otakit_efuse_path(flash, a->path, sizeof(a->path)) != 0) {
        tool_error("%s: --flash path too long", cmd);
        return EXIT_USAGE;
    }
    return -1;
}

static int read_state(const char *path, otakit_efuse_state_t *st)
{
    const char *why = NULL;
    otakit_err_t err = otakit_efuse_file_read(path, st, &why);
    if (err != OTAKIT_OK) {
        tool_error("%s: %s", path, why ? why : "cannot be read");
        return EXIT_USAGE;
    }
    return -1;
}

static int run_show(int argc, char **argv)
{
    struct efuse_args a;
    int rc = parse_args(argc, argv, "efuse show", &a);
    if (rc >= 0) {
        return rc == EXIT_OK + 100 ? EXIT_OK : rc;
    }
    if (optind != argc || a.keyfile != NULL) {
        tool_error("efuse show: takes no arguments but --flash/--efuse and --json");
        return EXIT_USAGE;
    }
    otakit_efuse_state_t st;
    if ((rc = read_state(a.path, &st)) >= 0) {
        return rc;
    }
    char hex[2 * OTAKIT_EFUSE_DIGEST_LEN + 1];
    if (a.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "efuse", a.path);
        cJSON_AddNumberToObject(j, "secure_version", st.secure_version);
        cJSON *blocks = cJSON_AddArrayToObject(j, "key_blocks");
        for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "block", b);
            if (st.key_set[b]) {
                tool_hex(hex, st.key_digest[b], OTAKIT_EFUSE_DIGEST_LEN);
                cJSON_AddStringToObject(o, "digest", hex);
            } else {
                cJSON_AddNullToObject(o, "digest");
            }
            cJSON_AddBoolToObject(o, "revoked", st.key_revoked[b]);
            cJSON_AddItemToArray(blocks, o);
        }
        char *s = cJSON_PrintUnformatted(j);
        if (s != NULL) {
            puts(s);
        }
        free(s);
        cJSON_Delete(j);
        return EXIT_OK;
    }
    printf("eFuse file: %s\n", a.path);
    printf("Secure version (anti-rollback counter): %u\n", (unsigned)st.secure_version);
    for (unsigned b = 0; b < OTAKIT_EFUSE_KEY_BLOCKS; b++) {
        if (st.key_set[b]) {
            tool_hex(hex, st.key_digest[b], OTAKIT_EFUSE_DIGEST_LEN);
        }
        printf("Secure Boot key digest %u: %s%s\n", b, st.key_set[b] ? hex : "(empty)",
               st.key_revoked[b] ? " (revoked)" : "");
    }
    return EXIT_OK;
}

/* The digest to burn: from --keyfile, or a 32-byte file. */
static int digest_of(const struct efuse_args *a, int argc, char **argv,
                     uint8_t out[OTAKIT_EFUSE_DIGEST_LEN])
{
    if ((a->keyfile != NULL) == (optind < argc) || argc - optind > 1) {
        tool_error("efuse burn-key-digest: give --keyfile KEY.pem or one DIGEST.bin (see "
                   "'otakit efuse --help')");
        return EXIT_USAGE;
    }
    if (a->keyfile != NULL) {
        otakit_sbv2_key_t *key;
        if (tool_load_sbv2_key(a->keyfile, &key) != 0) {
            return EXIT_USAGE;
        }
        otakit_err_t err = otakit_sbv2_key_digest(key, out);
        otakit_sbv2_key_free(key);
        if (err != OTAKIT_OK) {
            tool_error("%s: cannot compute the key digest", a->keyfile);
            return EXIT_USAGE;
        }
        return -1;
    }
    uint8_t *buf;
    size_t len;
    if (tool_read_file(argv[optind], &buf, &len) != 0) {
        return EXIT_USAGE;
    }
    if (len != OTAKIT_EFUSE_DIGEST_LEN) {
        tool_error("%s: a key digest is 32 bytes, this file has %zu", argv[optind], len);
        free(buf);
        return EXIT_USAGE;
    }
    memcpy(out, buf, len);
    free(buf);
    return -1;
}

static int run_burn(int argc, char **argv)
{
    struct efuse_args a;
    int rc = parse_args(argc, argv, "efuse burn-key-digest", &a);
    if (rc >= 0) {
        return rc == EXIT_OK + 100 ? EXIT_OK : rc;
    }
    uint8_t digest[OTAKIT_EFUSE_DIGEST_LEN];
    otakit_efuse_state_t st;
    if ((rc = digest_of(&a, argc, argv, digest)) >= 0 || (rc = read_state(a.path, &st)) >= 0) {
        return rc;
    }
    unsigned block = 0;
    otakit_err_t err = otakit_efuse_file_burn_key(a.path, digest, &block);
    char hex[2 * OTAKIT_EFUSE_DIGEST_LEN + 1];
    tool_hex(hex, digest, sizeof(digest));
    if (err == OTAKIT_ERR_INVALID_STATE && block < OTAKIT_EFUSE_KEY_BLOCKS) {
        tool_error("%s: key digest %s is already burned in block %u", a.path, hex, block);
        return EXIT_CHECK_FAILED;
    }
    if (err == OTAKIT_ERR_INVALID_STATE) {
        tool_error("%s: all %u key digest blocks are burned", a.path, OTAKIT_EFUSE_KEY_BLOCKS);
        return EXIT_CHECK_FAILED;
    }
    if (err != OTAKIT_OK) {
        tool_error("%s: cannot be written", a.path);
        return EXIT_CHECK_FAILED;
    }
    printf("%s: burned key digest %s into block %u\n", a.path, hex, block);
    return EXIT_OK;
}

static int one_number(int argc, char **argv, const char *cmd, uint32_t *v)
{
    if (argc - optind != 1 || tool_parse_u32(argv[optind], v) != 0) {
        tool_error("%s: needs one number (see 'otakit efuse --help')", cmd);
        return EXIT_USAGE;
    }
    return -1;
}

static int run_revoke(int argc, char **argv)
{
    struct efuse_args a;
    int rc = parse_args(argc, argv, "efuse revoke", &a);
    if (rc >= 0) {
        return rc == EXIT_OK + 100 ? EXIT_OK : rc;
    }
    uint32_t block;
    otakit_efuse_state_t st;
    if ((rc = one_number(argc, argv, "efuse revoke", &block)) >= 0 ||
        (rc = read_state(a.path, &st)) >= 0) {
        return rc;
    }
    if (block >= OTAKIT_EFUSE_KEY_BLOCKS) {
        tool_error("efuse revoke: block %u does not exist (0, 1 or 2)", (unsigned)block);
        return EXIT_USAGE;
    }
    if (otakit_efuse_file_revoke(a.path, block) != OTAKIT_OK) {
        tool_error("%s: cannot be written", a.path);
        return EXIT_CHECK_FAILED;
    }
    printf("%s: key digest block %u revoked\n", a.path, (unsigned)block);
    return EXIT_OK;
}

static int run_secver(int argc, char **argv)
{
    struct efuse_args a;
    int rc = parse_args(argc, argv, "efuse set-secure-version", &a);
    if (rc >= 0) {
        return rc == EXIT_OK + 100 ? EXIT_OK : rc;
    }
    uint32_t v;
    otakit_efuse_state_t st;
    if ((rc = one_number(argc, argv, "efuse set-secure-version", &v)) >= 0 ||
        (rc = read_state(a.path, &st)) >= 0) {
        return rc;
    }
    if (v < st.secure_version) {
        tool_error("%s: the secure version is %u; an eFuse counter cannot go down to %u", a.path,
                   (unsigned)st.secure_version, (unsigned)v);
        return EXIT_CHECK_FAILED;
    }
    if (otakit_efuse_file_raise(a.path, v) != OTAKIT_OK) {
        tool_error("%s: cannot be written", a.path);
        return EXIT_CHECK_FAILED;
    }
    printf("%s: secure version %u\n", a.path, (unsigned)v);
    return EXIT_OK;
}

int cmd_efuse(int argc, char **argv)
{
    static const tool_verb_t VERBS[] = {
        {"show", run_show},
        {"burn-key-digest", run_burn},
        {"revoke", run_revoke},
        {"set-secure-version", run_secver},
    };
    return tool_dispatch("efuse", USAGE, VERBS, sizeof(VERBS) / sizeof(VERBS[0]), argc, argv);
}
