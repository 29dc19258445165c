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
