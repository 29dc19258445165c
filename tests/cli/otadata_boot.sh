#!/usr/bin/env bash
# otakit otadata and otakit boot on a flash file: otatool's switch semantics, the
# bootloader's decision and its otadata writes, dry runs, errors.
set -euo pipefail
OTAKIT=${OTAKIT:?} VEC=${OTAKIT_VECTORS:?}
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
json() { "$T_PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
hex32() { "$OTAKIT" flash read "$1" "$2" 32 "$T/e.bin" >/dev/null && od -An -tx1 -v "$T/e.bin" | tr -d ' \n'; }

F=$T/flash.bin
"$OTAKIT" partition compile "$VEC/partition/partitions_two_ota.csv" "$T/pt.bin"
"$OTAKIT" image create --program /bin/true --project factory --version 1.0 -o "$T/a.bin" >/dev/null
"$OTAKIT" image create --program /bin/false --project app --version 2.0 -o "$T/b.bin" >/dev/null
"$OTAKIT" flash write "$F" 0x8000 "$T/pt.bin" 0x10000 "$T/a.bin" 0x110000 "$T/b.bin" 0x210000 "$T/b.bin" >/dev/null

# Erased otadata: factory.
out=$("$OTAKIT" otadata show "$F" --json)
t_check_eval "erased: no active copy" '[ "$(echo "$out" | json "d[\"active\"]")" = None ]'
t_check_eval "erased: boots factory" '[ "$(echo "$out" | json "d[\"boot\"][\"label\"]")" = factory ]'
t_check_eval "erased: both copies erased" '[ "$(echo "$out" | json "d[\"copies\"][0][\"erased\"] and d[\"copies\"][1][\"erased\"]")" = True ]'

# switch 0 -> copy 0 = seq 1 (state bytes kept: FF), the spec's worked entry.
"$OTAKIT" otadata switch "$F" 0 >/dev/null
t_check_eval "switch 0 writes seq 1 into copy 0" '[ "$(hex32 "$F" 0xd000)" = "01000000ffffffffffffffffffffffffffffffffffffffffffffffff9a984347" ]'
out=$("$OTAKIT" otadata show "$F" --json)
t_check_eval "switch 0: boots ota_0" '[ "$(echo "$out" | json "d[\"boot\"][\"label\"]")" = ota_0 ]'
"$OTAKIT" otadata switch "$F" ota_1 >/dev/null
t_check_eval "switch ota_1 writes seq 2 into copy 1" '[ "$(hex32 "$F" 0xe000)" = "02000000ffffffffffffffffffffffffffffffffffffffffffffffff7437f655" ]'
"$OTAKIT" otadata switch "$F" 0 >/dev/null
t_check_eval "switch 0 again: seq 3 into copy 0" '[ "$("$OTAKIT" otadata show "$F" --json | json "d[\"copies\"][0][\"seq\"]")" = 3 ]'
t_check_eval "boot: ota_0" '[ "$("$OTAKIT" boot "$F" --json | json "d[\"label\"]+d[\"offset\"]")" = ota_00x110000 ]'

# Rollback: copy 1 = seq 4, state NEW (written raw). The boot turns it PENDING_VERIFY,
# the next boot ABORTED, and ota_0 runs again.
printf '\x04\x00\x00\x00' >"$T/new.bin"
head -c 20 /dev/zero | tr '\0' '\377' >>"$T/new.bin"
printf '\x00\x00\x00\x00\xa8\x68\x9d\x70' >>"$T/new.bin"
"$OTAKIT" flash write "$F" 0xe000 "$T/new.bin" >/dev/null
sum=$(sha256sum <"$F")
out=$("$OTAKIT" boot "$F" --rollback --dry-run --json)
t_check_eval "dry run: ota_1 chosen" '[ "$(echo "$out" | json "d[\"label\"]")" = ota_1 ]'
t_check_eval "dry run: would write NEW->PENDING_VERIFY" '[ "$(echo "$out" | json "d[\"writes\"][0][\"what\"]+\"/\"+d[\"writes\"][0][\"state\"]")" = "NEW->PENDING_VERIFY/PENDING_VERIFY" ]'
t_check_eval "dry run changes nothing" '[ "$(sha256sum <"$F")" = "$sum" ]'
out=$("$OTAKIT" boot "$F" --rollback --json)
t_check_eval "boot: ota_1, copy 1 at 0xe000 now PENDING_VERIFY" '[ "$(echo "$out" | json "d[\"label\"]+d[\"writes\"][0][\"address\"]")" = ota_10xe000 ]'
t_check_eval "state PENDING_VERIFY on flash" '[ "$("$OTAKIT" otadata show "$F" --json | json "d[\"copies\"][1][\"state_name\"]")" = PENDING_VERIFY ]'
# --boot-attempts 2: the unconfirmed app gets a second boot, counted by one seq_label bit
# programmed to 0 (no erase); a dry run only reports it; a bad count is refused.
cp "$F" "$T/attempts.bin"
out=$("$OTAKIT" boot "$T/attempts.bin" --rollback --boot-attempts 2 --json)
t_check_eval "boot attempts 2: ota_1 booted again, its boot counted" '[ "$(echo "$out" | json "d[\"label\"]+\"/\"+d[\"writes\"][0][\"what\"]")" = "ota_1/PENDING_VERIFY boot counted" ]'
t_check_eval "boot attempts 2: copy 1's seq_label is fe ff.., the rest unchanged" '[ "$(hex32 "$T/attempts.bin" 0xe000)" = "04000000feffffffffffffffffffffffffffffffffffffff01000000a8689d70" ]'
t_check_eval "boot attempts 2: the third boot aborts it" '[ "$("$OTAKIT" boot "$T/attempts.bin" --rollback --boot-attempts 2 --json | json "d[\"label\"]+\"/\"+d[\"writes\"][0][\"state\"]")" = ota_0/ABORTED ]'
t_check_eval "--boot-attempts 0 is refused" '! "$OTAKIT" boot "$T/attempts.bin" --rollback --boot-attempts 0 2>/dev/null'
out=$("$OTAKIT" boot "$F" --rollback --json)
t_check_eval "next boot: not confirmed -> ABORTED, back to ota_0" '[ "$(echo "$out" | json "d[\"label\"]+\"/\"+d[\"writes\"][0][\"state\"]")" = ota_0/ABORTED ]'
# otatool's switch: validity ignores the state, so copy 1 (seq 4, ABORTED) is the base
# and copy 0 gets seq 4 for ota_1 ...
"$OTAKIT" otadata switch "$F" 1 >/dev/null
t_check_eval "switch 1 over an ABORTED copy: copy 0 = seq 4, ota_1 boots" '[ "$("$OTAKIT" boot "$F" --dry-run --json | json "d[\"label\"]")" = ota_1 ]'
# ... and switching back writes copy 1 but keeps its ABORTED state bytes, so the
# bootloader still ignores it and ota_1 stays selected.
"$OTAKIT" otadata switch "$F" 0 >/dev/null
out=$("$OTAKIT" otadata show "$F" --json)
t_check_eval "switch keeps the state bytes: copy 1 seq 5 ABORTED" '[ "$(echo "$out" | json "str(d[\"copies\"][1][\"seq\"])+d[\"copies\"][1][\"state_name\"]")" = 5ABORTED ]'
t_check_eval "so the bootloader still boots ota_1" '[ "$(echo "$out" | json "d[\"boot\"][\"label\"]")" = ota_1 ]'
"$OTAKIT" otadata switch "$F" 0 >/dev/null
"$OTAKIT" otadata erase "$F" >/dev/null
"$OTAKIT" otadata switch "$F" 0 >/dev/null

# A corrupt image in the selected slot: the bootloader falls back.
printf '\x00' >"$T/z.bin"
"$OTAKIT" flash read "$F" 0x110000 4096 "$T/sec.bin" >/dev/null
t_patch "$T/sec.bin" 48 '\x00'
"$OTAKIT" flash write "$F" 0x110000 "$T/sec.bin" >/dev/null
out=$("$OTAKIT" boot "$F" --dry-run)
t_check_eval "corrupt ota_0: not bootable, falls back" 'echo "$out" | grep -q "OTA app partition slot 0 is not bootable"'
t_check_eval "corrupt ota_0: factory loaded" 'echo "$out" | grep -q "^boot: factory at 0x10000"'

# erase -> factory
"$OTAKIT" otadata erase "$F" >/dev/null
t_check_eval "erase: boots factory" '[ "$("$OTAKIT" boot "$F" --json | json "d[\"label\"]")" = factory ]'

# Errors: exit 2, message names the file and the problem.
set +e
"$OTAKIT" otadata show "$T/missing.bin" 2>"$T/err"; rc=$?
t_check_eval "missing flash: exit 2" '[ $rc = 2 ] && grep -q "missing.bin" "$T/err"'
"$OTAKIT" flash erase "$T/blank.bin" >/dev/null
"$OTAKIT" otadata show "$T/blank.bin" 2>"$T/err"; rc=$?
t_check_eval "no table: exit 2 naming offset 0x8000" '[ $rc = 2 ] && grep -q "0x8000" "$T/err"'
"$OTAKIT" boot "$T/blank.bin" 2>"$T/err" >/dev/null; rc=$?
t_check_eval "boot without table: exit 2" '[ $rc = 2 ] && grep -q "partition table" "$T/err"'
"$OTAKIT" otadata switch "$F" 7 2>"$T/err"; rc=$?
t_check_eval "unknown slot: exit 2" '[ $rc = 2 ] && grep -q "no OTA app partition" "$T/err"'
"$OTAKIT" otadata frob "$F" 2>/dev/null; rc=$?
t_check_eval "unknown subcommand: exit 2" '[ $rc = 2 ]'
"$OTAKIT" boot "$F" --frob 2>/dev/null; rc=$?
t_check_eval "unknown flag: exit 2" '[ $rc = 2 ]'
"$OTAKIT" otadata --help >/dev/null; rc=$?
t_check_eval "otadata --help: exit 0" '[ $rc = 0 ]'
"$OTAKIT" boot --help >/dev/null; rc=$?
t_check_eval "boot --help: exit 0" '[ $rc = 0 ]'
# Nothing bootable: exit 1.
"$OTAKIT" flash erase "$F" 0x10000 0x100000 >/dev/null
"$OTAKIT" flash erase "$F" 0x110000 0x200000 >/dev/null
"$OTAKIT" boot "$F" --dry-run >/dev/null; rc=$?
t_check_eval "nothing bootable: exit 1" '[ $rc = 1 ]'
set -e

t_finish
