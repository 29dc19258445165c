#!/usr/bin/env bash
# otakit serve: the HTTP rules, checked with curl against the real server on loopback:
# GET/HEAD, Content-Length, Content-Type, ETag/Last-Modified revalidation (304), single
# ranges (206, 416, If-Range), 405, redirects, the HTML and JSON index, the access log
# and the command line.
source "$(dirname "$0")/common.bash"

make_www
IMG="$tmp/www/hello-world.bin"
SIZE=$(stat -c %s "$IMG")
SHA=$(sha256sum "$IMG" | cut -d' ' -f1)

# --- command line
out=$("$OTAKIT" serve --help)
expect "--help exits 0 with usage on stdout" "$(grep -c '^usage: otakit serve' <<<"$out")" 1
rc=0; "$OTAKIT" serve --bogus 2>/dev/null || rc=$?
expect "unknown option exits 2" "$rc" 2
rc=0; "$OTAKIT" serve "$tmp/www" --port 70000 2>/dev/null || rc=$?
expect "port out of range exits 2" "$rc" 2
rc=0; err=$("$OTAKIT" serve "$tmp/nope" --port 0 2>&1) || rc=$?
expect "missing directory exits 2" "$rc" 2
check "missing directory is named in the error" grep -q "otakit: $tmp/nope" <<<"$err"
rc=0; "$OTAKIT" serve "$tmp/www" --tls-cert "$tmp/x.pem" --port 0 2>/dev/null || rc=$?
expect "--tls-cert without --tls-key exits 2" "$rc" 2
rc=0; "$OTAKIT" serve "$tmp/www" --bind not-an-address --port 0 2>/dev/null || rc=$?
expect "a bad --bind exits 2" "$rc" 2

start_server main "$tmp/www" --drain-timeout 2
check "start line names the directory and a loopback URL" \
  grep -Eq "^serving $tmp/www on http://127\.0\.0\.1:[0-9]+/$" "$tmp/main.out"

# --- GET and HEAD
C -D "$tmp/h" -o "$tmp/got" "${URL}hello-world.bin"
expect "GET 200" "$(head -n1 "$tmp/h" | tr -d '\r')" "HTTP/1.1 200 OK"
expect "GET body is the file" "$(sha256sum <"$tmp/got" | cut -d' ' -f1)" "$SHA"
hdr() { grep -i "^$1:" "$2" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }
expect "Content-Length is the size" "$(hdr Content-Length "$tmp/h")" "$SIZE"
expect "Content-Type of .bin" "$(hdr Content-Type "$tmp/h")" "application/octet-stream"
expect "Accept-Ranges" "$(hdr Accept-Ranges "$tmp/h")" "bytes"
ETAG=$(hdr ETag "$tmp/h")
LM=$(hdr Last-Modified "$tmp/h")
check "ETag is a quoted strong validator" grep -Eq '^"[0-9a-f-]+"$' <<<"$ETAG"
expect "Last-Modified is the file's mtime" "$LM" "$(TZ=GMT date -r "$IMG" '+%a, %d %b %Y %H:%M:%S GMT')"
check "no chunked encoding" bash -c "! grep -qi '^Transfer-Encoding' '$tmp/h'"

C -I -o /dev/null -D "$tmp/h" "${URL}hello-world.bin"
expect "HEAD 200" "$(head -n1 "$tmp/h" | tr -d '\r')" "HTTP/1.1 200 OK"
expect "HEAD Content-Length is the size" "$(hdr Content-Length "$tmp/h")" "$SIZE"
expect "HEAD has the same ETag" "$(hdr ETag "$tmp/h")" "$ETAG"
n=$(C -X HEAD -o - "${URL}hello-world.bin" --max-time 5 | wc -c || true)
expect "HEAD sends no body" "$n" 0

C -D "$tmp/h" -o /dev/null "${URL}notes.txt"
expect "Content-Type of .txt" "$(hdr Content-Type "$tmp/h")" "text/plain; charset=utf-8"
expect "Content-Length of notes.txt" "$(hdr Content-Length "$tmp/h")" 14

