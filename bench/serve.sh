#!/usr/bin/env bash
# bench/serve: requests/s and MB/s for a 1 MiB file at 1, 16 and 64 concurrent clients,
# for `otakit serve`, nginx and `python3 -m http.server`, measured with wrk in the same
# run on loopback. Prints a table with each server's ratio to nginx.
#   OTAKIT=build/otakit bash bench/serve.sh       (make bench sets OTAKIT)
#   BENCH_SECONDS=4  seconds per measurement (default 4)
#   BENCH_ROUNDS=3   rounds; each cell is the median of its rounds, and the servers take
#                    turns within a round, so a busy machine hurts them alike
#   BENCH_CLIENTS="1 16 64"
#   OTAKIT_BASELINE=/path/to/other/otakit   adds that build's `otakit serve` as a row (an
#                    older commit, to measure a change in the same run)
set -euo pipefail

OTAKIT=${OTAKIT:-build/otakit}
SECONDS_PER_RUN=${BENCH_SECONDS:-4}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-"1 16 64"}
BASELINE=${OTAKIT_BASELINE:-}
PY=/usr/bin/python3
# shellcheck source=bench/lib.bash
source "$(dirname "$0")/lib.bash"
bench_require serve wrk nginx curl "$PY"
NGINX=$(command -v nginx)

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/www" "$tmp/nginx"
head -c 1048576 /dev/urandom >"$tmp/www/fw.bin"
chmod 644 "$tmp/www/fw.bin"
want=$(sha256sum "$tmp/www/fw.bin" | cut -d' ' -f1)

# A free loopback port: bind port 0, read it back, release it.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait (bounded) until a server answers; the servers print nothing we can wait on.
wait_http() {
  local url=$1 i
  for i in $(seq 1 200); do
    if curl -s -o /dev/null --max-time 1 "$url"; then
      return 0
    fi
    sleep 0.05
  done
  echo "bench/serve: $url did not come up" >&2
  return 1
}

# --- otakit serve: same defaults as a user gets, access log to a file, no per-address
# limit (every wrk connection comes from 127.0.0.1).
bench_serve serve "$OTAKIT" "$tmp/www" "$tmp/otakit" --max-per-ip 0 --access-log "$tmp/otakit-access.log"
pids+=("$BENCH_SERVE_PID")
otakit_url=$BENCH_SERVE_URL

# --- nginx: Debian's, one worker per core, sendfile, access log to a file.
nginx_port=$(free_port)
user_line=""
if [[ $(id -u) -eq 0 ]]; then
  user_line="user root;"
fi
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  access_log $tmp/nginx/access.log;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/www;
  }
}
EOF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx/stderr" &
pids+=($!)
nginx_url="http://127.0.0.1:$nginx_port/"
wait_http "${nginx_url}fw.bin"

# --- python3 -m http.server (threading, the seed's server)
py_port=$(free_port)
(cd "$tmp/www" && exec "$PY" -m http.server "$py_port" --bind 127.0.0.1) >/dev/null 2>&1 &
pids+=($!)
py_url="http://127.0.0.1:$py_port/"
wait_http "${py_url}fw.bin"

names=("otakit serve" "nginx" "python3 http.server")
urls=("$otakit_url" "$nginx_url" "$py_url")
roots=("${pids[0]}" "${pids[1]}" "${pids[2]}")

# --- another build's otakit serve (OTAKIT_BASELINE), same options, to measure a change
if [[ -n $BASELINE ]]; then
  bench_serve serve "$BASELINE" "$tmp/www" "$tmp/baseline" --max-per-ip 0 --access-log "$tmp/baseline-access.log"
  pids+=("$BENCH_SERVE_PID")
  base_url=$BENCH_SERVE_URL
  names+=("baseline serve")
  urls+=("$base_url")
  roots+=("${pids[3]}")
fi

