#!/usr/bin/env bash
# otakit partition: exit codes, --help, byte-exact compile of ESP-IDF's tables, show,
# JSON output, stdout output and the wording of errors.
set -euo pipefail
: "${OTAKIT:?path of the otakit binary}" "${OTAKIT_VECTORS:?path of the vectors}"
V="$OTAKIT_VECTORS/partition"
T=$(mktemp -d)
# Debian's python3 (a pyenv shim in front of it can take a second per call)
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
trap 'rm -rf "$T"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
  echo "FAIL: $*" >&2
  fail=$((fail + 1))
}

# run WANT_RC cmd...: stdout in $T/out, stderr in $T/err
run() {
  local want=$1 rc=0
  shift
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [[ $rc -eq $want ]]; then ok; else bad "exit $rc, wanted $want: $* ($(head -c 300 "$T/err"))"; fi
}
# has FILE TEXT: FILE contains TEXT (fixed string)
has() {
  if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks '$2': $(head -c 300 "$1")"; fi
}
# json_check PYTHON_EXPR: $T/out is one JSON object j for which the expression is true
json_check() {
  if "$PY" -c 'import json,sys
j = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1"; then ok; else bad "json: $1: $(head -c 300 "$T/out")"; fi
}

# --help everywhere, usage on stdout
for args in "--help" "-h" "compile --help" "show --help" "compile a.csv b.bin --help"; do
  # shellcheck disable=SC2086
  run 0 "$OTAKIT" partition $args
  has "$T/out" "usage: otakit partition compile"
done

# usage errors: exit 2 and a message on stderr
run 2 "$OTAKIT" partition
has "$T/err" "missing command"
run 2 "$OTAKIT" partition frobnicate x
has "$T/err" "unknown command 'frobnicate'"
run 2 "$OTAKIT" partition compile only_one_arg.csv
run 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" "$T/x.bin" --bogus
has "$T/err" "unknown option '--bogus'"
run 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" "$T/x.bin" --offset
run 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" "$T/x.bin" --flash-size 4GiB
has "$T/err" "--flash-size"
run 2 "$OTAKIT" partition compile "$V/partitions_two_ota.csv" - --json
run 2 "$OTAKIT" partition show "$T/does-not-exist.bin"
has "$T/err" "does-not-exist.bin"
[[ ! -e "$T/x.bin" ]] && ok || bad "a failed compile left $T/x.bin"

