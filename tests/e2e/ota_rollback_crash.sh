#!/usr/bin/env bash
# Rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE): the new app crashes at start, before
# confirming itself. The panic resets the chip; the bootloader finds the slot still
# PENDING_VERIFY, marks it ABORTED and starts the previous app (factory), which then
# refuses to download the same broken version again.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images crash_app.bin
t_require_config BOOTLOADER_APP_ROLLBACK_ENABLE

ver=$(t_image_version "$T_BUILD/crash_app.bin")
F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD"
t_ota_update "$F" crash_app.bin "ota: The firmware has been rolled back to the previous version."
t_check "the run reaches the rollback message (rc=$T_RC)" test "$T_RC" -eq 0
t_check "update, crash, rollback to factory, refusal of the invalid version" t_in_order "$T_LOG" \
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
t_check "the crash was a panic reset" test "$(t_json "$T_RESULT" 'j["panics"]')" -ge 1
t_check "the second download does not write anything" \
  test "$(grep -c "esp_ota_begin succeeded" "$T_LOG")" -eq 1
t_check "otadata: ota_0's entry is ABORTED and the factory app boots" \
  test "$(t_otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('ABORTED', 'factory')"
t_dump_if_failed "$T_LOG"

# The next power-on still boots the factory app.
t_ota_update "$F" crash_app.bin "ota: Running partition type 0 subtype 0"
t_check "after a power cycle the factory app boots (rc=$T_RC)" t_has "$T_LOG" "boot: Loaded app from partition at offset 0x10000"
t_check "and the crashing app is not started again" t_lacks "$T_LOG" "crash_app: crash_app"
t_serve_stop ota

# From an OTA slot: 2.0.0 runs from ota_0, the crashing app goes to ota_1, and the
# rollback returns to 2.0.0 in ota_0 (not to factory).
www=$T/www
mkdir -p "$www"
t_image_variant "$T_BUILD/ota_example.bin" 2.0.0 "$T/v2.bin"
cp "$T/v2.bin" "$www/fw.bin"
F=$T/flash2.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/fw.bin
t_device_until "$F" "We will not continue the update." "${T_FAST[@]}"
t_check "2.0.0 runs from ota_0 (rc=$T_RC)" t_has "$T_LOG" "ota: Running partition type 0 subtype 16 (offset 0x00110000)"
cp "$T_BUILD/crash_app.bin" "$www/fw.bin.new"
mv "$www/fw.bin.new" "$www/fw.bin"
t_device_until "$F" "ota: The firmware has been rolled back to the previous version." "${T_FAST[@]}"
t_check "ota_1 crash: back to 2.0.0 in ota_0 (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Writing to partition subtype 17 at offset 0x210000" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x210000" \
  "crash_app: crash_app $ver starting" \
  "boot: Loaded app from partition at offset 0x110000" \
  "ota: Running partition type 0 subtype 16 (offset 0x00110000)" \
  "ota: Last invalid firmware version: $ver" \
  "ota: New version is the same as invalid version."
t_check "ota_1 crash: otadata boots ota_0 again" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
t_check "ota_1 crash: ota_0 still holds 2.0.0" t_slot_holds "$F" 0x110000 "$T/v2.bin"
t_dump_if_failed "$T_LOG"

t_finish
