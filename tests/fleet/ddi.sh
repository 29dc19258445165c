#!/usr/bin/env bash
# otakit fleet serve on SQLite: a scripted device through hawkBit's DDI (poll ->
# deploymentBase -> download with Range/ETag -> feedback), configData, and the 4xx
# answers to bad tokens, unknown devices, malformed bodies and foreign actions.
source "$(dirname "$0")/common.bash"

start_fleet main --data-dir "$tmp/data" --poll-seconds 90
check "start line names SQLite" grep -q 'database SQLite' "$tmp/main.out"
check "WAL mode: the database file exists" test -f "$tmp/data/fleet.db"

# --- upload
out=$(fleet upload "$IMG_A") || true
expect "upload: project" "$(json 'j["project"]' <<<"$out")" "hello_world"
expect "upload: sha256" "$(json 'j["sha256"]' <<<"$out")" "$(sha256sum <"$IMG_A" | cut -d' ' -f1)"
ART=$(json 'j["id"]' <<<"$out")
expect "upload: first artifact id" "$ART" 1
printf 'not an image at all' >"$tmp/junk.bin"
rc=0; err=$(fleet upload "$tmp/junk.bin" 2>&1) || rc=$?
expect "upload of a non-image exits 1" "$rc" 1
check "upload of a non-image says why" grep -q 'HTTP 422: not a valid app image' <<<"$err"
expect "nothing stored for it" "$(ls "$tmp/data/artifacts" | wc -l)" 1

