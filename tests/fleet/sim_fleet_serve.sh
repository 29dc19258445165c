#!/usr/bin/env bash
# otakit fleet sim against otakit fleet serve: 200 virtual devices register on their
# first poll (a gateway token), a rollout in two groups of a 1 MiB image runs to the end
# under power cuts, dropped links and failing self-tests. No device is bricked or left
# pending, and the server's counts agree with the devices': a finished action per
# updated device, an error per rollback.
source "$(dirname "$0")/common.bash"

N=200
printf 'gw-token-0123456789abcdef\n' >"$tmp/gw.tok"
start_fleet main --data-dir "$tmp/data" --auto-register --gateway-token-file "$tmp/gw.tok" \
  --poll-seconds 10
sim() {
  "$OTAKIT" fleet sim --devices "$N" --server "$FURL" --gateway-token "$tmp/gw.tok" "$@"
}

sim --first-poll 1 --duration 5 --json >"$tmp/register.json"
expect "every device registered on its first poll" "$(fleet devices | json 'len(j)')" "$N"
expect "nothing to do yet: all pending" "$(json 'j["states"]["pending"]' <"$tmp/register.json")" "$N"

head -c $((0xEFF00)) /dev/urandom >"$tmp/prog.bin"
"$OTAKIT" image create --program "$tmp/prog.bin" --project fleet-app --version 2.0.0 \
  -o "$tmp/app.bin" >/dev/null
art=$(fleet upload "$tmp/app.bin" | json 'j["id"]')
r=$(fleet rollout create --name fleet-sim --artifact "$art" --groups 25%,rest \
  --success-threshold 50 --error-threshold 50 | json 'j["id"]')
fleet rollout start "$r" >/dev/null

rc=0
sim --faults cut=0.05,link=0.05,selftest=0.03 --seed 11 --json >"$tmp/sim.json" 2>"$tmp/sim.err" || rc=$?
expect "fleet sim exits 0" "$rc" 0
S=$(cat "$tmp/sim.json")
expect "no device bricked" "$(json 'j["bricked"]' <<<"$S")" 0
expect "no device left pending" "$(json 'j["states"]["pending"]' <<<"$S")" 0
expect "every device updated or rolled back" \
  "$(json 'j["states"]["updated"] + j["states"]["rolled_back"]' <<<"$S")" "$N"
expect "faults happened" "$(json 'j["power_cuts"] > 0 and j["link_drops"] > 0' <<<"$S")" True
show=$(fleet rollout show "$r")
expect "the rollout finished" "$(json 'j["status"]' <<<"$show")" finished
expect "server: a finished action per updated device" \
  "$(json 'sum(g["finished"] for g in j["groups"])' <<<"$show")" "$(json 'j["states"]["updated"]' <<<"$S")"
expect "server: an error per rollback" \
  "$(json 'sum(g["error"] for g in j["groups"])' <<<"$show")" "$(json 'j["states"]["rolled_back"]' <<<"$S")"
expect "server: nothing left open" "$(json 'sum(g["open"] for g in j["groups"])' <<<"$show")" 0
finish
