#!/usr/bin/env bash
# make fleet-screenshot: a PNG of otakit fleet serve's dashboard with a rollout in
# progress, for docs/fleet.md. DEVICES (default 200) virtual devices of `otakit fleet
# sim` are added, a rollout in three groups (1 %, 10 %, the rest) starts, the first two
# groups update under a fault mix, and the third runs for SIM_SECONDS (default 45)
# virtual seconds, so the rollout stops midway; then headless Chromium
# (tests/fleet/dashboard.py) logs in and saves the page.
#   usage: scripts/fleet-screenshot.sh BUILD_DIR OUT.png   (env: DEVICES, SIM_SECONDS)
set -euo pipefail
BUILD=${1:?usage: fleet-screenshot.sh BUILD_DIR OUT.png}
OUT=${2:?usage: fleet-screenshot.sh BUILD_DIR OUT.png}
DEVICES=${DEVICES:-200}
SIM_SECONDS=${SIM_SECONDS:-45}
SRC=$(cd "$(dirname "$0")/.." && pwd)
OTAKIT=$BUILD/otakit
for f in /usr/bin/chromium /usr/bin/chromedriver; do
  [[ -x $f ]] || { echo "fleet-screenshot: $f is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
tmp=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

printf '* fleet-screenshot-device-token\n' >"$tmp/devices.tok"
export OTAKIT_FLEET_TOKEN=fleet-screenshot-admin-token-0123456789
"$OTAKIT" fleet serve --port 0 --bind 127.0.0.1 --data-dir "$tmp/data" --poll-seconds 60 >"$tmp/fleet.out" 2>&1 &
server=$!
for _ in $(seq 1 400); do grep -q '^serving fleet on ' "$tmp/fleet.out" && break; sleep 0.05; done
url=$(sed -n 's/^serving fleet on \(http:\/\/[^ ]*\)\/ .*/\1/p' "$tmp/fleet.out")
[[ -n $url ]] || { echo "otakit fleet serve did not start:" >&2; cat "$tmp/fleet.out" >&2; exit 1; }
sim() { # sim N [options]: devices esp32-00000 .. N-1
  local n=$1
  shift
  "$BUILD/otakit-fleet-sim" --devices "$n" --server "$url" --token-file "$tmp/devices.tok" \
    --id-prefix esp32- --seed 7 "$@"
}
json() { /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# The devices in id order (a rollout takes them in the order they were added), in two
# groups (kitchen, garage) with a tag each.
for ((i = 0; i < DEVICES; i++)); do
  id=$(printf 'esp32-%05d' "$i")
  grp=kitchen
  ((i % 3 == 0)) && grp=garage
  "$OTAKIT" fleet device add "$id" --group "$grp" --tag "floor$((i % 2 + 1))" \
    --device-token fleet-screenshot-device-token --server "$url" >/dev/null
done
head -c $((0xEFF00)) /dev/zero | tr '\0' '\132' >"$tmp/prog.bin"
"$OTAKIT" image create --program "$tmp/prog.bin" --project sensor-node --version 2.1.0 \
  -o "$tmp/app.bin" >/dev/null
art=$("$OTAKIT" fleet upload "$tmp/app.bin" --server "$url" | json 'j["id"]')
r=$("$OTAKIT" fleet rollout create --name "spring update" --artifact "$art" \
  --groups 1%,10%,rest --success-threshold 75 --error-threshold 40 --server "$url" |
  json 'j["id"]')
"$OTAKIT" fleet rollout start "$r" --server "$url" >/dev/null
# The first two groups (1 % and 10 %: the first 22 devices) to the end, then every
# device for SIM_SECONDS: the third group stops midway. Virtual time: the same seed
# gives the same picture.
sim 22 --faults cut=0.05,selftest=0.1 --json >"$tmp/sim1.json"
sim "$DEVICES" --faults cut=0.05,link=0.1,selftest=0.04 --first-poll 60 --duration "$SIM_SECONDS" \
  --json >"$tmp/sim2.json" || true # stopped midway on purpose
"$OTAKIT" fleet rollout show "$r" --server "$url" |
  json '"rollout %s: %s, groups %s" % (j["id"], j["status"], [(g["finished"], g["error"], g["open"]) for g in j["groups"]])'
/usr/bin/python3 "$SRC/tests/fleet/dashboard.py" screenshot "$url/" "$OTAKIT_FLEET_TOKEN" "$OUT"
echo "fleet-screenshot: $OUT"
