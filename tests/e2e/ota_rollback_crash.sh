#!/usr/bin/env bash
# Rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE): the new app crashes at start, before
# confirming itself. The panic resets the chip; the bootloader finds the slot still
# PENDING_VERIFY, marks it ABORTED and starts the previous app (factory), which then
# refuses to download the same broken version again.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images crash_app.bin
if ! config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
  echo "SKIPPED: this build has CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE off"
  finish
  exit 77 # ctest's SKIP_RETURN_CODE: reported as skipped, not passed
fi

ver=$("$OTAKIT" image info "$B/crash_app.bin" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["app_desc"]["version"])')
F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$B"
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/crash_app.bin \
  run_device "$F" "ota: The firmware has been rolled back to the previous version." "${FAST[@]}"
check "the run reaches the rollback message (rc=$RC)" test "$RC" -eq 0
check "update, crash, rollback to factory, refusal of the invalid version" in_order "$LOG" \
  "ota: New firmware version: $ver" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "crash_app: crash_app $ver starting" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Running partition type 0 subtype 0 (offset 0x00010000)" \
  "ota: Last invalid firmware version: $ver" \
  "ota: New version is the same as invalid version." \
  "ota: Previously, there was an attempt to launch the firmware with $ver version, but it failed." \
  "ota: The firmware has been rolled back to the previous version."
check "the crash was a panic reset" test "$(json "$RESULT" 'j["panics"]')" -ge 1
check "the second download does not write anything" \
  test "$(grep -c "esp_ota_begin succeeded" "$LOG")" -eq 1
check "otadata: ota_0's entry is ABORTED and the factory app boots" \
  test "$(otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('ABORTED', 'factory')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# The next power-on still boots the factory app.
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/crash_app.bin \
  run_device "$F" "ota: Running partition type 0 subtype 0" "${FAST[@]}"
check "after a power cycle the factory app boots (rc=$RC)" has "$LOG" "boot: Loaded app from partition at offset 0x10000"
check "and the crashing app is not started again" lacks "$LOG" "crash_app: crash_app"
stop_server

# From an OTA slot: 2.0.0 runs from ota_0, the crashing app goes to ota_1, and the
# rollback returns to 2.0.0 in ota_0 (not to factory).
www=$TMP/www
mkdir -p "$www"
variant "$B/ota_example.bin" 2.0.0 "$TMP/v2.bin"
cp "$TMP/v2.bin" "$www/fw.bin"
F=$TMP/flash2.bin
make_flash "$F" 4MB
serve "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/fw.bin
run_device "$F" "We will not continue the update." "${FAST[@]}"
check "2.0.0 runs from ota_0 (rc=$RC)" has "$LOG" "ota: Running partition type 0 subtype 16 (offset 0x00110000)"
cp "$B/crash_app.bin" "$www/fw.bin.new"
mv "$www/fw.bin.new" "$www/fw.bin"
run_device "$F" "ota: The firmware has been rolled back to the previous version." "${FAST[@]}"
check "ota_1 crash: back to 2.0.0 in ota_0 (rc=$RC)" in_order "$LOG" \
  "ota: Writing to partition subtype 17 at offset 0x210000" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x210000" \
  "crash_app: crash_app $ver starting" \
  "boot: Loaded app from partition at offset 0x110000" \
  "ota: Running partition type 0 subtype 16 (offset 0x00110000)" \
  "ota: Last invalid firmware version: $ver" \
  "ota: New version is the same as invalid version."
check "ota_1 crash: otadata boots ota_0 again" test "$(otadata "$F" 'j["boot"]["label"]')" = ota_0
check "ota_1 crash: ota_0 still holds 2.0.0" slot_holds "$F" 0x110000 "$TMP/v2.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