# --- revalidation
: >"$tmp/b"
code=$(C -o "$tmp/b" -w '%{http_code}' -H "If-None-Match: $ETAG" "${URL}hello-world.bin")
expect "If-None-Match with the ETag -> 304" "$code" 304
expect "304 has no body" "$(wc -c <"$tmp/b")" 0
code=$(C -o /dev/null -w '%{http_code}' -H "If-None-Match: \"x\", W/$ETAG" "${URL}hello-world.bin")
expect "If-None-Match list with a weak match -> 304" "$code" 304
code=$(C -o /dev/null -w '%{http_code}' -H 'If-None-Match: *' "${URL}hello-world.bin")
expect "If-None-Match: * -> 304" "$code" 304
code=$(C -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "${URL}hello-world.bin")
expect "If-None-Match with another ETag -> 200" "$code" 200
code=$(C -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $LM" "${URL}hello-world.bin")
expect "If-Modified-Since = Last-Modified -> 304" "$code" 304
code=$(C -o /dev/null -w '%{http_code}' -z "$IMG" "${URL}hello-world.bin")
expect "curl -z (If-Modified-Since from the file) -> 304" "$code" 304
code=$(C -o /dev/null -w '%{http_code}' -H 'If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT' "${URL}hello-world.bin")
expect "If-Modified-Since before the mtime -> 200" "$code" 200
code=$(C -o /dev/null -w '%{http_code}' -H 'If-Modified-Since: garbage' "${URL}hello-world.bin")
expect "unparseable If-Modified-Since is ignored -> 200" "$code" 200
code=$(C -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' -H "If-Modified-Since: $LM" "${URL}hello-world.bin")
expect "If-None-Match wins over If-Modified-Since" "$code" 200

# --- ranges
C -D "$tmp/h" -o "$tmp/r" -r 100-199 "${URL}hello-world.bin"
expect "Range 100-199 -> 206" "$(head -n1 "$tmp/h" | tr -d '\r')" "HTTP/1.1 206 Partial Content"
expect "206 Content-Range" "$(hdr Content-Range "$tmp/h")" "bytes 100-199/$SIZE"
expect "206 Content-Length" "$(hdr Content-Length "$tmp/h")" 100
check "206 body is bytes 100..199" cmp -s "$tmp/r" <(tail -c +101 "$IMG" | head -c 100)
C -D "$tmp/h" -o "$tmp/r" -r -32 "${URL}hello-world.bin"
expect "suffix range -32 Content-Range" "$(hdr Content-Range "$tmp/h")" "bytes $((SIZE - 32))-$((SIZE - 1))/$SIZE"
check "suffix range body is the last 32 bytes (the appended SHA-256)" cmp -s "$tmp/r" <(tail -c 32 "$IMG")
C -D "$tmp/h" -o "$tmp/r" -r "$((SIZE - 10))-" "${URL}hello-world.bin"
expect "open range N- Content-Range" "$(hdr Content-Range "$tmp/h")" "bytes $((SIZE - 10))-$((SIZE - 1))/$SIZE"
C -D "$tmp/h" -o "$tmp/r" -r "0-$((SIZE + 1000))" "${URL}hello-world.bin"
expect "range past the end is clipped" "$(hdr Content-Range "$tmp/h")" "bytes 0-$((SIZE - 1))/$SIZE"
C -D "$tmp/h" -o "$tmp/r" -r "$SIZE-" "${URL}hello-world.bin"
expect "range from the size -> 416" "$(head -n1 "$tmp/h" | tr -d '\r')" "HTTP/1.1 416 Range Not Satisfiable"
expect "416 Content-Range */size" "$(hdr Content-Range "$tmp/h")" "bytes */$SIZE"
expect "416 Content-Length 0" "$(hdr Content-Length "$tmp/h")" 0
code=$(C -o /dev/null -w '%{http_code}' -H 'Range: bytes=-0' "${URL}hello-world.bin")
expect "suffix range of 0 bytes -> 416" "$code" 416
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -r 0-1,10-11 "${URL}hello-world.bin")
expect "several ranges -> whole file 200" "$code" "200 $SIZE"
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: bytes=9-3' "${URL}hello-world.bin")
expect "a backwards range is ignored -> 200" "$code" "200 $SIZE"
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: items=0-3' "${URL}hello-world.bin")
expect "another unit is ignored -> 200" "$code" "200 $SIZE"
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H "If-Range: $ETAG" "${URL}hello-world.bin")
expect "If-Range with the ETag -> 206" "$code" "206 10"
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H 'If-Range: "stale"' "${URL}hello-world.bin")
expect "If-Range with a stale ETag -> whole file" "$code" "200 $SIZE"
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H "If-Range: $LM" "${URL}hello-world.bin")
expect "If-Range with the Last-Modified date -> 206" "$code" "206 10"
code=$(C -o /dev/null -w '%{http_code} %{size_download}' -r 0-9 -H 'If-Range: Sat, 01 Jan 2000 00:00:00 GMT' "${URL}hello-world.bin")
expect "If-Range with an old date -> whole file" "$code" "200 $SIZE"
code=$(C -I -o /dev/null -w '%{http_code}' -r 0-9 "${URL}hello-world.bin")
expect "HEAD ignores Range (RFC 9110)" "$code" 200
printf '' >"$tmp/www/empty.bin"
code=$(C -o /dev/null -w '%{http_code}' -r 0-0 "${URL}empty.bin")
expect "any range of an empty file -> 416" "$code" 416
code=$(C -o /dev/null -D "$tmp/h" -w '%{http_code} %{size_download}' "${URL}empty.bin")
expect "empty file -> 200, 0 bytes" "$code" "200 0"
expect "empty file Content-Length 0" "$(hdr Content-Length "$tmp/h")" 0

