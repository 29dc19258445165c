#!/usr/bin/env bash
# otakit fleet sim when a closing feedback does not stick: against a DDI responder that
# answers the first one 200 but forgets it (the action is still offered), every device
# sends its result again; against one that keeps it but loses the reply (then answers
# 410 Gone, as hawkBit), every device takes the 410 as the action being closed. Either
# way every device ends, and the server's record agrees with the devices'.
source "$(dirname "$0")/sim_common.bash"

N=30
make_artifact "$T/app.bin" 2.0.0

start_responder forget "$T/app.bin" --sleep 00:00:20 --forget-closed
rc=0
"$OTAKIT" fleet sim --devices "$N" --server "$DDI_URL" --faults selftest=0.2 --seed 7 --json \
  >"$T/forget.json" 2>"$T/forget.err" || rc=$?
t_expect_eq "forgotten: fleet sim exits 0" "$rc" 0
t_curl "$DDI_URL/_state" >"$T/forget.state"
t_expect_eq "forgotten: no device left pending" "$(t_json "$T/forget.json" 'j["states"]["pending"]')" 0
t_expect_eq "forgotten: a result sent again per device" \
  "$(t_json "$T/forget.json" 'j["feedback_resent"]')" "$N"
t_expect_eq "forgotten: two closing feedbacks from each device" \
  "$(t_json "$T/forget.state" 'sorted(set(j["closed_feedbacks"].values()))')" "[2]"
t_expect_eq "forgotten: the server has every action closed" \
  "$(t_json "$T/forget.state" 'len(j["closed"])')" "$N"
expect_closed_agree forgotten "$T/forget.state" "$T/forget.json"
t_expect_eq "forgotten: some rolled back" "$(t_json "$T/forget.json" 'j["states"]["rolled_back"] > 0')" True

start_responder gone "$T/app.bin" --sleep 00:00:20 --drop-closed-reply
rc=0
"$OTAKIT" fleet sim --devices "$N" --server "$DDI_URL" --seed 8 --json \
  >"$T/gone.json" 2>"$T/gone.err" || rc=$?
t_expect_eq "reply lost: fleet sim exits 0" "$rc" 0
t_curl "$DDI_URL/_state" >"$T/gone.state"
t_expect_eq "reply lost: every device updated" "$(t_json "$T/gone.json" 'j["states"]["updated"]')" "$N"
t_expect_eq "reply lost: nothing sent again on a poll" "$(t_json "$T/gone.json" 'j["feedback_resent"]')" 0
t_expect_eq "reply lost: one closing feedback taken per device" \
  "$(t_json "$T/gone.state" 'sorted(set(j["closed_feedbacks"].values()))')" "[1]"
t_expect_eq "reply lost: each device's retry got 410" "$(t_json "$T/gone.state" 'j["gone"]')" "$N"
t_expect_eq "reply lost: the server has every action closed, with success" \
  "$(t_json "$T/gone.state" 'sum(v == "success" for v in j["closed"].values())')" "$N"
t_finish
