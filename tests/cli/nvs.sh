#!/usr/bin/env bash
# otakit nvs: gen reproduces the generator's vectors byte for byte; show --json equals
# nvs_tool.py's listing (the .json beside each vector) and lists otakit's own writes in
# the same format; set/get/erase on a flash image found through its partition table,
# at --offset/--size, and on a bare partition (--partition); usage and failure codes.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
VEC=${OTAKIT_VECTORS:?}/nvs

json_equal() { # json_equal A B: the same JSON value (64-bit integers exact)
    $T_PY -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' "$1" "$2"
}
get_is() { # get_is WHAT WANT ARGS...: `otakit nvs get ARGS...` succeeds and prints WANT
    local what=$1 want=$2
    shift 2
    t_expect_exit 0 "$OTAKIT" nvs get "$@"
    if [ "$(cat out.txt)" = "$want" ]; then t_ok; else t_fail "$what"; fi
}

# --- the generator's vectors ---------------------------------------------------------
for csv in "$VEC"/*.csv; do
    name=$(basename "$csv" .csv)
    t_expect_exit 0 "$OTAKIT" nvs gen "$csv" "$name.bin" 0x4000
    t_check_eval "gen $name: byte-identical to the generator" 'cmp -s "$name.bin" "$VEC/$name.bin"'
    t_expect_exit 0 "$OTAKIT" nvs show "$VEC/$name.bin" --partition --json
    cp out.txt "$name.json"
    t_check_eval "show --json $name: nvs_tool.py's listing" 'json_equal "$name.json" "$VEC/$name.json"'
done
get_is "get u64" 18446744073709551615 "$VEC/wifi_ota.bin" ota big --partition
get_is "get i64" -9223372036854775808 --partition "$VEC/wifi_ota.bin" ota neg
get_is "get string" myssid --partition "$VEC/wifi_ota.bin" nvs.net80211 sta.ssid
get_is "get blob (hex)" 0000 --partition "$VEC/wifi_ota.bin" nvs.net80211 sta.apsw
t_expect_exit 0 "$OTAKIT" nvs show --partition "$VEC/sample_val.bin"
t_check_eval "show: text lists the namespace and a value" 'grep -q "^namespace storage (index 1)" out.txt && grep -Eq "^  i32_key +i32 +-2147483648$" out.txt'
# a string whose data no longer matches its CRC: listed all the same, as nvs_tool.py does
$T_PY -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); i = b.index(b"myssid"); b[i] = ord("M"); open("badcrc.bin", "wb").write(b)' "$VEC/wifi_ota.bin"
t_expect_exit 0 "$OTAKIT" nvs show --partition badcrc.bin --json
t_check_eval "show --json: a string with a bad data CRC is listed" 'grep -q "\"Myssid\"" out.txt'
cp "$VEC/sample_val.bin" ro.bin
t_expect_exit 0 "$OTAKIT" nvs show --partition ro.bin
t_check_eval "reads do not write the file" 'cmp -s ro.bin "$VEC/sample_val.bin"'

# --- a flash image with a partition table ---------------------------------------------
"$OTAKIT" partition compile "${OTAKIT_VECTORS}/partition/partitions_two_ota.csv" pt.bin >/dev/null
"$OTAKIT" flash write flash.bin 0x8000 pt.bin --size 4MB >/dev/null
head -c 9000 /dev/urandom >rand.bin
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app count u32 42
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app neg i16 -300
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app hex u64 0xffffffffffffffff
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app url string "http://127.0.0.1:8070/hello-world.bin"
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app cfg hex2bin 00ff10
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app b64 base64 aGVsbG8=
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app big file rand.bin
t_expect_exit 0 "$OTAKIT" nvs set flash.bin wifi ssid string myssid
get_is "get what set stored (u32)" 42 flash.bin app count
get_is "get i16" -300 flash.bin app neg
get_is "get u64 set in hex" 18446744073709551615 flash.bin app hex
get_is "get string" "http://127.0.0.1:8070/hello-world.bin" flash.bin app url
get_is "get base64 blob" 68656c6c6f flash.bin app b64
t_expect_exit 0 "$OTAKIT" nvs get flash.bin app big
t_check_eval "get a 9000-byte blob over three pages" '[ "$(cat out.txt)" = "$(od -An -tx1 -v rand.bin | tr -d " \n")" ]'
t_expect_exit 0 "$OTAKIT" nvs get flash.bin app big --json
t_check_eval "get --json blob in base64" '[ "$($T_PY -c "import json,sys,base64; print(len(base64.b64decode(json.load(open(\"out.txt\"))[\"data\"])))")" = 9000 ]'
# the partition at 0x9000, 0x4000 bytes, as a bare file and by --offset/--size
"$OTAKIT" flash read flash.bin 0x9000 0x4000 part.bin >/dev/null
get_is "--partition reads the same" myssid part.bin wifi ssid --partition
get_is "--offset/--size reads the same" myssid flash.bin wifi ssid --offset 0x9000 --size 0x4000
# otakit's own writes, listed in nvs_tool.py's format: every value, chunks in page order
t_expect_exit 0 "$OTAKIT" nvs show flash.bin --json
cp out.txt mine.json
t_check_eval "own writes: listing records" '[ "$($T_PY -c "import json; print(len(json.load(open(\"mine.json\"))))")" -ge 10 ]'
t_check_eval "own writes: blob chunks add up to the blob" '[ "$($T_PY -c "
import json, base64
d = json.load(open(\"mine.json\"))
print(len(b\"\".join(base64.b64decode(r[\"data\"]) for r in d if r[\"key\"] == \"big\")))")" = 9000 ]'
t_check_eval "own writes: the listing holds the values" '$T_PY -c "
import json, sys
d = {(r[\"namespace\"], r[\"key\"]): r for r in json.load(open(\"mine.json\"))}
sys.exit(0 if d[(\"app\", \"count\")][\"data\"] == 42 and d[(\"app\", \"hex\")][\"data\"] == 2**64 - 1
         and d[(\"app\", \"neg\")][\"encoding\"] == \"int16_t\" and d[(\"wifi\", \"ssid\")][\"data\"] == \"myssid\" else 1)"'
# erase a key, a namespace, the partition
t_expect_exit 0 "$OTAKIT" nvs erase flash.bin app count
t_expect_exit 1 "$OTAKIT" nvs get flash.bin app count
t_check_eval "erased key: says so" 'grep -q "has no key \"count\"" err.txt'
t_expect_exit 0 "$OTAKIT" nvs get flash.bin app url
t_expect_exit 0 "$OTAKIT" nvs erase flash.bin app
t_expect_exit 1 "$OTAKIT" nvs get flash.bin app url
t_expect_exit 0 "$OTAKIT" nvs get flash.bin wifi ssid
t_expect_exit 0 "$OTAKIT" nvs erase flash.bin
t_check_eval "erase: the partition is blank" '"$OTAKIT" flash read flash.bin 0x9000 0x4000 blank.bin >/dev/null && [ "$(tr -d "\377" <blank.bin | wc -c)" = 0 ]'
t_check_eval "erase: the table is kept, the blank partition takes writes" '"$OTAKIT" nvs set flash.bin x y u8 1 && [ "$("$OTAKIT" nvs get flash.bin x y)" = 1 ]'
t_expect_exit 1 "$OTAKIT" nvs get flash.bin wifi ssid
t_check_eval "missing namespace: says so" 'grep -q "no namespace \"wifi\"" err.txt'

# --- failures and usage ------------------------------------------------------------------
t_expect_exit 0 "$OTAKIT" nvs --help
t_check_eval "--help: usage on stdout" 'grep -q "^usage: otakit nvs show" out.txt'
t_expect_exit 2 "$OTAKIT" nvs
t_expect_exit 2 "$OTAKIT" nvs frobnicate flash.bin
t_check_eval "unknown command named" 'grep -q "unknown command .frobnicate." err.txt'
t_expect_exit 2 "$OTAKIT" nvs get flash.bin app
t_expect_exit 2 "$OTAKIT" nvs show flash.bin --bogus
t_check_eval "unknown option named" 'grep -q "unknown option .--bogus." err.txt'
t_expect_exit 2 "$OTAKIT" nvs show flash.bin --offset 0x9000
t_check_eval "--offset needs --size" 'grep -q "go together" err.txt'
t_expect_exit 2 "$OTAKIT" nvs set flash.bin app x u8 256
t_check_eval "out of range value named" 'grep -q "not a u8" err.txt'
t_expect_exit 2 "$OTAKIT" nvs set flash.bin app x i8 -129
t_expect_exit 0 "$OTAKIT" nvs set flash.bin app x i8 -128
t_expect_exit 2 "$OTAKIT" nvs set flash.bin app x float 1.5
t_check_eval "unknown type named" 'grep -q "unknown type .float." err.txt'
t_expect_exit 2 "$OTAKIT" nvs set flash.bin app x hex2bin abc
t_check_eval "odd hex named" 'grep -q "multiple of 2" err.txt'
t_expect_exit 1 "$OTAKIT" nvs set flash.bin app 0123456789abcdef u8 1
t_check_eval "long key named" 'grep -q "ESP_ERR_NVS_KEY_TOO_LONG" err.txt'
t_expect_exit 1 "$OTAKIT" nvs show missing.bin
t_check_eval "missing file named" 'grep -q "missing.bin" err.txt'
t_expect_exit 1 "$OTAKIT" nvs show flash.bin --label nope
t_check_eval "missing partition named" 'grep -q "no data/nvs partition labelled \"nope\"" err.txt'
# a partition whose pages are all full: a device would not initialise it
"$OTAKIT" nvs gen "$VEC/wifi_ota.csv" full.bin 0x3000 >/dev/null
$T_PY -c "
import struct, zlib
b = bytearray(open('full.bin', 'rb').read())
for p in range(3):
    h = bytearray(b'\xff' * 32); struct.pack_into('<II', h, 0, 0xFFFFFFFC, 100 + p); h[8] = 0xFE
    struct.pack_into('<I', h, 28, zlib.crc32(bytes(h[4:28]), 0xFFFFFFFF))
    if b[p * 4096:p * 4096 + 4] == b'\xff' * 4: b[p * 4096:p * 4096 + 32] = h
open('full.bin', 'wb').write(b)"
t_expect_exit 1 "$OTAKIT" nvs set full.bin ota x u8 1 --partition
t_check_eval "no free page: ESP_ERR_NVS_NO_FREE_PAGES and the remedy" 'grep -q "ESP_ERR_NVS_NO_FREE_PAGES (erase it" err.txt'
t_expect_exit 0 "$OTAKIT" nvs show full.bin --partition
t_check_eval "no free page: show still lists it, with a warning" 'grep -q "warning" err.txt && grep -q "namespace ota" out.txt'
# gen errors
printf 'key,type,encoding,value\nns,namespace,,\nk,data,u8,300\n' >bad.csv
t_expect_exit 2 "$OTAKIT" nvs gen bad.csv bad.bin 0x3000
t_check_eval "gen: the line and the problem" 'grep -q "line 3: k: 300 is out of range for u8" err.txt'
t_check_eval "gen: no output on error" '[ ! -e bad.bin ]'
printf 'key,type,encoding,value\nk,data,u8,1\n' >nons.csv
t_expect_exit 2 "$OTAKIT" nvs gen nons.csv x.bin 0x3000
t_check_eval "gen: key before a namespace" 'grep -q "before any namespace" err.txt'
printf 'key,type,encoding,value\nns,namespace,,\nk,file,binary,nothere.bin\n' >nofile.csv
t_expect_exit 2 "$OTAKIT" nvs gen nofile.csv x.bin 0x3000
t_check_eval "gen: missing file named" 'grep -q "nothere.bin" err.txt'
t_expect_exit 2 "$OTAKIT" nvs gen "$VEC/wifi_ota.csv" x.bin 0x1800
t_check_eval "gen: size not in pages" 'grep -q "multiple of 4096" err.txt'
printf 'key,type,encoding,value\nns,namespace,,\n' >big.csv
for i in $(seq 1 300); do echo "k$i,data,u32,$i" >>big.csv; done
t_expect_exit 2 "$OTAKIT" nvs gen big.csv x.bin 0x3000
t_check_eval "gen: too small a partition" 'grep -q "too small" err.txt'
t_expect_exit 0 "$OTAKIT" nvs gen big.csv x.bin 0x5000
get_is "gen: 300 keys over three pages" 300 x.bin ns k300 --partition
# file rows are read relative to the current directory, as the generator does
printf 'hello' >payload.txt
printf 'key,type,encoding,value\nns,namespace,,\nf,file,string,payload.txt\nb,file,binary,payload.txt\n' >files.csv
t_expect_exit 0 "$OTAKIT" nvs gen files.csv files.bin 0x3000
get_is "gen: file row as a string" hello files.bin ns f --partition
get_is "gen: file row as a blob" 68656c6c6f files.bin ns b --partition
# a blob over 508000 bytes (the generator writes it; a device drops it at init)
head -c 508001 /dev/zero >huge.bin
printf 'key,type,encoding,value\nns,namespace,,\nb,file,binary,huge.bin\n' >huge.csv
t_expect_exit 2 "$OTAKIT" nvs gen huge.csv huge_out.bin 0x100000
t_check_eval "gen: a blob over 508000 bytes refused" 'grep -q "over the 508000 bytes" err.txt'
head -c 508000 /dev/zero >huge.bin
t_expect_exit 0 "$OTAKIT" nvs gen huge.csv huge_out.bin 0x100000
t_expect_exit 0 "$OTAKIT" nvs get huge_out.bin ns b --partition --json
t_check_eval "gen: a 508000-byte blob (128 chunks) reads back" '[ "$($T_PY -c "import json,base64; print(len(base64.b64decode(json.load(open(\"out.txt\"))[\"data\"])))")" = 508000 ]'

t_finish
