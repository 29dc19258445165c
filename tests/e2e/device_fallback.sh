#!/usr/bin/env bash
# The bootloader boots what otadata selects, and falls back when that slot is corrupt or
# the table is broken, with ESP-IDF's log lines.
set -euo pipefail
# shellcheck source=tests/e2e/device_common.bash
source "$(dirname "$0")/device_common.bash"

F=$TMP/flash.bin
new_flash "$F"
put_slot "$F" 0 "$B/hello-world.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null

rc=0
run_device "$F" "$TMP/ota0.log" --until "Restarting in 9 seconds" || rc=$?
check "ota_0 selected: exit 0" test $rc -eq 0
check "ota_0 selected: boots 0x110000" has "$TMP/ota0.log" "boot: Loaded app from partition at offset 0x110000"
check "ota_0 selected: runs from ota_0" has "$TMP/ota0.log" "Running partition ota_0 at offset 0x110000"
check "ota_0 selected: JSON last_app_offset" test "$(json_field "$TMP/ota0.log.json" last_app_offset)" -eq $((0x110000))

# Corrupt the program inside ota_0's image: its checksum / SHA-256 fail.
printf 'CORRUPT!' | dd of="$F" bs=1 seek=$((0x110000 + 0x12000)) conv=notrunc status=none
rc=0
run_device "$F" "$TMP/corrupt.log" --until "Restarting in 9 seconds" || rc=$?
check "corrupt ota_0: exit 0" test $rc -eq 0
check "corrupt ota_0: not bootable" has "$TMP/corrupt.log" "OTA app partition slot 0 is not bootable"
check "corrupt ota_0: falls back to factory" has "$TMP/corrupt.log" "boot: Loaded app from partition at offset 0x10000"
check "corrupt ota_0: app runs" has "$TMP/corrupt.log" "Running partition factory at offset 0x10000"

# Erased ota_0 (nothing flashed there).
new_flash "$F"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
rc=0
run_device "$F" "$TMP/erased.log" --until "Restarting in 9 seconds" || rc=$?
check "erased ota_0: exit 0" test $rc -eq 0
check "erased ota_0: invalid magic" has "$TMP/erased.log" "image at 0x110000 has invalid magic byte (nothing flashed here?)"
check "erased ota_0: factory runs" has "$TMP/erased.log" "Running partition factory at offset 0x10000"

# No app anywhere: the bootloader resets; the device gives up after three resets.
new_flash "$F"
"$OTAKIT" flash erase "$F" 0x10000 0x100000 >/dev/null
rc=0
run_device "$F" "$TMP/noapp.log" || rc=$?
check "no app: exit 1" test $rc -eq 1
check "no app: bootloader says so" has "$TMP/noapp.log" "No bootable app partitions in the partition table"
check "no app: system resets (rst:0x3)" has "$TMP/noapp.log" "rst:0x3 (SW_RESET)"
check "no app: JSON end no-app" test "$(json_field "$TMP/noapp.log.json" end)" = no-app

# A broken partition table: the bootloader cannot go on.
new_flash "$F"
printf 'X' | dd of="$F" bs=1 seek=$((0x8000 + 12)) conv=notrunc status=none
rc=0
run_device "$F" "$TMP/table.log" || rc=$?
check "bad table: exit 1" test $rc -eq 1
check "bad table: reported" has "$TMP/table.log" "Failed to verify partition table"

# The factory-reset pin held at power-on.
new_flash "$F"
put_slot "$F" 0 "$B/hello-world.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
rc=0
run_device "$F" "$TMP/pin.log" --until "Restarting in 9 seconds" --hold-pin factory || rc=$?
check "factory pin: exit 0" test $rc -eq 0
if config_has 'CONFIG_BOOTLOADER_FACTORY_RESET=y'; then
  check "factory pin: factory reset" has "$TMP/pin.log" "Detect a condition of the factory reset"
else
  check "factory pin: bootloader says it has no factory reset" \
    has "$TMP/pin.log" "GPIO factory-reset pin held, but this bootloader was built without CONFIG_BOOTLOADER_FACTORY_RESET"
  check "factory pin: ota_0 still boots" has "$TMP/pin.log" "Running partition ota_0 at offset 0x110000"
fi

finish
