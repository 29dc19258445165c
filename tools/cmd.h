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
int cmd_nvs(int argc, char **argv);

/* Print "otakit: " + message + newline to stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Read a whole file into a malloc'd buffer. Returns 0, or prints an error and returns -1. */
int tool_read_file(const char *path, uint8_t **buf, size_t *len);
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
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void tool_hex(char *out, const uint8_t *in, size_t n);

/* Open an existing flash file (flags: OTAKIT_NOR_*). Returns 0, or prints the problem
 * naming the file and returns -1. */
int tool_open_flash(const char *path, unsigned flags, otakit_nor_t **nor);
/* Load and verify the partition table of a flash file at offset. Returns 0, or prints
 * the problem (file, offset, what) and returns -1. */
int tool_load_table(const char *path, const otakit_flash_t *flash, uint32_t offset, otakit_ptable_t *t);

#endif
