# Shared by tests/serve/*.sh (sourced; not a test itself). Starts real `otakit serve`
# processes on 127.0.0.1 with a free port, stops them on exit, counts checks.
set -euo pipefail

: "${OTAKIT:?OTAKIT must name the otakit binary}"
OTAKIT_VECTORS=${OTAKIT_VECTORS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../vectors/data" && pwd)}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENT="$HERE/client.py"

tmp=$(mktemp -d)
declare -A SERVER_PID=()
passed=0
failed=0

_serve_cleanup() {
  local name pid i
  for name in "${!SERVER_PID[@]}"; do
    pid=${SERVER_PID[$name]}
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
trap _serve_cleanup EXIT

pass() {
  passed=$((passed + 1))
  echo "ok   $*"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL $*"
}
# check DESC CMD...: the command must succeed
check() {
  local desc=$1
  shift
  if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# expect DESC GOT WANT
expect() {
  if [[ $2 == "$3" ]]; then
    pass "$1"
  else
    fail "$1: got '$2', want '$3'"
  fi
}
finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}

# spawn_server NAME REGEX CMD...: run a server in the background (stdout in
# $tmp/NAME.out, stderr in $tmp/NAME.err, stopped at exit) and wait (bounded, ~20 s)
# until its stdout has a line matching REGEX. Fails if it exits first.
spawn_server() {
  local name=$1 re=$2 i
  shift 2
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  SERVER_PID[$name]=$!
  for i in $(seq 1 400); do
    if grep -Eq "$re" "$tmp/$name.out" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "${SERVER_PID[$name]}" 2>/dev/null; then
      echo "server $name exited at start:" >&2
      cat "$tmp/$name.err" >&2
      return 1
    fi
    sleep 0.05
  done
}

# start_server NAME DIR [options...]: run otakit serve on a free port, wait for its
# "serving DIR on URL" line(s). Sets URL (first listener) and URLS (all).
start_server() {
  local name=$1 dir=$2 i
  shift 2
  spawn_server "$name" '^serving ' "$OTAKIT" serve "$dir" --port 0 --bind 127.0.0.1 "$@" || return 1
  mapfile -t URLS < <(sed -n 's/^serving .* on \(https\{0,1\}:\/\/[^ ]*\)$/\1/p' "$tmp/$name.out")
  if [[ ${#URLS[@]} -eq 0 ]]; then
    echo "server $name did not print its URL" >&2
    return 1
  fi
  # both listeners of a --tls-port server print a line; wait for the second one too
  if [[ " $* " == *" --tls-port "* ]]; then
    for i in $(seq 1 200); do
      [[ $(grep -c '^serving ' "$tmp/$name.out") -ge 2 ]] && break
      sleep 0.05
    done
    mapfile -t URLS < <(sed -n 's/^serving .* on \(https\{0,1\}:\/\/[^ ]*\)$/\1/p' "$tmp/$name.out")
  fi
  URL=${URLS[0]}
}

# stop_server NAME [SIGNAL]: signal it and wait (bounded) for the exit; sets STOP_RC.
STOP_RC=0
stop_server() {
  local name=$1 sig=${2:-TERM} pid i rc
  pid=${SERVER_PID[$name]}
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "server $name did not stop within 30 s" >&2
  fi
  rc=0
  wait "$pid" || rc=$?
  unset "SERVER_PID[$name]"
  STOP_RC=$rc
}

# port_of URL
port_of() {
  sed -n 's/.*:\([0-9]*\)\/$/\1/p' <<<"$1"
}

# curl with bounded time and no proxy
C() {
  curl --noproxy '*' -s --max-time 60 "$@"
}

# Wait (bounded, up to ~10 s) until FILE contains a line matching REGEX.
wait_for_line() {
  local file=$1 re=$2 i
  for i in $(seq 1 200); do
    grep -Eq "$re" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# The served tree every test starts from: a real ESP-IDF image, a plain file, a hidden
# file, a subdirectory and an outside secret.
make_www() {
  mkdir -p "$tmp/www/sub" "$tmp/outside"
  cp "$OTAKIT_VECTORS/image/ota_test_firmawares/hello_world.bin" "$tmp/www/hello-world.bin"
  printf 'release notes\n' >"$tmp/www/notes.txt"
  printf 'hidden\n' >"$tmp/www/.env"
  printf 'inner\n' >"$tmp/www/sub/inner.txt"
  printf 'TOP-SECRET-OUTSIDE\n' >"$tmp/outside/secret.txt"
}
