#!/usr/bin/env bash
# The build itself: make's dry run over the build tree prints no warning (a target named
# like its output file made make say "Circular flash_args <- flash_args dependency
# dropped"); the bootloader image's date_time is filled, and with SOURCE_DATE_EPOCH two
# packings give the same bytes.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
B=${OTAKIT_BUILD:?set OTAKIT_BUILD to the build directory}

if [[ -f $B/Makefile ]]; then
    make -C "$B" -n all >make-n.txt 2>&1 && t_ok || t_fail "make -n all in the build tree: $(tail -3 make-n.txt)"
    if grep -i "circular" make-n.txt >&2; then t_fail "make reports a circular dependency"; else t_ok; fi
    if grep -E "warning: (overriding|ignoring old) recipe" make-n.txt >&2; then t_fail "make reports clashing recipes"; else t_ok; fi
else
    echo "build tree has no Makefile (not the Unix Makefiles generator): make checks skipped"
fi

pack=$B/firmware/bootloader/bootloader_pack
prog=$B/projects/native_ota_example/otakit-host/firmware/bootloader/bootloader.stripped
if [[ -x $pack && -f $prog ]]; then
    SOURCE_DATE_EPOCH=1700000000 "$pack" "$prog" bl1.bin 0 4MB >/dev/null && t_ok || t_fail "bootloader_pack with SOURCE_DATE_EPOCH"
    SOURCE_DATE_EPOCH=1700000000 "$pack" "$prog" bl2.bin 0 4MB >/dev/null && t_ok || t_fail "second packing"
    cmp -s bl1.bin bl2.bin && t_ok || t_fail "SOURCE_DATE_EPOCH: two packings differ"
    t_expect_exit 0 "$OTAKIT" image info bl1.bin
    grep -qx "Compile time: Nov 14 2023 22:13:20" out.txt && t_ok || t_fail "date_time from SOURCE_DATE_EPOCH: $(grep Compile out.txt)"
    t_expect_exit 0 "$OTAKIT" image verify bl1.bin
    t_expect_exit 2 env SOURCE_DATE_EPOCH=yesterday "$pack" "$prog" bl3.bin 0 4MB
    grep -q "SOURCE_DATE_EPOCH 'yesterday' is not a number of seconds since 1970" err.txt && t_ok || t_fail "bad SOURCE_DATE_EPOCH: $(cat err.txt)"
    [[ ! -e bl3.bin ]] && t_ok || t_fail "bad SOURCE_DATE_EPOCH wrote an image"
fi
t_expect_exit 0 "$OTAKIT" image info "$B/bootloader.bin"
grep -Eq '^Compile time: [A-Z][a-z]{2} [ 123][0-9] [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$' out.txt && t_ok ||
    t_fail "build/bootloader.bin has no compile time: $(grep Compile out.txt)"

# The bootloader fits between 0x1000 and the partition table (the build refuses a bigger
# one; sanitizer builds are not flashable and have no limit).
if ! grep -q '^OTAKIT_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" 2>/dev/null; then
    table=$(sed -n 's/^CONFIG_PARTITION_TABLE_OFFSET=//p' "$B/config/sdkconfig")
    room=$((${table:-0x8000} - 0x1000))
    bl=$(stat -c %s "$B/bootloader.bin")
    ((bl <= room)) && t_ok || t_fail "bootloader.bin is $bl bytes, more than the $room bytes before the table"
    # "about 26 KB of the 28 KB" in docs/device.md stays true
    ((bl > 24 * 1024 && bl <= 28 * 1024)) && t_ok || t_fail "bootloader.bin is $bl bytes: update docs/device.md's figure"
fi

t_finish
