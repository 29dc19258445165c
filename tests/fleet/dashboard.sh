#!/usr/bin/env bash
# otakit fleet serve's dashboard: the page and its summary API (/rest/v1/summary) over a
# running rollout whose devices are in every state, then the page in headless Chromium
# (tests/fleet/dashboard.py): its numbers equal the API's, it follows a new feedback
# without a reload, its search filters, the failures' details show as text, and the
# console has no error. Skips (77) without chromium, chromium-driver or python3-selenium.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/summary.bash"

PY3=/usr/bin/python3
[[ -x /usr/bin/chromium ]] || t_skip "no /usr/bin/chromium (Debian package chromium)"
[[ -x /usr/bin/chromedriver ]] || t_skip "no /usr/bin/chromedriver (Debian package chromium-driver)"
if [[ ! -x $PY3 ]] || ! "$PY3" -c 'import selenium' 2>/dev/null; then
  t_skip "no selenium for /usr/bin/python3 (Debian package python3-selenium)"
fi

# no_remote FILE...: no address of another machine (a scheme, //host, @import, url()).
no_remote() { ! grep -Eiq 'https?:|//[a-z0-9]|@import|url\(' "$@"; }
# not_in TEXT FILE...: TEXT is in none of the files.
not_in() { local text=$1; shift; ! grep -qF -- "$text" "$@"; }

start_fleet main --data-dir "$T/data"

# The page: three files from the program itself, nothing from elsewhere.
t_curl -D "$T/page.h" -o "$T/page.html" "$FURL/"
t_expect_match "$T/page.h" '^HTTP/1.1 200'
t_expect_match "$T/page.h" '^Content-Type: text/html'
t_expect_match "$T/page.h" "^Content-Security-Policy: default-src 'none'; script-src 'self'"
t_expect_has "$T/page.html" '<script src="dashboard.js" defer></script>'
t_expect_http "the page's script" 200 "$FURL/dashboard.js"
t_expect_http "the page's style" 200 "$FURL/dashboard.css"
t_expect_http "HEAD /" 200 -I "$FURL/"
t_curl -o "$T/page.js" "$FURL/dashboard.js"
t_curl -o "$T/page.css" "$FURL/dashboard.css"
t_check "no address of another machine in the page's files" \
  no_remote "$T/page.html" "$T/page.js" "$T/page.css"
t_expect_http "POST / is not the page" 404 -X POST "$FURL/"

# Devices: the first two form group 1, the next three group 2, the last three group 3
# (a rollout takes its devices in the order they were added).
for d in garage-01 kitchen-01 garage-02 kitchen-02 kitchen-03 garage-03 kitchen-04 kitchen-05; do
  fleet device add "$d" --tag home --device-token "token-of-$d" >/dev/null
done
fleet device add lab-1 --tag lab --device-token token-of-lab-1 >/dev/null
art=$(fleet upload "$IMG_B" | json 'j["id"]')
rid=$(fleet rollout create --name kitchen-and-garage --artifact "$art" --tag home \
  --groups 2,3,rest --success-threshold 50 --error-threshold 100 | json 'j["id"]')
fleet rollout start "$rid" >/dev/null

ROLLBACK='{"status":{"execution":"closed","result":{"finished":"failure"},"details":["rolled back: the new app failed its self-test","<b>boot loop</b> & more"]}}'
FAILED='{"status":{"execution":"closed","result":{"finished":"failure"},"code":259,"details":["update failed: ESP_ERR_OTA_VALIDATE_FAILED"]}}'
INSTALLED='{"status":{"execution":"proceeding","result":{"finished":"none","progress":{"cnt":2,"of":3}},"details":["installed, SHA-256 verified; rebooting"]}}'
t_check "garage-01 updates (group 1)" device_update garage-01 token-of-garage-01 "$FB_SUCCESS"
t_check "kitchen-01 rolls back (group 1)" device_update kitchen-01 token-of-kitchen-01 "$ROLLBACK"
t_check "garage-02 downloads (group 2)" device_update garage-02 token-of-garage-02 "$FB_PROGRESS"
t_check "kitchen-02 has installed (group 2)" device_update kitchen-02 token-of-kitchen-02 "$INSTALLED"
t_check "kitchen-03 fails (group 2)" device_update kitchen-03 token-of-kitchen-03 "$FAILED"
fleet device show garage-02 >"$T/g2.json"
g2_action=$(t_json "$T/g2.json" 'j["actions"][0]["id"]')

