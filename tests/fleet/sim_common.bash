# shellcheck shell=bash
# Shared by tests/fleet/sim_*.sh and fw_ddi.sh (sourced; not a test itself):
# common.bash (the shell-test library and `otakit fleet serve`), plus a 1 MiB app image
# (make_artifact), the DDI responder of tests/fleet/ddi_responder.py on 127.0.0.1
# (start_responder) and `otakit serve` for the bytes (start_files).
# shellcheck source=tests/fleet/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
FLEET_DIR=$T_SRC/tests/fleet

# make_artifact OUT VERSION: an app image of about 1 MiB (fits a 1 MiB slot)
make_artifact() {
  head -c $((0xEFF00)) /dev/urandom >"$T/prog.bin"
  "$OTAKIT" image create --program "$T/prog.bin" --project fleet-app --version "$2" \
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
  "$T_PY" "$FLEET_DIR/ddi_responder.py" --artifact "$art" --port-file "$T/$name.port" "$@" \
    >"$T/$name.log" 2>&1 &
  T_SERVER_PID[$name]=$!
  t_track_pid "$!"
  wait_file "$T/$name.port"
  DDI_URL="http://127.0.0.1:$(cat "$T/$name.port")"
}

# start_files DIR: `otakit serve DIR` on a free port; sets FILES_URL
start_files() {
  t_serve_start files "$1"
  FILES_URL=$T_URL
}

# start_fleet_sim N POLL_SECONDS: otakit fleet serve (SQLite, devices register on their
# first poll with the gateway token in $T/gw.tok), and N devices registered by a short
# simulator run ($T/register.json). Defines sim ARGS...: the simulator against it.
start_fleet_sim() {
  N=$1
  printf 'gw-token-0123456789abcdef\n' >"$T/gw.tok"
  start_fleet main --data-dir "$T/data" --auto-register --gateway-token-file "$T/gw.tok" \
    --poll-seconds "$2"
  sim() {
    "$OTAKIT" fleet sim --devices "$N" --server "$FURL" --gateway-token "$T/gw.tok" "$@"
  }
  sim --first-poll 1 --duration 5 --json >"$T/register.json"
}

# expect_closed_agree WHAT STATE SIM: the responder's record (_state in STATE) has a
# success per device the simulator (SIM, its JSON) counts updated, a failure per rollback
expect_closed_agree() {
  t_expect_eq "$1: a success per updated device" \
    "$(t_json "$2" 'sum(v == "success" for v in j["closed"].values())')" \
    "$(t_json "$3" 'j["states"]["updated"]')"
  t_expect_eq "$1: a failure per rollback" \
    "$(t_json "$2" 'sum(v == "failure" for v in j["closed"].values())')" \
    "$(t_json "$3" 'j["states"]["rolled_back"]')"
}
