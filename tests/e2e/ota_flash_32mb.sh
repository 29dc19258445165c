#!/usr/bin/env bash
# A 32 MB flash (CONFIG_ESPTOOLPY_FLASHSIZE_32MB): the configuration gives "32MB", the
# bootloader packed for it carries the image header's flash-size code 5 (esptool's
# 32MB), and a device whose ota_0 lies past the first 16 MB boots its factory app,
# updates over HTTP into ota_0 and boots the new app from there. The same bootloader on
# a 16 MB chip says the chip is smaller than its header.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

pack=$T_BUILD/firmware/bootloader/bootloader_pack
stripped=$T_BUILD/projects/native_ota_example/otakit-host/firmware/bootloader/bootloader.stripped
[[ -x $pack && -f $stripped ]] || t_skip "this build has no bootloader_pack or stripped bootloader (a sanitizer build)"
t_config_has 'CONFIG_PARTITION_TABLE_OFFSET=0x8000' ||
  t_skip "the build's bootloader looks for the partition table away from 0x8000"

# The configuration: the new choice selects the string the build hands bootloader_pack.
py=$(sed -n 's/^OTAKIT_PYTHON:[A-Z]*=//p' "$T_BUILD/CMakeCache.txt")
printf 'CONFIG_ESPTOOLPY_FLASHSIZE_32MB=y\n' >"$T/sdkconfig.in"
(cd "$T_SRC" && srctree=$T_SRC KCONFIG_CONFIG=$T/sdkconfig.in "${py:-python3}" -m genconfig \
  --header-path "$T/config.h" --config-out "$T/sdkconfig" Kconfig) >"$T/genconfig.log" 2>&1
t_check "CONFIG_ESPTOOLPY_FLASHSIZE_32MB gives CONFIG_ESPTOOLPY_FLASHSIZE=\"32MB\"" \
  t_has "$T/sdkconfig" 'CONFIG_ESPTOOLPY_FLASHSIZE="32MB"'
size=$(sed -n 's/^CONFIG_ESPTOOLPY_FLASHSIZE="\(.*\)"$/\1/p' "$T/sdkconfig")

# The bootloader as the build packs it for that configuration.
"$pack" "$stripped" "$T/bootloader.bin" 0x7000 "$size"
"$OTAKIT" image info "$T/bootloader.bin" --json >"$T/bl.json"
t_check "the bootloader's header says 32MB" test "$(t_json "$T/bl.json" 'j["flash_size"]')" = 32MB
t_check "its header byte 3 holds flash-size code 5 in the high nibble" test \
  $(($(od -An -tu1 -j3 -N1 "$T/bootloader.bin") >> 4)) -eq 5
rc=0
"$pack" "$stripped" "$T/bad.bin" 0x7000 256MB 2>"$T/bad.err" || rc=$?
t_check "bootloader_pack refuses a size the header cannot hold (exit $rc)" test "$rc" -eq 2
t_check "and names the sizes it takes" grep -q "128MB" "$T/bad.err"

# A table for 32 MB: ota_0 past the first 16 MB.
ota0=0x1010000
printf '%s\n' '# Name, Type, SubType, Offset, Size, Flags' 'nvs, data, nvs, 0x9000, 0x4000,' \
  'otadata, data, ota, 0xd000, 0x2000,' 'phy_init, data, phy, 0xf000, 0x1000,' \
  'factory, app, factory, 0x10000, 1M,' "ota_0, app, ota_0, $ota0, 4M," >"$T/table.csv"
"$OTAKIT" partition compile "$T/table.csv" "$T/table.bin" --flash-size 32MB >/dev/null
F=$T/flash.bin
"$OTAKIT" flash erase "$F" --size 32MB >/dev/null
"$OTAKIT" flash write "$F" 0x1000 "$T/bootloader.bin" 0x8000 "$T/table.bin" \
  0xd000 "$T_BUILD/ota_data_initial.bin" 0x10000 "$T_BUILD/ota_example.bin" >/dev/null
t_check "the flash file is 32 MB" test "$(stat -c %s "$F")" -eq $((32 * 1024 * 1024))

t_serve_start ota "$T_BUILD"
t_ota_update "$F" hello-world.bin "Restarting in"
t_check "the factory app boots, updates ota_0 past 16 MB and hello_world runs from it (rc=$T_RC)" \
  t_in_order "$T_LOG" \
  "boot.esp32: SPI Flash Size : 32MB" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Writing to partition subtype 16 at offset $ota0" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset $ota0" \
  "Hello world!" \
  "32MB external flash" \
  "hello_world: Running partition ota_0 at offset $ota0"
t_check "no error line" t_lacks "$T_LOG" "E ("
t_check "ota_0 holds hello-world.bin byte for byte" t_slot_holds "$F" "$ota0" "$T_BUILD/hello-world.bin"
t_check "otadata boots ota_0" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
t_dump_if_failed "$T_LOG"
t_serve_stop ota

# The 32MB bootloader on a 16 MB chip: the app says the chip is smaller than the header.
F16=$T/flash16.bin
"$OTAKIT" flash erase "$F16" --size 16MB >/dev/null
"$OTAKIT" flash write "$F16" 0x1000 "$T/bootloader.bin" 0x8000 "$T_BUILD/partition-table.bin" \
  0xd000 "$T_BUILD/ota_data_initial.bin" 0x10000 "$T_BUILD/hello-world.bin" >/dev/null
t_device_until "$F16" "Restarting in" "${T_FAST[@]}"
t_check "on a 16 MB chip the app reports the smaller chip (rc=$T_RC)" grep -qE \
  'spi_flash: Detected size\(16384k\) smaller than the size in the binary image header\(32768k\)' "$T_LOG"
t_dump_if_failed "$T_LOG"

t_finish
