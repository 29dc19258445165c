#!/usr/bin/env bash
# otakit partition: exit codes, --help, byte-exact compile of ESP-IDF's tables, show,
# JSON output, stdout output and the wording of errors.
set -euo pipefail
: "${OTAKIT:?path of the otakit binary}" "${OTAKIT_VECTORS:?path of the vectors}"
V="$OTAKIT_VECTORS/partition"
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"

# --help everywhere, usage on stdout
for args in "--help" "-h" "compile --help" "show --help" "compile a.csv b.bin --help"; do
  # shellcheck disable=SC2086
  t_expect_exit 0 "$OTAKIT" partition $args
  t_expect_has "$T/out.txt" "usage: otakit partition compile"
done

# usage errors: exit 2 and a message on stderr
t_expect_exit 2 "$OTAKIT" partition
t_expect_has "$T/err.txt" "missing command"
t_expect_exit 2 "$OTAKIT" partition frobnicate x
t_expect_has "$T/err.txt" "unknown command 'frobnicate'"
t_expect_exit 2 "$OTAKIT" partition compile only_one_arg.csv
t_expect_exit 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" "$T/x.bin" --bogus
t_expect_has "$T/err.txt" "unknown option '--bogus'"
t_expect_exit 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" "$T/x.bin" --offset
t_expect_exit 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" "$T/x.bin" --flash-size 4GiB
t_expect_has "$T/err.txt" "--flash-size"
t_expect_exit 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" - --json
t_expect_exit 2 "$OTAKIT" partition show "$T/does-not-exist.bin"
t_expect_has "$T/err.txt" "does-not-exist.bin"
[[ ! -e "$T/x.bin" ]] && t_ok || t_fail "a failed compile left $T/x.bin"

