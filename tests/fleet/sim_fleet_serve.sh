#!/usr/bin/env bash
# otakit fleet sim against otakit fleet serve: 200 virtual devices register on their
# first poll (a gateway token), a rollout in two groups of a 1 MiB image runs to the end
# under power cuts, dropped links and failing self-tests. No device is bricked or left
# pending, and the server's counts agree with the devices': a finished action per
# updated device, an error per rollback.
source "$(dirname "$0")/sim_common.bash"

start_fleet_sim 200 10
t_expect_eq "every device registered on its first poll" "$(fleet devices | json 'len(j)')" "$N"
t_expect_eq "nothing to do yet: all pending" "$(json 'j["states"]["pending"]' <"$T/register.json")" "$N"

make_artifact "$T/app.bin" 2.0.0
art=$(fleet upload "$T/app.bin" | json 'j["id"]')
r=$(fleet rollout create --name fleet-sim --artifact "$art" --groups 25%,rest \
  --success-threshold 50 --error-threshold 50 | json 'j["id"]')
fleet rollout start "$r" >/dev/null

rc=0
sim --faults cut=0.05,link=0.05,selftest=0.03 --seed 11 --json >"$T/sim.json" 2>"$T/sim.err" || rc=$?
t_expect_eq "fleet sim exits 0" "$rc" 0
S=$(cat "$T/sim.json")
t_expect_eq "no device bricked" "$(json 'j["bricked"]' <<<"$S")" 0
t_expect_eq "no device left pending" "$(json 'j["states"]["pending"]' <<<"$S")" 0
t_expect_eq "every device updated or rolled back" \
  "$(json 'j["states"]["updated"] + j["states"]["rolled_back"]' <<<"$S")" "$N"
t_expect_eq "faults happened" "$(json 'j["power_cuts"] > 0 and j["link_drops"] > 0' <<<"$S")" True
show=$(fleet rollout show "$r")
t_expect_eq "the rollout finished" "$(json 'j["status"]' <<<"$show")" finished
t_expect_eq "server: a finished action per updated device" \
  "$(json 'sum(g["finished"] for g in j["groups"])' <<<"$show")" "$(json 'j["states"]["updated"]' <<<"$S")"
t_expect_eq "server: an error per rollback" \
  "$(json 'sum(g["error"] for g in j["groups"])' <<<"$show")" "$(json 'j["states"]["rolled_back"]' <<<"$S")"
rest GET "/rest/v1/summary/devices?state=upToDate&limit=500"
t_expect_eq "server: each updated device reported the version it runs now (configData)" \
  "$(json '[d["version"] for d in j["devices"]].count("2.0.0")' <<<"$BODY")" \
  "$(json 'j["states"]["updated"]' <<<"$S")"
t_expect_eq "server: nothing left open" "$(json 'sum(g["open"] for g in j["groups"])' <<<"$show")" 0
t_finish
