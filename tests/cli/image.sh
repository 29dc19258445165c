#!/usr/bin/env bash
# otakit image: info/verify on ESP-IDF images, create/extract round trip, --json,
# corrupted and truncated images, exit codes, --help, bad flags, missing files.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
V=${OTAKIT_VECTORS:?set OTAKIT_VECTORS}/image


HW=$V/ota_test_firmawares/hello_world.bin
S2=$V/esptool-v4.11.0/esp_idf_blink_esp32s2.bin
C2=$V/ota_test_firmawares/anti_rollback_4_esp32c2.bin
BL=$V/esptool-v4.11.0/bootloader_esp32.bin
BL52=$V/esptool-v4.11.0/bootloader_esp32_v5_2.bin
SIGNED=$V/esptool-v4.11.0/hello-world-signed.bin

# --help everywhere, usage errors
for verb in "" info verify sign create extract; do
    t_expect_exit 0 "$OTAKIT" image $verb --help
    t_expect_match out.txt "usage: otakit image"
done
t_expect_exit 2 "$OTAKIT" image
t_expect_exit 2 "$OTAKIT" image frobnicate
t_expect_exit 2 "$OTAKIT" image info
t_expect_exit 2 "$OTAKIT" image info "$HW" --bogus
t_expect_exit 2 "$OTAKIT" image verify "$HW" --chip esp8266
t_expect_exit 2 "$OTAKIT" image verify "$HW" --partition-size lots
t_expect_exit 2 "$OTAKIT" image verify "$HW" --chip
t_expect_exit 2 "$OTAKIT" image verify "$HW" "$HW"
t_expect_exit 2 "$OTAKIT" image create --program /bin/true --project p -o x.bin
t_expect_exit 2 "$OTAKIT" image extract "$HW"

# missing files: exit 2, the file named
t_expect_exit 2 "$OTAKIT" image info nope.bin
t_expect_match err.txt "nope.bin"
t_expect_exit 2 "$OTAKIT" image verify nope.bin
t_expect_match err.txt "nope.bin"
t_expect_exit 2 "$OTAKIT" image create --program nope.elf --project p --version 1 -o x.bin
t_expect_match err.txt "nope.elf"
[ ! -e x.bin ] && t_ok || t_fail "create wrote an image without a program"

# info on hello_world.bin: what esptool v4.11.0 shows (every line of every vector is
# compared with esptool's own output in image_info.sh)
t_expect_exit 0 "$OTAKIT" image info "$HW"
t_expect_match out.txt "Chip ID: 0 (ESP32)"
t_expect_match out.txt "Flash mode: DIO"
t_expect_match out.txt "Flash freq: 40m"
t_expect_match out.txt "Entry point: 0x40081200"
t_expect_match out.txt "Checksum: 0x3 (valid)"
t_expect_match out.txt "Validation hash: 1ebc803b.*(valid)"
t_expect_match out.txt "Project name: hello_world"
t_expect_match out.txt "App version: v5.0.4-160-g3f55377ab4-dirty"
t_expect_match out.txt "      3  0x15e5c  0x400d0020  0x00010018  IROM"
t_expect_match out.txt "      0  0x08ac4  0x3f400020  0x00000018  DROM"
t_expect_match out.txt "Verdict: valid"
t_expect_exit 0 "$OTAKIT" image info "$HW" --json
t_expect_json "info --json hello_world" out.txt "d['chip']=='ESP32' and d['chip_id']==0 and d['flash_mode']=='DIO' \
    and d['flash_freq']=='40m' and d['entry']=='0x40081200' and len(d['segments'])==5 \
    and d['segments'][3]=={'index':3,'load_addr':'0x400d0020','length':0x15e5c,'offset':0x10020,'header_offset':0x10018,'region':'IROM'} \
    and d['checksum']=={'stored':'0x03','calculated':'0x03','valid':True} \
    and d['hash']['valid'] and d['hash']['stored'].startswith('1ebc803b') and d['hash']['stored'].endswith('de') \
    and d['app_desc']['project']=='hello_world' and d['app_desc']['version']=='v5.0.4-160-g3f55377ab4-dirty' \
    and d['app_desc']['secure_version']==0 and d['app_desc']['date']=='Nov 10 2023' and d['app_desc']['time']=='12:09:40' \
    and len(d['app_desc']['elf_sha256'])==64 and d['length']==181168 and d['valid'] and d['error'] is None"

