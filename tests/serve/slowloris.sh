#!/usr/bin/env bash
# otakit serve under a slowloris-style load that stops by itself: 256 slow connections
# (request heads sent a byte at a time, from 8 loopback addresses) are held open while 32
# normal clients each download a 1 MiB image 4 times; every normal download must finish
# byte-identical. Then the same attack from one address: the per-address limit caps it.
source "$(dirname "$0")/../lib/testlib.bash"

mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/fw.bin"
SHA=$(sha256sum "$T/www/fw.bin" | cut -d' ' -f1)
# slowloris SOURCES: 256 slow connections from SOURCES addresses and 32 normal clients
# against the server last started; its JSON report in $r
slowloris() {
  r=$(timeout 180 "$T_PY" "$T_HTTP_CLIENT" slowloris "$T_PORT" /fw.bin "$SHA" --slow 256 --sources "$1" --normal 32 --rounds 4 --max 120)
  echo "$r"
}
field() { "$T_PY" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# --- 256 slow connections from 8 addresses, default limits
t_serve_start main "$T/www" --quiet --drain-timeout 2
slowloris 8
t_expect_eq "all 256 slow connections were open when the normal clients started" "$(field "$r" slow_open_at_start)" 256
t_expect_eq "every normal client finished" "$(field "$r" normal_finished)" True
t_expect_eq "all 128 normal downloads byte-identical" "$(field "$r" downloads_ok)" 128
t_check "the server still answers" test "$(t_http_code "${T_URL}fw.bin")" = 200
t_serve_stop main
t_expect_eq "clean stop" "$T_STOP_RC" 0

# --- the same with --io epoll (an event loop per core instead of a thread per connection)
t_serve_start ep "$T/www" --quiet --drain-timeout 2 --io epoll
slowloris 8
t_expect_eq "--io epoll: all 256 slow connections open" "$(field "$r" slow_open_at_start)" 256
t_expect_eq "--io epoll: every normal client finished" "$(field "$r" normal_finished)" True
t_expect_eq "--io epoll: all 128 normal downloads byte-identical" "$(field "$r" downloads_ok)" 128
t_serve_stop ep
t_expect_eq "clean stop" "$T_STOP_RC" 0

# --- 256 slow connections from one address: --max-per-ip 64 holds them to 64, and the
# header deadline closes those (they reconnect, and are held to 64 again)
t_serve_start one "$T/www" --quiet --drain-timeout 2 --max-per-ip 64 --header-timeout 2
slowloris 1
t_expect_eq "one address gets at most 64 connections" "$(field "$r" slow_open_at_start)" 64
t_expect_eq "every normal client finished" "$(field "$r" normal_finished)" True
t_expect_eq "all 128 normal downloads byte-identical" "$(field "$r" downloads_ok)" 128
t_serve_stop one
t_expect_eq "clean stop" "$T_STOP_RC" 0

t_finish
