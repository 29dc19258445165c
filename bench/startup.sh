#!/usr/bin/env bash
# bench/startup: how long a short otakit command takes from exec to exit, against
# /bin/true (the floor: exec and exit of a program that does nothing) in the same run,
# and which shared libraries each program loads at start. The format commands (image,
# partition, otadata, flash, boot) should cost little more than /bin/true; every shared
# library a program names costs its start-up, which is why otakit itself does not link
# libmicrohttpd or libcurl (tools/serve_exec.c, src/esp/curl_lazy.c).
#   OTAKIT=build/otakit OTAKIT_BUILD=build bash bench/startup.sh   (make bench sets them)
#   BENCH_ROUNDS=60   interleaved rounds (each command once per round); each row gives
#                     median, min and max
#   OTAKIT_BASELINE=/path/to/other/otakit   adds that build's commands as rows (an older
#                     commit, to measure a change in the same run)
set -euo pipefail

OTAKIT=${OTAKIT:-build/otakit}
B=$(realpath "${OTAKIT_BUILD:-$(dirname "$OTAKIT")}")
ROUNDS=${BENCH_ROUNDS:-60}
BASELINE=${OTAKIT_BASELINE:-}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

if [[ ! -x $PY ]]; then
  echo "bench/startup: $PY is missing (scripts/setup.sh installs it); skipped" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

OTAKIT=$(realpath "$OTAKIT")
app=$B/hello-world.bin
csv=$tmp/partitions.csv
printf '%s\n' '# Name, Type, SubType, Offset, Size, Flags' 'nvs, data, nvs, 0x9000, 0x4000,' \
  'otadata, data, ota, 0xd000, 0x2000,' 'phy_init, data, phy, 0xf000, 0x1000,' \
  'factory, app, factory, 0x10000, 1M,' 'ota_0, app, ota_0, , 1M,' 'ota_1, app, ota_1, , 1M,' >"$csv"
flash=$tmp/flash.bin
"$OTAKIT" flash erase "$flash" --size 4MB >/dev/null
while read -r off file; do
  "$OTAKIT" flash write "$flash" "$off" "$file" >/dev/null
done <"$B/flash_args"

# rows: name, then the command's words; NAME_OF is the tool's label in the names
rows() {
  local tool=$1 label=$2
  cat <<ROWS
$label --help|$tool --help
$label image info|$tool image info $app
$label partition compile|$tool partition compile $csv $tmp/out-$label.bin
$label otadata show|$tool otadata show $flash
$label flash info|$tool flash info $flash
$label boot --dry-run|$tool boot $flash --dry-run
ROWS
}
{
  echo "/bin/true|/bin/true"
  rows "$OTAKIT" otakit
  if [[ -n $BASELINE ]]; then
    rows "$(realpath "$BASELINE")" baseline
  fi
} >"$tmp/rows.txt"

"$PY" - "$tmp/rows.txt" "$ROUNDS" >"$tmp/spec.json" <<'PYEOF'
import json, sys
cmds = []
for line in open(sys.argv[1]):
    name, argv = line.rstrip("\n").split("|", 1)
    cmds.append({"name": name, "argv": argv.split()})
print(json.dumps({"title": "bench/startup: exec to exit", "rounds": int(sys.argv[2]),
                  "warmup": 3, "reference": "/bin/true", "commands": cmds,
                  "target": "the format commands (--help, image, partition, otadata, flash, boot) <= 2x /bin/true"}))
PYEOF
"$PY" "$HERE/timing.py" "$tmp/spec.json"

echo
echo "shared libraries each program loads at start (ldd):"
printf '%-34s %5s  %s\n' program count "libraries (past libc and the loader)"
for p in "$OTAKIT" "$(dirname "$OTAKIT")/otakit-serve" "$B/projects/native_ota_example/otakit-host/firmware/bootloader/bootloader" \
  "$B/projects/hello_world/hello_world.elf" "$B/projects/native_ota_example/native_ota.elf"; do
  [[ -x $p ]] || continue
  libs=$(ldd "$p" | awk '{print $1}' | grep -v -E '^(linux-vdso|/lib64/ld-linux|libc\.so)' || true)
  printf '%-34s %5s  %s\n' "${p#"$B"/}" "$(wc -w <<<"$libs")" "$(tr '\n' ' ' <<<"$libs" | cut -c1-90)"
done
