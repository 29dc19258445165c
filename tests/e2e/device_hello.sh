#!/usr/bin/env bash
# hello_world as the factory app: ESP-IDF's output, the countdown, esp_restart() and the
# reset loop (bounded by --max-boots), the console on stdout and in the log file.
set -euo pipefail
# shellcheck source=tests/e2e/device_common.bash
source "$(dirname "$0")/device_common.bash"

F=$TMP/flash.bin
new_flash "$F"
rc=0
"$OTAKIT" device run --flash "$F" --speedup 0 --max-boots 3 --timeout 60 --color always \
  >"$TMP/out" 2>"$TMP/err" || rc=$?
L=$F.log # the default log file: FLASH.log
check "exit 0 at --max-boots" test $rc -eq 0
check "default log file FLASH.log" test -s "$L"
check "ROM power-on" has "$L" "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"
check "2 software resets" test "$(count "$L" "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)")" -eq 2
check "bootloader banner" grep -Eq '^I \([0-9]+\) boot: ESP-IDF .* 2nd stage bootloader$' "$L"
# The compile time the bootloader prints is its image's date_time (ESP-IDF v5.5 prints
# desc->date_time), the one `otakit image info` (esptool image_info) shows.
dt=$("$OTAKIT" image info "$B/bootloader.bin" | sed -n 's/^Compile time: //p')
check "bootloader image has a compile time ($dt)" grep -Eq '^[A-Z][a-z]{2} [ 123][0-9] [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$' <<<"$dt"
check "the boot banner prints the image's compile time" has "$L" "boot: compile time $dt"
check "partition table listing" has "$L" "boot: ## Label            Usage          Type ST Offset   Length"
check "factory listed" grep -Eq '^I \([0-9]+\) boot:  3 factory +factory app +00 00 00010000 00100000$' "$L"
check "boots factory" has "$L" "boot: Loaded app from partition at offset 0x10000"
check "app information" has "$L" "app_init: Project name:     hello-world"
check "3 x Hello world!" test "$(count "$L" "Hello world!")" -eq 3
check "chip line" has "$L" "This is esp32 chip with 2 CPU core(s), WiFi/BT/BLE, silicon revision v3.0, 4MB external flash"
check "running partition and version" grep -Eq 'hello_world: Running partition factory at offset 0x10000, version 1\.0\.0' "$L"
for i in 10 9 5 1 0; do
  check "countdown $i" test "$(count "$L" "Restarting in $i seconds...")" -eq 3
done
check "Restarting now." test "$(count "$L" "Restarting now.")" -eq 3
# Device time: the 11 one-second delays count in full even though --speedup 0 made them
# instant, so the next boot's clock restarted from 0 (the log times are ms since reset).
check "log line format" grep -Eq '^I \([0-9]+\) main_task: Calling app_main\(\)$' "$L"
check "colour on stdout with --color always" grep -q $'\033\\[0;32mI (' "$TMP/out"
check "no colour in the log file" test "$(grep -c $'\033' "$L" || true)" -eq 0
check "stdout carries the console" has "$TMP/out" "Restarting now."

# --until stops as soon as the text appears (exit 0); a text that never appears: exit 1.
rc=0
run_device "$F" "$TMP/until.log" --until "Restarting in 7 seconds" || rc=$?
check "--until: exit 0" test $rc -eq 0
check "--until: stopped there" test "$(count "$TMP/until.log" "Restarting in 6 seconds")" -eq 0
check "--until: JSON end until" test "$(json_field "$TMP/until.log.json" end)" = until
check "--until: JSON one boot" test "$(json_field "$TMP/until.log.json" boots)" -eq 1
rc=0
run_device "$F" "$TMP/two.log" --until "no such text" --until "Restarting in 4 seconds" || rc=$?
check "two --until: exit 0" test $rc -eq 0
check "two --until: JSON names the one seen" test "$(json_field "$TMP/two.log.json" until_matched)" = "Restarting in 4 seconds"
rc=0
run_device "$F" "$TMP/never.log" --until "no such text" --max-boots 2 || rc=$?
check "--until never seen: exit 1" test $rc -eq 1
check "--until never seen: JSON" test "$(json_field "$TMP/never.log.json" until_seen)" = False
check "--max-boots: JSON 2 boots" test "$(json_field "$TMP/never.log.json" boots)" -eq 2
check "--max-boots: JSON 2 restarts" test "$(json_field "$TMP/never.log.json" restarts)" -eq 2

# A MAC of our choosing reaches the app's chip information.
rc=0
run_device "$F" "$TMP/q.log" --until "Restarting in 10" --mac 24:0a:c4:12:34:56 --quiet || rc=$?
check "--quiet --json run" test $rc -eq 0

finish
