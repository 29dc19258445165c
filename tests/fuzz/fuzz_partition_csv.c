/* Fuzz target: the partition CSV parser (gen_esp32part.py's rules), the binary it
 * compiles to, and the CSV writer on what it produced. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "partition_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otakit_partition_csv_options_t opt;
    otakit_partition_csv_options_init(&opt);
    otakit_partition_csv_t t;
    otakit_partition_csv_error_t err;
    if (otakit_partition_csv_parse((const char *)data, size, &opt, &t, &err) != 0) {
        if (err.msg[0] == '\0') {
            __builtin_trap(); /* every failure says why */
        }
        return 0;
    }
    static uint8_t bin[OTAKIT_PTABLE_MAX_LEN];
    if (otakit_partition_csv_to_binary(&t, true, bin, &err) == 0) {
        /* A verified table compiles to something the bootloader's parse accepts. */
        static otakit_ptable_t pt;
        if (otakit_ptable_parse(&pt, bin, sizeof(bin), 0, true, NULL) != OTAKIT_OK ||
            pt.count != t.count) {
            __builtin_trap();
        }
        char *text = otakit_partition_csv_format(pt.parts, pt.count);
        free(text);
    }
    otakit_partition_csv_free(&t);
    return 0;
}
