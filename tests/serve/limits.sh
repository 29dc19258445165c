#!/usr/bin/env bash
# otakit serve: limits. Malformed requests get a 4xx (or, when libmicrohttpd cannot even
# find a request line, a closed connection) and the server goes on; request heads
# larger than --max-header-size get 431 / 414; --max-connections and --max-per-ip
# refuse connections past the limit while other clients are served; idle connections
# and clients that trickle their request head are closed.
source "$(dirname "$0")/common.bash"

make_www
start_server main "$tmp/www" --drain-timeout 1 --max-header-size 8192 --header-timeout 2
PORT=$(port_of "$URL")
raw() { "$PY" "$CLIENT" raw "$PORT" "$@" || echo "CLIENT ERROR"; }
alive() {
  local code
  code=$(C -o /dev/null -w '%{http_code}' "${URL}notes.txt" || true)
  [[ $code == 200 ]]
}

# --- malformed requests; a GET with a body (here a conflicting one) is answered at once
# and the connection closed; a line that is no request at all is closed by the
# request-head deadline
while IFS=$'\t' read -r want payload; do
  r=$(raw "$payload")
  if grep -Eq "^($want)" <<<"$r"; then
    pass "$payload -> $r"
  else
    fail "$payload -> $r, want $want"
  fi
  check "server answers after $payload" alive
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
expect "a 20 KB header with --max-header-size 8192 -> 431" "$r" "HTTP/1.1 431 Request Header Fields Too Large"
r=$(raw "b'GET /' + b'a' * 20000 + b' HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'")
expect "a 20 KB URI -> 414" "$r" "HTTP/1.1 414 URI Too Long"
r=$(raw "b'GET /notes.txt HTTP/1.1\\r\\nHost: x\\r\\nX-Ok: ' + b'a' * 2000 + b'\\r\\n\\r\\n'")
expect "a 2 KB header is fine" "$r" "HTTP/1.1 200 OK"
check "server answers after the oversized heads" alive
stop_server main
expect "clean stop" "$STOP_RC" 0
check "malformed requests are counted as errors" grep -Eq 'stopped: [0-9]+ requests, [0-9]+ bytes sent, ([1-9][0-9]*) errors' "$tmp/main.err"

# --- per-address limit: connections from 127.0.0.3 past 4 are refused, other
# addresses are still served (the whole of 127.0.0.0/8 is loopback)
start_server perip "$tmp/www" --drain-timeout 1 --max-per-ip 4 --header-timeout 0
PORT=$(port_of "$URL")
r=$("$PY" "$CLIENT" hold "$PORT" 4 --src 127.0.0.3)
expect "--max-per-ip 4: a fifth connection from one address is refused" "$r" "held 4 extra refused"
r=$("$PY" "$CLIENT" hold "$PORT" 3 --src 127.0.0.4)
expect "--max-per-ip 4: four connections are accepted" "$r" "held 3 extra accepted"
check "other addresses are served meanwhile" alive
stop_server perip

# --- total limit. With --io epoll, past it libmicrohttpd stops accepting: the next
# client waits in the listen queue and is served once a slot frees up. With --io threads
# (the default) it is accepted and closed at once.
start_server total "$tmp/www" --drain-timeout 1 --max-connections 6 --max-per-ip 0 --header-timeout 0 --io epoll --threads 1
PORT=$(port_of "$URL")
r=$("$PY" "$CLIENT" hold "$PORT" 6 --request)
expect "--io epoll --max-connections 6: a seventh client waits until one of the six leaves" "$r" "held 6 extra waited, then served"
check "served again once they are gone" alive
stop_server total
start_server total2 "$tmp/www" --drain-timeout 1 --max-connections 6 --max-per-ip 0 --header-timeout 0
PORT=$(port_of "$URL")
r=$("$PY" "$CLIENT" hold "$PORT" 6 --request)
expect "--io threads --max-connections 6: a seventh client is refused" "$r" "held 6 extra refused"
check "served again once they are gone" alive
stop_server total2

# --- idle and slow clients
start_server idle "$tmp/www" --drain-timeout 1 --idle-timeout 1 --header-timeout 0
PORT=$(port_of "$URL")
r=$("$PY" "$CLIENT" idle "$PORT" --max 30)
expect "--idle-timeout 1: a silent connection is closed" "$r" closed
stop_server idle

start_server slow "$tmp/www" --drain-timeout 1 --idle-timeout 30 --header-timeout 1
PORT=$(port_of "$URL")
r=$("$PY" "$CLIENT" trickle "$PORT" --interval 0.1 --max 30)
check "--header-timeout 1: a client trickling its head is closed ($r)" grep -q '^closed after [0-9]* bytes' <<<"$r"
r=$("$PY" "$CLIENT" idle "$PORT" --max 30)
expect "--header-timeout 1: a connection that never sends a request is closed" "$r" closed
check "normal clients are served" alive
n=$(C -o /dev/null -o /dev/null -w '%{http_code}\n' "${URL}notes.txt" "${URL}hello-world.bin" | paste -sd' ')
expect "keep-alive requests within the deadline are served" "$n" "200 200"
stop_server slow
check "summary counts the slow clients closed" grep -Eq ' [1-9][0-9]* closed at the header deadline' "$tmp/slow.err"

finish
