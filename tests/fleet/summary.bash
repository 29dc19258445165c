# shellcheck shell=bash
# Shared by the fleet tests (sourced after common.bash): summary_agrees checks that the
# dashboard's /rest/v1/summary counts the same rows as the rest of /rest/v1, whatever
# the state of the server last started (FURL).

# summary_agrees WHERE: the fleet's states add up to /rest/v1/devices; each rollout's
# groups are /rest/v1/rollouts/{id}'s; the failures are the actions in error.
summary_agrees() {
  local where=$1 id
  rest GET '/rest/v1/summary?rollouts=100&failures=200'
  printf '%s' "$BODY" >"$T/agree.json"
  t_expect_eq "$where: summary 200" "$CODE" 200
  t_expect_eq "$where: summary: every device once" \
    "$(t_json "$T/agree.json" 'sum(j["devices"]["states"].values())')" \
    "$(fleet devices | json 'len(j)')"
  for id in $(t_json "$T/agree.json" '" ".join(str(r["id"]) for r in j["rollouts"])'); do
    rest GET "/rest/v1/rollouts/$id"
    t_expect_eq "$where: summary: rollout $id's groups" \
      "$(t_json "$T/agree.json" 'json.dumps([{k: g[k] for k in ("index", "status", "devices", "finished", "error", "canceled", "open")} for r in j["rollouts"] if r["id"] == '"$id"' for g in r["groups"]])')" \
      "$(json 'j["groups"]' <<<"$BODY")"
  done
  t_expect_eq "$where: summary: the failures are the actions in error" \
    "$(t_json "$T/agree.json" 'sorted(f["controllerId"] for f in j["failures"]["recent"])')" \
    "$(FURL=$FURL ADMIN=$ADMIN "$T_PY" -c '
import json, os, urllib.request
def get(p):
    r = urllib.request.Request(os.environ["FURL"] + p,
                               headers={"Authorization": "Bearer " + os.environ["ADMIN"]})
    return json.load(urllib.request.urlopen(r, timeout=10))
print(sorted(d["controllerId"] for d in get("/rest/v1/devices")
             for a in get("/rest/v1/devices/" + d["controllerId"])["actions"]
             if a["status"] == "error"))')"
}
