#!/usr/bin/env bash
# otakit serve: graceful stop. On SIGTERM / SIGINT the server stops accepting, lets the
# downloads in flight finish until --drain-timeout, then prints its summary and exits 0.
# A download still running at the deadline is cut (and counted); a second signal stops
# at once.
source "$(dirname "$0")/../lib/testlib.bash"

mkdir -p "$T/www"
head -c $((64 << 20)) /dev/urandom >"$T/www/big.bin" # larger than any socket buffer
BIG=$(sha256sum "$T/www/big.bin" | cut -d' ' -f1)
printf 'x\n' >"$T/www/small.txt"

# stall NAME: a client that reads the head and 64 KiB of big.bin, then waits for $T/go.NAME
stall() {
  "$T_PY" "$T_HTTP_CLIENT" stall "${T_URL}big.bin" "$T/$1.body" --first 65536 --go "$T/go.$1" --max 60 >"$T/$1.client" 2>&1 &
  STALL_PID=$!
  t_wait_for_line "$T/$1.client" '^STALLED'
}

# --- the download in flight finishes after SIGTERM
t_serve_start drain "$T/www" --drain-timeout 30
t_check "a client is part-way through a download" stall a
A_PID=$STALL_PID
kill -TERM "${T_SERVER_PID[drain]}"
t_check "the server says it is letting it finish" t_wait_for_line "$T/drain.err" 'letting 1 request\(s\) finish'
rc=0; t_curl -o /dev/null "${T_URL}small.txt" || rc=$?
t_expect_eq "new connections are refused while draining (curl 7)" "$rc" 7
touch "$T/go.a"
wait "$A_PID" || true
t_expect_eq "the download in flight completes, byte-identical" "$(sed -n 's/^DONE //p' "$T/a.client")" "$((64 << 20)) $BIG"
t_serve_stop drain 0
t_expect_eq "exit 0 after the drain" "$T_STOP_RC" 0
t_check "summary: nothing cut" grep -q ', 0 cut at the drain deadline' "$T/drain.err"
t_check "the finished download is logged with its bytes" grep -q "\"GET /big.bin HTTP/1.1\" 200 $((64 << 20))\$" "$T/drain.out"

# --- a download still stalled at the deadline is cut
t_serve_start cut "$T/www" --drain-timeout 1
t_check "a client stalls a download" stall b
B_PID=$STALL_PID
kill -INT "${T_SERVER_PID[cut]}"
t_serve_stop cut 0 # wait for the exit (bounded), no further signal
t_expect_eq "SIGINT: exit 0 after the deadline" "$T_STOP_RC" 0
t_check "summary: 1 cut at the deadline" grep -q ', 1 cut at the drain deadline' "$T/cut.err"
touch "$T/go.b"
wait "$B_PID" || true
n=$(sed -n 's/^DONE \([0-9]*\) .*/\1/p' "$T/b.client")
t_check "the cut client got a short body ($n bytes)" test "${n:-0}" -lt $((64 << 20))

# --- a second signal stops at once
t_serve_start twice "$T/www" --drain-timeout 600
t_check "a client stalls a download" stall c
C_PID=$STALL_PID
kill -TERM "${T_SERVER_PID[twice]}"
t_check "draining" t_wait_for_line "$T/twice.err" 'letting 1 request'
t_serve_stop twice INT
t_expect_eq "second signal: exit 0" "$T_STOP_RC" 0
t_check "summary: 1 cut" grep -q ', 1 cut at the drain deadline' "$T/twice.err"
touch "$T/go.c"
wait "$C_PID" || true

# --- idle keep-alive connections do not hold the stop up
t_serve_start idle "$T/www" --drain-timeout 600 --header-timeout 0
"$T_PY" "$T_HTTP_CLIENT" idle "$T_PORT" --max 60 --ready "$T/idle.ready" >"$T/idle.client" &
I_PID=$!
for _ in $(seq 1 200); do [[ -e $T/idle.ready ]] && break; sleep 0.05; done
t_check "the idle client is connected before the stop" test -e "$T/idle.ready"
t_curl -o /dev/null "${T_URL}small.txt"
t_serve_stop idle
t_expect_eq "an idle connection does not delay the stop" "$T_STOP_RC" 0
t_check "summary: nothing cut" grep -q ', 0 cut at the drain deadline' "$T/idle.err"
wait "$I_PID" || true
t_expect_eq "the idle client saw the connection closed" "$(cat "$T/idle.client")" closed

t_finish
