#!/usr/bin/env bash
# otakit serve: the HTTP rules, checked with curl against the real server on loopback:
# GET/HEAD, Content-Length, Content-Type, ETag/Last-Modified revalidation (304), single
# ranges (206, 416, If-Range), 405, redirects, the HTML and JSON index, the access log
# and the command line.
source "$(dirname "$0")/../lib/testlib.bash"

t_make_www
IMG="$T/www/hello-world.bin"
SIZE=$(stat -c %s "$IMG")
SHA=$(sha256sum "$IMG" | cut -d' ' -f1)

# --- command line
out=$("$OTAKIT" serve --help)
t_expect_eq "--help exits 0 with usage on stdout" "$(grep -c '^usage: otakit serve' <<<"$out")" 1
rc=0; "$OTAKIT" serve --bogus 2>/dev/null || rc=$?
t_expect_eq "unknown option exits 2" "$rc" 2
rc=0; "$OTAKIT" serve "$T/www" --port 70000 2>/dev/null || rc=$?
t_expect_eq "port out of range exits 2" "$rc" 2
rc=0; err=$("$OTAKIT" serve "$T/nope" --port 0 2>&1) || rc=$?
t_expect_eq "missing directory exits 2" "$rc" 2
t_check "missing directory is named in the error" grep -q "otakit: $T/nope" <<<"$err"
rc=0; "$OTAKIT" serve "$T/www" --tls-cert "$T/x.pem" --port 0 2>/dev/null || rc=$?
t_expect_eq "--tls-cert without --tls-key exits 2" "$rc" 2
rc=0; "$OTAKIT" serve "$T/www" --bind not-an-address --port 0 2>/dev/null || rc=$?
t_expect_eq "a bad --bind exits 2" "$rc" 2

t_serve_start main "$T/www" --drain-timeout 2
t_check "start line names the directory and a loopback URL" \
  grep -Eq "^serving $T/www on http://127\.0\.0\.1:[0-9]+/$" "$T/main.out"

# --- GET and HEAD
t_curl -D "$T/h" -o "$T/got" "${T_URL}hello-world.bin"
t_expect_eq "GET 200" "$(head -n1 "$T/h" | tr -d '\r')" "HTTP/1.1 200 OK"
t_expect_eq "GET body is the file" "$(sha256sum <"$T/got" | cut -d' ' -f1)" "$SHA"
hdr() { grep -i "^$1:" "$2" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }
t_expect_eq "Content-Length is the size" "$(hdr Content-Length "$T/h")" "$SIZE"
t_expect_eq "Content-Type of .bin" "$(hdr Content-Type "$T/h")" "application/octet-stream"
t_expect_eq "Accept-Ranges" "$(hdr Accept-Ranges "$T/h")" "bytes"
ETAG=$(hdr ETag "$T/h")
LM=$(hdr Last-Modified "$T/h")
t_check "ETag is a quoted strong validator" grep -Eq '^"[0-9a-f-]+"$' <<<"$ETAG"
t_expect_eq "Last-Modified is the file's mtime" "$LM" "$(TZ=GMT date -r "$IMG" '+%a, %d %b %Y %H:%M:%S GMT')"
t_check "no chunked encoding" bash -c "! grep -qi '^Transfer-Encoding' '$T/h'"

t_curl -I -o /dev/null -D "$T/h" "${T_URL}hello-world.bin"
t_expect_eq "HEAD 200" "$(head -n1 "$T/h" | tr -d '\r')" "HTTP/1.1 200 OK"
t_expect_eq "HEAD Content-Length is the size" "$(hdr Content-Length "$T/h")" "$SIZE"
t_expect_eq "HEAD has the same ETag" "$(hdr ETag "$T/h")" "$ETAG"
n=$(t_curl -X HEAD -o - "${T_URL}hello-world.bin" --max-time 5 | wc -c || true)
t_expect_eq "HEAD sends no body" "$n" 0

