#!/usr/bin/env bash
# otakit serve: limits. Malformed requests get a 4xx (or, when libmicrohttpd cannot even
# find a request line, a closed connection) and the server goes on; request heads
# larger than --max-header-size get 431 / 414; --max-connections and --max-per-ip
# refuse connections past the limit while other clients are served; idle connections
# and clients that trickle their request head are closed.
source "$(dirname "$0")/../lib/testlib.bash"

t_make_www
t_serve_start main "$T/www" --drain-timeout 1 --max-header-size 8192 --header-timeout 2
raw() { "$T_PY" "$T_HTTP_CLIENT" raw "$T_PORT" "$@" || echo "CLIENT ERROR"; }
alive() {
  local code
  code=$(t_http_code "${T_URL}notes.txt" || true)
  [[ $code == 200 ]]
}

# --- malformed requests; a GET with a body (here a conflicting one) is answered at once
# and the connection closed; a line that is no request at all is closed by the
# request-head deadline
while IFS=$'\t' read -r want payload; do
  r=$(raw "$payload")
  if grep -Eq "^($want)" <<<"$r"; then
    t_ok "$payload -> $r"
  else
    t_fail "$payload -> $r, want $want"
  fi
  t_check "server answers after $payload" alive
done <<'EOF'
HTTP/1.1 400	b'GET / FOO/1.1\r\n\r\n'
HTTP/1.1 400	b'GET /\r\n\r\n'
HTTP/1.1 505	b'GET / HTTP/9.9\r\nHost: x\r\n\r\n'
HTTP/1.1 400	b'GET / HTTP/1.1\r\nNoColonHere\r\n\r\n'
HTTP/1.1 400	b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'
HTTP/1.1 200	b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'
HTTP/1.1 400	b'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n'
HTTP/1.1 405	b'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n'
HTTP/1.1 4|CLOSED	b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + bytes(64) + b'\r\n\r\n'
CLOSED	b'GARBAGE\r\n\r\n'
EOF

# --- request head size
r=$(raw "b'GET /notes.txt HTTP/1.1\\r\\nHost: x\\r\\nX-Big: ' + b'a' * 20000 + b'\\r\\n\\r\\n'")
t_expect_eq "a 20 KB header with --max-header-size 8192 -> 431" "$r" "HTTP/1.1 431 Request Header Fields Too Large"
r=$(raw "b'GET /' + b'a' * 20000 + b' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
t_expect_eq "a 20 KB URI -> 414" "$r" "HTTP/1.1 414 URI Too Long"
r=$(raw "b'GET /notes.txt HTTP/1.1\\r\\nHost: x\\r\\nX-Ok: ' + b'a' * 2000 + b'\\r\\n\\r\\n'")
t_expect_eq "a 2 KB header is fine" "$r" "HTTP/1.1 200 OK"
t_check "server answers after the oversized heads" alive
t_serve_stop main
t_expect_eq "clean stop" "$T_STOP_RC" 0
t_check "malformed requests are counted as errors" grep -Eq 'stopped: [0-9]+ requests, [0-9]+ bytes sent, ([1-9][0-9]*) errors' "$T/main.err"

# --- per-address limit: connections from 127.0.0.3 past 4 are refused, other
# addresses are still served (the whole of 127.0.0.0/8 is loopback)
t_serve_start perip "$T/www" --drain-timeout 1 --max-per-ip 4 --header-timeout 0
r=$("$T_PY" "$T_HTTP_CLIENT" hold "$T_PORT" 4 --src 127.0.0.3)
t_expect_eq "--max-per-ip 4: a fifth connection from one address is refused" "$r" "held 4 extra refused"
r=$("$T_PY" "$T_HTTP_CLIENT" hold "$T_PORT" 3 --src 127.0.0.4)
t_expect_eq "--max-per-ip 4: four connections are accepted" "$r" "held 3 extra accepted"
t_check "other addresses are served meanwhile" alive
t_serve_stop perip

# --- total limit. With --io epoll, past it libmicrohttpd stops accepting: the next
# client waits in the listen queue and is served once a slot frees up. With --io threads
# (the default) it is accepted and closed at once.
t_serve_start total "$T/www" --drain-timeout 1 --max-connections 6 --max-per-ip 0 --header-timeout 0 --io epoll --threads 1
r=$("$T_PY" "$T_HTTP_CLIENT" hold "$T_PORT" 6 --request)
t_expect_eq "--io epoll --max-connections 6: a seventh client waits until one of the six leaves" "$r" "held 6 extra waited, then served"
t_check "served again once they are gone" alive
t_serve_stop total
t_serve_start total2 "$T/www" --drain-timeout 1 --max-connections 6 --max-per-ip 0 --header-timeout 0
r=$("$T_PY" "$T_HTTP_CLIENT" hold "$T_PORT" 6 --request)
t_expect_eq "--io threads --max-connections 6: a seventh client is refused" "$r" "held 6 extra refused"
t_check "served again once they are gone" alive
t_serve_stop total2

# --- idle and slow clients
t_serve_start idle "$T/www" --drain-timeout 1 --idle-timeout 1 --header-timeout 0
r=$("$T_PY" "$T_HTTP_CLIENT" idle "$T_PORT" --max 30)
t_expect_eq "--idle-timeout 1: a silent connection is closed" "$r" closed
t_serve_stop idle

t_serve_start slow "$T/www" --drain-timeout 1 --idle-timeout 30 --header-timeout 1
r=$("$T_PY" "$T_HTTP_CLIENT" trickle "$T_PORT" --interval 0.1 --max 30)
t_check "--header-timeout 1: a client trickling its head is closed ($r)" grep -q '^closed after [0-9]* bytes' <<<"$r"
r=$("$T_PY" "$T_HTTP_CLIENT" idle "$T_PORT" --max 30)
t_expect_eq "--header-timeout 1: a connection that never sends a request is closed" "$r" closed
t_check "normal clients are served" alive
n=$(t_curl -o /dev/null -o /dev/null -w '%{http_code}\n' "${T_URL}notes.txt" "${T_URL}hello-world.bin" | paste -sd' ')
t_expect_eq "keep-alive requests within the deadline are served" "$n" "200 200"
t_serve_stop slow
t_check "summary counts the slow clients closed" grep -Eq ' [1-9][0-9]* closed at the header deadline' "$T/slow.err"

t_finish
