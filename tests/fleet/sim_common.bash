# Shared by tests/fleet/sim_rollout.sh (sourced; not a test itself): tests/serve/common.bash's
# checks and cleanup, plus a 1 MiB app image (make_artifact), the DDI responder of
# tests/fleet/ddi_responder.py on 127.0.0.1 (start_responder) and `otakit serve` for the
# bytes (start_files).
source "$(dirname "${BASH_SOURCE[0]}")/../serve/common.bash"
FLEET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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
  "$PY" "$FLEET_DIR/ddi_responder.py" --artifact "$art" --port-file "$tmp/$name.port" "$@" \
    >"$tmp/$name.log" 2>&1 &
  SERVER_PID[$name]=$!
  wait_file "$tmp/$name.port"
  DDI_URL="http://127.0.0.1:$(cat "$tmp/$name.port")"
}

# start_files DIR: `otakit serve DIR` on a free port; sets FILES_URL
start_files() {
  start_server files "$1"
  FILES_URL=$URL
}

# jq_py JSON_FILE EXPR: evaluate a Python expression over the parsed JSON (as j)
jq_py() {
  "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