# --- methods, errors, redirects
C -o "$tmp/b" -D "$tmp/h" -X POST -d 'x=1' "${URL}hello-world.bin"
expect "POST -> 405" "$(head -n1 "$tmp/h" | tr -d '\r')" "HTTP/1.1 405 Method Not Allowed"
expect "405 Allow" "$(hdr Allow "$tmp/h")" "GET, HEAD"
code=$(C -o /dev/null -w '%{http_code}' -X DELETE "${URL}hello-world.bin")
expect "DELETE -> 405" "$code" 405
check "the file is still there after DELETE" test -f "$IMG"
code=$(C -o /dev/null -w '%{http_code}' "${URL}missing.bin")
expect "missing file -> 404" "$code" 404
code=$(C -o /dev/null -D "$tmp/h" -w '%{http_code}' "${URL}sub?format=json")
expect "directory without a slash -> 301" "$code" 301
expect "301 Location keeps the query" "$(hdr Location "$tmp/h")" "/sub/?format=json"
code=$(C -o "$tmp/b" -w '%{http_code}' "${URL}sub/inner.txt")
expect "file in a subdirectory" "$code" 200
code=$(C -o /dev/null -w '%{http_code}' "${URL}?format=xml")
expect "unknown index format -> 400" "$code" 400

# --- index: HTML for a browser
C -D "$tmp/h" -o "$tmp/index.html" "$URL"
expect "index Content-Type" "$(hdr Content-Type "$tmp/h")" "text/html; charset=utf-8"
check "HTML index links hello-world.bin" grep -q '<a href="hello-world.bin">hello-world.bin</a>' "$tmp/index.html"
check "HTML index shows the project" grep -q '<td>hello_world</td>' "$tmp/index.html"
check "HTML index shows the version" grep -q '<td>v5.0.4-160-g3f55377ab4-dirty</td>' "$tmp/index.html"
check "HTML index shows the SHA-256" grep -q "$SHA" "$tmp/index.html"
check "HTML index links the subdirectory" grep -q '<a href="sub/">sub/</a>' "$tmp/index.html"
check "HTML index hides dot files" bash -c "! grep -q '\.env' '$tmp/index.html'"
printf 'x' >"$tmp/www/<b>&.txt"
C -o "$tmp/index2.html" "$URL"
check "HTML index escapes names" grep -q '<a href="%3Cb%3E%26.txt">&lt;b&gt;&amp;.txt</a>' "$tmp/index2.html"
rm -f "$tmp/www/<b>&.txt"

# --- index: JSON for scripts
C -D "$tmp/h" -o "$tmp/index.json" "${URL}?format=json"
expect "JSON index Content-Type" "$(hdr Content-Type "$tmp/h")" "application/json"
jq_py() { "$PY" -c "import json,sys; d=json.load(open('$tmp/index.json')); f={x['name']:x for x in d['files']}; print($1)"; }
expect "JSON path" "$(jq_py "d['path']")" "/"
expect "JSON names (sorted, no dot files)" "$(jq_py "' '.join(x['name'] for x in d['files'])")" "empty.bin hello-world.bin notes.txt sub"
expect "image type" "$(jq_py "f['hello-world.bin']['type']")" image
expect "image project" "$(jq_py "f['hello-world.bin']['project']")" hello_world
expect "image version" "$(jq_py "f['hello-world.bin']['version']")" v5.0.4-160-g3f55377ab4-dirty
expect "image secure_version" "$(jq_py "f['hello-world.bin']['secure_version']")" 0
expect "image size" "$(jq_py "f['hello-world.bin']['size']")" "$SIZE"
expect "image sha256 is the file's" "$(jq_py "f['hello-world.bin']['sha256']")" "$SHA"
expect "image chip" "$(jq_py "f['hello-world.bin']['chip']")" ESP32
expect "plain file type" "$(jq_py "f['notes.txt']['type']")" file
expect "plain file has no project" "$(jq_py "'project' in f['notes.txt']")" False
expect "plain file sha256" "$(jq_py "f['notes.txt']['sha256']")" "$(sha256sum "$tmp/www/notes.txt" | cut -d' ' -f1)"
expect "directory type" "$(jq_py "f['sub']['type']")" dir
C -o "$tmp/index.json" "${URL}sub/?format=json"
expect "JSON index of a subdirectory" "$(jq_py "d['path'] + ' ' + d['files'][0]['name']")" "/sub/ inner.txt"
# a secure_version and a new version show up once the file changes (the cache is keyed
# by identity, size and mtime)
cp "$OTAKIT_VECTORS/image/ota_test_firmawares/anti_rollback_4_esp32c2.bin" "$tmp/www/ar.bin"
C -o "$tmp/index.json" "${URL}?format=json"
expect "secure_version of an anti-rollback image" "$(jq_py "f['ar.bin']['secure_version']")" 1
expect "chip of an ESP32-C2 image" "$(jq_py "f['ar.bin']['chip']")" ESP32-C2
cp "$OTAKIT_VECTORS/image/ota_test_firmawares/qemu_simple_ota.bin" "$tmp/www/ar.bin.new"
touch -d '2001-01-01' "$tmp/www/ar.bin.new"
mv "$tmp/www/ar.bin.new" "$tmp/www/ar.bin"
C -o "$tmp/index.json" "${URL}?format=json"
expect "a replaced image is re-read" "$(jq_py "f['ar.bin']['project']")" simple_ota
expect "... with its new hash" "$(jq_py "f['ar.bin']['sha256']")" "$(sha256sum "$tmp/www/ar.bin" | cut -d' ' -f1)"

