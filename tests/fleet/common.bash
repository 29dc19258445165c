# shellcheck shell=bash
# Shared by tests/fleet/*.sh (sourced; not a test itself): the shell-test library
# (tests/lib/testlib.bash), plus real `otakit fleet serve` processes on 127.0.0.1 with a
# free port and a scripted device speaking hawkBit's DDI with curl.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib/testlib.bash"

IMG_A="$T_VECTORS/image/ota_test_firmawares/hello_world.bin"
IMG_B="$T_VECTORS/image/ota_test_firmawares/qemu_simple_ota.bin"
ADMIN=fleet-admin-token-0123456789
export OTAKIT_FLEET_TOKEN=$ADMIN

# start_fleet NAME [options...]: run otakit fleet serve, wait for its start line.
# Sets FURL (its base URL, no trailing slash).
start_fleet() {
  local name=$1
  shift
  t_spawn_server "$name" '^serving fleet on ' \
    "$OTAKIT" fleet serve --port 0 --bind 127.0.0.1 "$@" || return 1
  FURL=$(sed -n 's/^serving fleet on \(http:\/\/[^ ]*\)\/ .*/\1/p' "$T/$name.out")
  [[ -n $FURL ]]
}

# fleet ARGS...: the client against the last started server
fleet() {
  "$OTAKIT" fleet "$@" --server "$FURL"
}

# rest METHOD PATH [curl args...]: the management API; sets CODE and BODY.
rest() {
  local m=$1 p=$2
  shift 2
  CODE=$(t_curl -X "$m" -o "$T/rest.body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    "$@" "$FURL$p")
  BODY=$(<"$T/rest.body")
}

# ddi METHOD URL_OR_PATH TOKEN [curl args...]: a device's request; sets CODE and BODY.
# A path is taken relative to $FURL/DEFAULT/controller/v1/.
ddi() {
  local m=$1 u=$2 tok=$3
  shift 3
  [[ $u == http* ]] || u="$FURL/DEFAULT/controller/v1/$u"
  CODE=$(t_curl -X "$m" -o "$T/ddi.body" -w '%{http_code}' -H "Authorization: TargetToken $tok" \
    -H 'Content-Type: application/json' "$@" "$u")
  BODY=$(<"$T/ddi.body")
}

# jq-free JSON access: json EXPR < body (EXPR is Python on the parsed object j)
json() {
  "$T_PY" -c 'import json,sys; j=json.load(sys.stdin); v='"$1"'; print(v if not isinstance(v,(dict,list)) else json.dumps(v))'
}

FB_SUCCESS='{"status":{"execution":"closed","result":{"finished":"success"},"details":["update done"]}}'
FB_FAILURE='{"status":{"execution":"closed","result":{"finished":"failure"},"details":["image rejected"]}}'
FB_PROGRESS='{"status":{"execution":"proceeding","result":{"finished":"none","progress":{"cnt":1,"of":3}},"details":["downloading"]}}'

# device_update DEV TOKEN FEEDBACK: poll, follow deploymentBase, download and check the
# artifact, post FEEDBACK. Returns non-zero (with a line why) when a step fails.
device_update() {
  local dev=$1 tok=$2 fb=$3 link dl sha got
  ddi GET "$dev" "$tok"
  link=$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$BODY" 2>/dev/null) || {
    echo "$dev: no deploymentBase link (HTTP $CODE)"
    return 1
  }
  ddi GET "$link" "$tok"
  [[ $CODE == 200 ]] || { echo "$dev: deploymentBase HTTP $CODE"; return 1; }
  printf '%s' "$BODY" >"$T/$dev.dep"
  dl=$(json 'j["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]' <"$T/$dev.dep")
  sha=$(json 'j["deployment"]["chunks"][0]["artifacts"][0]["hashes"]["sha256"]' <"$T/$dev.dep")
  t_curl -H "Authorization: TargetToken $tok" -o "$T/$dev.bin" "$dl"
  got=$(sha256sum <"$T/$dev.bin" | cut -d' ' -f1)
  [[ $got == "$sha" ]] || { echo "$dev: downloaded sha256 $got, want $sha"; return 1; }
  ddi POST "${link%%\?*}/feedback" "$tok" --data "$fb"
  [[ $CODE == 200 ]] || { echo "$dev: feedback HTTP $CODE"; return 1; }
}

