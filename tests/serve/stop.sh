#!/usr/bin/env bash
# otakit serve: graceful stop. On SIGTERM / SIGINT the server stops accepting, lets the
# downloads in flight finish until --drain-timeout, then prints its summary and exits 0.
# A download still running at the deadline is cut (and counted); a second signal stops
# at once.
source "$(dirname "$0")/common.bash"

mkdir -p "$tmp/www"
head -c $((64 << 20)) /dev/urandom >"$tmp/www/big.bin" # larger than any socket buffer
BIG=$(sha256sum "$tmp/www/big.bin" | cut -d' ' -f1)
printf 'x\n' >"$tmp/www/small.txt"

# stall NAME: a client that reads the head and 64 KiB of big.bin, then waits for $tmp/go.NAME
stall() {
  "$PY" "$CLIENT" stall "${URL}big.bin" "$tmp/$1.body" --first 65536 --go "$tmp/go.$1" --max 60 >"$tmp/$1.client" 2>&1 &
  STALL_PID=$!
  wait_for_line "$tmp/$1.client" '^STALLED'
}

# --- the download in flight finishes after SIGTERM
start_server drain "$tmp/www" --drain-timeout 30
check "a client is part-way through a download" stall a
A_PID=$STALL_PID
kill -TERM "${SERVER_PID[drain]}"
check "the server says it is letting it finish" wait_for_line "$tmp/drain.err" 'letting 1 request\(s\) finish'
rc=0; C -o /dev/null "${URL}small.txt" || rc=$?
expect "new connections are refused while draining (curl 7)" "$rc" 7
touch "$tmp/go.a"
wait "$A_PID" || true
expect "the download in flight completes, byte-identical" "$(sed -n 's/^DONE //p' "$tmp/a.client")" "$((64 << 20)) $BIG"
stop_server drain 0
expect "exit 0 after the drain" "$STOP_RC" 0
check "summary: nothing cut" grep -q ', 0 cut at the drain deadline' "$tmp/drain.err"
check "the finished download is logged with its bytes" grep -q "\"GET /big.bin HTTP/1.1\" 200 $((64 << 20))\$" "$tmp/drain.out"

# --- a download still stalled at the deadline is cut
start_server cut "$tmp/www" --drain-timeout 1
check "a client stalls a download" stall b
B_PID=$STALL_PID
kill -INT "${SERVER_PID[cut]}"
stop_server cut 0 # wait for the exit (bounded), no further signal
expect "SIGINT: exit 0 after the deadline" "$STOP_RC" 0
check "summary: 1 cut at the deadline" grep -q ', 1 cut at the drain deadline' "$tmp/cut.err"
touch "$tmp/go.b"
wait "$B_PID" || true
n=$(sed -n 's/^DONE \([0-9]*\) .*/\1/p' "$tmp/b.client")
check "the cut client got a short body ($n bytes)" test "${n:-0}" -lt $((64 << 20))

# --- a second signal stops at once
start_server twice "$tmp/www" --drain-timeout 600
check "a client stalls a download" stall c
C_PID=$STALL_PID
kill -TERM "${SERVER_PID[twice]}"
check "draining" wait_for_line "$tmp/twice.err" 'letting 1 request'
stop_server twice INT
expect "second signal: exit 0" "$STOP_RC" 0
check "summary: 1 cut" grep -q ', 1 cut at the drain deadline' "$tmp/twice.err"
touch "$tmp/go.c"
wait "$C_PID" || true

# --- idle keep-alive connections do not hold the stop up
start_server idle "$tmp/www" --drain-timeout 600 --header-timeout 0
"$PY" "$CLIENT" idle "$(port_of "$URL")" --max 60 --ready "$tmp/idle.ready" >"$tmp/idle.client" &
I_PID=$!
for _ in $(seq 1 200); do [[ -e $tmp/idle.ready ]] && break; sleep 0.05; done
check "the idle client is connected before the stop" test -e "$tmp/idle.ready"
C -o /dev/null "${URL}small.txt"
stop_server idle
expect "an idle connection does not delay the stop" "$STOP_RC" 0
check "summary: nothing cut" grep -q ', 0 cut at the drain deadline' "$tmp/idle.err"
wait "$I_PID" || true
expect "the idle client saw the connection closed" "$(cat "$tmp/idle.client")" closed

finish
