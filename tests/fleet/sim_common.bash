# Shared by tests/fleet/sim_rollout.sh (sourced; not a test itself): a temp dir, a 1 MiB app image
# (make_artifact), the DDI responder of tests/fleet/ddi_responder.py on 127.0.0.1
# (start_responder), `otakit serve` for the bytes (start_files), checks and counters.
set -euo pipefail

: "${OTAKIT:?OTAKIT must name the otakit binary}"
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
PIDS=()
passed=0
failed=0

_fleet_cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap _fleet_cleanup EXIT

pass() {
  passed=$((passed + 1))
  echo "ok   $*"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL $*"
}
# expect DESC GOT WANT
expect() {
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}

# make_artifact OUT VERSION: an app image of about 1 MiB (fits a 1 MiB slot)
make_artifact() {
  head -c $((0xEFF00)) /dev/urandom >"$tmp/prog.bin"
  "$OTAKIT" image create --program "$tmp/prog.bin" --project fleet-app --version "$2" \
    -o "$1" >/dev/null
}

# wait_file FILE: until FILE exists (bounded), else fail the script
wait_file() {
  local i
  for i in $(seq 1 400); do
    [[ -s $1 ]] && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  exit 1
}

# start_responder NAME ARTIFACT [options]: sets DDI_URL
start_responder() {
  local name=$1 art=$2
  shift 2
  "$PY" "$HERE/ddi_responder.py" --artifact "$art" --port-file "$tmp/$name.port" "$@" \
    >"$tmp/$name.log" 2>&1 &
  PIDS+=($!)
  wait_file "$tmp/$name.port"
  DDI_URL="http://127.0.0.1:$(cat "$tmp/$name.port")"
}

# start_files DIR: `otakit serve DIR` on a free port; sets FILES_URL
start_files() {
  "$OTAKIT" serve "$1" --port 0 --bind 127.0.0.1 >"$tmp/files.out" 2>"$tmp/files.err" &
  PIDS+=($!)
  local i
  for i in $(seq 1 400); do
    grep -q '^serving ' "$tmp/files.out" 2>/dev/null && break
    sleep 0.05
  done
  FILES_URL=$(sed -n 's/^serving .* on \(http:\/\/[^ ]*\)$/\1/p' "$tmp/files.out" | head -1)
  [[ -n $FILES_URL ]] || { echo "otakit serve did not start" >&2; cat "$tmp/files.err" >&2; exit 1; }
}

# jq_py JSON_FILE EXPR: evaluate a Python expression over the parsed JSON (as j)
jq_py() {
  "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
