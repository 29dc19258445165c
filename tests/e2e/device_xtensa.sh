#!/usr/bin/env bash
# Real ESP-IDF images in a slot: an ESP32 (Xtensa) app verifies and is chosen like any
# other, and the device says plainly that it cannot execute it (the run ends, exit 1);
# an image for another chip is refused on the chip id and the bootloader falls back.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table
: "${OTAKIT_VECTORS:?OTAKIT_VECTORS must name the vectors directory}"

F=$T/flash.bin
t_flash_new "$F"
t_flash_put_slot "$F" 0 "$OTAKIT_VECTORS/image/ota_test_firmawares/hello_world.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
t_device_check "xtensa: exit 1" 1 "$F" "$T/xtensa.log"
t_check "xtensa: chosen and verified" t_has "$T/xtensa.log" "boot: Loaded app from partition at offset 0x110000"
t_check "xtensa: its app description" t_has "$T/xtensa.log" "project hello_world, version v5.0.4-160-g3f55377ab4-dirty"
t_check "xtensa: says it cannot run" t_has "$T/xtensa.log" "the virtual device cannot execute Xtensa code"
t_check "xtensa: the CPU stops" t_has "$T/xtensa.log" "--- otakit: the CPU stopped:"
t_check "xtensa: JSON end halted" test "$(t_json_field "$T/xtensa.log.json" end)" = halted
t_check "xtensa: one boot" test "$(t_json_field "$T/xtensa.log.json" boots)" -eq 1
t_device_check "xtensa: --until on the message exits 0" 0 "$F" "$T/xtensa_until.log" --until "cannot execute Xtensa code"

t_flash_new "$F"
t_flash_put_slot "$F" 0 "$OTAKIT_VECTORS/image/esptool-v4.11.0/esp_idf_blink_esp32s2.bin"
"$OTAKIT" otadata switch "$F" 0 >/dev/null
t_device_check "esp32-s2 image: exit 0" 0 "$F" "$T/s2.log" --until "Restarting in 9 seconds"
t_check "esp32-s2 image: not bootable" t_has "$T/s2.log" "OTA app partition slot 0 is not bootable"
t_check "esp32-s2 image: factory runs" t_has "$T/s2.log" "Running partition factory at offset 0x10000"

t_finish