# the signed image: 7 segments, extra bytes after the image (the signature)
t_expect_exit 0 "$OTAKIT" image info "$SIGNED" --json
t_expect_json "info signed" out.txt "len(d['segments'])==7 and d['checksum']['stored']=='0x30' and d['hash']['stored'].startswith('06a1d6eb') \
    and d['hash']['stored'].endswith('d2') and d['app_desc']['project']=='hello-world' \
    and d['app_desc']['version']=='v3.3-beta3-21-g0706bd0d1-dirty' and d['file_size']==196608 and d['length']==0x2ffb0 \
    and [s['region'] for s in d['segments']].count('PADDING')==2"

# bootloaders: no app description
t_expect_exit 0 "$OTAKIT" image info "$BL" --json
t_expect_json "info bootloader" out.txt "d['app_desc'] is None and d['hash'] is None and d['checksum']['stored']=='0x83' and len(d['segments'])==4 and d['valid']"
t_expect_exit 0 "$OTAKIT" image info "$BL52" --json
t_expect_json "info bootloader v5.2" out.txt "d['app_desc'] is None and d['hash']['stored'].startswith('10cec8cf') and d['checksum']['stored']=='0xbe' \
    and d['bootloader_desc']['version']==1 and d['bootloader_desc']['idf_ver'].startswith('v5.2')"
t_expect_exit 0 "$OTAKIT" image info "$BL"
grep -q "Application information\|Bootloader information" out.txt && t_fail "bootloader_esp32.bin has no description" || t_ok

# other chips: info shows them, verify refuses them for the ESP32
t_expect_exit 0 "$OTAKIT" image info "$S2" --json
t_expect_json "info s2" out.txt "d['chip']=='ESP32-S2' and d['chip_id']==2 and d['checksum']['stored']=='0x18' and d['app_desc']['project']=='blink'"
t_expect_exit 1 "$OTAKIT" image verify "$S2"
t_expect_match err.txt "esp_idf_blink_esp32s2.bin: offset 0xc: chip id mismatch"
t_expect_exit 0 "$OTAKIT" image verify "$S2" --chip esp32s2
t_expect_exit 0 "$OTAKIT" image verify "$S2" --chip ESP32-S2
t_expect_exit 1 "$OTAKIT" image verify "$C2"
t_expect_exit 0 "$OTAKIT" image verify "$C2" --chip esp32c2 --json
t_expect_json "verify c2 json" out.txt "d['valid'] and d['chip']=='ESP32-C2' and d['secure_version']==1 and d['error'] is None"
t_expect_exit 1 "$OTAKIT" image verify "$C2" --json
t_expect_json "verify c2 as esp32 json" out.txt "not d['valid'] and d['error']['offset']==12 and d['error']['message']=='chip id mismatch'"

# verify the ESP32 images, with and without a partition size
for f in "$HW" "$SIGNED" "$BL" "$BL52" "$V"/ota_test_firmawares/qemu_*.bin; do
    t_expect_exit 0 "$OTAKIT" image verify "$f"
done
t_expect_exit 0 "$OTAKIT" image verify "$HW" --partition-size 0x100000
t_expect_exit 0 "$OTAKIT" image verify "$HW" --partition-size=1M --json
t_expect_json "verify json" out.txt "d['valid'] and d['project']=='hello_world' and d['length']==181168 and d['segments']==5"
t_expect_exit 1 "$OTAKIT" image verify "$HW" --partition-size 0x20000
t_expect_match err.txt "doesn't fit in partition"

