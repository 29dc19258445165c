#!/usr/bin/env bash
# otakit image info prints what esptool v4.11.0's `image_info --version 2` prints, line for
# line, on every image vector and on images with unusual header and description fields.
# The expected texts are esptool's own output (tests/vectors/data/image_info/, provenance
# in tests/vectors/data/README.md); otakit's own section ("otakit": image length, bytes
# after the image, verdict) follows esptool's text and is checked separately.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
D=${OTAKIT_VECTORS:?set OTAKIT_VECTORS}
G=$D/image_info

# same_as_esptool IMAGE GOLDEN: otakit's text up to its own section equals esptool's text
# after esptool's version banner; then comes otakit's section.
same_as_esptool() {
    local img=$1 golden=$2 n
    if ! "$OTAKIT" image info "$img" >info.txt 2>err.txt; then
        t_fail "$img: image info failed: $(cat err.txt)"
        return
    fi
    [ "$(head -1 "$golden")" = "esptool.py v4.11.0" ] && t_ok || t_fail "$golden is not esptool v4.11.0's"
    tail -n +2 "$golden" >want.txt
    n=$(wc -l <want.txt)
    if head -n "$n" info.txt | diff -u want.txt - >diff.txt; then
        t_ok
    else
        t_fail "$img: differs from esptool v4.11.0:
$(head -40 diff.txt)"
    fi
    # then a blank line and otakit's section
    tail -n +"$((n + 1))" info.txt >rest.txt
    if [ "$(sed -n 1p rest.txt)" = "" ] && [ "$(sed -n 2p rest.txt)" = "otakit" ] &&
        grep -q "^Image length: " rest.txt && grep -q "^Verdict: " rest.txt; then
        t_ok
    else
        t_fail "$img: otakit's section: $(cat rest.txt)"
    fi
}

count=0
for golden in "$G"/*.txt; do
    name=$(basename "$golden" .txt)
    case $name in mut_*) continue ;; esac
    img=$(ls "$D"/image/*/"$name".bin)
    same_as_esptool "$img" "$golden"
    count=$((count + 1))
done
# every image vector has its esptool text
[ "$count" = "$(ls "$D"/image/*/*.bin | wc -l)" ] && t_ok || t_fail "$count esptool texts for $(ls "$D"/image/*/*.bin | wc -l) images"

# Images with unusual fields, made from the vectors by the same patches the esptool texts
# were made from: a bad checksum, a bad hash, odd header fields (FAST_READ mode, an
# unknown flash size, entry 0, a WP pin, drive strengths, chip revisions v3.1 and
# v655.35), a 16-bit chip id esptool does not know (256: byte 12 still says ESP32),
# description fields (eFuse block revisions 1.2 and 1.99, a 64 KB MMU page, a project
# name with a NUL inside), an unknown flash frequency, and the ESP32-C2's 30m.
"$T_PY" - "$D/image" <<'EOF'
import struct, sys
d = sys.argv[1]
hw = open(d + '/ota_test_firmawares/hello_world.bin', 'rb').read()
c2 = open(d + '/ota_test_firmawares/anti_rollback_4_esp32c2.bin', 'rb').read()
def w(name, b):
    open('mut_' + name + '.bin', 'wb').write(bytes(b))
b = bytearray(hw); b[0x100] = 0x55; w('bad_checksum', b)
b = bytearray(hw); b[0x2c38c] ^= 1; w('bad_hash', b)
b = bytearray(hw); b[2] = 4; b[3] = 0x8F; b[4:8] = bytes(4); b[8] = 5
b[9:12] = bytes([0x21, 0x43, 0x65]); b[14] = 3; b[15:17] = struct.pack('<H', 301)
b[17:19] = b'\xff\xff'; w('header_fields', b)
b = bytearray(hw); b[13] = 1; w('chip_id_high', b)
b = bytearray(hw); a = 0x20
b[a + 176:a + 178] = struct.pack('<H', 102); b[a + 178:a + 180] = struct.pack('<H', 199)
b[a + 180] = 16; b[a + 48:a + 53] = b'ab\0cd'; w('desc_fields', b)
b = bytearray(hw); b[2] = 3; b[3] = (b[3] & 0xF0) | 5; w('bad_freq', b)
b = bytearray(c2); b[3] = (b[3] & 0xF0) | 0; w('c2_30m', b)
EOF
for golden in "$G"/mut_*.txt; do
    name=$(basename "$golden" .txt)
    same_as_esptool "$name.bin" "$golden"
done
# the verdicts in otakit's section
"$OTAKIT" image info mut_bad_checksum.bin >info.txt
grep -q "^Verdict: invalid: offset 0x2c38f: checksum mismatch$" info.txt && t_ok || t_fail "bad checksum verdict"
"$OTAKIT" image info "$D/image/esptool-v4.11.0/hello-world-signed.bin" >info.txt
grep -q "^Bytes after the image: 80 (not checked)$" info.txt && t_ok || t_fail "signed: bytes after"

# a Secure Boot V2 signed image: the sector is named in otakit's section
"$OTAKIT" image info "$D/signed/hw_rsa3072.bin" >info.txt
grep -q "^Bytes after the image: 7248 (a Secure Boot V2 signature sector at 0x2d000 with 1 valid block(s)" info.txt &&
    t_ok || t_fail "signed: $(tail -3 info.txt)"

# --json uses the same tables: the ESP32-C2's 60m, esptool's memory type names
t_expect_exit 0 "$OTAKIT" image info "$D/image/ota_test_firmawares/anti_rollback_4_esp32c2.bin" --json
"$T_PY" -c "import json,sys; d=json.load(open('out.txt')); sys.exit(0 if d['flash_freq']=='60m' and \
[s['region'] for s in d['segments']]==['DROM','DRAM, BYTE_ACCESSIBLE','IROM','DRAM, BYTE_ACCESSIBLE','IRAM'] else 1)" &&
    t_ok || t_fail "c2 json: $(head -c 600 out.txt)"
t_expect_exit 0 "$OTAKIT" image info mut_bad_freq.bin --json
"$T_PY" -c "import json,sys; d=json.load(open('out.txt')); sys.exit(0 if d['flash_freq'] is None else 1)" &&
    t_ok || t_fail "unknown frequency in json: $(head -c 300 out.txt)"

t_finish
