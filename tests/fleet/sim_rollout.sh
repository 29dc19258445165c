#!/usr/bin/env bash
# otakit fleet sim against a DDI responder (tests/fleet/ddi_responder.py): 200 devices
# take a 1 MiB image under a fault mix (power cuts, dropped links, failing self-tests);
# none is bricked, every one closes its action, and what the server recorded matches
# what the devices say: a success for each updated device, a failure for each rollback.
source "$(dirname "$0")/sim_common.bash"

make_artifact "$tmp/app.bin" 2.0.0
start_responder ddi "$tmp/app.bin" --sleep 00:00:20

"$OTAKIT" fleet sim --devices 200 --server "$DDI_URL" --faults cut=0.2,link=0.1,selftest=0.05 \
  --seed 3 --json >"$tmp/sim.json" 2>"$tmp/sim.err" || {
  fail "fleet sim exited $?: $(cat "$tmp/sim.err")"
  finish
}
curl --noproxy '*' -s "$DDI_URL/_state" >"$tmp/state.json"

expect "no device bricked" "$(jq_py "$tmp/sim.json" 'j["bricked"]')" 0
expect "no device left pending" "$(jq_py "$tmp/sim.json" 'j["states"]["pending"]')" 0
expect "every device updated or rolled back" \
  "$(jq_py "$tmp/sim.json" 'j["states"]["updated"] + j["states"]["rolled_back"]')" 200
expect "power cuts happened" "$(jq_py "$tmp/sim.json" 'j["power_cuts"] > 0')" True
expect "links dropped and were resumed" "$(jq_py "$tmp/sim.json" 'j["link_drops"] > 0')" True
expect "self-tests failed" "$(jq_py "$tmp/sim.json" 'j["selftest_failures"] > 0')" True
expect "rollbacks at least the failed self-tests" \
  "$(jq_py "$tmp/sim.json" 'j["states"]["rolled_back"] >= j["selftest_failures"]')" True
expect "200 update times" "$(jq_py "$tmp/sim.json" 'j["update_time_s"]["count"]')" 200
expect "percentiles ordered" \
  "$(jq_py "$tmp/sim.json" '0 < j["update_time_s"]["p50"] <= j["update_time_s"]["p90"] <= j["update_time_s"]["p99"]')" True
expect "Range requests resumed downloads" "$(jq_py "$tmp/state.json" 'j["range_requests"] > 0')" True
expect "server: 200 actions closed" "$(jq_py "$tmp/state.json" 'len(j["closed"])')" 200
expect "server: a success per updated device" \
  "$(jq_py "$tmp/state.json" 'sum(v == "success" for v in j["closed"].values())')" \
  "$(jq_py "$tmp/sim.json" 'j["states"]["updated"]')"
expect "server: a failure per rollback" \
  "$(jq_py "$tmp/state.json" 'sum(v == "failure" for v in j["closed"].values())')" \
  "$(jq_py "$tmp/sim.json" 'j["states"]["rolled_back"]')"
expect "server: progress reported before the result" \
  "$(jq_py "$tmp/state.json" 'all(f[0]["execution"] == "proceeding" and f[0]["progress"] == {"cnt": 1, "of": 3} for f in j["feedback"].values())')" True
expect "server: a rollback is reported as one" \
  "$(jq_py "$tmp/state.json" 'all("rolled back" in f[-1]["details"][0] for f in j["feedback"].values() if f[-1]["finished"] == "failure")')" True
expect "server: configData from every device" "$(jq_py "$tmp/state.json" 'len(j["config"])')" 200

# A server that ignores Range: a dropped link restarts from byte 0 and the device skips
# what it has; every device still updates.
start_responder norange "$tmp/app.bin" --no-range
"$OTAKIT" fleet sim --devices 20 --server "$DDI_URL" --faults link=0.5 --seed 5 --json \
  >"$tmp/nr.json" 2>"$tmp/nr.err" || fail "fleet sim (no Range) exited $?"
expect "no Range: all 20 updated" "$(jq_py "$tmp/nr.json" 'j["states"]["updated"]')" 20
expect "no Range: bytes fetched again" "$(jq_py "$tmp/nr.json" 'j["bytes_refetched"] > 0')" True

# A wrong SHA-256 in the deployment: nothing is installed, the failure is reported.
cp "$tmp/app.bin" "$tmp/other.bin"
printf '\x00' | dd of="$tmp/other.bin" bs=1 seek=100000 conv=notrunc 2>/dev/null
mkdir -p "$tmp/www" && cp "$tmp/other.bin" "$tmp/www/app.bin"
start_files "$tmp/www"
start_responder badsha "$tmp/app.bin" --artifact-url "${FILES_URL}app.bin"
"$OTAKIT" fleet sim --devices 3 --server "$DDI_URL" --json >"$tmp/bad.json" 2>"$tmp/bad.err" ||
  fail "fleet sim (bad SHA-256) exited $?"
curl --noproxy '*' -s "$DDI_URL/_state" >"$tmp/bad_state.json"
expect "bad SHA-256: 3 failed" "$(jq_py "$tmp/bad.json" 'j["states"]["failed"]')" 3
expect "bad SHA-256: the server hears why" \
  "$(jq_py "$tmp/bad_state.json" 'set(f[-1]["details"][0] for f in j["feedback"].values()) == {"SHA-256 of the artifact differs from the deployment" + chr(39) + "s"}')" True

# Bad usage names the problem.
set +e
"$OTAKIT" fleet sim --devices 2 --server "$DDI_URL" --faults cut=2 >/dev/null 2>"$tmp/u.err"
expect "bad fault mix: exit 2" "$?" 2
grep -q "cut=2" "$tmp/u.err" && pass "bad fault mix named" || fail "bad fault mix not named: $(cat "$tmp/u.err")"
"$OTAKIT" fleet sim --devices 2 >/dev/null 2>"$tmp/u.err"
expect "no server: exit 2" "$?" 2
"$OTAKIT" fleet bogus >/dev/null 2>"$tmp/u.err"
expect "unknown fleet verb: exit 2" "$?" 2
set -e
finish
