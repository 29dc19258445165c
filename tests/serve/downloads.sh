#!/usr/bin/env bash
# otakit serve: downloads of a 1 MiB image. 1000 sequential downloads (one curl process,
# one keep-alive connection) and 64 parallel ones, every body byte-identical by SHA-256;
# a download cut in the middle and resumed with Range gives the right bytes.
source "$(dirname "$0")/../lib/testlib.bash"

mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/fw.bin"
SHA=$(sha256sum "$T/www/fw.bin" | cut -d' ' -f1)

t_serve_start main "$T/www" --drain-timeout 2 --max-per-ip 128
MAIN_URL=$T_URL
IMG_URL="${T_URL}fw.bin"

# --- 1000 sequential downloads: bodies go to stdout back to back, one 1 MiB body per
# request; the hasher checks each one, curl reports each status on stderr
{
  for i in $(seq 1 1000); do
    printf 'url = "%s"\n' "$IMG_URL"
  done
} >"$T/seq.cfg"
curl --noproxy '*' -s --max-time 300 -K "$T/seq.cfg" -w '%{stderr}%{http_code} %{size_download} %{num_connects}\n' 2>"$T/seq.status" |
  "$T_PY" -c '
import hashlib, sys
want, n, good = sys.argv[1], 0, 0
while True:
    chunk = sys.stdin.buffer.read(1048576)
    if not chunk:
        break
    n += 1
    good += len(chunk) == 1048576 and hashlib.sha256(chunk).hexdigest() == want
print(n, good)' "$SHA" >"$T/seq.hash"
t_expect_eq "1000 sequential downloads: all bodies byte-identical" "$(cat "$T/seq.hash")" "1000 1000"
t_expect_eq "1000 sequential downloads: all 200 with 1 MiB" "$(grep -c '^200 1048576 ' "$T/seq.status")" 1000
t_expect_eq "1000 sequential downloads: one connection" "$(awk '{s += $3} END {print s}' "$T/seq.status")" 1

# --- 64 parallel downloads
mkdir -p "$T/par"
{
  for i in $(seq 1 64); do
    printf 'url = "%s"\noutput = "%s/par/%d"\n' "$IMG_URL" "$T" "$i"
  done
} >"$T/par.cfg"
curl --noproxy '*' -s -S --no-progress-meter --max-time 300 -Z --parallel-max 64 --parallel-immediate -K "$T/par.cfg" \
  -w '%{http_code} %{size_download}\n' >"$T/par.status"
t_expect_eq "64 parallel downloads: all 200" "$(grep -c '^200 1048576$' "$T/par.status")" 64
t_expect_eq "64 parallel downloads: all byte-identical" "$(sha256sum "$T"/par/* | cut -d' ' -f1 | grep -c "^$SHA$")" 64

# --- the same 64 in parallel from a server with --io epoll
t_serve_start ep "$T/www" --drain-timeout 2 --max-per-ip 128 --io epoll --quiet
rm -f "$T"/par/*
sed "s|$IMG_URL|${T_URL}fw.bin|" "$T/par.cfg" >"$T/par2.cfg"
curl --noproxy '*' -s -S --no-progress-meter --max-time 300 -Z --parallel-max 64 --parallel-immediate -K "$T/par2.cfg" \
  -w '%{http_code} %{size_download}\n' >"$T/par.status"
t_expect_eq "--io epoll: 64 parallel downloads all 200" "$(grep -c '^200 1048576$' "$T/par.status")" 64
t_expect_eq "--io epoll: all byte-identical" "$(sha256sum "$T"/par/* | cut -d' ' -f1 | grep -c "^$SHA$")" 64
t_serve_stop ep
T_URL=$MAIN_URL

# --- a download cut after 300000 bytes (connection reset), resumed with Range + If-Range
r=$("$T_PY" "$T_HTTP_CLIENT" interrupt "$IMG_URL" 300000 "$T/partial.bin")
t_expect_eq "the cut download got its first bytes" "$r" "HTTP/1.1 200 OK 300000"
ETAG=$(t_curl -I "$IMG_URL" | sed -n 's/^ETag: //Ip' | tr -d '\r')
code=$(t_curl -C - -o "$T/partial.bin" -H "If-Range: $ETAG" -w '%{http_code} %{size_download}' "$IMG_URL")
t_expect_eq "resume with Range + If-Range -> 206 for the rest" "$code" "206 $((1048576 - 300000))"
t_expect_eq "the resumed file is byte-identical" "$(sha256sum <"$T/partial.bin" | cut -d' ' -f1)" "$SHA"
# a 1 MiB body fits in loopback socket buffers, so the server may well have finished
# before the reset; with 64 MiB it cannot have, and the cut shows in the log and summary
head -c $((64 << 20)) /dev/urandom >"$T/www/big.bin"
r=$("$T_PY" "$T_HTTP_CLIENT" interrupt "${T_URL}big.bin" 1000000 "$T/big.part")
t_expect_eq "the cut 64 MiB download got its first bytes" "$r" "HTTP/1.1 200 OK 1000000"
code=$(t_curl -C - -o "$T/big.part" -w '%{http_code}' "${T_URL}big.bin")
t_expect_eq "... resumed -> 206" "$code" 206
t_check "... and byte-identical" cmp -s "$T/big.part" "$T/www/big.bin"
# the same through curl's own resume after a cut by --max-filesize-like truncation
head -c 777777 "$T/www/fw.bin" >"$T/partial2.bin"
code=$(t_curl -C - -o "$T/partial2.bin" -w '%{http_code}' "$IMG_URL")
t_expect_eq "curl -C - resumes at 777777" "$code" 206
t_check "... and the result is byte-identical" cmp -s "$T/partial2.bin" "$T/www/fw.bin"
# a resume against a file that changed meanwhile restarts from zero (If-Range)
head -c 1048576 /dev/urandom >"$T/www/fw2.bin"
touch -d '2001-01-01' "$T/www/fw2.bin"
mv "$T/www/fw2.bin" "$T/www/fw.bin"
code=$(t_curl -o "$T/changed.bin" -r 300000- -H "If-Range: $ETAG" -w '%{http_code} %{size_download}' "$IMG_URL")
t_expect_eq "If-Range with the old ETag after a change -> the whole new file" "$code" "200 1048576"
t_check "... which is the new file" cmp -s "$T/changed.bin" "$T/www/fw.bin"

t_serve_stop main
t_expect_eq "clean stop" "$T_STOP_RC" 0
t_check "the cut download is logged with '-' bytes" grep -q '"GET /big.bin HTTP/1.1" 200 -$' "$T/main.out"
t_check "the summary counts it as aborted" grep -Eq ', [12] aborted,' "$T/main.err"
t_check "the summary counts the bytes, no errors" grep -Eq 'stopped: [0-9]+ requests, [0-9]{10} bytes sent, 0 errors' "$T/main.err"

t_finish