# every ESP-IDF vector compiles byte for byte, to a file and to stdout, and round-trips
for csv in "$V"/*.csv; do
  bin="${csv%.csv}.bin"
  name=$(basename "$csv" .csv)
  run 0 "$OTAKIT" partition compile "$csv" "$T/$name.bin" --flash-size 4MB
  cmp -s "$T/$name.bin" "$bin" && ok || bad "$name: compiled table differs"
  "$OTAKIT" partition compile "$csv" - >"$T/$name.stdout.bin"
  cmp -s "$T/$name.stdout.bin" "$bin" && ok || bad "$name: stdout output differs"
  run 0 "$OTAKIT" partition show "$bin"
  cp "$T/out" "$T/$name.shown.csv"
  has "$T/$name.shown.csv" "# ESP-IDF Partition Table"
  run 0 "$OTAKIT" partition compile "$T/$name.shown.csv" "$T/$name.again.bin"
  cmp -s "$T/$name.again.bin" "$bin" && ok || bad "$name: compile(show(bin)) differs"
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
run 0 "$OTAKIT" partition show "$V/partitions_two_ota.bin"
cmp -s "$T/out" "$T/want.csv" && ok || bad "show two_ota: $(cat "$T/out")"
# show of a CSV: resolved, same text
run 0 "$OTAKIT" partition show "$V/partitions_two_ota.csv"
cmp -s "$T/out" "$T/want.csv" && ok || bad "show two_ota.csv: $(cat "$T/out")"

# --json
run 0 "$OTAKIT" partition show --json "$V/partitions_two_ota_encr_nvs.bin"
json_check 'j["md5_valid"] is True and j["md5"] == "76d509eedec6b9850fadba48faf3a90c" and len(j["partitions"]) == 7'
json_check 'j["partitions"][6] == {"name": "nvs_key", "type": "data", "subtype": "nvs_keys", "type_id": 1, "subtype_id": 4, "offset": 0x310000, "size": 0x1000, "flags": ["encrypted"], "flags_value": 1}'
json_check 'j["partitions"][0]["offset"] == 0x9000 and j["partitions"][3]["type"] == "app" and j["format"] == "binary"'
[[ $(wc -l <"$T/out") -eq 1 ]] && ok || bad "--json printed more than one line"
run 0 "$OTAKIT" partition compile --json "$V/partitions_two_ota.csv" "$T/j.bin"
json_check 'j["output"].endswith("j.bin") and j["size"] == 3072 and j["file_md5"] == "9f94bf1e89f37d80f4310d5af19a6e59"'
json_check 'j["md5"] == "bf25822c0fa6d8641bd930251e06b4c4" and j["partitions"][5]["name"] == "ota_1" and j["partitions"][5]["line"] == 8'
run 0 "$OTAKIT" partition compile --json --disable-md5 "$V/partitions_two_ota.csv" "$T/nomd5.bin"
json_check 'j["md5"] is None'
run 0 "$OTAKIT" partition show --json "$T/nomd5.bin"
json_check 'j["md5"] is None and j["md5_valid"] is False and j["count"] == 6'

# --offset moves the first free address
printf 'nvs, data, nvs, , 0x4000\n' >"$T/one.csv"
run 0 "$OTAKIT" partition compile --offset 0x10000 "$T/one.csv" "$T/one.bin"
run 0 "$OTAKIT" partition show "$T/one.bin"
has "$T/out" "nvs,data,nvs,0x11000,16K,"

# CSV errors: exit 2, "otakit: FILE:LINE: problem", and no output file
printf '# comment\nnvs, data, nvs, , 0x4000\nphy, data, phy, 0xC000, 0x1000\n' >"$T/overlap.csv"
run 2 "$OTAKIT" partition compile "$T/overlap.csv" "$T/overlap.bin"
has "$T/err" "otakit: $T/overlap.csv:3: Partitions overlap. Partition sets offset 0xc000. Previous partition ends 0xd000"
[[ ! -e "$T/overlap.bin" ]] && ok || bad "overlap.bin was written"
printf 'nvs, data, nvs, , 0x4000, secret\n' >"$T/flag.csv"
run 2 "$OTAKIT" partition compile "$T/flag.csv" "$T/flag.bin"
has "$T/err" "flag.csv:1: CSV flag column contains unknown flag 'secret'"
run 2 "$OTAKIT" partition compile --flash-size 2MB "$V/partitions_two_ota.csv" "$T/big.bin"
has "$T/err" "partitions_two_ota.csv:8: Partitions tables occupies 3.1MB of flash (3211264 bytes) which does not fit in configured flash size 2MB."
# an existing output is left alone on error
printf 'keep' >"$T/keep.bin"
run 2 "$OTAKIT" partition compile "$T/flag.csv" "$T/keep.bin"
[[ $(cat "$T/keep.bin") == keep ]] && ok || bad "keep.bin was overwritten"
# unknown variable
printf '$OTAKIT_SURELY_UNSET_VAR, data, nvs, , 0x4000\n' >"$T/var.csv"
run 2 env -u OTAKIT_SURELY_UNSET_VAR "$OTAKIT" partition compile "$T/var.csv" "$T/var.bin"
has "$T/err" "var.csv:1: unknown variable 'OTAKIT_SURELY_UNSET_VAR'"
printf '$OTAKIT_P_NAME, data, nvs, , $OTAKIT_P_SIZE\n' >"$T/var2.csv"
run 0 env OTAKIT_P_NAME=store OTAKIT_P_SIZE=0x5000 "$OTAKIT" partition show "$T/var2.csv"
has "$T/out" "store,data,nvs,0x9000,20K,"
# too many partitions for the MD5 record
for i in $(seq 0 94); do echo "p$i, data, 0x40, , 0x1000"; done >"$T/95.csv"
run 2 "$OTAKIT" partition compile "$T/95.csv" "$T/95.bin"
has "$T/err" "95.csv:95: Binary partition table length (3072) longer than max"
run 0 "$OTAKIT" partition compile --disable-md5 "$T/95.csv" "$T/95.bin"

# binary errors name the offset
head -c 100 "$V/partitions_two_ota.bin" >"$T/trunc.bin"
run 2 "$OTAKIT" partition show "$T/trunc.bin"
has "$T/err" "trunc.bin: offset 0x60: partition table length must be a multiple of 32 bytes"
cp "$V/partitions_two_ota.bin" "$T/badmd5.bin"
printf '\x00' | dd of="$T/badmd5.bin" bs=1 seek=$((0xD0)) conv=notrunc 2>/dev/null
run 2 "$OTAKIT" partition show "$T/badmd5.bin"
has "$T/err" "badmd5.bin: offset 0xc0: incorrect MD5 checksum"
run 2 "$OTAKIT" partition show --flash-size 2MB "$V/partitions_two_ota.bin"
has "$T/err" "offset 0x80: partition exceeds flash chip size"
head -c 3072 /dev/zero | tr '\0' '\377' >"$T/empty.bin"
run 2 "$OTAKIT" partition show "$T/empty.bin"
has "$T/err" "empty.bin: offset 0x0:"
# compile of a binary: a clear error
run 2 "$OTAKIT" partition compile "$V/partitions_two_ota.bin" "$T/y.bin"
has "$T/err" "is a binary partition table"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