t_curl -D "$T/h" -o /dev/null "${T_URL}notes.txt"
t_expect_eq "Content-Type of .txt" "$(hdr Content-Type "$T/h")" "text/plain; charset=utf-8"
t_expect_eq "Content-Length of notes.txt" "$(hdr Content-Length "$T/h")" 14

# --- revalidation
: >"$T/b"
code=$(t_curl -o "$T/b" -w '%{http_code}' -H "If-None-Match: $ETAG" "${T_URL}hello-world.bin")
t_expect_eq "If-None-Match with the ETag -> 304" "$code" 304
t_expect_eq "304 has no body" "$(wc -c <"$T/b")" 0
t_expect_http "If-None-Match list with a weak match -> 304" 304 -H "If-None-Match: \"x\", W/$ETAG" "${T_URL}hello-world.bin"
t_expect_http "If-None-Match: * -> 304" 304 -H 'If-None-Match: *' "${T_URL}hello-world.bin"
t_expect_http "If-None-Match with another ETag -> 200" 200 -H 'If-None-Match: "other"' "${T_URL}hello-world.bin"
t_expect_http "If-Modified-Since = Last-Modified -> 304" 304 -H "If-Modified-Since: $LM" "${T_URL}hello-world.bin"
t_expect_http "curl -z (If-Modified-Since from the file) -> 304" 304 -z "$IMG" "${T_URL}hello-world.bin"
t_expect_http "If-Modified-Since before the mtime -> 200" 200 -H 'If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT' "${T_URL}hello-world.bin"
t_expect_http "unparseable If-Modified-Since is ignored -> 200" 200 -H 'If-Modified-Since: garbage' "${T_URL}hello-world.bin"
t_expect_http "If-None-Match wins over If-Modified-Since" 200 -H 'If-None-Match: "other"' -H "If-Modified-Since: $LM" "${T_URL}hello-world.bin"

# --- ranges
t_curl -D "$T/h" -o "$T/r" -r 100-199 "${T_URL}hello-world.bin"
t_expect_eq "Range 100-199 -> 206" "$(head -n1 "$T/h" | tr -d '\r')" "HTTP/1.1 206 Partial Content"
t_expect_eq "206 Content-Range" "$(hdr Content-Range "$T/h")" "bytes 100-199/$SIZE"
t_expect_eq "206 Content-Length" "$(hdr Content-Length "$T/h")" 100
t_check "206 body is bytes 100..199" cmp -s "$T/r" <(tail -c +101 "$IMG" | head -c 100)
t_curl -D "$T/h" -o "$T/r" -r -32 "${T_URL}hello-world.bin"
t_expect_eq "suffix range -32 Content-Range" "$(hdr Content-Range "$T/h")" "bytes $((SIZE - 32))-$((SIZE - 1))/$SIZE"
t_check "suffix range body is the last 32 bytes (the appended SHA-256)" cmp -s "$T/r" <(tail -c 32 "$IMG")
t_curl -D "$T/h" -o "$T/r" -r "$((SIZE - 10))-" "${T_URL}hello-world.bin"
t_expect_eq "open range N- Content-Range" "$(hdr Content-Range "$T/h")" "bytes $((SIZE - 10))-$((SIZE - 1))/$SIZE"
t_curl -D "$T/h" -o "$T/r" -r "0-$((SIZE + 1000))" "${T_URL}hello-world.bin"
t_expect_eq "range past the end is clipped" "$(hdr Content-Range "$T/h")" "bytes 0-$((SIZE - 1))/$SIZE"
t_curl -D "$T/h" -o "$T/r" -r "$SIZE-" "${T_URL}hello-world.bin"
t_expect_eq "range from the size -> 416" "$(head -n1 "$T/h" | tr -d '\r')" "HTTP/1.1 416 Range Not Satisfiable"
t_expect_eq "416 Content-Range */size" "$(hdr Content-Range "$T/h")" "bytes */$SIZE"
t_expect_eq "416 Content-Length 0" "$(hdr Content-Length "$T/h")" 0
t_expect_http "suffix range of 0 bytes -> 416" 416 -H 'Range: bytes=-0' "${T_URL}hello-world.bin"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -r 0-1,10-11 "${T_URL}hello-world.bin")
t_expect_eq "several ranges -> whole file 200" "$code" "200 $SIZE"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: bytes=9-3' "${T_URL}hello-world.bin")
t_expect_eq "a backwards range is ignored -> 200" "$code" "200 $SIZE"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: items=0-3' "${T_URL}hello-world.bin")
t_expect_eq "another unit is ignored -> 200" "$code" "200 $SIZE"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H "If-Range: $ETAG" "${T_URL}hello-world.bin")
t_expect_eq "If-Range with the ETag -> 206" "$code" "206 10"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H 'If-Range: "stale"' "${T_URL}hello-world.bin")
t_expect_eq "If-Range with a stale ETag -> whole file" "$code" "200 $SIZE"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H "If-Range: $LM" "${T_URL}hello-world.bin")
t_expect_eq "If-Range with the Last-Modified date -> 206" "$code" "206 10"
code=$(t_curl -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H 'If-Range: Sat, 01 Jan 2000 00:00:00 GMT' "${T_URL}hello-world.bin")
t_expect_eq "If-Range with an old date -> whole file" "$code" "200 $SIZE"
code=$(t_curl -I -o /dev/null -w '%{http_code}' -r 0-9 "${T_URL}hello-world.bin")
t_expect_eq "HEAD ignores Range (RFC 9110)" "$code" 200
printf '' >"$T/www/empty.bin"
t_expect_http "any range of an empty file -> 416" 416 -r 0-0 "${T_URL}empty.bin"
code=$(t_curl -o /dev/null -D "$T/h" -w '%{http_code} %{size_download}' "${T_URL}empty.bin")
t_expect_eq "empty file -> 200, 0 bytes" "$code" "200 0"
t_expect_eq "empty file Content-Length 0" "$(hdr Content-Length "$T/h")" 0

