#!/usr/bin/env bash
# The ROM stage: a blank or broken second-stage bootloader is reported as the ESP32 ROM
# does and the run ends with exit 1; bad usage exits 2.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table

F=$T/flash.bin

# Blank flash: the ROM's "invalid header: 0xffffffff".
"$OTAKIT" flash erase "$F" --size 4MB >/dev/null
rc=0
"$OTAKIT" device run --flash "$F" --log "$T/blank.log" --max-boots 3 >"$T/blank.out" 2>"$T/blank.err" || rc=$?
t_check "blank flash: exit 1" test $rc -eq 1
t_check "blank flash: ROM power-on line" t_has "$T/blank.log" "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"
t_check "blank flash: invalid header 0xffffffff" t_has "$T/blank.log" "invalid header: 0xffffffff"
t_check "blank flash: clear message" t_has "$T/blank.err" "offset 0x1000: no second-stage bootloader (invalid magic 0xff, erased flash)"
t_check "blank flash: console on stdout too" t_has "$T/blank.out" "invalid header: 0xffffffff"
t_check "blank flash: one boot only" test "$(t_count "$T/blank.log" "ets Jul 29 2019")" -eq 1

# A bootloader whose program bytes changed: the checksum no longer matches.
t_flash_new "$F"
t_patch "$F" "0x1000 + 0x2000" '\x00\x00\x00\x00'
t_device_check "bad checksum: exit 1" 1 "$F" "$T/sum.log"
t_check "bad checksum: ROM read error" t_has "$T/sum.log" "flash read err, 1000"
t_check "bad checksum: names the checksum" grep -q "offset 0x.*bootloader image: .*checksum" "$T/sum.log"
t_check "bad checksum: JSON end rom" test "$(t_json_field "$T/sum.log.json" end)" = rom

# A bootloader image for another chip (ESP32-S2 chip id in the header).
t_flash_new "$F"
t_patch "$F" "0x1000 + 12" '\x02\x00'
t_device_check "other chip: exit 1" 1 "$F" "$T/chip.log"
t_check "other chip: refused on the chip id" t_has "$T/chip.log" "offset 0x100c: bootloader image: chip id mismatch"

# A sound bootloader but a foreign magic word.
t_flash_new "$F"
t_patch "$F" 0x1000 '\x12\x34\x56\x78'
t_device_check "bad magic: exit 1" 1 "$F" "$T/magic.log"
t_check "bad magic: invalid header word" t_has "$T/magic.log" "invalid header: 0x78563412"

# Usage.
rc=0
"$OTAKIT" device run --flash "$T/missing.bin" 2>"$T/missing.err" >/dev/null || rc=$?
t_check "missing flash file: exit 2" test $rc -eq 2
t_check "missing flash file: named" t_has "$T/missing.err" "missing.bin"
rc=0
"$OTAKIT" device run --bogus 2>/dev/null || rc=$?
t_check "unknown option: exit 2" test $rc -eq 2
rc=0
"$OTAKIT" device run --powercut-mode sideways 2>/dev/null || rc=$?
t_check "bad powercut mode: exit 2" test $rc -eq 2
t_check "device run --help: exit 0" t_quiet "$OTAKIT" device run --help
t_check "device run --help: usage on stdout" test -n "$("$OTAKIT" device run --help | grep '^usage: otakit device run')"

t_finish
