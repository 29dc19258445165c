#!/usr/bin/env bash
# otakit fleet serve on SQLite: a scripted device through hawkBit's DDI (poll ->
# deploymentBase -> download with Range/ETag -> feedback), configData, and the 4xx
# answers to bad tokens, unknown devices, malformed bodies and foreign actions.
source "$(dirname "$0")/common.bash"

start_fleet main --data-dir "$T/data" --poll-seconds 90
t_check "start line names SQLite" grep -q 'database SQLite' "$T/main.out"
t_check "WAL mode: the database file exists" test -f "$T/data/fleet.db"

# --- upload
out=$(fleet upload "$IMG_A") || true
t_expect_eq "upload: project" "$(json 'j["project"]' <<<"$out")" "hello_world"
t_expect_eq "upload: sha256" "$(json 'j["sha256"]' <<<"$out")" "$(sha256sum <"$IMG_A" | cut -d' ' -f1)"
ART=$(json 'j["id"]' <<<"$out")
t_expect_eq "upload: first artifact id" "$ART" 1
printf 'not an image at all' >"$T/junk.bin"
rc=0; err=$(fleet upload "$T/junk.bin" 2>&1) || rc=$?
t_expect_eq "upload of a non-image exits 1" "$rc" 1
t_check "upload of a non-image says why" grep -q 'HTTP 422: not a valid app image' <<<"$err"
t_expect_eq "nothing stored for it" "$(ls "$T/data/artifacts" | wc -l)" 1