# --- methods, errors, redirects
t_curl -o "$T/b" -D "$T/h" -X POST -d 'x=1' "${T_URL}hello-world.bin"
t_expect_eq "POST -> 405" "$(head -n1 "$T/h" | tr -d '\r')" "HTTP/1.1 405 Method Not Allowed"
t_expect_eq "405 Allow" "$(hdr Allow "$T/h")" "GET, HEAD"
t_expect_http "DELETE -> 405" 405 -X DELETE "${T_URL}hello-world.bin"
t_check "the file is still there after DELETE" test -f "$IMG"
t_expect_http "missing file -> 404" 404 "${T_URL}missing.bin"
code=$(t_curl -o /dev/null -D "$T/h" -w '%{http_code}' "${T_URL}sub?format=json")
t_expect_eq "directory without a slash -> 301" "$code" 301
t_expect_eq "301 Location keeps the query" "$(hdr Location "$T/h")" "/sub/?format=json"
code=$(t_curl -o "$T/b" -w '%{http_code}' "${T_URL}sub/inner.txt")
t_expect_eq "file in a subdirectory" "$code" 200
t_expect_http "unknown index format -> 400" 400 "${T_URL}?format=xml"

# --- index: HTML for a browser
t_curl -D "$T/h" -o "$T/index.html" "$T_URL"
t_expect_eq "index Content-Type" "$(hdr Content-Type "$T/h")" "text/html; charset=utf-8"
t_check "HTML index links hello-world.bin" grep -q '<a href="hello-world.bin">hello-world.bin</a>' "$T/index.html"
t_check "HTML index shows the project" grep -q '<td>hello_world</td>' "$T/index.html"
t_check "HTML index shows the version" grep -q '<td>v5.0.4-160-g3f55377ab4-dirty</td>' "$T/index.html"
t_check "HTML index shows the SHA-256" grep -q "$SHA" "$T/index.html"
t_check "HTML index links the subdirectory" grep -q '<a href="sub/">sub/</a>' "$T/index.html"
t_check "HTML index hides dot files" bash -c "! grep -q '\.env' '$T/index.html'"
printf 'x' >"$T/www/<b>&.txt"
t_curl -o "$T/index2.html" "$T_URL"
t_check "HTML index escapes names" grep -q '<a href="%3Cb%3E%26.txt">&lt;b&gt;&amp;.txt</a>' "$T/index2.html"
rm -f "$T/www/<b>&.txt"

