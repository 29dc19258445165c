#!/usr/bin/env bash
# otakit serve under a slowloris-style load that stops by itself: 256 slow connections
# (request heads sent a byte at a time, from 8 loopback addresses) are held open while 32
# normal clients each download a 1 MiB image 4 times; every normal download must finish
# byte-identical. Then the same attack from one address: the per-address limit caps it.
source "$(dirname "$0")/common.bash"

mkdir -p "$tmp/www"
head -c 1048576 /dev/urandom >"$tmp/www/fw.bin"
SHA=$(sha256sum "$tmp/www/fw.bin" | cut -d' ' -f1)
field() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# --- 256 slow connections from 8 addresses, default limits
start_server main "$tmp/www" --quiet --drain-timeout 2
PORT=$(port_of "$URL")
r=$(timeout 180 "$PY" "$CLIENT" slowloris "$PORT" /fw.bin "$SHA" --slow 256 --sources 8 --normal 32 --rounds 4 --max 120)
echo "$r"
expect "all 256 slow connections were open when the normal clients started" "$(field "$r" slow_open_at_start)" 256
expect "every normal client finished" "$(field "$r" normal_finished)" True
expect "all 128 normal downloads byte-identical" "$(field "$r" downloads_ok)" 128
check "the server still answers" test "$(C -o /dev/null -w '%{http_code}' "${URL}fw.bin")" = 200
stop_server main
expect "clean stop" "$STOP_RC" 0

# --- the same with --io epoll (an event loop per core instead of a thread per connection)
start_server ep "$tmp/www" --quiet --drain-timeout 2 --io epoll
PORT=$(port_of "$URL")
r=$(timeout 180 "$PY" "$CLIENT" slowloris "$PORT" /fw.bin "$SHA" --slow 256 --sources 8 --normal 32 --rounds 4 --max 120)
echo "$r"
expect "--io epoll: all 256 slow connections open" "$(field "$r" slow_open_at_start)" 256
expect "--io epoll: every normal client finished" "$(field "$r" normal_finished)" True
expect "--io epoll: all 128 normal downloads byte-identical" "$(field "$r" downloads_ok)" 128
stop_server ep
expect "clean stop" "$STOP_RC" 0

# --- 256 slow connections from one address: --max-per-ip 64 holds them to 64, and the
# header deadline closes those (they reconnect, and are held to 64 again)
start_server one "$tmp/www" --quiet --drain-timeout 2 --max-per-ip 64 --header-timeout 2
PORT=$(port_of "$URL")
r=$(timeout 180 "$PY" "$CLIENT" slowloris "$PORT" /fw.bin "$SHA" --slow 256 --sources 1 --normal 32 --rounds 4 --max 120)
echo "$r"
expect "one address gets at most 64 connections" "$(field "$r" slow_open_at_start)" 64
expect "every normal client finished" "$(field "$r" normal_finished)" True
expect "all 128 normal downloads byte-identical" "$(field "$r" downloads_ok)" 128
stop_server one
expect "clean stop" "$STOP_RC" 0

finish
