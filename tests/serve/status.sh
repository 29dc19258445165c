#!/usr/bin/env bash
# otakit serve's status line: on a terminal (stdout and stderr), one line under the access
# log shows the connections open, the requests served, the bytes sent and the rate; it is
# redrawn in place, the log lines print above it, and it is gone when the server stops.
# Piped, or with --no-status, nothing but the log and the summary is written.
source "$(dirname "$0")/../lib/testlib.bash"
t_term_require
t_make_www
SIZE=$(stat -c %s "$T/www/hello-world.bin")
STATUS_RE='[0-9]+ connections? open \| [0-9]+ requests? \| .* sent \| .*/s$'

# term_serve OPTS...: `otakit serve $T/www --port 0 OPTS` in a fresh terminal; every byte
# it writes there is also copied to $T/raw.txt (tmux pipe-pane, set up before it starts).
# Sets URL and PID.
term_serve() {
  tmux -S "$T_TERM_SOCK" kill-server 2>/dev/null || true
  rm -f "$T/go" "$T/serve.pid" "$T/raw.txt"
  printf '%s\n' "until [ -e '$T/go' ]; do sleep 0.05; done" "echo \$\$ >'$T/serve.pid'" \
    "exec '$OTAKIT' serve '$T/www' --port 0 $*" >"$T/run.sh"
  t_term_start "sh '$T/run.sh'"
  tmux -S "$T_TERM_SOCK" pipe-pane -t term "cat >'$T/raw.txt'"
  touch "$T/go"
  t_term_wait "serving $T/www on http://" || exit 1
  URL=$(t_term_screen | sed -n 's/^serving .* on \(http:[^ ]*\)$/\1/p' | head -n 1)
  PID=$(cat "$T/serve.pid")
  t_track_pid "$PID"
}
# requests URL: two downloads and a 404, the same for every server below
requests() {
  t_curl -o /dev/null "${1}hello-world.bin"
  t_curl -o /dev/null "${1}notes.txt"
  t_curl -o /dev/null "${1}missing.bin"
}

# --- on a terminal
term_serve
t_term_wait "0 requests |"
requests "$URL"
t_term_wait "3 requests |"
t_term_screen | sed '/^$/d' >"$T/screen.txt"
t_expect_has "$T/screen.txt" '"GET /hello-world.bin HTTP/1.1" 200 '"$SIZE"
t_expect_has "$T/screen.txt" '"GET /missing.bin HTTP/1.1" 404 '
tail -n 1 "$T/screen.txt" >"$T/last.txt"
t_expect_match "$T/last.txt" "^$STATUS_RE"
t_expect_has "$T/last.txt" "| 3 requests | "
t_expect_eq "one status line on the screen (redrawn in place)" "$(grep -cE "$STATUS_RE" "$T/screen.txt")" 1
t_check "the log lines are above it, in order" t_in_order "$T/screen.txt" "GET /hello-world.bin" \
  "GET /notes.txt" "GET /missing.bin" "3 requests |"
t_check "it is drawn by erasing the line (CR, ESC [K)" t_has "$T/raw.txt" $'\r\033[K'
kill -INT "$PID"
t_expect_eq "exit 0 on SIGINT" "$(t_term_end)" 0
t_term_screen | sed '/^$/d' >"$T/screen.txt"
t_expect_has "$T/screen.txt" "otakit: serve: stopped: 3 requests, "
t_expect_eq "the status line is gone after the stop" "$(grep -cE "$STATUS_RE" "$T/screen.txt")" 0
t_dump_if_failed "$T/screen.txt"

# --- --no-status on a terminal: the log only
term_serve --no-status
requests "$URL"
t_term_wait '"GET /missing.bin HTTP/1.1" 404'
kill -INT "$PID"
t_expect_eq "--no-status: exit 0" "$(t_term_end)" 0
t_check "--no-status: the terminal got the log" t_wait_for_line "$T/raw.txt" 'stopped: 3 requests'
t_expect_lacks "$T/raw.txt" "requests |"
t_check "--no-status: no line erasing" t_lacks "$T/raw.txt" $'\033[K'

# --- piped: the log and the summary only, no terminal codes
t_serve_start piped "$T/www"
requests "$T_URL"
t_check "the piped log has the three requests" t_wait_for_line "$T/piped.out" 'GET /missing.bin'
t_serve_stop piped INT
t_expect_eq "piped: exit 0" "$T_STOP_RC" 0
for f in "$T/piped.out" "$T/piped.err"; do
  t_expect_lacks "$f" "requests |"
  t_check "no escape codes in $(basename "$f")" t_lacks "$f" $'\033'
done
t_expect_has "$T/piped.err" "otakit: serve: stopped: 3 requests, "

t_finish