# --- index: JSON for scripts
t_curl -D "$T/h" -o "$T/index.json" "${T_URL}?format=json"
t_expect_eq "JSON index Content-Type" "$(hdr Content-Type "$T/h")" "application/json"
jq_py() { "$T_PY" -c "import json,sys; d=json.load(open('$T/index.json')); f={x['name']:x for x in d['files']}; print($1)"; }
t_expect_eq "JSON path" "$(jq_py "d['path']")" "/"
t_expect_eq "JSON names (sorted, no dot files)" "$(jq_py "' '.join(x['name'] for x in d['files'])")" "empty.bin hello-world.bin notes.txt sub"
t_expect_eq "image type" "$(jq_py "f['hello-world.bin']['type']")" image
t_expect_eq "image project" "$(jq_py "f['hello-world.bin']['project']")" hello_world
t_expect_eq "image version" "$(jq_py "f['hello-world.bin']['version']")" v5.0.4-160-g3f55377ab4-dirty
t_expect_eq "image secure_version" "$(jq_py "f['hello-world.bin']['secure_version']")" 0
t_expect_eq "image size" "$(jq_py "f['hello-world.bin']['size']")" "$SIZE"
t_expect_eq "image sha256 is the file's" "$(jq_py "f['hello-world.bin']['sha256']")" "$SHA"
t_expect_eq "image chip" "$(jq_py "f['hello-world.bin']['chip']")" ESP32
t_expect_eq "plain file type" "$(jq_py "f['notes.txt']['type']")" file
t_expect_eq "plain file has no project" "$(jq_py "'project' in f['notes.txt']")" False
t_expect_eq "plain file sha256" "$(jq_py "f['notes.txt']['sha256']")" "$(sha256sum "$T/www/notes.txt" | cut -d' ' -f1)"
t_expect_eq "directory type" "$(jq_py "f['sub']['type']")" dir
t_curl -o "$T/index.json" "${T_URL}sub/?format=json"
t_expect_eq "JSON index of a subdirectory" "$(jq_py "d['path'] + ' ' + d['files'][0]['name']")" "/sub/ inner.txt"
# a secure_version and a new version show up once the file changes (the cache is keyed
# by identity, size and mtime)
cp "$OTAKIT_VECTORS/image/ota_test_firmawares/anti_rollback_4_esp32c2.bin" "$T/www/ar.bin"
t_curl -o "$T/index.json" "${T_URL}?format=json"
t_expect_eq "secure_version of an anti-rollback image" "$(jq_py "f['ar.bin']['secure_version']")" 1
t_expect_eq "chip of an ESP32-C2 image" "$(jq_py "f['ar.bin']['chip']")" ESP32-C2
cp "$OTAKIT_VECTORS/image/ota_test_firmawares/qemu_simple_ota.bin" "$T/www/ar.bin.new"
touch -d '2001-01-01' "$T/www/ar.bin.new"
mv "$T/www/ar.bin.new" "$T/www/ar.bin"
t_curl -o "$T/index.json" "${T_URL}?format=json"
t_expect_eq "a replaced image is re-read" "$(jq_py "f['ar.bin']['project']")" simple_ota
t_expect_eq "... with its new hash" "$(jq_py "f['ar.bin']['sha256']")" "$(sha256sum "$T/www/ar.bin" | cut -d' ' -f1)"

