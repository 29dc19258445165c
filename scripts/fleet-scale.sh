#!/usr/bin/env bash
# make fleet-scale: a staged rollout of a 1 MiB image to DEVICES (default 10000) virtual
# devices in one `otakit fleet sim` process, with a fault mix, against `otakit fleet
# serve`. Devices register on their first poll with a gateway token. Prints the
# simulator's summary, what the server recorded, and what the run cost: wall time,
# requests/s, CPU and peak RSS of the simulator, the server(s) and PostgreSQL.
#   usage: scripts/fleet-scale.sh BUILD_DIR
#   env:   DEVICES (10000), FAULTS (cut=0.01,link=0.02,selftest=0.01), CONCURRENCY (64),
#          DB=sqlite|postgres (sqlite), INSTANCES (1; more than 1 needs DB=postgres: the
#          servers share the database and the data directory, device i talks to
#          instance i mod INSTANCES), ROLLOUT_GROUPS (1%,10%,rest), SUCCESS (90), ERROR (50),
#          BAD=1: the image is a bad release (its self-test fails on every device): the
#          first group must pass the error threshold, the rollout pause before the second
#          group, and every device of the first group roll back.
# Exits 1 when a device bricked, or the devices and the server disagree, or (BAD=1) the
# rollout did not stop at the first group.
set -euo pipefail
BUILD=${1:?usage: fleet-scale.sh BUILD_DIR}
OTAKIT=$BUILD/otakit
DEVICES=${DEVICES:-10000}
FAULTS=${FAULTS:-cut=0.01,link=0.02,selftest=0.01}
CONCURRENCY=${CONCURRENCY:-64}
DB=${DB:-sqlite}
INSTANCES=${INSTANCES:-1}
GROUPS_SPEC=${ROLLOUT_GROUPS:-1%,10%,rest}
SUCCESS=${SUCCESS:-90}
ERROR=${ERROR:-50}
BAD=${BAD:-0}
POLL=60
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
case $DB in
sqlite | postgres) ;;
*) echo "fleet-scale: DB=$DB: sqlite or postgres" >&2 && exit 2 ;;
esac
if [[ $INSTANCES -gt 1 && $DB != postgres ]]; then
  echo "fleet-scale: INSTANCES=$INSTANCES needs DB=postgres (one database for all)" >&2
  exit 2
fi
tmp=$(mktemp -d)
servers=()
pgdir=
AS_PG=()
cleanup() {
  local p
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n $pgdir ]]; then
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pgdir"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

