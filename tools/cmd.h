/* The otakit command: one entry point per subcommand, each in tools/cmd_<name>.c, and
 * the helpers they share (tools/util.c). main() only dispatches. */
#ifndef OTAKIT_TOOLS_CMD_H
#define OTAKIT_TOOLS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nor.h"
#include "otakit/ptable.h"

/* Exit codes, documented in the README. */
#define EXIT_OK 0
#define EXIT_CHECK_FAILED 1
#define EXIT_USAGE 2

int cmd_partition(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_otadata(int argc, char **argv);
int cmd_flash(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_nvs(int argc, char **argv);
int cmd_efuse(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

/* Print "otakit: " + message + newline to stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Read a whole file into a malloc'd buffer. Returns 0, or prints an error and returns -1. */
int tool_read_file(const char *path, uint8_t **buf, size_t *len);
/* A whole file, read-only: mapped when it is a regular file (no copy), else read into a
 * malloc'd buffer. Returns 0, or prints an error and returns -1; tool_file_release
 * frees it. */
typedef struct {
    const uint8_t *buf;
    size_t len;
    uint8_t *heap; /* the buffer when it was read, NULL when mapped */
} tool_file_t;
int tool_map_file(const char *path, tool_file_t *f);
void tool_file_release(tool_file_t *f);
/* Write a whole file (via a temp file + rename). Returns 0, or prints an error and returns -1. */
int tool_write_file(const char *path, const void *buf, size_t len);
/*
 * Parse an unsigned number as gen_esp32part.py does: decimal, 0x hex, 0o, 0b, optional
 * K/k (x1024) or M/m (x1048576) suffix; "4MB" style (MB/KB) when allow_b. Returns 0 or -1.
 */
int tool_parse_u32(const char *s, uint32_t *out);
/* Flash sizes: "2MB", "4MB", "4M", "0x400000". Returns 0 or -1. */
int tool_parse_flash_size(const char *s, uint32_t *out);
/* true if argv[i] is -h or --help */
bool tool_is_help(const char *arg);

/* One verb of a command ("otakit image VERB ..."): its name and what runs it with the
 * verb as argv[0]. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
} tool_verb_t;
/* Run the verb argv[1] names. No verb: the usage on stderr, EXIT_USAGE; --help: the usage
 * on stdout, EXIT_OK; an unknown verb: an error listing the verbs, EXIT_USAGE. */
int tool_dispatch(const char *cmd, const char *usage, const tool_verb_t *verbs, size_t n, int argc,
                  char **argv);

/*
 * Argument parsing for every subcommand: getopt_long with otakit's conventions. Options
 * may come before, between or after the positional arguments ("--" ends them); after the
 * loop the positionals are argv[optind..argc). -h/--help is option TOOL_OPT_HELP. An
 * unknown option or a missing value prints "otakit: CMD: unknown option '--x' (see
 * 'otakit CMD --help')" and returns '?'. Usage:
 *     static const struct option OPTS[] = {TOOL_OPT_HELP_ENTRY, {"json", no_argument, 0, 'j'},
 * {0}}; tool_getopt_begin(); while ((c = tool_getopt(argc, argv, "flash", OPTS)) != -1) switch (c)
 * { ... }
 */
struct option;
#define TOOL_OPT_HELP 'h'
#define TOOL_OPT_HELP_ENTRY                                                                        \
    {                                                                                              \
        "help", 0, 0, TOOL_OPT_HELP                                                                \
    }
void tool_getopt_begin(void);
int tool_getopt(int argc, char **argv, const char *cmd, const struct option *longopts);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void tool_hex(char *out, const uint8_t *in, size_t n);
/* Print a JSON value and a newline on stdout (indented when pretty, else on one line),
 * then free it. */
struct cJSON;
void tool_print_json(struct cJSON *j, bool pretty);

/* For verbs that call getopt_long themselves (after tool_getopt_begin, with an option
 * string that starts with ':'): print what its '?' or ':' (c) means for cmd ("image
 * verify") and return EXIT_USAGE. tool_getopt does this for the others. */
int tool_getopt_error(const char *cmd, int c, char **argv);

/* Load a Secure Boot V2 key (PEM, private or public). Returns 0, or prints the problem
 * naming the file and returns -1. */
struct otakit_sbv2_key;
int tool_load_sbv2_key(const char *path, struct otakit_sbv2_key **key);
/*
 * A progress bar on stderr for long host-side work, drawn only when stderr is a
 * terminal and the work is at least TOOL_PROGRESS_MIN bytes (pipes, logs and tests see
 * nothing). esptool's wording: "Writing at 0x00010000... (45 %)" plus a bar.
 */
#define TOOL_PROGRESS_MIN (256u * 1024u)
typedef struct {
    bool on;
    const char *verb;
    uint64_t total;
    uint64_t done;
    int shown; /* percent last drawn, -1 before the first */
} tool_progress_t;
void tool_progress_begin(tool_progress_t *p, const char *verb, uint64_t total);
/* n more bytes done; addr is where the work is now (for the "at 0x..." part). */
void tool_progress_add(tool_progress_t *p, uint32_t addr, uint64_t n);
/* Clear the bar's line. */
void tool_progress_end(tool_progress_t *p);

/* Open an existing flash file (flags: OTAKIT_NOR_*). Returns 0, or prints the problem
 * naming the file and returns -1. */
int tool_open_flash(const char *path, unsigned flags, otakit_nor_t **nor);
/* Load and verify the partition table of a flash file at offset. Returns 0, or prints
 * the problem (file, offset, what) and returns -1. */
int tool_load_table(const char *path, const otakit_flash_t *flash, uint32_t offset,
                    otakit_ptable_t *t);

#endif
