#!/usr/bin/env bash
# bench/tools: otakit's format commands against the Espressif tools they stand in for,
# in the same rounds: `otakit image info` vs `esptool.py image_info --version 2` (the
# same report, line for line) on the build's app image, and `otakit partition compile`
# vs ESP-IDF's `gen_esp32part.py` on firmware/partition_table/partitions_two_ota.csv.
# Neither Espressif tool is a Debian package or part of this repository: give them with
#   ESPTOOL=/path/to/esptool.py           (esptool v4, needs python3-serial, -ecdsa, ...)
#   GEN_ESP32PART=/path/to/gen_esp32part.py   (or IDF_PATH=/path/to/esp-idf)
# and a row whose tool is missing is skipped (said so). docs/performance.md shows how to
# take both from a checkout of their repositories.
#   OTAKIT=build/otakit OTAKIT_BUILD=build bash bench/tools.sh   (make bench sets them)
#   BENCH_ROUNDS=20   interleaved rounds; each row gives median, min and max
set -euo pipefail

OTAKIT=$(realpath "${OTAKIT:-build/otakit}")
B=$(realpath "${OTAKIT_BUILD:-$(dirname "$OTAKIT")}")
ROUNDS=${BENCH_ROUNDS:-20}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
ESPTOOL=${ESPTOOL:-}
GEN=${GEN_ESP32PART:-}
if [[ -z $GEN && -n ${IDF_PATH:-} && -f $IDF_PATH/components/partition_table/gen_esp32part.py ]]; then
  GEN=$IDF_PATH/components/partition_table/gen_esp32part.py
fi

if [[ ! -x $PY ]]; then
  echo "bench/tools: $PY is missing (scripts/setup.sh installs it); skipped" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

app=$B/hello-world.bin
csv=$SRC/firmware/partition_table/partitions_two_ota.csv
rows=("otakit image info|$OTAKIT image info $app|esptool.py image_info"
  "otakit partition compile|$OTAKIT partition compile $csv $tmp/otakit.bin|gen_esp32part.py")
if [[ -n $ESPTOOL && -f $ESPTOOL ]] && "$PY" "$ESPTOOL" version >/dev/null 2>&1; then
  rows+=("esptool.py image_info|$PY $ESPTOOL image_info --version 2 $app|")
else
  echo "bench/tools: esptool.py not given (ESPTOOL=/path/to/esptool.py) or not runnable: its row is skipped"
  rows[0]="${rows[0]%|*}|"
fi
if [[ -n $GEN && -f $GEN ]]; then
  rows+=("gen_esp32part.py|$PY $GEN --quiet $csv $tmp/gen.bin|")
else
  echo "bench/tools: gen_esp32part.py not given (GEN_ESP32PART=... or IDF_PATH=...): its row is skipped"
  rows[1]="${rows[1]%|*}|"
fi

printf '%s\n' "${rows[@]}" >"$tmp/rows.txt"
"$PY" - "$tmp/rows.txt" "$ROUNDS" >"$tmp/spec.json" <<'PYEOF'
import json, sys
cmds = []
for line in open(sys.argv[1]):
    name, argv, ref = line.rstrip("\n").split("|")
    c = {"name": name, "argv": argv.split()}
    if ref:
        c["reference"] = ref
    cmds.append(c)
print(json.dumps({"title": "bench/tools: otakit vs Espressif's tools", "rounds": int(sys.argv[2]),
                  "warmup": 2, "commands": cmds,
                  "target": "otakit image info <= 0.05x esptool.py image_info; otakit partition compile <= 0.05x gen_esp32part.py"}))
PYEOF
"$PY" "$HERE/timing.py" "$tmp/spec.json"
if [[ -n $GEN && -f $GEN ]]; then
  cmp -s "$tmp/otakit.bin" "$tmp/gen.bin" && echo "(the two partition tables are byte-identical)" ||
    echo "bench/tools: otakit's and gen_esp32part.py's partition tables differ" >&2
fi
