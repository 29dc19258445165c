#!/usr/bin/env bash
# The seed's troubleshooting case "ota_begin error err=0x104": the two-OTA table needs a
# 4 MB flash. `make flash` refuses it for a 2 MB flash (the table is compiled with the
# flash size); forced onto a 2 MB chip anyway (table compiled without the check, the
# bootloader built for 4 MB as its image header says), the device boots, but
# esp_ota_begin fails with ESP_ERR_INVALID_SIZE (0x104) because ota_0
# (0x110000 + 1 MB) passes the end of the chip, and nothing is switched.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

csv=$OTAKIT_SRC/firmware/partition_table/partitions_two_ota.csv
rc=0
"$OTAKIT" partition compile "$csv" "$TMP/refused.bin" --flash-size 2MB 2>"$TMP/compile.err" || rc=$?
check "the table is refused for a 2MB flash (exit $rc)" test "$rc" -eq 2
check "with a message about the flash size" grep -q "flash" "$TMP/compile.err"

"$OTAKIT" partition compile "$csv" "$TMP/table.bin" >/dev/null
F=$TMP/flash.bin
rm -f "$F"
"$OTAKIT" flash erase "$F" --size 2MB >/dev/null
"$OTAKIT" flash write "$F" 0x1000 "$B/bootloader.bin" 0x8000 "$TMP/table.bin" \
  0xd000 "$B/ota_data_initial.bin" 0x10000 "$B/ota_example.bin" >/dev/null
check "the flash file is 2MB" test "$(stat -c %s "$F")" -eq $((2 * 1024 * 1024))
serve "$B"
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "ota: Exiting task due to fatal error..." "${FAST[@]}"
if grep -q "boot: Failed to verify partition table" "$LOG"; then
  echo "# the bootloader refused the table: it checks partitions against the flash chip's real size;"
  echo "# ESP-IDF's bootloader checks them against the size in its own image header (spec 2.4)"
fi
check "the factory app starts on the 2MB flash (rc=$RC)" has "$LOG" "ota: Running partition type 0 subtype 0"
check "esp_ota_begin fails with 0x104, as the seed's README says" in_order "$LOG" \
  "ota: Writing to partition subtype 16 at offset 0x110000" \
  "ota: esp_ota_begin failed, error=260" \
  "ota: ota_begin error err=0x104 (ESP_ERR_INVALID_SIZE)" \
  "ota: Exiting task due to fatal error..."
check "nothing is switched, no restart" lacks "$LOG" "Prepare to restart system!"
"$OTAKIT" flash read "$F" 0xd000 0x2000 "$TMP/otadata.bin" >/dev/null
check "otadata stays blank" python3 -c \
  'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d.count(255)==len(d) else 1)' "$TMP/otadata.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