# --- keep-alive: many requests on one connection
n=$(C -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' "${URL}notes.txt" "${URL}notes.txt" "${URL}notes.txt" | paste -sd' ')
expect "three requests, one connection" "$n" "1 0 0"

# --- stop, access log, summary
stop_server main
expect "SIGTERM -> exit 0" "$STOP_RC" 0
check "access log in common log format" grep -Eq \
  '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "GET /hello-world.bin HTTP/1.1" 200 '"$SIZE"'$' "$tmp/main.out"
check "access log: 206 with its byte count" grep -q '"GET /hello-world.bin HTTP/1.1" 206 100$' "$tmp/main.out"
check "access log: HEAD logs 0 bytes" grep -q '"HEAD /hello-world.bin HTTP/1.1" 200 0$' "$tmp/main.out"
check "access log: 405" grep -q '"POST /hello-world.bin HTTP/1.1" 405 ' "$tmp/main.out"
check "access log: query string kept" grep -q '"GET /?format=json HTTP/1.1" 200 ' "$tmp/main.out"
check "summary on stderr" grep -Eq '^otakit: serve: stopped: [0-9]+ requests, [0-9]+ bytes sent, [0-9]+ errors' "$tmp/main.err"
nreq=$(grep -c '" [0-9][0-9][0-9] ' "$tmp/main.out")
expect "summary counts every logged request" "$(sed -n 's/.*stopped: \([0-9]*\) requests.*/\1/p' "$tmp/main.err")" "$nreq"

# --json: one JSON object on stdout, start line and log on stderr; --quiet: no log
"$OTAKIT" serve "$tmp/www" --port 0 --json --drain-timeout 1 >"$tmp/j.out" 2>"$tmp/j.err" &
jpid=$!
SERVER_PID[json]=$jpid # stop_server's bounded wait, and the cleanup if the test dies here
wait_for_line "$tmp/j.err" '^serving ' || true
jurl=$(sed -n 's/^serving .* on //p' "$tmp/j.err")
check "--json puts the start line on stderr" test -n "$jurl"
C -o /dev/null "${jurl}notes.txt"
C -o /dev/null "${jurl}nope"
stop_server json
expect "--json: SIGTERM -> exit 0" "$STOP_RC" 0
expect "--json: stdout is one JSON object" "$("$PY" -c "import json; d=json.load(open('$tmp/j.out')); print(d['requests'], d['errors'], d['bytes'], d['urls'][0] == '$jurl')")" "2 1 28 True"
check "--json: the access log went to stderr" grep -q '"GET /notes.txt HTTP/1.1" 200 14' "$tmp/j.err"

start_server quiet "$tmp/www" --quiet --drain-timeout 1
C -o /dev/null "${URL}notes.txt"
stop_server quiet
expect "--quiet: only the start line on stdout" "$(wc -l <"$tmp/quiet.out")" 1

start_server logf "$tmp/www" --access-log "$tmp/access.log" --drain-timeout 1
C -o /dev/null "${URL}notes.txt"
stop_server logf
check "--access-log FILE" grep -q '"GET /notes.txt HTTP/1.1" 200 14$' "$tmp/access.log"

# IPv6 loopback, where the machine has it
if "$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  start_server v6 "$tmp/www" --bind ::1 --drain-timeout 1
  check "IPv6 start line" grep -Eq '^serving .* on http://\[::1\]:[0-9]+/$' "$tmp/v6.out"
  code=$(C -g -o /dev/null -w '%{http_code}' "${URL}notes.txt")
  expect "GET over IPv6" "$code" 200
  stop_server v6
  check "IPv6 client address in the log" grep -q '^::1 - - ' "$tmp/v6.out"
else
  echo "SKIPPED: the IPv6 checks (this machine cannot bind ::1)"
fi

finish