# CPU ticks (user + system) of a server: the process (/proc/PID/stat counts its threads,
# the exited ones too) and its children (nginx's workers). Throughput on a shared machine
# swings with the load; CPU per request much less, so the table shows both.
cpu_ticks() {
  local root=$1 p total=0
  for p in $root $(pgrep -P "$root" 2>/dev/null); do
    [[ -r /proc/$p/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)

for i in "${!names[@]}"; do
  got=$(curl -s "${urls[$i]}fw.bin" | sha256sum | cut -d' ' -f1)
  if [[ $got != "$want" ]]; then
    echo "bench/serve: ${names[$i]} sent the wrong bytes" >&2
    exit 1
  fi
done

# One wrk run -> "req/s errors cpu_ms_per_request"
measure() {
  local url=$1 clients=$2 root=$3 threads=2 out c0 c1
  ((clients < threads)) && threads=$clients
  c0=$(cpu_ticks "$root")
  out=$(wrk -t "$threads" -c "$clients" -d "${SECONDS_PER_RUN}s" --timeout 10s "${url}fw.bin" 2>&1) || true
  c1=$(cpu_ticks "$root")
  local rps errs
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
  errs=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
  local sock
  sock=$(sed -n 's/^ *Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' <<<"$out")
  local total=${errs:-0}
  for n in $sock; do total=$((total + n)); done
  local nreq
  nreq=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
  local ms
  ms=$(awk -v t=$((c1 - c0)) -v n="${nreq:-0}" -v hz="$HZ" 'BEGIN{ if (n > 0) printf "%.3f", t * 1000 / hz / n; else print 0 }')
  echo "${rps:-0} $total $ms"
}

median() {
  tr ' ' '\n' <<<"$*" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

declare -A RPS ERR RUNS CPUS CPU
for c in $CLIENTS; do
  for r in $(seq 1 "$ROUNDS"); do
    for i in "${!names[@]}"; do
      read -r rps err ms < <(measure "${urls[$i]}" "$c" "${roots[$i]}")
      RUNS[$i,$c]="${RUNS[$i,$c]:-} $rps"
      CPUS[$i,$c]="${CPUS[$i,$c]:-} $ms"
      ERR[$i,$c]=$((${ERR[$i,$c]:-0} + err))
    done
  done
  for i in "${!names[@]}"; do
    RPS[$i,$c]=$(median ${RUNS[$i,$c]})
    CPU[$i,$c]=$(median ${CPUS[$i,$c]})
  done
done

echo
echo "bench/serve: GET of a 1 MiB file over loopback with wrk; $(nproc) cores shared by wrk and"
echo "the servers; each cell the median of $ROUNDS runs of ${SECONDS_PER_RUN} s (servers take turns);"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %7s %9s %15s %9s %6s %9s %13s %10s\n' server clients "req/s" "req/s min-max" "MB/s" errors "vs nginx" "ratio min-max" "CPU ms/req"
for c in $CLIENTS; do
  for i in "${!names[@]}"; do
    rps=${RPS[$i,$c]}
    mbs=$(awk -v r="$rps" 'BEGIN{printf "%.1f", r * 1.048576}') # 1 MiB = 1.048576 MB
    read -r -a mine <<<"${RUNS[$i,$c]}"
    read -r -a theirs <<<"${RUNS[1,$c]}"
    # the ratio to nginx in each round (the two ran back to back), then median, min, max
    ratios=$(for r in "${!mine[@]}"; do awk -v a="${mine[$r]}" -v b="${theirs[$r]}" 'BEGIN{ if (b > 0) printf "%.4f\n", a / b }'; done)
    ratio=$(printf '%.2f' "$(median $ratios)")
    rmin=$(sort -g <<<"$ratios" | head -n1)
    rmax=$(sort -g <<<"$ratios" | tail -n1)
    lo=$(tr ' ' '\n' <<<"${RUNS[$i,$c]}" | grep . | sort -g | head -n1)
    hi=$(tr ' ' '\n' <<<"${RUNS[$i,$c]}" | grep . | sort -g | tail -n1)
    printf '%-22s %7s %9.1f %15s %9s %6s %9s %13s %10s\n' "${names[$i]}" "$c" "$rps" \
      "$(printf '%.0f-%.0f' "$lo" "$hi")" "$mbs" "${ERR[$i,$c]}" "$ratio" \
      "$(printf '%.2f-%.2f' "$rmin" "$rmax")" "${CPU[$i,$c]}"
  done
done
echo "target: otakit serve >= 1.0x nginx's req/s at 1, 16 and 64 clients"
echo "(req/s: median of the runs, with the lowest and highest; vs nginx: the median of the"
echo " ratios to nginx's run of the same round, with the lowest and highest;"
echo " MB/s: 10^6 bytes of response bodies per second; CPU ms/req: the server's user + system"
echo " CPU time per request, loopback copies included, median of the runs; errors: non-2xx responses plus socket"
echo " errors over all runs; runs per cell:$(for c in $CLIENTS; do printf ' c=%s otakit[%s] nginx[%s]' "$c" "${RUNS[0,$c]# }" "${RUNS[1,$c]# }"; done))"