dbopt=()
if [[ $DB == postgres ]]; then
  # Debian's server in a temporary directory, a Unix socket there, no TCP (as the tests).
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $PGBIN && -x $PGBIN/initdb ]] || {
    echo "fleet-scale: DB=postgres: the PostgreSQL server is not installed" >&2
    exit 2
  }
  [[ $(id -u) -ne 0 ]] || AS_PG=(runuser -u postgres --)
  pgdir=$(mktemp -d /tmp/otakit-pg.XXXXXX)
  chmod 755 "$pgdir"
  [[ ${#AS_PG[@]} -eq 0 ]] || chown postgres "$pgdir"
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$pgdir/data" -A trust -U otakit --no-sync \
    >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2 && exit 1; }
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
    -o "-k $pgdir -c listen_addresses= -c fsync=off -c max_connections=50" start >/dev/null
  "$PGBIN/createdb" -h "$pgdir" -U otakit fleet
  dbopt=(--db "host=$pgdir user=otakit dbname=fleet")
fi

printf 'fleet-scale-gateway-token-0123456789\n' >"$tmp/gw.tok"
export OTAKIT_FLEET_TOKEN=fleet-scale-admin-token-0123456789
urls=()
for i in $(seq 1 "$INSTANCES"); do
  "$OTAKIT" fleet serve --port 0 --bind 127.0.0.1 --data-dir "$tmp/data" --auto-register \
    --gateway-token-file "$tmp/gw.tok" --poll-seconds "$POLL" "${dbopt[@]}" \
    >"$tmp/fleet$i.out" 2>"$tmp/fleet$i.err" &
  servers+=("$!")
  for _ in $(seq 1 400); do grep -q '^serving fleet on ' "$tmp/fleet$i.out" && break; sleep 0.05; done
  u=$(sed -n 's/^serving fleet on \(http:\/\/[^ ]*\)\/ .*/\1/p' "$tmp/fleet$i.out")
  [[ -n $u ]] || { echo "otakit fleet serve did not start:" >&2 && cat "$tmp/fleet$i.err" >&2 && exit 1; }
  urls+=("$u")
done
url=${urls[0]}
srvargs=()
for u in "${urls[@]}"; do srvargs+=(--server "$u"); done
sim() {
  "$BUILD/otakit-fleet-sim" --devices "$DEVICES" "${srvargs[@]}" --gateway-token "$tmp/gw.tok" \
    --concurrency "$CONCURRENCY" "$@"
}
json() { "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

version=2.0.0
simopt=(--faults "$FAULTS")
if [[ $BAD == 1 ]]; then
  version=2.0.1-bad
  # Devices outside the first group never get a deployment: they poll until the run's
  # end, long enough for the first group to update, roll back and report.
  simopt=(--bad-version "$version" --duration 240)
fi
what="faults $FAULTS"
[[ $BAD != 1 ]] || what="a bad image (its self-test fails everywhere)"
echo "fleet-scale: $DEVICES devices, $DB, $INSTANCES server(s), groups $GROUPS_SPEC," \
  "success $SUCCESS %, error $ERROR %, $what, concurrency $CONCURRENCY" \
  "($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
# The devices register on their first poll; then a rollout to all of them.
sim --first-poll 10 --duration 20 --json >"$tmp/register.json"
head -c $((0xEFF00)) /dev/urandom >"$tmp/prog.bin"
"$OTAKIT" image create --program "$tmp/prog.bin" --project fleet-app --version "$version" \
  -o "$tmp/app.bin" >/dev/null
art=$("$OTAKIT" fleet upload "$tmp/app.bin" --server "$url" | json 'j["id"]')
r=$("$OTAKIT" fleet rollout create --name scale --artifact "$art" --groups "$GROUPS_SPEC" \
  --success-threshold "$SUCCESS" --error-threshold "$ERROR" --server "$url" | json 'j["id"]')
"$OTAKIT" fleet rollout start "$r" --server "$url" >/dev/null

pgpids() { # PostgreSQL's processes (they run in the data directory)
  local p
  [[ -n $pgdir ]] || return 0
  for p in $(pgrep postgres || true); do
    [[ $(readlink "/proc/$p/cwd" 2>/dev/null) == "$pgdir/data" ]] && echo "$p"
  done
  return 0
}
pgticks() {
  local t=0 p
  for p in $(pgpids); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
srvticks() {
  local t=0 p
  for p in "${servers[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
rc=0
s0=$(srvticks)
p0=$(pgticks)
/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
  "$BUILD/otakit-fleet-sim" --devices "$DEVICES" "${srvargs[@]}" --gateway-token "$tmp/gw.tok" \
  --concurrency "$CONCURRENCY" "${simopt[@]}" --json >"$tmp/sim.json" || rc=$?
s1=$(srvticks)
p1=$(pgticks)
hwm=0
for p in "${servers[@]}"; do hwm=$((hwm + $(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$p/status"))); done
pgrss=0
for p in $(pgpids); do # PostgreSQL's processes now (shared buffers counted in each)
  pgrss=$((pgrss + $(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$p/status" 2>/dev/null || echo 0)))
done
"$OTAKIT" fleet rollout show "$r" --server "$url" >"$tmp/rollout.json"
starts=$(cat "$tmp"/fleet*.err | grep -c "rollout $r: group [0-9]* started" || true)
read -r wall user sys rss <"$tmp/time"
"$PY" - "$tmp/sim.json" "$tmp/rollout.json" "$wall" "$user" "$sys" "$rss" "$hwm" \
  "$((s1 - s0))" "$((p1 - p0))" "$pgrss" "$(getconf CLK_TCK)" "$BAD" "$starts" "$INSTANCES" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ro = json.load(open(sys.argv[2]))
wall, user, sys_, rss = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
hwm, sticks, pticks, pgrss, hz = (int(a) for a in sys.argv[7:12])
bad, starts, inst = sys.argv[12] == "1", int(sys.argv[13]), int(sys.argv[14])
st = j["states"]
print("states: " + ", ".join("%s %d" % kv for kv in st.items()))
t = j["update_time_s"]
print("update time (virtual s): p50 %.1f p90 %.1f p99 %.1f" % (t["p50"], t["p90"], t["p99"]))
print("fetched %.2f GiB (again %.1f MiB); %d power cuts, %d link drops, %d self-test failures; "
      "%d final feedbacks sent again"
      % (j["bytes_fetched"] / 2**30, j["bytes_refetched"] / 2**20, j["power_cuts"],
         j["link_drops"], j["selftest_failures"], j.get("feedback_resent", 0)))
g = ro["groups"]
print("server: rollout %s; groups " % ro["status"] + "; ".join(
    "%d: %s, %d devices, %d finished, %d error, %d open" % (x["index"] + 1, x["status"],
    x["devices"], x["finished"], x["error"], x["open"]) for x in g)
    + "; %d group start(s) logged" % starts)
print("wall %.1f s; %d requests, %.0f/s" % (wall, j["requests"], j["requests"] / wall))
print("simulator: CPU %.1f s user + %.1f s sys, peak RSS %d MiB" % (user, sys_, rss // 1024))
print("otakit fleet serve (%d): CPU %.1f s, %.2f ms per request; peak RSS %d MiB"
      % (inst, sticks / hz, 1000.0 * sticks / hz / max(j["requests"], 1), hwm))
if pgrss:
    print("PostgreSQL: CPU %.1f s, RSS %d MiB" % (pticks / hz, pgrss))
print("memory in all: %d MiB" % (rss // 1024 + hwm + pgrss))
errs = []
def check(ok, what):
    if not ok:
        errs.append(what)
check(j["bricked"] == 0, "no device bricked")
fin = sum(x["finished"] for x in g)
err = sum(x["error"] for x in g)
if bad:
    g1 = g[0]["devices"]
    check(ro["status"] == "paused", "the rollout paused")
    check(g[0]["error"] == g1 and g[0]["open"] == 0, "every device of group 1 failed, none open")
    check(all(x["status"] == "scheduled" for x in g[1:]), "the later groups never started")
    check(st["rolled_back"] == g1, "every device of group 1 rolled back (sim)")
    check(st["updated"] == 0, "no device updated")
    check(st["pending"] == j["devices"] - g1, "no device outside group 1 got the image")
    check(starts == 1, "one group start logged")
else:
    check(st["pending"] == 0, "no device left pending")
    check(st["updated"] + st["rolled_back"] == j["devices"], "every device updated or rolled back")
    check(ro["status"] == "finished", "the rollout finished")
    check(fin == st["updated"], "server: a finished action per updated device")
    check(err == st["rolled_back"], "server: an error per rollback")
    check(starts == len(g), "each group started exactly once (%d starts logged)" % starts)
for e in errs:
    print("FAILED: " + e)
sys.exit(1 if errs else 0)
PY
exit $((rc | $?))
