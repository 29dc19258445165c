#!/usr/bin/env bash
# otakit serve: HTTPS with a certificate and key (libmicrohttpd + GnuTLS), alone on
# --port or beside plain HTTP with --tls-port. The certificate is self-signed for
# 127.0.0.1, made here with openssl.
source "$(dirname "$0")/common.bash"

if ! command -v openssl >/dev/null 2>&1; then
  echo "openssl is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
make_www
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' \
  -addext 'subjectAltName=IP:127.0.0.1' -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
SHA=$(sha256sum "$tmp/www/hello-world.bin" | cut -d' ' -f1)

# --- HTTPS beside HTTP
start_server both "$tmp/www" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --tls-port 0 --drain-timeout 1
expect "two start lines" "${#URLS[@]}" 2
HTTP_URL=${URLS[0]}
HTTPS_URL=${URLS[1]}
check "first listener is plain HTTP" grep -q '^http://127.0.0.1:' <<<"$HTTP_URL"
check "second listener is HTTPS" grep -q '^https://127.0.0.1:' <<<"$HTTPS_URL"
got=$(C --cacert "$tmp/cert.pem" "${HTTPS_URL}hello-world.bin" | sha256sum | cut -d' ' -f1)
expect "HTTPS download verifies against the certificate and is byte-identical" "$got" "$SHA"
got=$(C "${HTTP_URL}hello-world.bin" | sha256sum | cut -d' ' -f1)
expect "plain HTTP beside it" "$got" "$SHA"
code=$(C --cacert "$tmp/cert.pem" -o "$tmp/r" -w '%{http_code} %{size_download}' -r 1000-1999 "${HTTPS_URL}hello-world.bin")
expect "HTTPS range -> 206" "$code" "206 1000"
check "HTTPS range bytes" cmp -s "$tmp/r" <(tail -c +1001 "$tmp/www/hello-world.bin" | head -c 1000)
code=$(C --cacert "$tmp/cert.pem" -I -o /dev/null -w '%{http_code}' "${HTTPS_URL}hello-world.bin")
expect "HTTPS HEAD" "$code" 200
code=$(C --cacert "$tmp/cert.pem" -o "$tmp/idx" -w '%{http_code}' "${HTTPS_URL}?format=json")
expect "HTTPS JSON index" "$code" 200
check "HTTPS index lists the image" grep -q '"project":"hello_world"' "$tmp/idx"
code=$(C --cacert "$tmp/cert.pem" -o /dev/null -w '%{http_code}' --path-as-is "${HTTPS_URL}../outside/secret.txt")
expect "HTTPS traversal -> 403" "$code" 403
rc=0; C -o /dev/null "${HTTPS_URL}hello-world.bin" || rc=$?
expect "an untrusted certificate is refused by the client (curl 60)" "$rc" 60
# 8 parallel HTTPS downloads of a 4 MiB file (read()+TLS, not sendfile)
head -c $((4 << 20)) /dev/urandom >"$tmp/www/big.bin"
BIG=$(sha256sum "$tmp/www/big.bin" | cut -d' ' -f1)
mkdir -p "$tmp/par"
for i in $(seq 1 8); do printf 'url = "%sbig.bin"\noutput = "%s/par/%d"\n' "$HTTPS_URL" "$tmp" "$i"; done >"$tmp/par.cfg"
curl --noproxy '*' -s --no-progress-meter --max-time 120 --cacert "$tmp/cert.pem" -Z -K "$tmp/par.cfg"
expect "8 parallel HTTPS downloads byte-identical" "$(sha256sum "$tmp"/par/* | cut -d' ' -f1 | grep -c "^$BIG$")" 8
stop_server both
expect "clean stop" "$STOP_RC" 0
check "HTTPS requests are in the access log" grep -q '"GET /hello-world.bin HTTP/1.1" 206 1000$' "$tmp/both.out"

# --- HTTPS alone
start_server tlsonly "$tmp/www" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --drain-timeout 1
expect "one start line" "${#URLS[@]}" 1
check "it is HTTPS" grep -q '^https://127.0.0.1:' <<<"$URL"
got=$(C --cacert "$tmp/cert.pem" "${URL}hello-world.bin" | sha256sum | cut -d' ' -f1)
expect "HTTPS-only download" "$got" "$SHA"
plain=${URL/https:/http:}
rc=0; C -o /dev/null "${plain}hello-world.bin" || rc=$?
check "plain HTTP to the HTTPS port fails ($rc)" test "$rc" -ne 0
code=$(C --cacert "$tmp/cert.pem" -o /dev/null -w '%{http_code}' "${URL}notes.txt")
expect "... and the server still serves HTTPS after it" "$code" 200
stop_server tlsonly

# --- bad certificate material
printf 'not a certificate\n' >"$tmp/bad.pem"
rc=0; "$OTAKIT" serve "$tmp/www" --port 0 --tls-cert "$tmp/bad.pem" --tls-key "$tmp/key.pem" >/dev/null 2>"$tmp/err" || rc=$?
expect "an unusable certificate exits 2" "$rc" 2
check "... with a message" grep -q 'otakit: cannot serve HTTPS' "$tmp/err"
rc=0; "$OTAKIT" serve "$tmp/www" --port 0 --tls-cert "$tmp/missing.pem" --tls-key "$tmp/key.pem" >/dev/null 2>"$tmp/err" || rc=$?
expect "a missing certificate file exits 2" "$rc" 2
check "... naming the file" grep -q "otakit: $tmp/missing.pem" "$tmp/err"
rc=0; "$OTAKIT" serve "$tmp/www" --port 0 --tls-port 0 >/dev/null 2>&1 || rc=$?
expect "--tls-port without a certificate exits 2" "$rc" 2

finish