# --- devices
out=$(fleet device add dev1 --group lab --tag blue)
TOK1=$(json 'j["token"]' <<<"$out")
check "device add returns a token" test ${#TOK1} -ge 16
fleet device add dev2 --device-token dev2-token-abcdef >/dev/null
TOK2=dev2-token-abcdef
rc=0; fleet device add dev1 >/dev/null 2>&1 || rc=$?
expect "a second device add of dev1 is refused" "$rc" 1

# --- auth
ddi GET dev1 "" -H 'Authorization:'
expect "poll without a token: 401" "$CODE" 401
ddi GET dev1 wrong-token
expect "poll with a wrong token: 401" "$CODE" 401
ddi GET nobody "$TOK1"
expect "unknown device (no auto-register): 401" "$CODE" 401
C -o /dev/null -w '%{http_code}' -H "Authorization: TargetToken $TOK1" "$FURL/OTHER/controller/v1/dev1" >"$tmp/code"
expect "another tenant: 404" "$(cat "$tmp/code")" 404
ddi GET 'bad%20id' "$TOK1"
expect "a malformed controllerId: 400" "$CODE" 400

# --- poll and configData
ddi GET dev1 "$TOK1"
body=$BODY
expect "poll: 200" "$CODE" 200
expect "poll: config.polling.sleep" "$(json 'j["config"]["polling"]["sleep"]' <<<"$body")" "00:01:30"
expect "poll: configData link" "$(json 'j["_links"]["configData"]["href"]' <<<"$body")" "$FURL/DEFAULT/controller/v1/dev1/configData"
expect "poll: no deployment yet" "$(json '"deploymentBase" in j["_links"]' <<<"$body")" False
ddi PUT dev1/configData "$TOK1" --data '{"mode":"merge","data":{"chip":"esp32","version":"1.0","secure_version":"0","slot":"factory"}}'
expect "configData: 200" "$CODE" 200
ddi PUT dev1/configData "$TOK1" --data '{"data":{"chip":'
expect "configData malformed JSON: 400" "$CODE" 400
ddi PUT dev1/configData "$TOK1" --data '{"data":{"chip":5}}'
expect "configData non-string value: 400" "$CODE" 400
ddi GET dev1 "$TOK1"
body=$BODY
expect "poll after configData: no configData link" "$(json '"configData" in j["_links"]' <<<"$body")" False
expect "attributes stored" "$(fleet device show dev1 | json 'j["attributes"]["chip"]')" esp32

# --- a deployment
out=$(fleet device assign dev1 "$ART")
AID=$(json 'j["action"]' <<<"$out")
ddi GET dev1 "$TOK1"
body=$BODY
link=$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$body")
check "poll: deploymentBase link" grep -Eq "^$FURL/DEFAULT/controller/v1/dev1/deploymentBase/$AID\?c=-?[0-9]+$" <<<"$link"
ddi GET "$link" "$TOK1"
dep=$BODY
expect "deploymentBase: 200" "$CODE" 200
expect "deploymentBase: id is the action id as a string" "$(json 'j["id"]' <<<"$dep")" "$AID"
expect "deploymentBase: download forced" "$(json 'j["deployment"]["download"]' <<<"$dep")" forced
expect "deploymentBase: chunk part" "$(json 'j["deployment"]["chunks"][0]["part"]' <<<"$dep")" os
expect "deploymentBase: chunk name" "$(json 'j["deployment"]["chunks"][0]["name"]' <<<"$dep")" hello_world
A0='j["deployment"]["chunks"][0]["artifacts"][0]'
expect "artifact size" "$(json "$A0[\"size\"]" <<<"$dep")" "$(stat -c %s "$IMG_A")"
expect "artifact md5" "$(json "$A0[\"hashes\"][\"md5\"]" <<<"$dep")" "$(md5sum <"$IMG_A" | cut -d' ' -f1)"
expect "artifact sha1" "$(json "$A0[\"hashes\"][\"sha1\"]" <<<"$dep")" "$(sha1sum <"$IMG_A" | cut -d' ' -f1)"
DL=$(json "$A0[\"_links\"][\"download-http\"][\"href\"]" <<<"$dep")
MD5L=$(json "$A0[\"_links\"][\"md5sum-http\"][\"href\"]" <<<"$dep")
expect "download link" "$DL" "$FURL/DEFAULT/controller/v1/dev1/softwaremodules/$ART/artifacts/hello_world-$(json 'j["version"]' < <(fleet artifacts | json 'j[0]')).bin"

# --- download: whole, range, ETag
C -D "$tmp/h" -o "$tmp/dl.bin" -H "Authorization: TargetToken $TOK1" "$DL"
expect "download: the image" "$(sha256sum <"$tmp/dl.bin" | cut -d' ' -f1)" "$(sha256sum <"$IMG_A" | cut -d' ' -f1)"
ETAG=$(grep -i '^ETag:' "$tmp/h" | cut -d' ' -f2- | tr -d '\r')
code=$(C -o "$tmp/part" -w '%{http_code}' -H "Authorization: TargetToken $TOK1" -H 'Range: bytes=100-199' "$DL")
expect "download: Range -> 206" "$code" 206
expect "download: the range's bytes" "$(sha256sum <"$tmp/part" | cut -d' ' -f1)" "$(tail -c +101 "$IMG_A" | head -c 100 | sha256sum | cut -d' ' -f1)"
code=$(C -o /dev/null -w '%{http_code}' -H "Authorization: TargetToken $TOK1" -H "If-None-Match: $ETAG" "$DL")
expect "download: If-None-Match -> 304" "$code" 304
code=$(C -o /dev/null -w '%{http_code}' "$DL")
expect "download without a token: 401" "$code" 401
expect "MD5SUM" "$(C -H "Authorization: TargetToken $TOK1" "$MD5L" | cut -d' ' -f1)" "$(md5sum <"$IMG_A" | cut -d' ' -f1)"

# --- feedback
FB="${link%%\?*}/feedback"
ddi POST "$FB" "$TOK1" --data "$FB_PROGRESS"
expect "feedback proceeding: 200" "$CODE" 200
ddi POST "$FB" "$TOK1" --data '{"status":{"execution":"closed","result":'
expect "feedback malformed JSON: 400" "$CODE" 400
ddi POST "$FB" "$TOK1" --data '{"status":{"execution":"exploded","result":{"finished":"success"}}}'
expect "feedback unknown execution: 400" "$CODE" 400
ddi POST "$FB" "$TOK1" --data '{"status":{"execution":"closed"}}'
expect "feedback without result: 400" "$CODE" 400
ddi POST "dev2/deploymentBase/$AID/feedback" "$TOK2" --data "$FB_SUCCESS"
expect "feedback on another device's action: 404" "$CODE" 404
ddi GET "dev2/deploymentBase/$AID" "$TOK2"
expect "deploymentBase of another device's action: 404" "$CODE" 404
ddi POST "dev1/deploymentBase/999/feedback" "$TOK1" --data "$FB_SUCCESS"
expect "feedback on an unknown action: 404" "$CODE" 404
ddi POST "$FB" "$TOK2" --data "$FB_SUCCESS"
expect "feedback with dev2's token on dev1: 401" "$CODE" 401
expect "the bad feedbacks stored nothing" "$(fleet device show dev1 | json 'len(j["actions"][0]["history"])')" 1
ddi POST "$FB" "$TOK1" --data "$FB_SUCCESS"
expect "feedback closed/success: 200" "$CODE" 200
show=$(fleet device show dev1)
expect "action finished" "$(json 'j["actions"][0]["status"]' <<<"$show")" finished
expect "history: two entries" "$(json 'len(j["actions"][0]["history"])' <<<"$show")" 2
expect "history: details kept" "$(json 'j["actions"][0]["history"][1]["details"][0]' <<<"$show")" "update done"
expect "progress kept" "$(json 'j["actions"][0]["progressCnt"]' <<<"$show")" 1
ddi POST "$FB" "$TOK1" --data "$FB_SUCCESS"
expect "feedback on a closed action: 410" "$CODE" 410
ddi GET dev1 "$TOK1"
body=$BODY
expect "after success: no deployment" "$(json '"deploymentBase" in j["_links"]' <<<"$body")" False
expect "after success: configData asked again" "$(json '"configData" in j["_links"]' <<<"$body")" True

# --- management API refusals
code=$(C -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$FURL/rest/v1/devices")
expect "REST with a wrong admin token: 401" "$code" 401
code=$(C -o /dev/null -w '%{http_code}' "$FURL/rest/v1/devices")
expect "REST without a token: 401" "$code" 401
rest POST /rest/v1/devices --data '{"controllerId":'
expect "REST malformed JSON: 400" "$CODE" 400
rest POST /rest/v1/devices --data '{"controllerId":"a b"}'
expect "REST bad controllerId: 400" "$CODE" 400
expect "no device was added by the refusals" "$(fleet devices | json 'len(j)')" 2

stop_server main
expect "SIGTERM stops the server with 0" "$STOP_RC" 0
finish
