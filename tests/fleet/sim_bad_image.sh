#!/usr/bin/env bash
# A bad release stops at its first group: otakit fleet serve (SQLite) rolls an image
# whose self-test fails on every device (otakit fleet sim --bad-version) out to 200
# devices in three groups (5 %, 10 %, the rest). The first group passes the error
# threshold and the rollout pauses before the second: no device outside the first group
# gets the image, every device of the first group rolls back to the old version and
# reports it, none is bricked.
source "$(dirname "$0")/sim_common.bash"

start_fleet_sim 200 60
t_expect_eq "every device registered" "$(fleet devices | json 'len(j)')" "$N"

make_artifact "$T/bad.bin" 2.1.0-bad
art=$(fleet upload "$T/bad.bin" | json 'j["id"]')
r=$(fleet rollout create --name bad --artifact "$art" --groups 5%,10%,rest \
  --success-threshold 90 --error-threshold 50 | json 'j["id"]')
fleet rollout start "$r" >/dev/null

# The devices outside the first group poll (every 60 virtual s) until the end.
rc=0
sim --bad-version 2.1.0-bad --duration 300 --seed 4 --json >"$T/sim.json" 2>"$T/sim.err" || rc=$?
t_expect_eq "fleet sim exits 0 (none bricked)" "$rc" 0
show=$(fleet rollout show "$r")
printf '%s\n' "$show" >"$T/rollout.json"
g1=$(json 'j["groups"][0]["devices"]' <<<"$show")
t_expect_eq "group 1 is 5 % of the devices" "$g1" 10
t_expect_eq "the rollout paused" "$(json 'j["status"]' <<<"$show")" paused
t_expect_eq "group 1: every action failed, none open" \
  "$(json '(j["groups"][0]["error"], j["groups"][0]["open"])' <<<"$show")" "($g1, 0)"
t_expect_eq "groups 2 and 3 never started" \
  "$(json '[g["status"] for g in j["groups"][1:]]' <<<"$show")" '["scheduled", "scheduled"]'
t_expect_eq "one group start in the server's log" \
  "$(grep -c "rollout $r: group [0-9]* started" "$T/main.err" || true)" 1
S=$(cat "$T/sim.json")
t_expect_eq "no device bricked" "$(json 'j["bricked"]' <<<"$S")" 0
t_expect_eq "every device of group 1 rolled back" "$(json 'j["states"]["rolled_back"]' <<<"$S")" "$g1"
t_expect_eq "every rollback from a failed self-test" "$(json 'j["selftest_failures"] >= '"$g1" <<<"$S")" True
t_expect_eq "no device updated" "$(json 'j["states"]["updated"]' <<<"$S")" 0
t_expect_eq "no other device got the image" "$(json 'j["states"]["pending"]' <<<"$S")" $((N - g1))
t_expect_eq "only group 1 fetched it" \
  "$(json 'j["bytes_fetched"] <= '"$g1"' * 2 * 1024 * 1024' <<<"$S")" True
t_finish
