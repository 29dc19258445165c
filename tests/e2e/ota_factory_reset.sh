#!/usr/bin/env bash
# The factory-reset pin (CONFIG_BOOTLOADER_FACTORY_RESET): after an update has put
# hello_world in ota_0, holding the pin at power-on makes the bootloader erase otadata
# (and the nvs partition) and start the factory app. When this build's bootloader lacks
# the option, the test builds one that has it: the factory app's ESP-IDF project with that
# option, reusing this build's host parts (OTAKIT_HOST_BUILD), as otakit's build does.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

boot=$T_BUILD/bootloader.bin
if ! t_config_is BOOTLOADER_FACTORY_RESET; then
  sed -e 's/^# CONFIG_BOOTLOADER_FACTORY_RESET is not set$/CONFIG_BOOTLOADER_FACTORY_RESET=y/' \
    "$T_BUILD/config/sdkconfig" >"$T/sdkconfig"
  grep -qx 'CONFIG_BOOTLOADER_FACTORY_RESET=y' "$T/sdkconfig"
  echo "building a bootloader with CONFIG_BOOTLOADER_FACTORY_RESET=y in $T/build"
  if ! { export IDF_PATH=$OTAKIT_SRC &&
    cmake -S "$OTAKIT_SRC/examples/system/ota/native_ota_example" -B "$T/build" \
      -DOTAKIT_HOST_BUILD="$T_BUILD" -DSDKCONFIG="$T/sdkconfig" &&
    cmake --build "$T/build" --target bootloader_image -j "$(nproc)"; } >"$T/build.log" 2>&1; then
    t_dump_log "$T/build.log"
    t_fail "build a factory-reset bootloader"
    t_finish
  fi
  boot=$T/build/bootloader/bootloader.bin
fi
t_check "the bootloader has the factory-reset option" test -f "$boot"

F=$T/flash.bin
printf 'NVS-MARKER' >"$T/marker.bin"
t_flash_make "$F" 4MB 0x1000 "$boot" 0x9000 "$T/marker.bin"
t_pyserve_start ota "$T_BUILD"
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/hello-world.bin
t_device_until "$F" "Restarting in" "${T_FAST[@]}"
t_check "hello_world runs from ota_0 after the update (rc=$T_RC)" \
  t_has "$T_LOG" "hello_world: Running partition ota_0 at offset 0x110000"
t_check "otadata boots ota_0" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
t_dump_if_failed "$T_LOG"

# The factory app initialises NVS as soon as it runs, so the bootloader's erase of the nvs
# partition is read from the flash trace (the bootloader's operations), not the flash.
t_device_until "$F" "ota: Running partition type 0 subtype 0" "${T_FAST[@]}" --hold-pin factory \
  --flash-trace "$T/trace.txt"
t_check "with the pin held the factory app starts (rc=$T_RC)" t_in_order "$T_LOG" \
  "boot: Detect a condition of the factory reset" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Starting OTA example..." \
  "ota: Running partition type 0 subtype 0 (offset 0x00010000)"
t_check "hello_world was not started" t_lacks "$T_LOG" "Hello world!"
t_check "otadata is erased (both copies)" \
  t_otadata_blank "$F"
t_check "the bootloader erases the nvs partition (0x9000, 16 KiB)" \
  grep -Eq '^[0-9]+ e 0x0*9000 16384 bootloader$' "$T/trace.txt"
t_check "ota_0 still holds hello_world (a factory reset erases no app)" t_slot_holds "$F" 0x110000 "$T_BUILD/hello-world.bin"
t_dump_if_failed "$T_LOG"

t_finish
