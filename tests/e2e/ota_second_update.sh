#!/usr/bin/env bash
# Two updates in a row with new versions: factory -> ota_0 (2.0.0), then ota_0 -> ota_1
# (3.0.0). The updated app is the OTA example itself, so each new app confirms itself
# (rollback on), looks for an update, and stops at "the same version".
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

www=$T/www
mkdir -p "$www"
t_image_variant "$T_BUILD/ota_example.bin" 2.0.0 "$T/v2.bin"
t_image_variant "$T_BUILD/ota_example.bin" 3.0.0 "$T/v3.bin"
cp "$T/v2.bin" "$www/fw.bin"
F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/fw.bin
SAME="ota: Current running version is the same as a new. We will not continue the update."

# factory -> ota_0
t_device_until "$F" "$SAME" "${T_FAST[@]}"
t_check "update 1: the run reaches the same-version stop (rc=$T_RC)" test "$T_RC" -eq 0
t_check "update 1: factory writes 2.0.0 to ota_0, which boots and finds nothing newer" t_in_order "$T_LOG" \
  "ota: Running partition type 0 subtype 0 (offset 0x00010000)" \
  "ota: Writing to partition subtype 16 at offset 0x110000" \
  "ota: New firmware version: 2.0.0" \
  "ota: Running firmware version: 1.0.0-ota" \
  "ota: esp_ota_begin succeeded" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "app_init: App version:      2.0.0" \
  "ota: Running partition type 0 subtype 16 (offset 0x00110000)" \
  "ota: New firmware version: 2.0.0" \
  "ota: Running firmware version: 2.0.0" \
  "$SAME"
if t_config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
  t_check "update 1: the new app ran its self-test and confirmed itself" t_in_order "$T_LOG" \
    "ota: Running partition type 0 subtype 16" \
    "ota: Diagnostics completed successfully! Continuing execution ..." \
    "ota: App marked valid: rollback cancelled"
  t_check "update 1: ota_0 is VALID" test "$(t_otadata "$F" 'j["copies"][j["active"]]["state_name"]')" = VALID
fi
t_check "update 1: otadata boots ota_0" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
t_check "update 1: ota_0 holds 2.0.0" t_slot_holds "$F" 0x110000 "$T/v2.bin"
seq1=$(t_otadata "$F" 'j["copies"][j["active"]]["seq"]')
t_dump_if_failed "$T_LOG"

# A new release on the server; the next power-on updates ota_0 -> ota_1.
cp "$T/v3.bin" "$www/fw.bin.new"
mv "$www/fw.bin.new" "$www/fw.bin"
t_device_until "$F" "$SAME" "${T_FAST[@]}"
t_check "update 2: the run reaches the same-version stop (rc=$T_RC)" test "$T_RC" -eq 0
t_check "update 2: 2.0.0 in ota_0 writes 3.0.0 to ota_1, which boots" t_in_order "$T_LOG" \
  "ota: Running partition type 0 subtype 16 (offset 0x00110000)" \
  "ota: Writing to partition subtype 17 at offset 0x210000" \
  "ota: New firmware version: 3.0.0" \
  "ota: Running firmware version: 2.0.0" \
  "ota: esp_ota_begin succeeded" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x210000" \
  "ota: Running partition type 0 subtype 17 (offset 0x00210000)" \
  "ota: Running firmware version: 3.0.0" \
  "$SAME"
t_check "update 2: otadata boots ota_1" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_1
t_check "update 2: the new entry's seq is the next one" \
  test "$(t_otadata "$F" 'j["copies"][j["active"]]["seq"]')" -eq $((seq1 + 1))
t_check "update 2: ota_1 holds 3.0.0" t_slot_holds "$F" 0x210000 "$T/v3.bin"
t_check "update 2: ota_0 still holds 2.0.0" t_slot_holds "$F" 0x110000 "$T/v2.bin"
t_check "no error line" t_lacks "$T_LOG" "E ("
t_dump_if_failed "$T_LOG"

t_finish