# corruption: a data byte (checksum), a padding byte (hash), truncation, bad magic
cp "$HW" bad.bin
t_patch bad.bin 0x100 '\x55'
t_expect_exit 1 "$OTAKIT" image verify bad.bin
t_expect_match err.txt "bad.bin: offset 0x2c38f: checksum mismatch"
t_expect_exit 0 "$OTAKIT" image info bad.bin --json
t_expect_json "info bad checksum" out.txt "not d['checksum']['valid'] and d['checksum']['stored']=='0x03' and d['checksum']['calculated']!='0x03' and not d['valid']"
t_expect_exit 0 "$OTAKIT" image info bad.bin
t_expect_match out.txt "Checksum: 0x3 (invalid - calculated 56)"
t_expect_match out.txt "Verdict: invalid: offset 0x2c38f: checksum mismatch"
cp "$HW" badhash.bin
t_patch badhash.bin 0x2c38c '\x01'
t_expect_exit 1 "$OTAKIT" image verify badhash.bin
t_expect_match err.txt "offset 0x2c390: hash mismatch"
t_expect_exit 0 "$OTAKIT" image info badhash.bin --json
t_expect_json "info bad hash" out.txt "d['checksum']['valid'] and not d['hash']['valid'] and d['hash']['stored']!=d['hash']['calculated']"
head -c 100000 "$HW" >short.bin
t_expect_exit 1 "$OTAKIT" image verify short.bin
t_expect_match err.txt "short.bin: offset 0x186a0: truncated image"
t_expect_exit 2 "$OTAKIT" image info short.bin
t_expect_match err.txt "truncated image"
head -c 4096 /dev/zero >zero.bin
t_expect_exit 1 "$OTAKIT" image verify zero.bin
t_expect_match err.txt "zero.bin: offset 0x0: invalid magic byte"
t_expect_exit 2 "$OTAKIT" image info zero.bin
: >empty.bin
t_expect_exit 1 "$OTAKIT" image verify empty.bin

# create / extract round trip, with a fixed date from SOURCE_DATE_EPOCH
head -c 12345 /dev/urandom >prog.bin
SOURCE_DATE_EPOCH=1700000000 t_expect_exit 0 "$OTAKIT" image create --program prog.bin --project demo \
    --version 1.2.3 --secure-version 2 -o app.bin --json
t_expect_json "create json" out.txt "d['project']=='demo' and d['version']=='1.2.3' and d['secure_version']==2 \
    and d['date']=='Nov 14 2023' and d['time']=='22:13:20' and d['idf_ver']=='otakit' \
    and d['program_length']==12345 and d['program_offset']==0x10020 and d['length']%16==0"
[ "$(stat -c %s app.bin)" = "$($T_PY -c "import json; print(json.load(open('out.txt'))['length'])")" ] && t_ok ||
    t_fail "create: length in JSON is the file's"
t_expect_exit 0 "$OTAKIT" image verify app.bin
t_expect_exit 0 "$OTAKIT" image info app.bin --json
t_expect_json "info created" out.txt "d['chip']=='ESP32' and d['flash_mode']=='DIO' and d['flash_size']=='4MB' and d['flash_freq']=='40m' \
    and [s['region'] for s in d['segments']]==['DROM','PADDING','IROM'] and d['segments'][2]['offset']==0x10020 \
    and d['segments'][2]['load_addr']=='0x400d0020' and d['segments'][0]['offset']==0x20 \
    and d['app_desc']['project']=='demo' and d['app_desc']['secure_version']==2 and d['hash']['valid'] and d['valid']"
