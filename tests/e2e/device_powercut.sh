#!/usr/bin/env bash
# Power cuts during boot, counted across the bootloader and the app of one power-on:
# whatever operation the power goes at (before it, after it, or in the middle), the
# device powers on again and an app runs: the old one (factory) or the new one (ota_0).
# The case: a new hello_world in ota_0 (t_otadata NEW) that the bootloader moves to
# PENDING_VERIFY and the app confirms (VALID): both otadata rewrites are cut too.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table

F0=$T/start.bin
t_flash_new "$F0"
t_flash_put_slot "$F0" 0 "$T_BUILD/hello-world.bin"
t_otadata_entry "$F0" 0 1 0
UNTIL="Restarting in 9 seconds"

# A clean run: how many operations, and which of them write.
F=$T/flash.bin
cp "$F0" "$F"
t_device_check "clean run: exit 0" 0 "$F" "$T/clean.log" --until "$UNTIL" --flash-trace "$T/trace"
N=$(t_json_field "$T/clean.log.json" flash_ops_first_power_on)
t_check "clean run: trace has every operation" test "$(wc -l <"$T/trace")" -eq "$N"
t_check "clean run: bootloader marks PENDING_VERIFY (erase + write)" test "$(grep -c ' [ew] 0x00d000 .* bootloader$' "$T/trace")" -ge 2
t_check "clean run: the app confirms (erase + write)" test "$(grep -c ' [ew] 0x00d000 .* app$' "$T/trace")" -ge 2
t_check "clean run: boots ota_0" t_has "$T/clean.log" "Running partition ota_0 at offset 0x110000"

# Every write and erase, the operations next to them, the first and the last, and
# every 16th operation.
ops=$( (
  awk '$2 != "r" { print $1 - 1; print $1; print $1 + 1 }' "$T/trace"
  seq 1 16 "$N"
  echo 1
  echo "$N"
) | awk -v n="$N" '$1 >= 1 && $1 <= n' | sort -n | uniq)
cases=0
bad=0
for op in $ops; do
  for mode in before after torn; do
    cp "$F0" "$F"
    rc=0
    t_device_run "$F" "$T/cut.log" --until "$UNTIL" --powercut-at "$op" --powercut-mode "$mode" || rc=$?
    cases=$((cases + 1))
    why=""
    if [[ $rc -ne 0 ]]; then
      why="exit $rc"
    elif ! t_has "$T/cut.log" "power cut at flash operation $op ($mode,"; then
      why="no cut reported"
    elif [[ $(t_json_field "$T/cut.log.json" power_cuts) -ne 1 ]]; then
      why="power_cuts != 1"
    elif ! grep -Eq "Running partition (factory at offset 0x10000|ota_0 at offset 0x110000)" "$T/cut.log"; then
      why="no app ran after the cut"
    fi
    if [[ -n $why ]]; then
      bad=$((bad + 1))
      echo "FAIL cut at $op ($mode): $why (replay: otakit device run --powercut-at $op --powercut-mode $mode)"
      tail -5 "$T/cut.log"
    fi
  done
done
echo "power-cut cases: $cases over $N operations"
t_check "every cut comes back to a running app ($cases cases)" test $bad -eq 0

# The device reports the cut on its console and powers on with a power-on reset.
cp "$F0" "$F"
t_device_check "cut: the run still reaches the app (exit 0)" 0 "$F" "$T/one.log" --until "$UNTIL" --powercut-at 5 --powercut-mode torn
t_check "cut: console line" t_has "$T/one.log" "--- otakit: power cut at flash operation 5 (torn, in the bootloader); powering on again"
t_check "cut: then a power-on reset" test "$(t_count "$T/one.log" "rst:0x1 (POWERON_RESET)")" -eq 2
t_check "cut: JSON cut_op" test "$(t_json_field "$T/one.log.json" cut_op)" -eq 5

t_finish
