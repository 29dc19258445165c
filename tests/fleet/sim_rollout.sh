#!/usr/bin/env bash
# otakit fleet sim against a DDI responder (tests/fleet/ddi_responder.py): 200 devices
# take a 1 MiB image under a fault mix (power cuts, dropped links, failing self-tests);
# none is bricked, every one closes its action, and what the server recorded matches
# what the devices say: a success for each updated device, a failure for each rollback.
source "$(dirname "$0")/sim_common.bash"

make_artifact "$T/app.bin" 2.0.0
start_responder ddi "$T/app.bin" --sleep 00:00:20

"$OTAKIT" fleet sim --devices 200 --server "$DDI_URL" --faults cut=0.2,link=0.1,selftest=0.05 \
  --seed 3 --json >"$T/sim.json" 2>"$T/sim.err" || {
  t_fail "fleet sim exited $?: $(cat "$T/sim.err")"
  finish
}
t_curl "$DDI_URL/_state" >"$T/state.json"

t_expect_eq "no device bricked" "$(t_json "$T/sim.json" 'j["bricked"]')" 0
t_expect_eq "no device left pending" "$(t_json "$T/sim.json" 'j["states"]["pending"]')" 0
t_expect_eq "every device updated or rolled back" \
  "$(t_json "$T/sim.json" 'j["states"]["updated"] + j["states"]["rolled_back"]')" 200
t_expect_eq "power cuts happened" "$(t_json "$T/sim.json" 'j["power_cuts"] > 0')" True
t_expect_eq "links dropped and were resumed" "$(t_json "$T/sim.json" 'j["link_drops"] > 0')" True
t_expect_eq "self-tests failed" "$(t_json "$T/sim.json" 'j["selftest_failures"] > 0')" True
t_expect_eq "rollbacks at least the failed self-tests" \
  "$(t_json "$T/sim.json" 'j["states"]["rolled_back"] >= j["selftest_failures"]')" True
t_expect_eq "200 update times" "$(t_json "$T/sim.json" 'j["update_time_s"]["count"]')" 200
t_expect_eq "percentiles ordered" \
  "$(t_json "$T/sim.json" '0 < j["update_time_s"]["p50"] <= j["update_time_s"]["p90"] <= j["update_time_s"]["p99"]')" True
t_expect_eq "Range requests resumed downloads" "$(t_json "$T/state.json" 'j["range_requests"] > 0')" True
t_expect_eq "server: 200 actions closed" "$(t_json "$T/state.json" 'len(j["closed"])')" 200
expect_closed_agree server "$T/state.json" "$T/sim.json"
t_expect_eq "server: progress reported before the result" \
  "$(t_json "$T/state.json" 'all(f[0]["execution"] == "proceeding" and f[0]["progress"] == {"cnt": 1, "of": 3} for f in j["feedback"].values())')" True
t_expect_eq "server: a rollback is reported as one" \
  "$(t_json "$T/state.json" 'all("rolled back" in f[-1]["details"][0] for f in j["feedback"].values() if f[-1]["finished"] == "failure")')" True
t_expect_eq "server: configData from every device" "$(t_json "$T/state.json" 'len(j["config"])')" 200

# A server that ignores Range: a dropped link restarts from byte 0 and the device skips
# what it has; every device still updates.
start_responder norange "$T/app.bin" --no-range
"$OTAKIT" fleet sim --devices 20 --server "$DDI_URL" --faults link=0.5 --seed 5 --json \
  >"$T/nr.json" 2>"$T/nr.err" || t_fail "fleet sim (no Range) exited $?"
t_expect_eq "no Range: all 20 updated" "$(t_json "$T/nr.json" 'j["states"]["updated"]')" 20
t_expect_eq "no Range: bytes fetched again" "$(t_json "$T/nr.json" 'j["bytes_refetched"] > 0')" True

# A wrong SHA-256 in the deployment: nothing is installed, the failure is reported.
cp "$T/app.bin" "$T/other.bin"
t_patch "$T/other.bin" 100000 '\x00'
mkdir -p "$T/www" && cp "$T/other.bin" "$T/www/app.bin"
start_files "$T/www"
start_responder badsha "$T/app.bin" --artifact-url "${FILES_URL}app.bin"
"$OTAKIT" fleet sim --devices 3 --server "$DDI_URL" --json >"$T/bad.json" 2>"$T/bad.err" ||
  t_fail "fleet sim (bad SHA-256) exited $?"
t_curl "$DDI_URL/_state" >"$T/bad_state.json"
t_expect_eq "bad SHA-256: 3 failed" "$(t_json "$T/bad.json" 'j["states"]["failed"]')" 3
t_expect_eq "bad SHA-256: the server hears why" \
  "$(t_json "$T/bad_state.json" 'set(f[-1]["details"][0] for f in j["feedback"].values()) == {"SHA-256 of the artifact differs from the deployment" + chr(39) + "s"}')" True

# Bad usage names the problem.
set +e
"$OTAKIT" fleet sim --devices 2 --server "$DDI_URL" --faults cut=2 >/dev/null 2>"$T/u.err"
t_expect_eq "bad fault mix: exit 2" "$?" 2
if grep -q "cut=2" "$T/u.err"; then
  t_ok "bad fault mix named"
else
  t_fail "bad fault mix not named: $(cat "$T/u.err")"
fi
"$OTAKIT" fleet sim --devices 2 >/dev/null 2>"$T/u.err"
t_expect_eq "no server: exit 2" "$?" 2
"$OTAKIT" fleet sim --devices 2 --server "$DDI_URL" --bad-version '' >/dev/null 2>"$T/u.err"
t_expect_eq "empty --bad-version: exit 2" "$?" 2
t_check "empty --bad-version named" grep -q -- "--bad-version ''" "$T/u.err"
# shellcheck disable=SC2046 # 17 words on purpose
"$OTAKIT" fleet sim --devices 2 $(printf -- '--server %s ' $(seq -f "$DDI_URL/%g" 17)) \
  >/dev/null 2>"$T/u.err"
t_expect_eq "17 servers: exit 2" "$?" 2
t_check "too many servers named" grep -q "at most 16 servers" "$T/u.err"
"$OTAKIT" fleet bogus >/dev/null 2>"$T/u.err"
t_expect_eq "unknown fleet verb: exit 2" "$?" 2
set -e
t_finish