sha=$(sha256sum prog.bin | cut -d' ' -f1)
t_expect_json "elf sha256 is the program's" out.txt "d['app_desc']['elf_sha256']=='$sha'"
t_expect_exit 0 "$OTAKIT" image extract app.bin -o prog.out
cmp -s prog.bin prog.out && t_ok || t_fail "extract gives the program back"
t_expect_exit 0 "$OTAKIT" image extract app.bin --output=prog2.out --json
t_expect_json "extract json" out.txt "d['program_length']==12345 and d['program_offset']==0x10020"
cmp -s prog.bin prog2.out && t_ok || t_fail "extract --output"
"$OTAKIT" image extract app.bin -o - >prog3.out && cmp -s prog.bin prog3.out && t_ok || t_fail "extract to stdout"

SOURCE_DATE_EPOCH=1700000000 "$OTAKIT" image create --program prog.bin --project demo --version 1.2.3 \
    --secure-version 2 -o - >stdout.bin && cmp -s app.bin stdout.bin && t_ok || t_fail "create -o - writes the image to stdout"
t_expect_exit 2 "$OTAKIT" image create --program prog.bin --project demo --version 1.2.3 -o - --json

# same inputs and SOURCE_DATE_EPOCH: byte-identical image
SOURCE_DATE_EPOCH=1700000000 t_expect_exit 0 "$OTAKIT" image create --program prog.bin --project demo \
    --version 1.2.3 --secure-version 2 -o app2.bin
cmp -s app.bin app2.bin && t_ok || t_fail "reproducible with SOURCE_DATE_EPOCH"

# /bin/true as the program, explicit date/time/idf
t_expect_exit 0 "$OTAKIT" image create --program /bin/true --project t --version v9 --date "Nov 24 2026" \
    --time 12:00:00 --idf-ver v5.5 -o true.bin
t_expect_exit 0 "$OTAKIT" image info true.bin
t_expect_match out.txt "Compile time: Nov 24 2026 12:00:00"
t_expect_match out.txt "ESP-IDF: v5.5"
t_expect_exit 0 "$OTAKIT" image extract true.bin -o true.out
cmp -s /bin/true true.out && t_ok || t_fail "/bin/true round trip"
# an empty program and odd lengths
for n in 0 1 3 5; do
    head -c $n /dev/urandom >p$n.bin
    t_expect_exit 0 "$OTAKIT" image create --program p$n.bin --project p --version v -o i$n.bin
    t_expect_exit 0 "$OTAKIT" image extract i$n.bin -o o$n.bin
    cmp -s p$n.bin o$n.bin && t_ok || t_fail "round trip of $n bytes"
done

# create refusals: too-long strings, bad numbers, bad SOURCE_DATE_EPOCH
t_expect_exit 2 "$OTAKIT" image create --program prog.bin --project 0123456789abcdef0123456789abcdefX --version 1 -o x.bin
t_expect_match err.txt "longer than 32"
t_expect_exit 2 "$OTAKIT" image create --program prog.bin --project p --version 1 --secure-version x -o x.bin
SOURCE_DATE_EPOCH=yesterday t_expect_exit 2 "$OTAKIT" image create --program prog.bin --project p --version 1 -o x.bin
[ ! -e x.bin ] && t_ok || t_fail "refused create wrote a file"
# a created image for another chip is refused by the ESP32 check
t_expect_exit 0 "$OTAKIT" image create --program prog.bin --project p --version 1 --chip esp32c3 -o c3.bin
t_expect_exit 1 "$OTAKIT" image verify c3.bin
t_expect_match err.txt "chip id mismatch"
t_expect_exit 0 "$OTAKIT" image verify c3.bin --chip esp32c3

# extract refusals: ESP-IDF image (no program), corrupted image
t_expect_exit 1 "$OTAKIT" image extract "$HW" -o x.out
t_expect_match err.txt "no otakit program"
cp app.bin app_bad.bin
t_patch app_bad.bin 0x10030 '\x00'
cmp -s app.bin app_bad.bin && t_patch app_bad.bin 0x10030 '\x01'
t_expect_exit 1 "$OTAKIT" image extract app_bad.bin -o x.out
t_expect_match err.txt "checksum mismatch"
[ ! -e x.out ] && t_ok || t_fail "refused extract wrote a file"

t_finish