# every ESP-IDF vector compiles byte for byte, to a file and to stdout, and round-trips
for csv in "$V"/*.csv; do
  bin="${csv%.csv}.bin"
  name=$(basename "$csv" .csv)
  t_expect_exit 0 "$OTAKIT" partition compile "$csv" "$T/$name.bin" --flash-size 4MB
  cmp -s "$T/$name.bin" "$bin" && t_ok || t_fail "$name: compiled table differs"
  "$OTAKIT" partition compile "$csv" - >"$T/$name.stdout.bin"
  cmp -s "$T/$name.stdout.bin" "$bin" && t_ok || t_fail "$name: stdout output differs"
  t_expect_exit 0 "$OTAKIT" partition show "$bin"
  cp "$T/out.txt" "$T/$name.shown.csv"
  t_expect_has "$T/$name.shown.csv" "# ESP-IDF Partition Table"
  t_expect_exit 0 "$OTAKIT" partition compile "$T/$name.shown.csv" "$T/$name.again.bin"
  cmp -s "$T/$name.again.bin" "$bin" && t_ok || t_fail "$name: compile(show(bin)) differs"
done

# show prints gen_esp32part.py's CSV
cat >"$T/want.csv" <<'EOF'
# ESP-IDF Partition Table
# Name, Type, SubType, Offset, Size, Flags
nvs,data,nvs,0x9000,16K,
otadata,data,ota,0xd000,8K,
phy_init,data,phy,0xf000,4K,
factory,app,factory,0x10000,1M,
ota_0,app,ota_0,0x110000,1M,
ota_1,app,ota_1,0x210000,1M,
EOF
t_expect_exit 0 "$OTAKIT" partition show "$V/partitions_two_ota.bin"
cmp -s "$T/out.txt" "$T/want.csv" && t_ok || t_fail "show two_ota: $(cat "$T/out.txt")"
# show of a CSV: resolved, same text
t_expect_exit 0 "$OTAKIT" partition show "$V/partitions_two_ota.csv"
cmp -s "$T/out.txt" "$T/want.csv" && t_ok || t_fail "show two_ota.csv: $(cat "$T/out.txt")"

# --json
t_expect_exit 0 "$OTAKIT" partition show --json "$V/partitions_two_ota_encr_nvs.bin"
t_expect_json 'j["md5_valid"] is True and j["md5"] == "76d509eedec6b9850fadba48faf3a90c" and len(j["partitions"]) == 7' "$T/out.txt" 'j["md5_valid"] is True and j["md5"] == "76d509eedec6b9850fadba48faf3a90c" and len(j["partitions"]) == 7'
t_expect_json 'j["partitions"][6] == {"name": "nvs_key", "type": "data", "subtype": "nvs_keys", "type_id": 1, "subtype_id": 4, "offset": 0x310000, "size": 0x1000, "flags": ["encrypted"], "flags_value": 1}' "$T/out.txt" 'j["partitions"][6] == {"name": "nvs_key", "type": "data", "subtype": "nvs_keys", "type_id": 1, "subtype_id": 4, "offset": 0x310000, "size": 0x1000, "flags": ["encrypted"], "flags_value": 1}'
t_expect_json 'j["partitions"][0]["offset"] == 0x9000 and j["partitions"][3]["type"] == "app" and j["format"] == "binary"' "$T/out.txt" 'j["partitions"][0]["offset"] == 0x9000 and j["partitions"][3]["type"] == "app" and j["format"] == "binary"'
[[ $(wc -l <"$T/out.txt") -eq 1 ]] && t_ok || t_fail "--json printed more than one line"
t_expect_exit 0 "$OTAKIT" partition compile --json "$V/partitions_two_ota.csv" "$T/j.bin"
t_expect_json 'j["output"].endswith("j.bin") and j["size"] == 3072 and j["file_md5"] == "9f94bf1e89f37d80f4310d5af19a6e59"' "$T/out.txt" 'j["output"].endswith("j.bin") and j["size"] == 3072 and j["file_md5"] == "9f94bf1e89f37d80f4310d5af19a6e59"'
t_expect_json 'j["md5"] == "bf25822c0fa6d8641bd930251e06b4c4" and j["partitions"][5]["name"] == "ota_1" and j["partitions"][5]["line"] == 8' "$T/out.txt" 'j["md5"] == "bf25822c0fa6d8641bd930251e06b4c4" and j["partitions"][5]["name"] == "ota_1" and j["partitions"][5]["line"] == 8'
t_expect_exit 0 "$OTAKIT" partition compile --json --disable-md5 "$V/partitions_two_ota.csv" "$T/nomd5.bin"
t_expect_json 'j["md5"] is None' "$T/out.txt" 'j["md5"] is None'
t_expect_exit 0 "$OTAKIT" partition show --json "$T/nomd5.bin"
t_expect_json 'j["md5"] is None and j["md5_valid"] is False and j["count"] == 6' "$T/out.txt" 'j["md5"] is None and j["md5_valid"] is False and j["count"] == 6'

# --offset moves the first free address
printf 'nvs, data, nvs, , 0x4000\n' >"$T/one.csv"
t_expect_exit 0 "$OTAKIT" partition compile --offset 0x10000 "$T/one.csv" "$T/one.bin"
t_expect_exit 0 "$OTAKIT" partition show "$T/one.bin"
t_expect_has "$T/out.txt" "nvs,data,nvs,0x11000,16K,"

# CSV errors: exit 2, "otakit: FILE:LINE: problem", and no output file
printf '# comment\nnvs, data, nvs, , 0x4000\nphy, data, phy, 0xC000, 0x1000\n' >"$T/overlap.csv"
t_expect_exit 2 "$OTAKIT" partition compile "$T/overlap.csv" "$T/overlap.bin"
t_expect_has "$T/err.txt" "otakit: $T/overlap.csv:3: Partitions overlap. Partition sets offset 0xc000. Previous partition ends 0xd000"
[[ ! -e "$T/overlap.bin" ]] && t_ok || t_fail "overlap.bin was written"
printf 'nvs, data, nvs, , 0x4000, secret\n' >"$T/flag.csv"
t_expect_exit 2 "$OTAKIT" partition compile "$T/flag.csv" "$T/flag.bin"
t_expect_has "$T/err.txt" "flag.csv:1: CSV flag column contains unknown flag 'secret'"
t_expect_exit 2 "$OTAKIT" partition compile --flash-size 2MB "$V/partitions_two_ota.csv" "$T/big.bin"
t_expect_has "$T/err.txt" "partitions_two_ota.csv:8: Partitions tables occupies 3.1MB of flash (3211264 bytes) which does not fit in configured flash size 2MB."
# an existing output is left alone on error
printf 'keep' >"$T/keep.bin"
t_expect_exit 2 "$OTAKIT" partition compile "$T/flag.csv" "$T/keep.bin"
[[ $(cat "$T/keep.bin") == keep ]] && t_ok || t_fail "keep.bin was overwritten"
# unknown variable
printf '$OTAKIT_SURELY_UNSET_VAR, data, nvs, , 0x4000\n' >"$T/var.csv"
t_expect_exit 2 env -u OTAKIT_SURELY_UNSET_VAR "$OTAKIT" partition compile "$T/var.csv" "$T/var.bin"
t_expect_has "$T/err.txt" "var.csv:1: unknown variable 'OTAKIT_SURELY_UNSET_VAR'"
printf '$OTAKIT_P_NAME, data, nvs, , $OTAKIT_P_SIZE\n' >"$T/var2.csv"
t_expect_exit 0 env OTAKIT_P_NAME=store OTAKIT_P_SIZE=0x5000 "$OTAKIT" partition show "$T/var2.csv"
t_expect_has "$T/out.txt" "store,data,nvs,0x9000,20K,"
# too many partitions for the MD5 record
for i in $(seq 0 94); do echo "p$i, data, 0x40, , 0x1000"; done >"$T/95.csv"
t_expect_exit 2 "$OTAKIT" partition compile "$T/95.csv" "$T/95.bin"
t_expect_has "$T/err.txt" "95.csv:95: Binary partition table length (3072) longer than max"
t_expect_exit 0 "$OTAKIT" partition compile --disable-md5 "$T/95.csv" "$T/95.bin"

# binary errors name the offset
head -c 100 "$V/partitions_two_ota.bin" >"$T/trunc.bin"
t_expect_exit 2 "$OTAKIT" partition show "$T/trunc.bin"
t_expect_has "$T/err.txt" "trunc.bin: offset 0x60: partition table length must be a multiple of 32 bytes"
cp "$V/partitions_two_ota.bin" "$T/badmd5.bin"
t_patch "$T/badmd5.bin" 0xD0 '\x00'
t_expect_exit 2 "$OTAKIT" partition show "$T/badmd5.bin"
t_expect_has "$T/err.txt" "badmd5.bin: offset 0xc0: incorrect MD5 checksum"
t_expect_exit 2 "$OTAKIT" partition show --flash-size 2MB "$V/partitions_two_ota.bin"
t_expect_has "$T/err.txt" "offset 0x80: partition exceeds flash chip size"
head -c 3072 /dev/zero | tr '\0' '\377' >"$T/empty.bin"
t_expect_exit 2 "$OTAKIT" partition show "$T/empty.bin"
t_expect_has "$T/err.txt" "empty.bin: offset 0x0:"
# compile of a binary: a clear error
t_expect_exit 2 "$OTAKIT" partition compile "$V/partitions_two_ota.bin" "$T/y.bin"
t_expect_has "$T/err.txt" "is a binary partition table"

t_finish
