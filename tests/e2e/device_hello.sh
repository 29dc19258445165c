#!/usr/bin/env bash
# hello_world as the factory app: ESP-IDF's output, the countdown, esp_restart() and the
# reset loop (bounded by --max-boots), the console on stdout and in the log file.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table

F=$T/flash.bin
t_flash_new "$F"
rc=0
"$OTAKIT" device run --flash "$F" --speedup 0 --max-boots 3 --timeout 60 --color always \
  >"$T/out" 2>"$T/err" || rc=$?
L=$F.log # the default log file: FLASH.log
t_check "exit 0 at --max-boots" test $rc -eq 0
t_check "default log file FLASH.log" test -s "$L"
t_check "ROM power-on" t_has "$L" "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"
t_check "2 software resets" test "$(t_count "$L" "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)")" -eq 2
t_check "bootloader banner" grep -Eq '^I \([0-9]+\) boot: ESP-IDF .* 2nd stage bootloader$' "$L"
# The compile time the bootloader prints is its image's date_time (ESP-IDF v5.5 prints
# desc->date_time), the one `otakit image info` (esptool image_info) shows.
dt=$("$OTAKIT" image info "$T_BUILD/bootloader.bin" | sed -n 's/^Compile time: //p')
t_check "bootloader image has a compile time ($dt)" grep -Eq '^[A-Z][a-z]{2} [ 123][0-9] [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$' <<<"$dt"
t_check "the boot banner prints the image's compile time" t_has "$L" "boot: compile time $dt"
t_check "partition table listing" t_has "$L" "boot: ## Label            Usage          Type ST Offset   Length"
t_check "factory listed" grep -Eq '^I \([0-9]+\) boot:  3 factory +factory app +00 00 00010000 00100000$' "$L"
t_check "boots factory" t_has "$L" "boot: Loaded app from partition at offset 0x10000"
t_check "app information" t_has "$L" "app_init: Project name:     hello_world"
t_check "3 x Hello world!" test "$(t_count "$L" "Hello world!")" -eq 3
t_check "chip line" t_has "$L" "This is esp32 chip with 2 CPU core(s), WiFi/BT/BLE, silicon revision v3.0, 4MB external flash"
t_check "running partition and version" grep -Eq 'hello_world: Running partition factory at offset 0x10000, version 1\.0\.0' "$L"
for i in 10 9 5 1 0; do
  t_check "countdown $i" test "$(t_count "$L" "Restarting in $i seconds...")" -eq 3
done
t_check "Restarting now." test "$(t_count "$L" "Restarting now.")" -eq 3
# Device time: the 11 one-second delays count in full even though --speedup 0 made them
# instant, so the next boot's clock restarted from 0 (the log times are ms since reset).
t_check "log line format" grep -Eq '^I \([0-9]+\) main_task: Calling app_main\(\)$' "$L"
t_check "colour on stdout with --color always" grep -q $'\033\\[0;32mI (' "$T/out"
t_check "no colour in the log file" test "$(grep -c $'\033' "$L" || true)" -eq 0
t_check "stdout carries the console" t_has "$T/out" "Restarting now."

# --until stops as soon as the text appears (exit 0); a text that never appears: exit 1.
t_device_check "--until: exit 0" 0 "$F" "$T/until.log" --until "Restarting in 7 seconds"
t_check "--until: stopped there" test "$(t_count "$T/until.log" "Restarting in 6 seconds")" -eq 0
t_check "--until: JSON end until" test "$(t_json_field "$T/until.log.json" end)" = until
t_check "--until: JSON one boot" test "$(t_json_field "$T/until.log.json" boots)" -eq 1
t_device_check "two --until: exit 0" 0 "$F" "$T/two.log" --until "no such text" --until "Restarting in 4 seconds"
t_check "two --until: JSON names the one seen" test "$(t_json_field "$T/two.log.json" until_matched)" = "Restarting in 4 seconds"
t_device_check "--until never seen: exit 1" 1 "$F" "$T/never.log" --until "no such text" --max-boots 2
t_check "--until never seen: JSON" test "$(t_json_field "$T/never.log.json" until_seen)" = False
t_check "--max-boots: JSON 2 boots" test "$(t_json_field "$T/never.log.json" boots)" -eq 2
t_check "--max-boots: JSON 2 restarts" test "$(t_json_field "$T/never.log.json" restarts)" -eq 2

# A MAC of our choosing reaches the app's chip information.
t_device_check "--quiet --json run" 0 "$F" "$T/q.log" --until "Restarting in 10" --mac 24:0a:c4:12:34:56 --quiet

t_finish
