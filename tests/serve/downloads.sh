#!/usr/bin/env bash
# otakit serve: downloads of a 1 MiB image. 1000 sequential downloads (one curl process,
# one keep-alive connection) and 64 parallel ones, every body byte-identical by SHA-256;
# a download cut in the middle and resumed with Range gives the right bytes.
source "$(dirname "$0")/common.bash"

mkdir -p "$tmp/www"
head -c 1048576 /dev/urandom >"$tmp/www/fw.bin"
SHA=$(sha256sum "$tmp/www/fw.bin" | cut -d' ' -f1)

start_server main "$tmp/www" --drain-timeout 2 --max-per-ip 128
MAIN_URL=$URL
IMG_URL="${URL}fw.bin"

# --- 1000 sequential downloads: bodies go to stdout back to back, one 1 MiB body per
# request; the hasher checks each one, curl reports each status on stderr
{
  for i in $(seq 1 1000); do
    printf 'url = "%s"\n' "$IMG_URL"
  done
} >"$tmp/seq.cfg"
curl --noproxy '*' -s --max-time 300 -K "$tmp/seq.cfg" -w '%{stderr}%{http_code} %{size_download} %{num_connects}\n' 2>"$tmp/seq.status" |
  "$PY" -c '
import hashlib, sys
want, n, good = sys.argv[1], 0, 0
while True:
    chunk = sys.stdin.buffer.read(1048576)
    if not chunk:
        break
    n += 1
    good += len(chunk) == 1048576 and hashlib.sha256(chunk).hexdigest() == want
print(n, good)' "$SHA" >"$tmp/seq.hash"
expect "1000 sequential downloads: all bodies byte-identical" "$(cat "$tmp/seq.hash")" "1000 1000"
expect "1000 sequential downloads: all 200 with 1 MiB" "$(grep -c '^200 1048576 ' "$tmp/seq.status")" 1000
expect "1000 sequential downloads: one connection" "$(awk '{s += $3} END {print s}' "$tmp/seq.status")" 1

# --- 64 parallel downloads
mkdir -p "$tmp/par"
{
  for i in $(seq 1 64); do
    printf 'url = "%s"\noutput = "%s/par/%d"\n' "$IMG_URL" "$tmp" "$i"
  done
} >"$tmp/par.cfg"
curl --noproxy '*' -s -S --no-progress-meter --max-time 300 -Z --parallel-max 64 --parallel-immediate -K "$tmp/par.cfg" \
  -w '%{http_code} %{size_download}\n' >"$tmp/par.status"
expect "64 parallel downloads: all 200" "$(grep -c '^200 1048576$' "$tmp/par.status")" 64
expect "64 parallel downloads: all byte-identical" "$(sha256sum "$tmp"/par/* | cut -d' ' -f1 | grep -c "^$SHA$")" 64

# --- the same 64 in parallel from a server with --io epoll
start_server ep "$tmp/www" --drain-timeout 2 --max-per-ip 128 --io epoll --quiet
rm -f "$tmp"/par/*
sed "s|$IMG_URL|${URL}fw.bin|" "$tmp/par.cfg" >"$tmp/par2.cfg"
curl --noproxy '*' -s -S --no-progress-meter --max-time 300 -Z --parallel-max 64 --parallel-immediate -K "$tmp/par2.cfg" \
  -w '%{http_code} %{size_download}\n' >"$tmp/par.status"
expect "--io epoll: 64 parallel downloads all 200" "$(grep -c '^200 1048576$' "$tmp/par.status")" 64
expect "--io epoll: all byte-identical" "$(sha256sum "$tmp"/par/* | cut -d' ' -f1 | grep -c "^$SHA$")" 64
stop_server ep
URL=$MAIN_URL

# --- a download cut after 300000 bytes (connection reset), resumed with Range + If-Range
r=$("$PY" "$CLIENT" interrupt "$IMG_URL" 300000 "$tmp/partial.bin")
expect "the cut download got its first bytes" "$r" "HTTP/1.1 200 OK 300000"
ETAG=$(C -I "$IMG_URL" | sed -n 's/^ETag: //Ip' | tr -d '\r')
code=$(C -C - -o "$tmp/partial.bin" -H "If-Range: $ETAG" -w '%{http_code} %{size_download}' "$IMG_URL")
expect "resume with Range + If-Range -> 206 for the rest" "$code" "206 $((1048576 - 300000))"
expect "the resumed file is byte-identical" "$(sha256sum <"$tmp/partial.bin" | cut -d' ' -f1)" "$SHA"
# a 1 MiB body fits in loopback socket buffers, so the server may well have finished
# before the reset; with 64 MiB it cannot have, and the cut shows in the log and summary
head -c $((64 << 20)) /dev/urandom >"$tmp/www/big.bin"
r=$("$PY" "$CLIENT" interrupt "${URL}big.bin" 1000000 "$tmp/big.part")
expect "the cut 64 MiB download got its first bytes" "$r" "HTTP/1.1 200 OK 1000000"
code=$(C -C - -o "$tmp/big.part" -w '%{http_code}' "${URL}big.bin")
expect "... resumed -> 206" "$code" 206
check "... and byte-identical" cmp -s "$tmp/big.part" "$tmp/www/big.bin"
# the same through curl's own resume after a cut by --max-filesize-like truncation
head -c 777777 "$tmp/www/fw.bin" >"$tmp/partial2.bin"
code=$(C -C - -o "$tmp/partial2.bin" -w '%{http_code}' "$IMG_URL")
expect "curl -C - resumes at 777777" "$code" 206
check "... and the result is byte-identical" cmp -s "$tmp/partial2.bin" "$tmp/www/fw.bin"
# a resume against a file that changed meanwhile restarts from zero (If-Range)
head -c 1048576 /dev/urandom >"$tmp/www/fw2.bin"
touch -d '2001-01-01' "$tmp/www/fw2.bin"
mv "$tmp/www/fw2.bin" "$tmp/www/fw.bin"
code=$(C -o "$tmp/changed.bin" -r 300000- -H "If-Range: $ETAG" -w '%{http_code} %{size_download}' "$IMG_URL")
expect "If-Range with the old ETag after a change -> the whole new file" "$code" "200 1048576"
check "... which is the new file" cmp -s "$tmp/changed.bin" "$tmp/www/fw.bin"

stop_server main
expect "clean stop" "$STOP_RC" 0
check "the cut download is logged with '-' bytes" grep -q '"GET /big.bin HTTP/1.1" 200 -$' "$tmp/main.out"
check "the summary counts it as aborted" grep -Eq ', [12] aborted,' "$tmp/main.err"
check "the summary counts the bytes, no errors" grep -Eq 'stopped: [0-9]+ requests, [0-9]{10} bytes sent, 0 errors' "$tmp/main.err"

finish