# --- keep-alive: many requests on one connection
n=$(t_curl -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "${T_URL}notes.txt" "${T_URL}notes.txt" "${T_URL}notes.txt" | paste -sd' ')
t_expect_eq "three requests, one connection" "$n" "1 0 0"

# --- stop, access log, summary
t_serve_stop main
t_expect_eq "SIGTERM -> exit 0" "$T_STOP_RC" 0
t_check "access log in common log format" grep -Eq \
  '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "GET /hello-world.bin HTTP/1.1" 200 '"$SIZE"'$' "$T/main.out"
t_check "access log: 206 with its byte count" grep -q '"GET /hello-world.bin HTTP/1.1" 206 100$' "$T/main.out"
t_check "access log: HEAD logs 0 bytes" grep -q '"HEAD /hello-world.bin HTTP/1.1" 200 0$' "$T/main.out"
t_check "access log: 405" grep -q '"POST /hello-world.bin HTTP/1.1" 405 ' "$T/main.out"
t_check "access log: query string kept" grep -q '"GET /?format=json HTTP/1.1" 200 ' "$T/main.out"
t_check "summary on stderr" grep -Eq '^otakit: serve: stopped: [0-9]+ requests, [0-9]+ bytes sent, [0-9]+ errors' "$T/main.err"
nreq=$(grep -c '" [0-9][0-9][0-9] ' "$T/main.out")
t_expect_eq "summary counts every logged request" "$(sed -n 's/.*stopped: \([0-9]*\) requests.*/\1/p' "$T/main.err")" "$nreq"

# --json: one JSON object on stdout, start line and log on stderr; --quiet: no log
"$OTAKIT" serve "$T/www" --port 0 --json --drain-timeout 1 >"$T/j.out" 2>"$T/j.err" &
jpid=$!
T_SERVER_PID[json]=$jpid # t_serve_stop's bounded wait
t_track_pid "$jpid"        # and the cleanup if the test dies here
t_wait_for_line "$T/j.err" '^serving ' || true
jurl=$(sed -n 's/^serving .* on //p' "$T/j.err")
t_check "--json puts the start line on stderr" test -n "$jurl"
t_curl -o /dev/null "${jurl}notes.txt"
t_curl -o /dev/null "${jurl}nope"
t_serve_stop json
t_expect_eq "--json: SIGTERM -> exit 0" "$T_STOP_RC" 0
t_expect_eq "--json: stdout is one JSON object" "$("$T_PY" -c "import json; d=json.load(open('$T/j.out')); print(d['requests'], d['errors'], d['bytes'], d['urls'][0] == '$jurl')")" "2 1 28 True"
t_check "--json: the access log went to stderr" grep -q '"GET /notes.txt HTTP/1.1" 200 14' "$T/j.err"

t_serve_start quiet "$T/www" --quiet --drain-timeout 1
t_curl -o /dev/null "${T_URL}notes.txt"
t_serve_stop quiet
t_expect_eq "--quiet: only the start line on stdout" "$(wc -l <"$T/quiet.out")" 1

t_serve_start logf "$T/www" --access-log "$T/access.log" --drain-timeout 1
t_curl -o /dev/null "${T_URL}notes.txt"
t_serve_stop logf
t_check "--access-log FILE" grep -q '"GET /notes.txt HTTP/1.1" 200 14$' "$T/access.log"

# IPv6 loopback, where the machine has it
if "$T_PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  t_serve_start v6 "$T/www" --bind ::1 --drain-timeout 1
  t_check "IPv6 start line" grep -Eq '^serving .* on http://\[::1\]:[0-9]+/$' "$T/v6.out"
  code=$(t_curl -g -o /dev/null -w '%{http_code}' "${T_URL}notes.txt")
  t_expect_eq "GET over IPv6" "$code" 200
  t_serve_stop v6
  t_check "IPv6 client address in the log" grep -q '^::1 - - ' "$T/v6.out"
else
  echo "SKIPPED: the IPv6 checks (this machine cannot bind ::1)"
fi

t_finish
