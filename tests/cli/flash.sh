#!/usr/bin/env bash
# otakit flash: write/read round trip, erase range and chip, refusals that leave the
# file unchanged, exit codes, --help and --json.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"

# json_fields FILE EXPR...: one line with d<EXPR> for each EXPR (one python start per JSON)
json_fields() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(' '.join(str(eval('d' + e)) for e in sys.argv[2:]))" "$@"
}
sum() { sha256sum "$1" | cut -d' ' -f1; }

head -c 5000 /dev/urandom >a.bin
head -c 300 /dev/urandom >b.bin
head -c 70000 /dev/urandom >c.bin

# --help
t_expect_exit 0 "$OTAKIT" flash --help
grep -q "usage: otakit flash" out.txt && t_ok || t_fail "--help prints usage"
t_expect_exit 0 "$OTAKIT" flash write --help
t_expect_exit 2 "$OTAKIT" flash
t_expect_exit 2 "$OTAKIT" flash frobnicate f.bin
t_expect_exit 2 "$OTAKIT" flash info f.bin --bogus

# missing file: read and info refuse, create nothing
t_expect_exit 2 "$OTAKIT" flash read nope.bin 0 16 out.bin
grep -q "nope.bin" err.txt && t_ok || t_fail "missing file named in the error"
t_expect_exit 2 "$OTAKIT" flash info nope.bin
[ ! -e nope.bin ] && t_ok || t_fail "info created the file"

# write creates a 4 MB flash of 0xFF; round trip through read
t_expect_exit 0 "$OTAKIT" flash write f.bin 0x1000 a.bin 0x2390 b.bin 64K c.bin
[ "$(stat -c %s f.bin)" = 4194304 ] && t_ok || t_fail "default size 4 MB"
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x1000 5000 a.out
cmp -s a.bin a.out && t_ok || t_fail "a.bin round trip"
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x2390 300 b.out
cmp -s b.bin b.out && t_ok || t_fail "b.bin round trip (shares a sector with a.bin)"
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x10000 70000 c.out
cmp -s c.bin c.out && t_ok || t_fail "c.bin round trip"
# bytes between the files are 0xFF
"$OTAKIT" flash read f.bin 0x0 0x1000 - | cmp -s - <(head -c 4096 /dev/zero | tr '\0' '\377') &&
    t_ok || t_fail "sector 0 stays blank"

# write erases the touched sectors first (esptool semantics): new data replaces old
head -c 4096 /dev/zero >z.bin
t_expect_exit 0 "$OTAKIT" flash write f.bin 0x1000 z.bin
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x1000 4096 z.out
cmp -s z.bin z.out && t_ok || t_fail "zeros written"
t_expect_exit 0 "$OTAKIT" flash write f.bin 0x1000 a.bin
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x1000 5000 a.out
cmp -s a.bin a.out && t_ok || t_fail "rewrite over zeros (needs the erase)"

# info
t_expect_exit 0 "$OTAKIT" flash info f.bin --json
# used: 0x1000-0x3000 (a, b) and 0x10000-0x22000 (c: 70000 bytes -> 18 sectors)
got=$(json_fields out.txt '["size"]' '["sectors"]' '["used_sectors"]' '["blank_sectors"]' \
    '["used"][0]["offset"]' '["used"][0]["size"]' '["used"][1]["offset"]' '["used"][1]["size"]')
[ "$got" = "4194304 1024 20 1004 4096 8192 65536 73728" ] && t_ok || t_fail "info --json: $got"
t_expect_exit 0 "$OTAKIT" flash info f.bin
grep -q "1024 sectors" out.txt && t_ok || t_fail "info text"

# refusals leave the file unchanged
before=$(sum f.bin)
t_expect_exit 2 "$OTAKIT" flash write f.bin 0x3ff000 a.bin
grep -q "a.bin: offset 0x3ff000" err.txt && t_ok || t_fail "past-the-end error names file and address"
t_expect_exit 2 "$OTAKIT" flash write f.bin 0x1000 a.bin 0x2000 b.bin
grep -q "b.bin: offset 0x2000" err.txt && t_ok || t_fail "overlap error names file and address"
t_expect_exit 2 "$OTAKIT" flash write f.bin 0x100000 b.bin 0x3fffff b.bin
t_expect_exit 2 "$OTAKIT" flash write f.bin 0x1000 missing.bin
t_expect_exit 2 "$OTAKIT" flash write f.bin zz a.bin
t_expect_exit 2 "$OTAKIT" flash write f.bin 0x1000
t_expect_exit 2 "$OTAKIT" flash write f.bin 0x1000 a.bin --size 8MB
t_expect_exit 2 "$OTAKIT" flash erase f.bin 0x1001 0x1000
grep -q "offset 0x1001" err.txt && t_ok || t_fail "misaligned erase names the offset"
t_expect_exit 2 "$OTAKIT" flash erase f.bin 0x1000 0x800
t_expect_exit 2 "$OTAKIT" flash erase f.bin 0x3ff000 0x2000
t_expect_exit 2 "$OTAKIT" flash read f.bin 0x3ffff0 0x20 r.out
[ "$(sum f.bin)" = "$before" ] && t_ok || t_fail "refused commands changed the flash"
[ ! -e r.out ] && t_ok || t_fail "refused read wrote its output"

