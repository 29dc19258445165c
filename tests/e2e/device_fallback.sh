#!/usr/bin/env bash
# The bootloader boots what otadata selects, and falls back when that slot is corrupt or
# the table is broken, with ESP-IDF's log lines.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table

F=$T/flash.bin
t_flash_new "$F"
t_flash_put_slot "$F" 0 "$T_BUILD/hello-world.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null

t_device_check "ota_0 selected: exit 0" 0 "$F" "$T/ota0.log" --until "Restarting in 9 seconds"
t_check "ota_0 selected: boots 0x110000" t_has "$T/ota0.log" "boot: Loaded app from partition at offset 0x110000"
t_check "ota_0 selected: runs from ota_0" t_has "$T/ota0.log" "Running partition ota_0 at offset 0x110000"
t_check "ota_0 selected: JSON last_app_offset" test "$(t_json_field "$T/ota0.log.json" last_app_offset)" -eq $((0x110000))

# Corrupt the program inside ota_0's image: its checksum / SHA-256 fail.
t_patch "$F" "0x110000 + 0x12000" 'CORRUPT!'
t_device_check "corrupt ota_0: exit 0" 0 "$F" "$T/corrupt.log" --until "Restarting in 9 seconds"
t_check "corrupt ota_0: not bootable" t_has "$T/corrupt.log" "OTA app partition slot 0 is not bootable"
t_check "corrupt ota_0: falls back to factory" t_has "$T/corrupt.log" "boot: Loaded app from partition at offset 0x10000"
t_check "corrupt ota_0: app runs" t_has "$T/corrupt.log" "Running partition factory at offset 0x10000"

# Erased ota_0 (nothing flashed there).
t_flash_new "$F"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
t_device_check "erased ota_0: exit 0" 0 "$F" "$T/erased.log" --until "Restarting in 9 seconds"
t_check "erased ota_0: invalid magic" t_has "$T/erased.log" "image at 0x110000 has invalid magic byte (nothing flashed here?)"
t_check "erased ota_0: factory runs" t_has "$T/erased.log" "Running partition factory at offset 0x10000"

# No app anywhere: the bootloader resets; the device gives up after three resets.
t_flash_new "$F"
"$OTAKIT" flash erase "$F" 0x10000 0x100000 >/dev/null
t_device_check "no app: exit 1" 1 "$F" "$T/noapp.log"
t_check "no app: bootloader says so" t_has "$T/noapp.log" "No bootable app partitions in the partition table"
t_check "no app: system resets (rst:0x3)" t_has "$T/noapp.log" "rst:0x3 (SW_RESET)"
t_check "no app: JSON end no-app" test "$(t_json_field "$T/noapp.log.json" end)" = no-app

# A broken partition table: the bootloader cannot go on.
t_flash_new "$F"
t_patch "$F" "0x8000 + 12" 'X'
t_device_check "bad table: exit 1" 1 "$F" "$T/table.log"
t_check "bad table: reported" t_has "$T/table.log" "Failed to verify partition table"

# The factory-reset pin held at power-on.
t_flash_new "$F"
t_flash_put_slot "$F" 0 "$T_BUILD/hello-world.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
t_device_check "factory pin: exit 0" 0 "$F" "$T/pin.log" --until "Restarting in 9 seconds" --hold-pin factory
if t_config_has 'CONFIG_BOOTLOADER_FACTORY_RESET=y'; then
  t_check "factory pin: factory reset" t_has "$T/pin.log" "Detect a condition of the factory reset"
else
  t_check "factory pin: bootloader says it has no factory reset" \
    t_has "$T/pin.log" "GPIO factory-reset pin held, but this bootloader was built without CONFIG_BOOTLOADER_FACTORY_RESET"
  t_check "factory pin: ota_0 still boots" t_has "$T/pin.log" "Running partition ota_0 at offset 0x110000"
fi

t_finish
