#!/usr/bin/env bash
# Real ESP-IDF images in a slot: an ESP32 (Xtensa) app verifies and is chosen like any
# other, and the device says plainly that it cannot execute it (the run ends, exit 1);
# an image for another chip is refused on the chip id and the bootloader falls back.
set -euo pipefail
# shellcheck source=tests/e2e/device_common.bash
source "$(dirname "$0")/device_common.bash"
: "${OTAKIT_VECTORS:?OTAKIT_VECTORS must name the vectors directory}"

F=$TMP/flash.bin
new_flash "$F"
put_slot "$F" 0 "$OTAKIT_VECTORS/image/ota_test_firmawares/hello_world.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
rc=0
run_device "$F" "$TMP/xtensa.log" || rc=$?
check "xtensa: exit 1" test $rc -eq 1
check "xtensa: chosen and verified" has "$TMP/xtensa.log" "boot: Loaded app from partition at offset 0x110000"
check "xtensa: its app description" has "$TMP/xtensa.log" "project hello_world, version v5.0.4-160-g3f55377ab4-dirty"
check "xtensa: says it cannot run" has "$TMP/xtensa.log" "the virtual device cannot execute Xtensa code"
check "xtensa: the CPU stops" has "$TMP/xtensa.log" "--- otakit: the CPU stopped:"
check "xtensa: JSON end halted" test "$(json_field "$TMP/xtensa.log.json" end)" = halted
check "xtensa: one boot" test "$(json_field "$TMP/xtensa.log.json" boots)" -eq 1
rc=0
run_device "$F" "$TMP/xtensa_until.log" --until "cannot execute Xtensa code" || rc=$?
check "xtensa: --until on the message exits 0" test $rc -eq 0

new_flash "$F"
put_slot "$F" 0 "$OTAKIT_VECTORS/image/esptool-v4.11.0/esp_idf_blink_esp32s2.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
rc=0
run_device "$F" "$TMP/s2.log" --until "Restarting in 9 seconds" || rc=$?
check "esp32-s2 image: exit 0" test $rc -eq 0
check "esp32-s2 image: not bootable" has "$TMP/s2.log" "OTA app partition slot 0 is not bootable"
check "esp32-s2 image: factory runs" has "$TMP/s2.log" "Running partition factory at offset 0x10000"

finish
