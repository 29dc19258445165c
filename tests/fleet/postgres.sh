#!/usr/bin/env bash
# otakit fleet serve on PostgreSQL: two servers share one database (and one artifact
# directory) behind no balancer; a device polls one and reports to the other. Then the
# rollout scenario of rollout.sh on PostgreSQL, across both servers; the dashboard's
# summary agrees with the API there.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/summary.bash"

start_fleet a --data-dir "$T/data" --db "$PGDB"
URL_A=$FURL
start_fleet b --data-dir "$T/data" --db "postgresql://otakit@/fleet?host=$pgdir"
URL_B=$FURL
t_check "A says PostgreSQL" grep -q 'database PostgreSQL' "$T/a.out"
t_expect_eq "one schema, version 2" "$(psql_q 'SELECT version FROM schema_version')" 2
t_check "no SQLite file beside" test ! -e "$T/data/fleet.db"

FURL=$URL_A
ART=$(fleet upload "$IMG_A" | json 'j["id"]')
FURL=$URL_B
fleet device add dev1 --device-token dev1-token-0123456 >/dev/null
t_expect_eq "B sees A's artifact" "$(fleet artifacts | json 'j[0]["id"]')" "$ART"
fleet device assign dev1 "$ART" >/dev/null

# poll A, report to B
FURL=$URL_A
ddi GET dev1 dev1-token-0123456
link=$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$BODY")
t_check "A gives a link on A" grep -q "^$URL_A/" <<<"$link"
ddi GET "$link" dev1-token-0123456
t_expect_eq "deploymentBase from A: 200" "$CODE" 200
dl=$(json 'j["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]' <<<"$BODY")
t_curl -o "$T/dl.bin" -H "Authorization: TargetToken dev1-token-0123456" "${dl/$URL_A/$URL_B}"
t_expect_eq "download from B: the image" "$(sha256sum <"$T/dl.bin" | cut -d' ' -f1)" "$(sha256sum <"$IMG_A" | cut -d' ' -f1)"
fb=${link%%\?*}/feedback
ddi POST "${fb/$URL_A/$URL_B}" dev1-token-0123456 --data "$FB_PROGRESS"
t_expect_eq "progress to B: 200" "$CODE" 200
ddi POST "${fb/$URL_A/$URL_B}" dev1-token-0123456 --data "$FB_SUCCESS"
t_expect_eq "success to B: 200" "$CODE" 200
t_expect_eq "A sees it finished" "$(fleet device show dev1 | json 'j["actions"][0]["status"]')" finished
t_expect_eq "in the database" "$(psql_q 'SELECT status FROM action')" finished
ddi POST "${fb/$URL_A/$URL_B}" dev1-token-0123456 --data "$FB_SUCCESS"
t_expect_eq "a second success to B: 410" "$CODE" 410

# a restart migrates nothing and keeps everything
t_serve_stop a
start_fleet a --data-dir "$T/data" --db "$PGDB"
URL_A=$FURL
t_expect_eq "after a restart: still version 2" "$(psql_q 'SELECT version FROM schema_version')" 2
t_expect_eq "after a restart: the device" "$(fleet devices | json 'j[0]["controllerId"]')" dev1

# the rollout scenario: operator on A, devices on B
fleet() {
  "$OTAKIT" fleet "$@" --server "$URL_A"
}
FURL=$URL_B
rollout_scenario
summary_agrees PostgreSQL
t_finish
