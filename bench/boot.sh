#!/usr/bin/env bash
# bench/boot: power-on to app_main on the virtual device, in real time: `otakit device run
# --until "Calling app_main()"` on a flash written from the build (the ROM stage checks
# and runs the bootloader, the bootloader picks and checks the app and runs it, the app
# prints its start-up lines), against /bin/true in the same rounds. Also the CPU time
# the three programs use (bench/timing.py).
#   OTAKIT=build/otakit OTAKIT_BUILD=build bash bench/boot.sh   (make bench sets them)
#   BENCH_ROUNDS=40   interleaved rounds; each row gives median, min and max
#   OTAKIT_BASELINE_BUILD=/path/to/other/build   adds that build's boot (its otakit and
#                     its firmware on a flash of its own) as a row, to measure a change
set -euo pipefail

OTAKIT=${OTAKIT:-build/otakit}
B=$(realpath "${OTAKIT_BUILD:-$(dirname "$OTAKIT")}")
ROUNDS=${BENCH_ROUNDS:-40}
BASELINE=${OTAKIT_BASELINE_BUILD:-}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

if [[ ! -x $PY ]]; then
  echo "bench/boot: $PY is missing (scripts/setup.sh installs it); skipped" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# flash_for BUILD FILE: a flash file with what BUILD/flash_args lists (make flash's
# layout: bootloader, partition table, blank otadata, the factory app)
flash_for() {
  local build=$1 file=$2 off bin
  "$build/otakit" flash erase "$file" --size 4MB >/dev/null
  while read -r off bin; do
    "$build/otakit" flash write "$file" "$off" "$bin" >/dev/null
  done <"$build/flash_args"
}

flash_for "$B" "$tmp/flash.bin"
run=(device run --until "Calling app_main()" --no-log --quiet)
app=$(awk '$1 == "0x10000" {print $2}' "$B/flash_args")
echo "bench/boot: the flash holds $(basename "$app"); power-on until \"Calling app_main()\""
cmds=$(
  "$PY" - "$B/otakit" "$tmp/flash.bin" "$BASELINE" "$tmp" "${run[@]}" <<'PYEOF'
import json, sys
otakit, flash, baseline, tmp, run = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
cmds = [{"name": "/bin/true", "argv": ["/bin/true"]},
        {"name": "otakit device run", "argv": [otakit] + run[:2] + ["--flash", flash] + run[2:]}]
if baseline:
    cmds.append({"name": "baseline device run",
                 "argv": [baseline + "/otakit"] + run[:2] + ["--flash", tmp + "/baseline.bin"] + run[2:]})
print(json.dumps(cmds))
PYEOF
)
if [[ -n $BASELINE ]]; then
  flash_for "$BASELINE" "$tmp/baseline.bin"
fi
cat >"$tmp/spec.json" <<SPEC
{"title": "bench/boot: power-on to app_main", "rounds": $ROUNDS, "warmup": 2,
 "reference": "/bin/true", "commands": $cmds,
 "target": "otakit device run <= 20 ms median real time, power-on to app_main (no reference)"}
SPEC
"$PY" "$HERE/timing.py" "$tmp/spec.json"
