#!/usr/bin/env bash
# make fleet-scale: a whole rollout of a 1 MiB image to DEVICES (default 10000) virtual
# devices in one `otakit fleet sim` process, with a fault mix, against the DDI responder
# of tests/fleet (its artifact served by `otakit serve`). Prints the simulator's summary
# and what the run cost: wall time, requests/s, CPU and peak RSS of the simulator and of
# the servers (VmHWM). Exits 1 when a device bricked or did not finish.
#   usage: scripts/fleet-scale.sh BUILD_DIR   (env: DEVICES, FAULTS, CONCURRENCY)
set -euo pipefail
BUILD=${1:?usage: fleet-scale.sh BUILD_DIR}
OTAKIT=$BUILD/otakit
DEVICES=${DEVICES:-10000}
FAULTS=${FAULTS:-cut=0.01,link=0.02,selftest=0.01}
CONCURRENCY=${CONCURRENCY:-64}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/www"
head -c $((0xEFF00)) /dev/urandom >"$tmp/prog.bin"
"$OTAKIT" image create --program "$tmp/prog.bin" --project fleet-app --version 2.0.0 \
  -o "$tmp/www/app.bin" >/dev/null
"$OTAKIT" serve "$tmp/www" --port 0 --bind 127.0.0.1 --max-per-ip 1024 >"$tmp/files.out" 2>&1 &
pids+=($!)
files_pid=$!
for _ in $(seq 1 200); do grep -q '^serving ' "$tmp/files.out" && break; sleep 0.05; done
files_url=$(sed -n 's/^serving .* on \(http:\/\/[^ ]*\)$/\1/p' "$tmp/files.out" | head -1)
"$PY" "$SRC/tests/fleet/ddi_responder.py" --artifact "$tmp/www/app.bin" --port-file "$tmp/port" \
  --artifact-url "${files_url}app.bin" --sleep 00:01:00 >"$tmp/ddi.log" 2>&1 &
pids+=($!)
ddi_pid=$!
for _ in $(seq 1 200); do [[ -s $tmp/port ]] && break; sleep 0.05; done
[[ -s $tmp/port ]] || { echo "the DDI responder did not start" >&2; exit 1; }

echo "fleet-scale: $DEVICES devices, faults $FAULTS, concurrency $CONCURRENCY ($(nproc) CPUs)"
rc=0
/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$BUILD/otakit-fleet-sim" --devices "$DEVICES" \
  --server "http://127.0.0.1:$(cat "$tmp/port")" --faults "$FAULTS" \
  --concurrency "$CONCURRENCY" --json >"$tmp/sim.json" || rc=$?
hwm() { awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }
read -r wall user sys rss <"$tmp/time"
"$PY" - "$tmp/sim.json" "$wall" "$user" "$sys" "$rss" "$(hwm "$ddi_pid")" "$(hwm "$files_pid")" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
wall, user, sys_, rss = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ddi, files = int(sys.argv[6]), int(sys.argv[7])
print("states: " + ", ".join("%s %d" % kv for kv in j["states"].items()))
t = j["update_time_s"]
print("update time (virtual s): p50 %.1f p90 %.1f p99 %.1f" % (t["p50"], t["p90"], t["p99"]))
print("fetched %.2f GiB (again %.1f MiB); %d power cuts, %d link drops, %d self-test failures"
      % (j["bytes_fetched"] / 2**30, j["bytes_refetched"] / 2**20, j["power_cuts"],
         j["link_drops"], j["selftest_failures"]))
print("wall %.1f s; %d requests, %.0f/s" % (wall, j["requests"], j["requests"] / wall))
print("simulator: CPU %.1f s user + %.1f s sys (%.0f %% of one core), peak RSS %d MiB"
      % (user, sys_, 100 * (user + sys_) / wall, rss // 1024))
print("servers: DDI responder peak RSS %d MiB, otakit serve peak RSS %d MiB; all %d MiB"
      % (ddi, files, rss // 1024 + ddi + files))
ok = j["bricked"] == 0 and j["states"]["pending"] == 0
sys.exit(0 if ok else 1)
PY
exit $((rc | $?))
