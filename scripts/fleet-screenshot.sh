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
OUT=$(realpath -m "${2:?usage: fleet-screenshot.sh BUILD_DIR OUT.png}")
DEVICES=${DEVICES:-200}
SIM_SECONDS=${SIM_SECONDS:-45}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
for f in /usr/bin/chromium /usr/bin/chromedriver; do
  [[ -x $f ]] || { echo "fleet-screenshot: $f is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
# The fleet tests' server handling (a temporary directory $T, the server stopped at exit).
export OTAKIT=$BUILD/otakit OTAKIT_BUILD=$BUILD OTAKIT_SRC=$SRC
export OTAKIT_VECTORS=$SRC/tests/vectors/data
# shellcheck source=tests/fleet/common.bash
source "$SRC/tests/fleet/common.bash"
start_fleet main --data-dir "$T/data" --poll-seconds 60
printf '* fleet-screenshot-device-token\n' >"$T/devices.tok"
sim() { # sim N [options]: devices esp32-00000 .. N-1
  local n=$1
  shift
  "$BUILD/otakit-fleet-sim" --devices "$n" --server "$FURL" --token-file "$T/devices.tok" \
    --id-prefix esp32- --seed 7 "$@"
}

# The devices in id order (a rollout takes them in the order they were added), in two
# groups (kitchen, garage) with a tag each.
for ((i = 0; i < DEVICES; i++)); do
  id=$(printf 'esp32-%05d' "$i")
  grp=kitchen
  ((i % 3 == 0)) && grp=garage
  fleet device add "$id" --group "$grp" --tag "floor$((i % 2 + 1))" \
    --device-token fleet-screenshot-device-token >/dev/null
done
head -c $((0xEFF00)) /dev/zero | tr '\0' '\132' >"$T/prog.bin"
"$OTAKIT" image create --program "$T/prog.bin" --project sensor-node --version 2.1.0 \
  -o "$T/app.bin" >/dev/null
art=$(fleet upload "$T/app.bin" | json 'j["id"]')
r=$(fleet rollout create --name "spring update" --artifact "$art" --groups 1%,10%,rest \
  --success-threshold 70 --error-threshold 40 | json 'j["id"]')
fleet rollout start "$r" >/dev/null
# The first two groups (1 % and 10 %: the first 22 devices) to the end, then every
# device for SIM_SECONDS: the third group stops midway. Virtual time and one seed: runs
# give nearly the same picture.
sim 22 --faults cut=0.05,selftest=0.05 --json >"$T/sim1.json"
sim "$DEVICES" --faults cut=0.05,link=0.1,selftest=0.04 --first-poll 60 --duration "$SIM_SECONDS" \
  --json >"$T/sim2.json" || true # stopped midway on purpose
fleet rollout show "$r" |
  json '"rollout %s: %s, groups %s" % (j["id"], j["status"], [(g["finished"], g["error"], g["open"]) for g in j["groups"]])'
/usr/bin/python3 "$SRC/tests/fleet/dashboard.py" screenshot "$FURL/" "$ADMIN" "$OUT"
echo "fleet-screenshot: $OUT"
