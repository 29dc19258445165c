#!/usr/bin/env bash
# Two updates in a row with new versions: factory -> ota_0 (2.0.0), then ota_0 -> ota_1
# (3.0.0). The updated app is the OTA example itself, so each new app confirms itself
# (rollback on), looks for an update, and stops at "the same version".
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

www=$TMP/www
mkdir -p "$www"
variant "$B/ota_example.bin" 2.0.0 "$TMP/v2.bin"
variant "$B/ota_example.bin" 3.0.0 "$TMP/v3.bin"
cp "$TMP/v2.bin" "$www/fw.bin"
F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/fw.bin
SAME="ota: Current running version is the same as a new. We will not continue the update."

# factory -> ota_0
run_device "$F" "$SAME" "${FAST[@]}"
check "update 1: the run reaches the same-version stop (rc=$RC)" test "$RC" -eq 0
check "update 1: factory writes 2.0.0 to ota_0, which boots and finds nothing newer" in_order "$LOG" \
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
if config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
  check "update 1: the new app ran its self-test and confirmed itself" in_order "$LOG" \
    "ota: Running partition type 0 subtype 16" \
    "ota: Diagnostics completed successfully! Continuing execution ..." \
    "ota: App marked valid: rollback cancelled"
  check "update 1: ota_0 is VALID" test "$(otadata "$F" 'j["copies"][j["active"]]["state_name"]')" = VALID
fi
check "update 1: otadata boots ota_0" test "$(otadata "$F" 'j["boot"]["label"]')" = ota_0
check "update 1: ota_0 holds 2.0.0" slot_holds "$F" 0x110000 "$TMP/v2.bin"
seq1=$(otadata "$F" 'j["copies"][j["active"]]["seq"]')
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# A new release on the server; the next power-on updates ota_0 -> ota_1.
cp "$TMP/v3.bin" "$www/fw.bin.new"
mv "$www/fw.bin.new" "$www/fw.bin"
run_device "$F" "$SAME" "${FAST[@]}"
check "update 2: the run reaches the same-version stop (rc=$RC)" test "$RC" -eq 0
check "update 2: 2.0.0 in ota_0 writes 3.0.0 to ota_1, which boots" in_order "$LOG" \
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
check "update 2: otadata boots ota_1" test "$(otadata "$F" 'j["boot"]["label"]')" = ota_1
check "update 2: the new entry's seq is the next one" \
  test "$(otadata "$F" 'j["copies"][j["active"]]["seq"]')" -eq $((seq1 + 1))
check "update 2: ota_1 holds 3.0.0" slot_holds "$F" 0x210000 "$TMP/v3.bin"
check "update 2: ota_0 still holds 2.0.0" slot_holds "$F" 0x110000 "$TMP/v2.bin"
check "no error line" lacks "$LOG" "E ("
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
