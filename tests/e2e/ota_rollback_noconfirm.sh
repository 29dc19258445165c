#!/usr/bin/env bash
# Rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE): the new app runs but never confirms
# itself and restarts. The next boot finds it still PENDING_VERIFY, marks it ABORTED and
# starts the previous app (factory).
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images noconfirm_app.bin
if ! config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
  echo "SKIPPED: this build has CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE off"
  finish
  exit 77 # ctest's SKIP_RETURN_CODE: reported as skipped, not passed
fi

ver=$("$OTAKIT" image info "$B/noconfirm_app.bin" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["app_desc"]["version"])')
F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$B"
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/noconfirm_app.bin \
  run_device "$F" "ota: The firmware has been rolled back to the previous version." "${FAST[@]}"
check "the run reaches the rollback message (rc=$RC)" test "$RC" -eq 0
check "update, unconfirmed run, rollback on the next boot" in_order "$LOG" \
  "ota: New firmware version: $ver" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "noconfirm_app: noconfirm_app $ver running from ota_0, state 0x1; not confirming it" \
  "rst:0xc (SW_CPU_RESET)" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Last invalid firmware version: $ver" \
  "ota: New version is the same as invalid version."
check "no panic: the app restarted on its own" test "$(json "$RESULT" 'j["panics"]')" -eq 0
check "otadata: ota_0's entry is ABORTED and the factory app boots" \
  test "$(otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('ABORTED', 'factory')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
stop_server

# The example's own self-test fails (the diagnostic pin reads 0): the new app marks
# itself invalid and restarts, and the bootloader rolls back at once.
www=$TMP/www
mkdir -p "$www"
variant "$B/ota_example.bin" 2.0.0 "$www/fw.bin"
F=$TMP/flash2.bin
make_flash "$F" 4MB
serve "$www"
OTAKIT_EXAMPLE_DIAG_LEVEL=0 OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/fw.bin \
  run_device "$F" "ota: The firmware has been rolled back to the previous version." "${FAST[@]}"
check "failed self-test: rolled back (rc=$RC)" in_order "$LOG" \
  "ota: Prepare to restart system!" \
  "ota: Running partition type 0 subtype 16 (offset 0x00110000)" \
  "ota: Running a new app (state PENDING_VERIFY): starting the self-test" \
  "ota: Diagnostics: the diagnostic pin reads 0" \
  "ota: Diagnostics failed! Start rollback to the previous version ..." \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Last invalid firmware version: 2.0.0" \
  "ota: New version is the same as invalid version."
check "failed self-test: ota_0's entry is INVALID and the factory app boots" \
  test "$(otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('INVALID', 'factory')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
