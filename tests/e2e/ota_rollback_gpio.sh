#!/usr/bin/env bash
# native_ota_example's rollback through its diagnostic GPIO (CONFIG_EXAMPLE_GPIO_DIAGNOSTIC,
# pulled up; low = the new app is not operable), as in ESP-IDF's example: the factory app
# installs a new version of itself; at its first boot (PENDING_VERIFY) the new app runs
# "Diagnostics (5 sec)..." and reads the pin.
#   held low from power-on (`--gpio PIN=0`): it marks itself invalid and reboots, the
#     bootloader starts the factory app, which refuses to fetch the same version again
#   left high (the pull-up): it confirms itself and keeps running from ota_0
#   low at power-on, released before the new app boots (`--gpio PIN=1@1`): confirmed
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images
if ! config_is BOOTLOADER_APP_ROLLBACK_ENABLE || ! config_is EXAMPLE_SELF_TEST; then
  echo "SKIPPED: this build has CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE or CONFIG_EXAMPLE_SELF_TEST off"
  finish
  exit 77 # ctest's SKIP_RETURN_CODE: reported as skipped, not passed
fi
pin=$(sed -n 's/^CONFIG_EXAMPLE_GPIO_DIAGNOSTIC=//p' "$B/config/sdkconfig")
check "the build names a diagnostic GPIO" test -n "$pin"

www=$TMP/www
mkdir -p "$www"
variant "$B/ota_example.bin" 2.0.0 "$www/fw.bin"
serve "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/fw.bin
pending="ota: Running a new app (state PENDING_VERIFY): starting the self-test"

# 1. The pin held low: rollback to the factory app, with ESP-IDF's log lines.
F=$TMP/low.bin
make_flash "$F" 4MB
run_device "$F" "ota: The firmware has been rolled back to the previous version." "${FAST[@]}" \
  --gpio "$pin=0"
check "pin low: the run reaches the rollback (rc=$RC)" test "$RC" -eq 0
check "pin low: diagnostics fail, rollback to factory" in_order "$LOG" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "ota: Running partition type 0 subtype 16 (offset 0x00110000)" \
  "$pending" \
  "ota: Diagnostics (5 sec)..." \
  "ota: Diagnostics: GPIO $pin (CONFIG_EXAMPLE_GPIO_DIAGNOSTIC) is held low" \
  "ota: Diagnostics failed! Start rollback to the previous version ..." \
  "rst:0xc (SW_CPU_RESET)" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Last invalid firmware version: 2.0.0" \
  "ota: New version is the same as invalid version."
check "pin low: not confirmed" lacks "$LOG" "Diagnostics completed successfully"
check "pin low: ota_0's entry is INVALID and the factory app boots" \
  test "$(otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('INVALID', 'factory')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 2. The pin left alone (pulled up): the new app confirms itself and stays.
F=$TMP/high.bin
make_flash "$F" 4MB
run_device "$F" "ota: Current running version is the same as a new" "${FAST[@]}"
check "pin high: the run reaches the confirmed app's update check (rc=$RC)" test "$RC" -eq 0
check "pin high: diagnostics pass, the app is confirmed" in_order "$LOG" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "$pending" \
  "ota: Diagnostics (5 sec)..." \
  "ota: Diagnostics completed successfully! Continuing execution ..." \
  "ota: App marked valid: rollback cancelled" \
  "ota: Running firmware version: 2.0.0"
check "pin high: no rollback" lacks "$LOG" "Diagnostics failed"
check "pin high: ota_0 is VALID and boots" \
  test "$(otadata "$F" '(max(c["state_name"] for c in j["copies"] if c["valid"]), j["boot"]["label"])')" = \
  "('VALID', 'ota_0')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 3. Pressed at power-on, released 1 ms later, long before the new app reads it: confirmed.
F=$TMP/released.bin
make_flash "$F" 4MB
run_device "$F" "ota: Current running version is the same as a new" "${FAST[@]}" \
  --gpio "$pin=0" --gpio "$pin=1@1"
check "released: diagnostics pass (rc=$RC)" in_order "$LOG" \
  "ota: Diagnostics (5 sec)..." \
  "ota: Diagnostics completed successfully! Continuing execution ..."
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
