#!/usr/bin/env bash
# The factory-reset pin (CONFIG_BOOTLOADER_FACTORY_RESET): after an update has put
# hello_world in ota_0, holding the pin at power-on makes the bootloader erase otadata
# (and the nvs partition) and start the factory app. When this build's bootloader lacks
# the option, the test builds one that has it: the factory app's ESP-IDF project with that
# option, reusing this build's host parts (OTAKIT_HOST_BUILD), as otakit's build does.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

boot=$B/bootloader.bin
if ! config_is BOOTLOADER_FACTORY_RESET; then
  sed -e 's/^# CONFIG_BOOTLOADER_FACTORY_RESET is not set$/CONFIG_BOOTLOADER_FACTORY_RESET=y/' \
    "$B/config/sdkconfig" >"$TMP/sdkconfig"
  grep -qx 'CONFIG_BOOTLOADER_FACTORY_RESET=y' "$TMP/sdkconfig"
  echo "building a bootloader with CONFIG_BOOTLOADER_FACTORY_RESET=y in $TMP/build"
  if ! { export IDF_PATH=$OTAKIT_SRC &&
    cmake -S "$OTAKIT_SRC/examples/system/ota/native_ota_example" -B "$TMP/build" \
      -DOTAKIT_HOST_BUILD="$B" -DSDKCONFIG="$TMP/sdkconfig" &&
    cmake --build "$TMP/build" --target bootloader_image -j "$(nproc)"; } >"$TMP/build.log" 2>&1; then
    dump_log "$TMP/build.log"
    not_ok "build a factory-reset bootloader"
    finish
  fi
  boot=$TMP/build/bootloader/bootloader.bin
fi
check "the bootloader has the factory-reset option" test -f "$boot"

F=$TMP/flash.bin
printf 'NVS-MARKER' >"$TMP/marker.bin"
make_flash "$F" 4MB 0x1000 "$boot" 0x9000 "$TMP/marker.bin"
serve "$B"
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin
run_device "$F" "Restarting in" "${FAST[@]}"
check "hello_world runs from ota_0 after the update (rc=$RC)" \
  has "$LOG" "hello_world: Running partition ota_0 at offset 0x110000"
check "otadata boots ota_0" test "$(otadata "$F" 'j["boot"]["label"]')" = ota_0
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# The factory app initialises NVS as soon as it runs, so the bootloader's erase of the nvs
# partition is read from the flash trace (the bootloader's operations), not the flash.
run_device "$F" "ota: Running partition type 0 subtype 0" "${FAST[@]}" --hold-pin factory \
  --flash-trace "$TMP/trace.txt"
check "with the pin held the factory app starts (rc=$RC)" in_order "$LOG" \
  "boot: Detect a condition of the factory reset" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Starting OTA example..." \
  "ota: Running partition type 0 subtype 0 (offset 0x00010000)"
check "hello_world was not started" lacks "$LOG" "Hello world!"
check "otadata is erased (both copies)" \
  test "$(otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"])')" = "(True, True)"
check "the bootloader erases the nvs partition (0x9000, 16 KiB)" \
  grep -Eq '^[0-9]+ e 0x0*9000 16384 bootloader$' "$TMP/trace.txt"
check "ota_0 still holds hello_world (a factory reset erases no app)" slot_holds "$F" 0x110000 "$B/hello-world.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