# rollout_scenario: six devices, a rollout in three groups (1, 2, 3 devices) that
# advances on success, pauses at the error threshold, resumes and finishes; then a
# second rollout that is canceled while one device runs it and another has not begun.
rollout_scenario() {
  local i out art1 art2 r1 r2 show
  art1=$(fleet upload "$IMG_B" | json 'j["id"]')
  art2=$(fleet upload "$IMG_A" --filename other.bin | json 'j["id"]')
  for i in 1 2 3 4 5 6; do
    fleet device add "d$i" --tag ring --device-token "token-of-d$i-0123" >/dev/null
  done
  fleet device add outsider --device-token token-of-outsider >/dev/null
  tokd() { echo "token-of-$1-0123"; }
  polls_deployment() {
    ddi GET "$1" "$(tokd "$1")"
    json '"deploymentBase" in j["_links"]' <<<"$BODY"
  }

  rc=0; fleet rollout create --name none --artifact "$art1" --tag nosuchtag >/dev/null 2>&1 || rc=$?
  t_expect_eq "rollout: no matching device is refused" "$rc" 1
  rc=0; fleet rollout create --name bad --artifact "$art1" --groups 0%,x >/dev/null 2>&1 || rc=$?
  t_expect_eq "rollout: bad --groups is a usage error" "$rc" 2
  rest POST /rest/v1/rollouts --data '{"name":"x","artifact":1,"groups":[{"percent":10,"count":2}]}'
  t_expect_eq "rollout: a group with percent and count: 400" "$CODE" 400

  r1=$(fleet rollout create --name r1 --artifact "$art1" --tag ring --groups 1,2,rest \
    --success-threshold 50 --error-threshold 50 | json 'j["id"]')
  show=$(fleet rollout show "$r1")
  t_expect_eq "r1: ready" "$(json 'j["status"]' <<<"$show")" ready
  t_expect_eq "r1: groups of 1, 2, 3" "$(json '[g["devices"] for g in j["groups"]]' <<<"$show")" "[1, 2, 3]"
  t_expect_eq "r1: the outsider is not in it" "$(json 'sum(g["devices"] for g in j["groups"])' <<<"$show")" 6
  t_expect_eq "before start: d1 has nothing" "$(polls_deployment d1)" False
  fleet rollout start "$r1" >/dev/null
  t_expect_eq "started: d1 (group 1) has a deployment" "$(polls_deployment d1)" True
  t_expect_eq "started: d2 (group 2) has not" "$(polls_deployment d2)" False
  t_check "d1 updates" device_update d1 "$(tokd d1)" "$FB_SUCCESS"
  t_expect_eq "group 1 succeeded: d2 has a deployment" "$(polls_deployment d2)" True
  t_expect_eq "group 1 succeeded: d3 has a deployment" "$(polls_deployment d3)" True
  t_expect_eq "group 3 not yet: d4" "$(polls_deployment d4)" False
  t_check "d2 fails" device_update d2 "$(tokd d2)" "$FB_FAILURE"
  t_expect_eq "1 of 2 failed (50%): paused" "$(fleet rollout show "$r1" | json 'j["status"]')" paused
  t_check "d3 updates" device_update d3 "$(tokd d3)" "$FB_SUCCESS"
  t_expect_eq "paused: group 3 does not start" "$(polls_deployment d4)" False
  t_expect_eq "paused: still paused" "$(fleet rollout show "$r1" | json 'j["status"]')" paused
  rc=0; fleet rollout start "$r1" >/dev/null 2>&1 || rc=$?
  t_expect_eq "start of a paused rollout is refused" "$rc" 1
  fleet rollout resume "$r1" >/dev/null
  t_expect_eq "resumed: group 3 starts (d4)" "$(polls_deployment d4)" True
  for i in 4 5 6; do
    t_check "d$i updates" device_update "d$i" "$(tokd "d$i")" "$FB_SUCCESS"
  done
  show=$(fleet rollout show "$r1")
  t_expect_eq "r1: finished" "$(json 'j["status"]' <<<"$show")" finished
  t_expect_eq "r1: per group finished" "$(json '[g["finished"] for g in j["groups"]]' <<<"$show")" "[1, 1, 3]"
  t_expect_eq "r1: per group error" "$(json '[g["error"] for g in j["groups"]]' <<<"$show")" "[0, 1, 0]"
  t_expect_eq "the outsider never had a deployment" "$(ddi GET outsider token-of-outsider; json '"deploymentBase" in j["_links"]' <<<"$BODY")" False

  # cancel while d1 runs the update and d2 has not looked yet
  r2=$(fleet rollout create --name r2 --artifact "$art2" --tag ring | json 'j["id"]')
  fleet rollout start "$r2" >/dev/null
  ddi GET d1 "$(tokd d1)"
  ddi GET "$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$BODY")" "$(tokd d1)"
  local aid
  aid=$(json 'j["id"]' <<<"$BODY")
  ddi GET "d1/cancelAction/$aid" "$(tokd d1)"
  t_expect_eq "no cancelAction before the cancel: 404" "$CODE" 404
  fleet rollout cancel "$r2" >/dev/null
  ddi GET d1 "$(tokd d1)"
  t_expect_eq "canceled: d1 is told to cancel" "$(json 'j["_links"]["cancelAction"]["href"]' <<<"$BODY")" "$FURL/DEFAULT/controller/v1/d1/cancelAction/$aid"
  ddi GET "d1/cancelAction/$aid" "$(tokd d1)"
  t_expect_eq "cancelAction: id" "$(json 'j["id"]' <<<"$BODY")" "$aid"
  t_expect_eq "cancelAction: stopId" "$(json 'j["cancelAction"]["stopId"]' <<<"$BODY")" "$aid"
  ddi POST "d1/cancelAction/$aid/feedback" "$(tokd d1)" --data '{"status":{"execution":"closed","result":{"finished":"success"}}}'
  t_expect_eq "cancel confirmed: 200" "$CODE" 200
  ddi POST "d1/deploymentBase/$aid/feedback" "$(tokd d1)" --data "$FB_SUCCESS"
  t_expect_eq "feedback on the canceled action: 410" "$CODE" 410
  ddi GET d2 "$(tokd d2)"
  local href2
  href2=$(json 'j["_links"]["cancelAction"]["href"]' <<<"$BODY")
  t_check "d2 (never fetched) is told to cancel too" test -n "$href2"
  ddi POST "$href2/feedback" "$(tokd d2)" --data '{"status":{"execution":"canceled","result":{"finished":"none"}}}'
  t_expect_eq "d2 confirms: 200" "$CODE" 200
  show=$(fleet rollout show "$r2")
  t_expect_eq "r2: canceled" "$(json 'j["status"]' <<<"$show")" canceled
  t_expect_eq "r2: two actions canceled" "$(json 'j["groups"][0]["canceled"]' <<<"$show")" 2
  rc=0; fleet rollout cancel "$r2" >/dev/null 2>&1 || rc=$?
  t_expect_eq "cancel of a canceled rollout is refused" "$rc" 1
  t_expect_eq "d1's history: finished then canceled" "$(fleet device show d1 | json '[a["status"] for a in j["actions"]]')" '["finished", "canceled"]'
}
