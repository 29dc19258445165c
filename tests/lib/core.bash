# shellcheck shell=bash
# Temp dir, cleanup, tracked processes (sourced by testlib.bash).
T_PY=python3
[[ -x /usr/bin/python3 ]] && T_PY=/usr/bin/python3
T_SRC=${OTAKIT_SRC:-$(cd "$T_LIB/../.." && pwd)}
T_VECTORS=${OTAKIT_VECTORS:-$T_SRC/tests/vectors/data}
T=$(mktemp -d)
T_PIDS=()
T_AT_EXIT=()

# t_stop_pid PID [SIGNAL]: signal PID, wait up to 5 s for it to go, then KILL it.
t_stop_pid() {
  local pid=$1 i
  kill "-${2:-TERM}" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}
# At exit: stop the tracked processes, run the t_at_exit commands (last added first), then
# remove $T. A hook that fails does not stop the ones after it.
_t_cleanup() {
  local p i
  for p in "${T_PIDS[@]}"; do
    t_stop_pid "$p"
  done
  for ((i = ${#T_AT_EXIT[@]} - 1; i >= 0; i--)); do
    eval "${T_AT_EXIT[i]}" || true
  done
  wait 2>/dev/null || true
  cd /
  rm -rf "$T"
}
trap _t_cleanup EXIT
cd "$T"

t_track_pid() { T_PIDS+=("$1"); }
t_at_exit() { T_AT_EXIT+=("$1"); }
# shellcheck disable=SC2059 # the bytes are a printf format on purpose
t_patch() { printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none; }
t_quiet() { "$@" >/dev/null 2>&1; }
t_dump_log() {
  echo "---- $1 ----"
  cat "$1" 2>/dev/null || true
  echo "---- end of $1 ----"
}
t_dump_if_failed() {
  local f
  [[ ${T_FAILED:-0} -eq 0 ]] && return 0
  for f in "$@"; do t_dump_log "$f"; done
}
t_wait_for_line() {
  local i
  for ((i = 0; i < 200; i++)); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
