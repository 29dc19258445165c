#!/usr/bin/env bash
# native_ota_example's rollback through its diagnostic GPIO (CONFIG_EXAMPLE_GPIO_DIAGNOSTIC,
# pulled up; low = the new app is not operable), as in ESP-IDF's example: the factory app
# installs a new version of itself; at its first boot (PENDING_VERIFY) the new app runs
# "Diagnostics (5 sec)..." and reads the pin.
#   held low from power-on (`--gpio PIN=0`): it marks itself invalid and reboots, the
#     bootloader starts the factory app, which refuses to fetch the same version again
#   left high (the pull-up): it confirms itself and keeps running from ota_0
#   low at power-on, released before the new app boots (`--gpio PIN=1@1`): confirmed
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images
t_require_config BOOTLOADER_APP_ROLLBACK_ENABLE EXAMPLE_SELF_TEST
pin=$(t_config_value EXAMPLE_GPIO_DIAGNOSTIC)
t_check "the build names a diagnostic GPIO" test -n "$pin"

www=$T/www
mkdir -p "$www"
t_image_variant "$T_BUILD/ota_example.bin" 2.0.0 "$www/fw.bin"
t_pyserve_start ota "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/fw.bin
pending="ota: Running a new app (state PENDING_VERIFY): starting the self-test"

# 1. The pin held low: rollback to the factory app, with ESP-IDF's log lines.
F=$T/low.bin
t_flash_make "$F" 4MB
t_device_until "$F" "ota: The firmware has been rolled back to the previous version." "${T_FAST[@]}" \
  --gpio "$pin=0"
t_check "pin low: the run reaches the rollback (rc=$T_RC)" test "$T_RC" -eq 0
t_check "pin low: diagnostics fail, rollback to factory" t_in_order "$T_LOG" \
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
t_check "pin low: not confirmed" t_lacks "$T_LOG" "Diagnostics completed successfully"
t_check "pin low: ota_0's entry is INVALID and the factory app boots" \
  test "$(t_otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('INVALID', 'factory')"
t_dump_if_failed "$T_LOG"

# 2. The pin left alone (pulled up): the new app confirms itself and stays.
F=$T/high.bin
t_flash_make "$F" 4MB
t_device_until "$F" "ota: Current running version is the same as a new" "${T_FAST[@]}"
t_check "pin high: the run reaches the confirmed app's update check (rc=$T_RC)" test "$T_RC" -eq 0
t_check "pin high: diagnostics pass, the app is confirmed" t_in_order "$T_LOG" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "$pending" \
  "ota: Diagnostics (5 sec)..." \
  "ota: Diagnostics completed successfully! Continuing execution ..." \
  "ota: App marked valid: rollback cancelled" \
  "ota: Running firmware version: 2.0.0"
t_check "pin high: no rollback" t_lacks "$T_LOG" "Diagnostics failed"
t_check "pin high: ota_0 is VALID and boots" \
  test "$(t_otadata "$F" '(max(c["state_name"] for c in j["copies"] if c["valid"]), j["boot"]["label"])')" = \
  "('VALID', 'ota_0')"
t_dump_if_failed "$T_LOG"

# 3. Pressed at power-on, released 1 ms later, long before the new app reads it: confirmed.
F=$T/released.bin
t_flash_make "$F" 4MB
t_device_until "$F" "ota: Current running version is the same as a new" "${T_FAST[@]}" \
  --gpio "$pin=0" --gpio "$pin=1@1"
t_check "released: diagnostics pass (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Diagnostics (5 sec)..." \
  "ota: Diagnostics completed successfully! Continuing execution ..."
t_dump_if_failed "$T_LOG"

t_finish
