#!/usr/bin/env bash
# make fleet-scale: a whole rollout of a 1 MiB image to DEVICES (default 10000) virtual
# devices in one `otakit fleet sim` process, with a fault mix, against `otakit fleet
# serve` (SQLite; devices register on their first poll with a gateway token). Prints the
# simulator's summary and what the run cost: wall time, requests/s, CPU and peak RSS of
# the simulator and of the server. Exits 1 when a device bricked or did not finish.
#   usage: scripts/fleet-scale.sh BUILD_DIR   (env: DEVICES, FAULTS, CONCURRENCY)
set -euo pipefail
BUILD=${1:?usage: fleet-scale.sh BUILD_DIR}
OTAKIT=$BUILD/otakit
DEVICES=${DEVICES:-10000}
FAULTS=${FAULTS:-cut=0.01,link=0.02,selftest=0.01}
CONCURRENCY=${CONCURRENCY:-64}
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
tmp=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

printf 'fleet-scale-gateway-token-0123456789\n' >"$tmp/gw.tok"
export OTAKIT_FLEET_TOKEN=fleet-scale-admin-token-0123456789
"$OTAKIT" fleet serve --port 0 --bind 127.0.0.1 --data-dir "$tmp/data" --auto-register \
  --gateway-token-file "$tmp/gw.tok" --poll-seconds 60 >"$tmp/fleet.out" 2>&1 &
server=$!
for _ in $(seq 1 400); do grep -q '^serving fleet on ' "$tmp/fleet.out" && break; sleep 0.05; done
url=$(sed -n 's/^serving fleet on \(http:\/\/[^ ]*\)\/ .*/\1/p' "$tmp/fleet.out")
[[ -n $url ]] || { echo "otakit fleet serve did not start:" >&2; cat "$tmp/fleet.out" >&2; exit 1; }
sim() {
  "$BUILD/otakit-fleet-sim" --devices "$DEVICES" --server "$url" --gateway-token "$tmp/gw.tok" \
    --concurrency "$CONCURRENCY" "$@"
}
json() { "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

echo "fleet-scale: $DEVICES devices, faults $FAULTS, concurrency $CONCURRENCY ($(nproc) CPUs)"
# The devices register on their first poll; then a rollout to all of them.
sim --first-poll 10 --duration 20 --json >"$tmp/register.json"
head -c $((0xEFF00)) /dev/urandom >"$tmp/prog.bin"
"$OTAKIT" image create --program "$tmp/prog.bin" --project fleet-app --version 2.0.0 \
  -o "$tmp/app.bin" >/dev/null
art=$("$OTAKIT" fleet upload "$tmp/app.bin" --server "$url" | json 'j["id"]')
r=$("$OTAKIT" fleet rollout create --name scale --artifact "$art" --error-threshold 100 \
  --server "$url" | json 'j["id"]')
"$OTAKIT" fleet rollout start "$r" --server "$url" >/dev/null

rc=0
cpu0=$(awk '{print $14 + $15}' "/proc/$server/stat")
/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
  "$BUILD/otakit-fleet-sim" --devices "$DEVICES" --server "$url" --gateway-token "$tmp/gw.tok" \
  --concurrency "$CONCURRENCY" --faults "$FAULTS" --json >"$tmp/sim.json" || rc=$?
cpu1=$(awk '{print $14 + $15}' "/proc/$server/stat")
hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$server/status")
"$OTAKIT" fleet rollout show "$r" --server "$url" >"$tmp/rollout.json"
read -r wall user sys rss <"$tmp/time"
"$PY" - "$tmp/sim.json" "$tmp/rollout.json" "$wall" "$user" "$sys" "$rss" "$hwm" \
  "$(((cpu1 - cpu0)))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ro = json.load(open(sys.argv[2]))
wall, user, sys_, rss = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
hwm, ticks, hz = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
print("states: " + ", ".join("%s %d" % kv for kv in j["states"].items()))
t = j["update_time_s"]
print("update time (virtual s): p50 %.1f p90 %.1f p99 %.1f" % (t["p50"], t["p90"], t["p99"]))
print("fetched %.2f GiB (again %.1f MiB); %d power cuts, %d link drops, %d self-test failures"
      % (j["bytes_fetched"] / 2**30, j["bytes_refetched"] / 2**20, j["power_cuts"],
         j["link_drops"], j["selftest_failures"]))
print("server: rollout %s, %d finished, %d error" % (ro["status"],
      sum(g["finished"] for g in ro["groups"]), sum(g["error"] for g in ro["groups"])))
print("wall %.1f s; %d requests, %.0f/s" % (wall, j["requests"], j["requests"] / wall))
print("simulator: CPU %.1f s user + %.1f s sys, peak RSS %d MiB" % (user, sys_, rss // 1024))
print("otakit fleet serve: CPU %.1f s, peak RSS %d MiB; both %d MiB"
      % (ticks / hz, hwm, rss // 1024 + hwm))
ok = j["bricked"] == 0 and j["states"]["pending"] == 0
sys.exit(0 if ok else 1)
PY
exit $((rc | $?))