# --- devices
out=$(fleet device add dev1 --group lab --tag blue)
TOK1=$(json 'j["token"]' <<<"$out")
t_check "device add returns a token" test ${#TOK1} -ge 16
fleet device add dev2 --device-token dev2-token-abcdef >/dev/null
TOK2=dev2-token-abcdef
rc=0; fleet device add dev1 >/dev/null 2>&1 || rc=$?
t_expect_eq "a second device add of dev1 is refused" "$rc" 1

# --- auth
ddi GET dev1 "" -H 'Authorization:'
t_expect_eq "poll without a token: 401" "$CODE" 401
ddi GET dev1 wrong-token
t_expect_eq "poll with a wrong token: 401" "$CODE" 401
ddi GET nobody "$TOK1"
t_expect_eq "unknown device (no auto-register): 401" "$CODE" 401
t_curl -o /dev/null -w '%{http_code}' -H "Authorization: TargetToken $TOK1" "$FURL/OTHER/controller/v1/dev1" >"$T/code"
t_expect_eq "another tenant: 404" "$(cat "$T/code")" 404
ddi GET 'bad%20id' "$TOK1"
t_expect_eq "a malformed controllerId: 400" "$CODE" 400

# --- poll and configData
ddi GET dev1 "$TOK1"
body=$BODY
t_expect_eq "poll: 200" "$CODE" 200
t_expect_eq "poll: config.polling.sleep" "$(json 'j["config"]["polling"]["sleep"]' <<<"$body")" "00:01:30"
t_expect_eq "poll: configData link" "$(json 'j["_links"]["configData"]["href"]' <<<"$body")" "$FURL/DEFAULT/controller/v1/dev1/configData"
t_expect_eq "poll: no deployment yet" "$(json '"deploymentBase" in j["_links"]' <<<"$body")" False
ddi PUT dev1/configData "$TOK1" --data '{"mode":"merge","data":{"chip":"esp32","version":"1.0","secure_version":"0","slot":"factory"}}'
t_expect_eq "configData: 200" "$CODE" 200
ddi PUT dev1/configData "$TOK1" --data '{"data":{"chip":'
t_expect_eq "configData malformed JSON: 400" "$CODE" 400
ddi PUT dev1/configData "$TOK1" --data '{"data":{"chip":5}}'
t_expect_eq "configData non-string value: 400" "$CODE" 400
ddi GET dev1 "$TOK1"
body=$BODY
t_expect_eq "poll after configData: no configData link" "$(json '"configData" in j["_links"]' <<<"$body")" False
t_expect_eq "attributes stored" "$(fleet device show dev1 | json 'j["attributes"]["chip"]')" esp32

# --- a deployment
out=$(fleet device assign dev1 "$ART")
AID=$(json 'j["action"]' <<<"$out")
ddi GET dev1 "$TOK1"
body=$BODY
link=$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$body")
t_check "poll: deploymentBase link" grep -Eq "^$FURL/DEFAULT/controller/v1/dev1/deploymentBase/$AID\?c=-?[0-9]+$" <<<"$link"
ddi GET "$link" "$TOK1"
dep=$BODY
t_expect_eq "deploymentBase: 200" "$CODE" 200
t_expect_eq "deploymentBase: id is the action id as a string" "$(json 'j["id"]' <<<"$dep")" "$AID"
t_expect_eq "deploymentBase: download forced" "$(json 'j["deployment"]["download"]' <<<"$dep")" forced
t_expect_eq "deploymentBase: chunk part" "$(json 'j["deployment"]["chunks"][0]["part"]' <<<"$dep")" os
t_expect_eq "deploymentBase: chunk name" "$(json 'j["deployment"]["chunks"][0]["name"]' <<<"$dep")" hello_world
A0='j["deployment"]["chunks"][0]["artifacts"][0]'
t_expect_eq "artifact size" "$(json "$A0[\"size\"]" <<<"$dep")" "$(stat -c %s "$IMG_A")"
t_expect_eq "artifact md5" "$(json "$A0[\"hashes\"][\"md5\"]" <<<"$dep")" "$(md5sum <"$IMG_A" | cut -d' ' -f1)"
t_expect_eq "artifact sha1" "$(json "$A0[\"hashes\"][\"sha1\"]" <<<"$dep")" "$(sha1sum <"$IMG_A" | cut -d' ' -f1)"
DL=$(json "$A0[\"_links\"][\"download-http\"][\"href\"]" <<<"$dep")
MD5L=$(json "$A0[\"_links\"][\"md5sum-http\"][\"href\"]" <<<"$dep")
t_expect_eq "download link" "$DL" "$FURL/DEFAULT/controller/v1/dev1/softwaremodules/$ART/artifacts/hello_world-$(json 'j["version"]' < <(fleet artifacts | json 'j[0]')).bin"

# --- download: whole, range, ETag
t_curl -D "$T/h" -o "$T/dl.bin" -H "Authorization: TargetToken $TOK1" "$DL"
t_expect_eq "download: the image" "$(sha256sum <"$T/dl.bin" | cut -d' ' -f1)" "$(sha256sum <"$IMG_A" | cut -d' ' -f1)"
ETAG=$(grep -i '^ETag:' "$T/h" | cut -d' ' -f2- | tr -d '\r')
code=$(t_curl -o "$T/part" -w '%{http_code}' -H "Authorization: TargetToken $TOK1" -H 'Range: bytes=100-199' "$DL")
t_expect_eq "download: Range -> 206" "$code" 206
t_expect_eq "download: the range's bytes" "$(sha256sum <"$T/part" | cut -d' ' -f1)" "$(tail -c +101 "$IMG_A" | head -c 100 | sha256sum | cut -d' ' -f1)"
code=$(t_curl -o /dev/null -w '%{http_code}' -H "Authorization: TargetToken $TOK1" -H "If-None-Match: $ETAG" "$DL")
t_expect_eq "download: If-None-Match -> 304" "$code" 304
code=$(t_curl -o /dev/null -w '%{http_code}' "$DL")
t_expect_eq "download without a token: 401" "$code" 401
t_expect_eq "MD5SUM" "$(t_curl -H "Authorization: TargetToken $TOK1" "$MD5L" | cut -d' ' -f1)" "$(md5sum <"$IMG_A" | cut -d' ' -f1)"

# --- feedback
FB="${link%%\?*}/feedback"
ddi POST "$FB" "$TOK1" --data "$FB_PROGRESS"
t_expect_eq "feedback proceeding: 200" "$CODE" 200
ddi POST "$FB" "$TOK1" --data '{"status":{"execution":"closed","result":'
t_expect_eq "feedback malformed JSON: 400" "$CODE" 400
ddi POST "$FB" "$TOK1" --data '{"status":{"execution":"exploded","result":{"finished":"success"}}}'
t_expect_eq "feedback unknown execution: 400" "$CODE" 400
ddi POST "$FB" "$TOK1" --data '{"status":{"execution":"closed"}}'
t_expect_eq "feedback without result: 400" "$CODE" 400
ddi POST "dev2/deploymentBase/$AID/feedback" "$TOK2" --data "$FB_SUCCESS"
t_expect_eq "feedback on another device's action: 404" "$CODE" 404
ddi GET "dev2/deploymentBase/$AID" "$TOK2"
t_expect_eq "deploymentBase of another device's action: 404" "$CODE" 404
ddi POST "dev1/deploymentBase/999/feedback" "$TOK1" --data "$FB_SUCCESS"
t_expect_eq "feedback on an unknown action: 404" "$CODE" 404
ddi POST "$FB" "$TOK2" --data "$FB_SUCCESS"
t_expect_eq "feedback with dev2's token on dev1: 401" "$CODE" 401
t_expect_eq "the bad feedbacks stored nothing" "$(fleet device show dev1 | json 'len(j["actions"][0]["history"])')" 1
ddi POST "$FB" "$TOK1" --data "$FB_SUCCESS"
t_expect_eq "feedback closed/success: 200" "$CODE" 200
show=$(fleet device show dev1)
t_expect_eq "action finished" "$(json 'j["actions"][0]["status"]' <<<"$show")" finished
t_expect_eq "history: two entries" "$(json 'len(j["actions"][0]["history"])' <<<"$show")" 2
t_expect_eq "history: details kept" "$(json 'j["actions"][0]["history"][1]["details"][0]' <<<"$show")" "update done"
t_expect_eq "progress kept" "$(json 'j["actions"][0]["progressCnt"]' <<<"$show")" 1
ddi POST "$FB" "$TOK1" --data "$FB_SUCCESS"
t_expect_eq "feedback on a closed action: 410" "$CODE" 410
ddi GET dev1 "$TOK1"
body=$BODY
t_expect_eq "after success: no deployment" "$(json '"deploymentBase" in j["_links"]' <<<"$body")" False
t_expect_eq "after success: configData asked again" "$(json '"configData" in j["_links"]' <<<"$body")" True

# --- management API refusals
code=$(t_curl -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$FURL/rest/v1/devices")
t_expect_eq "REST with a wrong admin token: 401" "$code" 401
code=$(t_curl -o /dev/null -w '%{http_code}' "$FURL/rest/v1/devices")
t_expect_eq "REST without a token: 401" "$code" 401
rest POST /rest/v1/devices --data '{"controllerId":'
t_expect_eq "REST malformed JSON: 400" "$CODE" 400
rest POST /rest/v1/devices --data '{"controllerId":"a b"}'
t_expect_eq "REST bad controllerId: 400" "$CODE" 400
t_expect_eq "no device was added by the refusals" "$(fleet devices | json 'len(j)')" 2

t_serve_stop main
t_expect_eq "SIGTERM stops the server with 0" "$T_STOP_RC" 0
t_finish
