#!/usr/bin/env bash
# The seed's troubleshooting case "ota_begin error err=0x104": the two-OTA table needs a
# 4 MB flash. The build refuses it for a configured 2 MB flash with gen_esp32part's
# message and hint; a 4 MB build on a 2 MB chip (`make erase_flash flash
# FLASH_CHIP_SIZE=2MB`, scripts/device.sh) boots, the app says the chip is smaller than
# the image header (ESP-IDF's spi_flash line), and esp_ota_begin fails with
# ESP_ERR_INVALID_SIZE (0x104) because ota_0 (0x110000 + 1 MB) passes the end of the chip;
# nothing is switched.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

csv=$OTAKIT_SRC/firmware/partition_table/partitions_two_ota.csv
rc=0
"$OTAKIT" partition compile "$csv" "$T/refused.bin" --flash-size 2MB 2>"$T/compile.err" || rc=$?
t_check "the table is refused for a 2MB flash (exit $rc)" test "$rc" -eq 2
t_check "with gen_esp32part's message and its hint" grep -qF \
  "which does not fit in configured flash size 2MB. Change the flash size in menuconfig under the 'Serial Flasher Config' menu." \
  "$T/compile.err"

F=$T/flash.bin
if t_config_is PARTITION_TABLE_TWO_OTA && t_config_is ESPTOOLPY_FLASHSIZE_4MB; then
  # the documented command: make erase_flash flash FLASH_CHIP_SIZE=2MB
  FLASH_CHIP_SIZE=2MB "$OTAKIT_SRC/scripts/device.sh" erase "$T_BUILD" "$F" >"$T/erase.out"
  t_check "erase_flash says the chip differs from the configuration" \
    grep -q "the virtual chip has 2MB of flash; the build is configured for 4MB" "$T/erase.out"
  FLASH_CHIP_SIZE=2MB "$OTAKIT_SRC/scripts/device.sh" flash "$T_BUILD" "$F" >/dev/null
  rc=0
  "$OTAKIT_SRC/scripts/device.sh" flash "$T_BUILD" "$F" >/dev/null 2>"$T/flash.err" || rc=$?
  t_check "make flash without FLASH_CHIP_SIZE refuses the 2MB chip (exit $rc)" test "$rc" -eq 2
  t_check "and says how to keep it" grep -q "make flash FLASH_CHIP_SIZE=2MB" "$T/flash.err"
else
  echo "# the build is not the default two-OTA 4MB one: flashing by hand"
  "$OTAKIT" partition compile "$csv" "$T/table.bin" >/dev/null
  rm -f "$F"
  "$OTAKIT" flash erase "$F" --size 2MB >/dev/null
  "$OTAKIT" flash write "$F" 0x1000 "$T_BUILD/bootloader.bin" 0x8000 "$T/table.bin" \
    0xd000 "$T_BUILD/ota_data_initial.bin" 0x10000 "$T_BUILD/ota_example.bin" >/dev/null
fi
t_check "the flash file is 2MB" test "$(stat -c %s "$F")" -eq $((2 * 1024 * 1024))
t_pyserve_start ota "$T_BUILD"
t_ota_update "$F" hello-world.bin "ota: Exiting task due to fatal error..."
if grep -q "boot: Failed to verify partition table" "$T_LOG"; then
  echo "# the bootloader refused the table: it checks partitions against the flash chip's real size;"
  echo "# ESP-IDF's bootloader checks them against the size in its own image header (spec 2.4)"
fi
t_check "the factory app starts on the 2MB flash (rc=$T_RC)" t_has "$T_LOG" "ota: Running partition type 0 subtype 0"
t_check "the app says the chip is smaller than its image header, as ESP-IDF's spi_flash does" grep -qE \
  '^E \([0-9]+\) spi_flash: Detected size\(2048k\) smaller than the size in the binary image header\(4096k\)\. Probe failed\.$' "$T_LOG"
t_check "esp_ota_begin fails with 0x104, as the seed's README says" t_in_order "$T_LOG" \
  "ota: Writing to partition subtype 16 at offset 0x110000" \
  "ota: esp_ota_begin failed, error=260" \
  "ota: ota_begin error err=0x104 (ESP_ERR_INVALID_SIZE)" \
  "ota: Exiting task due to fatal error..."
t_check "nothing is switched, no restart" t_lacks "$T_LOG" "Prepare to restart system!"
"$OTAKIT" flash read "$F" 0xd000 0x2000 "$T/otadata.bin" >/dev/null
t_check "otadata stays blank" python3 -c \
  'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d.count(255)==len(d) else 1)' "$T/otadata.bin"
t_dump_if_failed "$T_LOG"

t_finish