# past the end of a new flash: refused before it is created
t_expect_exit 2 "$OTAKIT" flash write g.bin 0x1ff000 a.bin --size 2MB
[ ! -e g.bin ] && t_ok || t_fail "refused write created the flash"
t_expect_exit 0 "$OTAKIT" flash write g.bin 0x1fe000 a.bin --size 2MB --json
[ "$(stat -c %s g.bin)" = 2097152 ] && t_ok || t_fail "--size 2MB"
got=$(json_fields out.txt '["created"]' '["bytes_written"]' '["sectors_erased"]' \
    '["files"][0]["offset"]' '["files"][0]["size"]')
[ "$got" = "True 5000 2 2088960 5000" ] && t_ok || t_fail "write --json: $got"

# erase a range
t_expect_exit 0 "$OTAKIT" flash erase f.bin 0x10000 0x10000 --json
got=$(json_fields out.txt '["sectors_erased"]' '["blocks_erased"]' '["bytes_erased"]' '["created"]')
[ "$got" = "16 1 65536 False" ] && t_ok || t_fail "erase --json: $got"
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x10000 0x10000 e.out
cmp -s e.out <(head -c 65536 /dev/zero | tr '\0' '\377') && t_ok || t_fail "range erased"
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x20000 4464 c2.out
cmp -s c2.out <(tail -c 4464 c.bin) && t_ok || t_fail "erase stopped at the range end"
t_expect_exit 0 "$OTAKIT" flash read f.bin 0x1000 5000 a.out
cmp -s a.bin a.out && t_ok || t_fail "erase left data before the range"

# erase the chip
t_expect_exit 0 "$OTAKIT" flash erase f.bin
t_expect_exit 0 "$OTAKIT" flash info f.bin --json
[ "$(json_fields out.txt '["used_sectors"]' '["used"]')" = "0 []" ] && t_ok || t_fail "chip erased"
cmp -s f.bin <(head -c 4194304 /dev/zero | tr '\0' '\377') && t_ok || t_fail "chip is all 0xFF"

# erase creates a missing file, with --size
t_expect_exit 0 "$OTAKIT" flash erase h.bin --size 0x100000
[ "$(stat -c %s h.bin)" = 1048576 ] && t_ok || t_fail "erase --size creates"
t_expect_exit 2 "$OTAKIT" flash erase h2.bin --size 3000
[ ! -e h2.bin ] && t_ok || t_fail "bad --size creates nothing"

# read --json
t_expect_exit 0 "$OTAKIT" flash read g.bin 0x1fe000 16 r.out --json
[ "$(json_fields out.txt '["offset"]' '["size"]' '["out"]')" = "2088960 16 r.out" ] && t_ok || t_fail "read --json"
t_expect_exit 2 "$OTAKIT" flash read g.bin 0 16 - --json

# progress: a big write shows esptool's progress on a terminal only
head -c 1000000 /dev/urandom >big.bin
t_expect_exit 0 "$OTAKIT" flash write p1.bin 0x10000 big.bin
[ ! -s err.txt ] && t_ok || t_fail "progress printed to a non-terminal stderr: $(head -c 200 err.txt)"
if command -v script >/dev/null; then
    rm -f p2.bin
    script -qec "'$OTAKIT' flash write p2.bin 0x10000 big.bin" /dev/null >tty.txt 2>&1 && t_ok || t_fail "write on a pty"
    grep -q "Erasing at 0x00010000\.\.\. (  [0-9] %)" tty.txt && t_ok || t_fail "erase progress on a tty: $(head -c 300 tty.txt)"
    grep -q "Writing at 0x00100000\.\.\. (100 %) \[#*\]" tty.txt && t_ok || t_fail "write progress to 100 % on a tty"
    cmp -s p1.bin p2.bin && t_ok || t_fail "the chunked write on a tty wrote other bytes"
else
    echo "script(1) missing: progress on a terminal not checked"
fi

t_finish
