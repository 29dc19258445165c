#!/usr/bin/env bash
# Two otakit fleet serve instances on one PostgreSQL database, a rollout in three groups
# (50 %, 25 %, the rest) with a success threshold of 100 %: every device of a group
# reports success at the same moment, half of them to each server. Each feedback is
# taken (200), and the next group opens exactly once: one "group N started" line in
# the two servers' logs together, its actions all handed out, the group after it still
# scheduled. Then the same for the second group.
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/pg.bash"

N=48
printf 'gw-token-0123456789abcdef\n' >"$T/gw.tok"
start_fleet a --data-dir "$T/data" --db "$PGDB" --auto-register --gateway-token-file "$T/gw.tok"
URL_A=$FURL
start_fleet b --data-dir "$T/data" --db "$PGDB" --auto-register --gateway-token-file "$T/gw.tok"
URL_B=$FURL

# drive.py register | group IDX: register the N devices (polls); or for every device of
# group IDX: poll and GET its deploymentBase (one server), then all POST success at once
# (threads behind a barrier, device k to server k mod 2). Prints the status codes seen.
cat >"$T/drive.py" <<'PY'
import json, sys, threading, urllib.request, urllib.error
urls, tok, n, what = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def req(method, url, body=None):
    r = urllib.request.Request(url, method=method, data=body,
                               headers={"Authorization": "GatewayToken " + tok,
                                        "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=60) as f:
            return f.status, f.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
def base(k, i):
    return "%s/DEFAULT/controller/v1/dev-%03d" % (urls[k % len(urls)], i)
if what == "register":
    print(sorted(set(req("GET", base(i, i))[0] for i in range(n))))
    sys.exit(0)
jobs = []
for i in range(n):
    code, body = req("GET", base(0, i))
    link = json.loads(body)["_links"].get("deploymentBase")
    if link is None:
        continue
    href = link["href"].split("?")[0]
    if req("GET", href)[0] != 200:
        print("deploymentBase failed for", i)
        sys.exit(1)
    jobs.append((i, href.replace(urls[0], urls[len(jobs) % len(urls)]) + "/feedback"))
fb = json.dumps({"status": {"execution": "closed", "result": {"finished": "success"},
                            "details": ["ok"]}}).encode()
codes = []
gate = threading.Barrier(len(jobs))
def one(url):
    gate.wait()
    codes.append(req("POST", url, fb)[0])
ts = [threading.Thread(target=one, args=(u,)) for _, u in jobs]
for t in ts: t.start()
for t in ts: t.join()
print(len(jobs), sorted(set(codes)))
PY
drive() {
  "$T_PY" "$T/drive.py" "$URL_A,$URL_B" "$(cat "$T/gw.tok")" "$N" "$1"
}
t_expect_eq "48 devices registered on both servers" "$(drive register)" "[200]"
FURL=$URL_A
art=$(fleet upload "$IMG_A" | json 'j["id"]')
r=$(fleet rollout create --name race --artifact "$art" --groups 50%,25%,rest \
  --success-threshold 100 --error-threshold 50 | json 'j["id"]')
fleet rollout start "$r" >/dev/null
starts() {
  cat "$T/a.err" "$T/b.err" | grep -c "rollout $r: group $1 started" || true
}
groups() {
  fleet rollout show "$r" | json '[(g["status"], g["devices"], g["open"]) for g in j["groups"]]'
}

t_expect_eq "group 1: 24 successes at once to both servers, all taken" "$(drive group)" "24 [200]"
t_expect_eq "group 2 opened exactly once" "$(starts 2)" 1
t_expect_eq "group 1 finished, group 2 running with every action open, group 3 scheduled" \
  "$(groups)" '[["finished", 24, 0], ["running", 12, 12], ["scheduled", 12, 12]]'
t_expect_eq "group 2's actions handed out (pending)" \
  "$(psql_q "SELECT COUNT(*) FROM action a JOIN rollout_group g ON g.id = a.group_id WHERE g.idx = 1 AND a.status = 'pending'")" 12

t_expect_eq "group 2: 12 successes at once, all taken" "$(drive group)" "12 [200]"
t_expect_eq "group 3 opened exactly once" "$(starts 3)" 1
t_expect_eq "group 3 running" "$(groups)" \
  '[["finished", 24, 0], ["finished", 12, 0], ["running", 12, 12]]'
t_expect_eq "group 3: 12 successes at once, all taken" "$(drive group)" "12 [200]"
t_expect_eq "the rollout finished" "$(fleet rollout show "$r" | json 'j["status"]')" finished
t_expect_eq "no group opened twice" "$(cat "$T/a.err" "$T/b.err" | grep -c "rollout $r: group" || true)" 3
t_finish
