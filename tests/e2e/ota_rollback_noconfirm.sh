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

finish
