#!/usr/bin/env bash
# CONFIG_BOOTLOADER_APP_ROLLBACK_BOOT_ATTEMPTS on the virtual device. A new hello_world
# in ota_0 (otadata NEW, as the factory app's update leaves it) loses the power during its
# first boot, after the bootloader made it PENDING_VERIFY and before it confirms itself:
#   - ESP-IDF's rule (the build's bootloader, 1 attempt): the next boot marks it ABORTED
#     and the factory app runs: the update is lost;
#   - with 3 attempts (build/bootloader-attempts3.bin): the next boot counts attempt 2 in
#     the entry's seq_label, hello_world runs again and confirms it (VALID).
# In each cut mode (before, after, torn). And an app that never confirms (noconfirm_app)
# is booted three times, then rolled back to the factory app.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images noconfirm_app.bin bootloader-attempts3.bin
t_require_config BOOTLOADER_APP_ROLLBACK_ENABLE
BL3=$T_BUILD/bootloader-attempts3.bin
F=$T/flash.bin
"$OTAKIT" partition show "$T_BUILD/partition-table.bin" --json >"$T/table.json"
OTADATA=$(t_json "$T/table.json" '[p["offset"] for p in j["partitions"] if p["name"] == "otadata"][0]')
OTA0=$(t_json "$T/table.json" '[p["offset"] for p in j["partitions"] if p["name"] == "ota_0"][0]')

# start_flash BOOTLOADER APP: the build's flash with BOOTLOADER, APP in ota_0 and otadata
# copy 0 selecting it as NEW (seq 1), as esp_ota_set_boot_partition writes it.
start_flash() {
  t_flash_make "$F" 4MB 0x1000 "$1" "$OTA0" "$2"
  "$T_PY" - "$T/entry.bin" <<'PY'
import struct, sys, zlib
crc = zlib.crc32(struct.pack('<I', 1), 0xffffffff) & 0xffffffff
open(sys.argv[1], 'wb').write(struct.pack('<I', 1) + b'\xff' * 20 + struct.pack('<II', 0, crc))
PY
  "$OTAKIT" flash write "$F" "$OTADATA" "$T/entry.bin" >/dev/null
}
# label FLASH: the 20 seq_label bytes of otadata copy 0, in hex.
label() {
  "$OTAKIT" flash read "$1" $((OTADATA + 4)) 20 "$T/label.bin" >/dev/null
  od -An -tx1 -v "$T/label.bin" | tr -d ' \n'
}

# Where the first run of hello_world is: in a clean run's flash trace, the operation just
# before the app's first otadata change (its confirmation's erase) is inside that run.
start_flash "$BL3" "$T_BUILD/hello-world.bin"
t_device_until "$F" "Restarting in 9 seconds" "${T_FAST[@]}" --flash-trace "$T/trace"
t_check "clean run with 3 attempts: hello_world runs from ota_0 (rc=$T_RC)" test "$T_RC" -eq 0
od_hex=$(printf '0x%06x' "$OTADATA")
pv=$(awk -v a="$od_hex" '$2 == "w" && $3 == a && $5 == "bootloader" { print $1; exit }' "$T/trace")
confirm=$(awk -v a="$od_hex" '$2 == "e" && $3 == a && $5 == "app" { print $1; exit }' "$T/trace")
t_check "clean run: the bootloader writes PENDING_VERIFY (op $pv), then the app confirms (op $confirm)" \
  test "${pv:-0}" -gt 0 -a "${confirm:-0}" -gt $((${pv:-0} + 1))
cut=$((confirm - 1))
if [[ $T_FAILED -ne 0 ]]; then t_dump_log "$T_LOG"; t_finish; exit 1; fi

for mode in before after torn; do
  # ESP-IDF's rule: the update is rolled back.
  start_flash "$T_BUILD/bootloader.bin" "$T_BUILD/hello-world.bin"
  t_device_until "$F" "ota: Running partition type 0 subtype 0 (offset 0x00010000)" "${T_FAST[@]}" --powercut-at "$cut" --powercut-mode "$mode"
  t_check "1 attempt, cut $mode at op $cut, in the app's first run (rc=$T_RC)" \
    t_has "$T_LOG" "power cut at flash operation $cut ($mode, in the app)"
  t_check "1 attempt, cut $mode: the next boot marks it ABORTED, the factory app runs" t_in_order "$T_LOG" \
    "boot: otadata[0]: app was not confirmed (PENDING_VERIFY): mark ABORTED" \
    "boot: Loaded app from partition at offset 0x10000"
  t_check "1 attempt, cut $mode: otadata copy 0 is ABORTED" \
    test "$(t_otadata "$F" 'j["copies"][0]["state_name"]')" = ABORTED
  t_dump_if_failed "$T_LOG"

  # Three attempts: the cut costs one; hello_world runs again and confirms itself.
  start_flash "$BL3" "$T_BUILD/hello-world.bin"
  t_device_until "$F" "Restarting in 9 seconds" "${T_FAST[@]}" --powercut-at "$cut" --powercut-mode "$mode"
  t_check "3 attempts, cut $mode at op $cut, in the app's first run (rc=$T_RC)" \
    t_has "$T_LOG" "power cut at flash operation $cut ($mode, in the app)"
  t_check "3 attempts, cut $mode: attempt 2 counted, hello_world runs again" t_in_order "$T_LOG" \
    "boot: otadata[0]: app not confirmed yet: boot attempt 2 of 3" \
    "boot: Loaded app from partition at offset $(printf '0x%x' "$OTA0")" \
    "hello_world: Running partition ota_0" \
    "hello_world: New image is running (PENDING_VERIFY): self-test passed, marking it valid"
  t_check "3 attempts, cut $mode: never ABORTED" t_lacks "$T_LOG" "mark ABORTED"
  t_check "3 attempts, cut $mode: copy 0 confirmed (VALID, seq 1) and selects ota_0" \
    test "$(t_otadata "$F" '(j["copies"][0]["state_name"], j["copies"][0]["seq"], j["boot"]["label"])')" = \
    "('VALID', 1, 'ota_0')"
  t_check "3 attempts, cut $mode: one boot counted in seq_label (fe ff ...)" \
    test "$(label "$F")" = "fe$(printf 'ff%.0s' {1..19})"
  t_dump_if_failed "$T_LOG"
done

# An app that never confirms: three boots, then the rollback to the factory app.
start_flash "$BL3" "$T_BUILD/noconfirm_app.bin"
t_device_until "$F" "ota: Running partition type 0 subtype 0 (offset 0x00010000)" "${T_FAST[@]}"
t_check "noconfirm: the run reaches the factory app (rc=$T_RC)" test "$T_RC" -eq 0
t_check "noconfirm: three runs of ota_0, then ABORTED" t_in_order "$T_LOG" \
  "not confirming it" \
  "boot: otadata[0]: app not confirmed yet: boot attempt 2 of 3" \
  "not confirming it" \
  "boot: otadata[0]: app not confirmed yet: boot attempt 3 of 3" \
  "not confirming it" \
  "boot: otadata[0]: app was not confirmed (PENDING_VERIFY): mark ABORTED" \
  "boot: Loaded app from partition at offset 0x10000"
t_check "noconfirm: exactly three runs" test "$(grep -c "not confirming it" "$T_LOG")" -eq 3
t_check "noconfirm: otadata copy 0 is ABORTED" test "$(t_otadata "$F" 'j["copies"][0]["state_name"]')" = ABORTED
t_dump_if_failed "$T_LOG"

t_finish