# The summary: the server's own counts of that state.
rest GET /rest/v1/summary
printf '%s' "$BODY" >"$T/summary.json"
t_expect_eq "summary: 200" "$CODE" 200
t_expect_json "summary: the fleet by state" "$T/summary.json" \
  'j["devices"] == {"total": 9, "states": {"idle": 1, "waiting": 3, "downloading": 1, "installed": 1, "upToDate": 1, "failed": 1, "rolledBack": 1, "canceling": 0, "canceled": 0}}'
t_expect_json "summary: the rollout is running" "$T/summary.json" \
  "[r['status'] for r in j['rollouts']] == ['running'] and j['rollouts'][0]['id'] == $rid"
t_expect_json "summary: per group by state" "$T/summary.json" \
  '[{k: v for k, v in g["states"].items() if v} for g in j["rollouts"][0]["groups"]] == [{"upToDate": 1, "rolledBack": 1}, {"downloading": 1, "installed": 1, "failed": 1}, {"waiting": 3}]'
summary_agrees SQLite
t_expect_json "summary: the failures, newest first, with their last details" "$T/summary.json" \
  '[(f["controllerId"], f["state"], f["code"], f["details"]) for f in j["failures"]["recent"]] == [("kitchen-03", "failed", 259, ["update failed: ESP_ERR_OTA_VALIDATE_FAILED"]), ("kitchen-01", "rolledBack", None, ["rolled back: the new app failed its self-test", "<b>boot loop</b> & more"])] and j["failures"]["total"] == 2'

# The device list: search (any case, in id, group and tags) and state.
rest GET '/rest/v1/summary/devices?q=KITCHEN&limit=2'
t_expect_eq "devices: q matches ids, two of five" "$(json '(j["total"], [d["controllerId"] for d in j["devices"]])' <<<"$BODY")" "(5, ['kitchen-01', 'kitchen-02'])"
rest GET '/rest/v1/summary/devices?q=kitchen&offset=4'
t_expect_eq "devices: offset" "$(json '[d["controllerId"] for d in j["devices"]]' <<<"$BODY")" '["kitchen-05"]'
rest GET '/rest/v1/summary/devices?q=lab'
t_expect_eq "devices: q matches tags; a device with no action is idle" "$(json '[(d["controllerId"], d["state"], d["rollout"]) for d in j["devices"]]' <<<"$BODY")" '[["lab-1", "idle", null]]'
rest GET '/rest/v1/summary/devices?state=installed'
t_expect_eq "devices: by state" "$(json '[(d["controllerId"], d["rollout"]) for d in j["devices"]]' <<<"$BODY")" "[[\"kitchen-02\", $rid]]"
rest GET '/rest/v1/summary/devices?q=_'
t_expect_eq "devices: _ is a character, not a wildcard" "$(json 'j["total"]' <<<"$BODY")" 0

# Bad input: 400 with the reason, 401 without the token, 404 elsewhere.
bad() {
  rest GET "$1"
  t_expect_eq "$1: $2" "$CODE" "$2"
  t_check "$1: the message says: $3" grep -qF -- "$3" <<<"$BODY"
}
bad '/rest/v1/summary?failures=abc' 400 'failures: a whole number'
bad '/rest/v1/summary?rollouts=101' 400 'rollouts: a whole number from 0 to 100'
bad '/rest/v1/summary?color=red' 400 "unknown query parameter 'color'"
bad '/rest/v1/summary/devices?state=broken' 400 'state: one of'
bad '/rest/v1/summary/devices?q=a%20b' 400 'q: up to 64'
bad "/rest/v1/summary/devices?q=$(printf 'a%.0s' {1..65})" 400 'q: up to 64'
bad '/rest/v1/summary/devices?limit=0' 400 'limit: a whole number from 1 to 500'
bad '/rest/v1/summary/devices?offset=-1' 400 'offset: a whole number'
bad '/rest/v1/summary/nothing' 404 'no such resource'
t_expect_http "summary without the token: 401" 401 "$FURL/rest/v1/summary"

# The page in headless Chromium.
"$PY3" "$T_SRC/tests/fleet/dashboard.py" check "$FURL/" "$ADMIN" \
  "$FURL/DEFAULT/controller/v1/garage-02/deploymentBase/$g2_action/feedback" token-of-garage-02 \
  >"$T/browser.out" 2>&1 || { t_fail "the dashboard in Chromium"; t_dump_log "$T/browser.out"; }
while read -r line; do # each of the browser's checks is one here
  case $line in
    ok*) t_ok "chromium: ${line#ok   }" ;;
    FAIL*) t_fail "chromium: ${line#FAIL: }" ;;
  esac
done <"$T/browser.out"
t_check "the admin token is in no server log" not_in "$ADMIN" "$T/main.out" "$T/main.err"
t_finish
