#!/usr/bin/env bash
# The ROM stage: a blank or broken second-stage bootloader is reported as the ESP32 ROM
# does and the run ends with exit 1; bad usage exits 2.
set -euo pipefail
# shellcheck source=tests/e2e/device_common.bash
source "$(dirname "$0")/device_common.bash"

F=$TMP/flash.bin

# Blank flash: the ROM's "invalid header: 0xffffffff".
"$OTAKIT" flash erase "$F" --size 4MB >/dev/null
rc=0
"$OTAKIT" device run --flash "$F" --log "$TMP/blank.log" --max-boots 3 >"$TMP/blank.out" 2>"$TMP/blank.err" || rc=$?
check "blank flash: exit 1" test $rc -eq 1
check "blank flash: ROM power-on line" has "$TMP/blank.log" "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"
check "blank flash: invalid header 0xffffffff" has "$TMP/blank.log" "invalid header: 0xffffffff"
check "blank flash: clear message" has "$TMP/blank.err" "offset 0x1000: no second-stage bootloader (invalid magic 0xff, erased flash)"
check "blank flash: console on stdout too" has "$TMP/blank.out" "invalid header: 0xffffffff"
check "blank flash: one boot only" test "$(count "$TMP/blank.log" "ets Jul 29 2019")" -eq 1

# A bootloader whose program bytes changed: the checksum no longer matches.
new_flash "$F"
printf '\x00\x00\x00\x00' | dd of="$F" bs=1 seek=$((0x1000 + 0x2000)) conv=notrunc status=none
rc=0
run_device "$F" "$TMP/sum.log" || rc=$?
check "bad checksum: exit 1" test $rc -eq 1
check "bad checksum: ROM read error" has "$TMP/sum.log" "flash read err, 1000"
check "bad checksum: names the checksum" grep -q "offset 0x.*bootloader image: .*checksum" "$TMP/sum.log"
check "bad checksum: JSON end rom" test "$(json_field "$TMP/sum.log.json" end)" = rom

# A bootloader image for another chip (ESP32-S2 chip id in the header).
new_flash "$F"
printf '\x02\x00' | dd of="$F" bs=1 seek=$((0x1000 + 12)) conv=notrunc status=none
rc=0
run_device "$F" "$TMP/chip.log" || rc=$?
check "other chip: exit 1" test $rc -eq 1
check "other chip: refused on the chip id" has "$TMP/chip.log" "offset 0x100c: bootloader image: chip id mismatch"

# A sound bootloader but a foreign magic word.
new_flash "$F"
printf '\x12\x34\x56\x78' | dd of="$F" bs=1 seek=$((0x1000)) conv=notrunc status=none
rc=0
run_device "$F" "$TMP/magic.log" || rc=$?
check "bad magic: exit 1" test $rc -eq 1
check "bad magic: invalid header word" has "$TMP/magic.log" "invalid header: 0x78563412"

# Usage.
rc=0
"$OTAKIT" device run --flash "$TMP/missing.bin" 2>"$TMP/missing.err" >/dev/null || rc=$?
check "missing flash file: exit 2" test $rc -eq 2
check "missing flash file: named" has "$TMP/missing.err" "missing.bin"
rc=0
"$OTAKIT" device run --bogus 2>/dev/null || rc=$?
check "unknown option: exit 2" test $rc -eq 2
rc=0
"$OTAKIT" device run --powercut-mode sideways 2>/dev/null || rc=$?
check "bad powercut mode: exit 2" test $rc -eq 2
check "device run --help: exit 0" quiet "$OTAKIT" device run --help
check "device run --help: usage on stdout" test -n "$("$OTAKIT" device run --help | grep '^usage: otakit device run')"

finish
