# shellcheck shell=bash
# Servers on loopback: `otakit serve`, the e2e test server, curl, certificates
# (sourced by testlib.bash).
T_HTTP_CLIENT=$T_SRC/tests/serve/client.py
declare -A T_SERVER_PID=()
T_STOP_RC=0

_t_urls() {
  mapfile -t T_URLS < <(sed -n 's/^serving .* on \(https\{0,1\}:\/\/[^ ]*\)$/\1/p' "$1")
}
t_spawn_server() {
  local name=$1 re=$2 i pid
  shift 2
  # Emptied here, not by the child's redirection: that happens after the fork, so the
  # wait below could read a previous server's lines under the same name.
  : >"$T/$name.out"
  : >"$T/$name.err"
  "$@" >>"$T/$name.out" 2>>"$T/$name.err" &
  pid=$!
  T_SERVER_PID[$name]=$pid
  t_track_pid "$pid"
  for ((i = 0; i < 400; i++)); do
    grep -Eq "$re" "$T/$name.out" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "server $name exited at start:" >&2
      cat "$T/$name.err" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "server $name printed no line matching '$re' within 20 s" >&2
  return 1
}
t_serve_start() {
  local name=$1 dir=$2 i
  shift 2
  # shellcheck disable=SC2086 # T_SERVE_WRAP is a command prefix, split on purpose
  t_spawn_server "$name" '^serving ' ${T_SERVE_WRAP:-} "$OTAKIT" serve "$dir" --port 0 \
    --bind "${T_SERVE_BIND:-127.0.0.1}" "$@" || return 1
  # both listeners of a --tls-port server print a line; wait for the second one too
  if [[ " $* " == *" --tls-port "* ]]; then
    for ((i = 0; i < 200; i++)); do
      [[ $(grep -c '^serving ' "$T/$name.out") -ge 2 ]] && break
      sleep 0.05
    done
  fi
  _t_urls "$T/$name.out"
  if [[ ${#T_URLS[@]} -eq 0 ]]; then
    echo "server $name did not print its URL" >&2
    return 1
  fi
  T_URL=${T_URLS[0]}
  T_PORT=$(t_port_of "$T_URL")
}
t_pyserve_start() {
  local name=$1 dir=$2 i pid
  shift 2
  rm -f "$T/$name.port"
  "$T_PY" "$T_SRC/tests/e2e/ota_server.py" --dir "$dir" --port-file "$T/$name.port" \
    --log "$T/server.log" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  pid=$!
  T_SERVER_PID[$name]=$pid
  t_track_pid "$pid"
  T_PORT=
  for ((i = 0; i < 400; i++)); do
    [[ -s $T/$name.port ]] && read -r T_PORT <"$T/$name.port" && [[ -n $T_PORT ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  if [[ -z $T_PORT ]]; then
    echo "the test server did not start:" >&2
    cat "$T/$name.err" >&2
    exit 1
  fi
  T_URL=http://127.0.0.1:$T_PORT/
}
t_serve_stop() {
  local name=$1 sig=${2:-TERM} pid i rc=0
  pid=${T_SERVER_PID[$name]}
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "server $name did not stop within 30 s" >&2
  fi
  wait "$pid" || rc=$?
  unset "T_SERVER_PID[$name]"
  T_STOP_RC=$rc
}
t_port_of() { sed -n 's/.*:\([0-9]*\)\/$/\1/p' <<<"$1"; }
t_curl() { curl --noproxy '*' -s --max-time 60 "$@"; }
t_http_code() { t_curl -o /dev/null -w '%{http_code}' "$@"; }
t_expect_http() {
  local desc=$1 want=$2
  shift 2
  t_expect_eq "$desc" "$(t_http_code "$@")" "$want"
}
t_free_port() {
  "$T_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
t_make_www() {
  mkdir -p "$T/www/sub" "$T/outside"
  cp "$T_VECTORS/image/ota_test_firmawares/hello_world.bin" "$T/www/hello-world.bin"
  printf 'release notes\n' >"$T/www/notes.txt"
  printf 'hidden\n' >"$T/www/.env"
  printf 'inner\n' >"$T/www/sub/inner.txt"
  printf 'TOP-SECRET-OUTSIDE\n' >"$T/outside/secret.txt"
}
t_tls_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' \
    -addext 'subjectAltName=IP:127.0.0.1' -keyout "$2" -out "$1" 2>/dev/null
}
