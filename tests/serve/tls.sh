#!/usr/bin/env bash
# otakit serve: HTTPS with a certificate and key (libmicrohttpd + GnuTLS), alone on
# --port or beside plain HTTP with --tls-port. The certificate is self-signed for
# 127.0.0.1, made here with openssl.
source "$(dirname "$0")/../lib/testlib.bash"

if ! command -v openssl >/dev/null 2>&1; then
  echo "openssl is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
t_make_www
t_tls_cert "$T/cert.pem" "$T/key.pem"
SHA=$(sha256sum "$T/www/hello-world.bin" | cut -d' ' -f1)

# --- HTTPS beside HTTP
t_serve_start both "$T/www" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --tls-port 0 --drain-timeout 1
t_expect_eq "two start lines" "${#T_URLS[@]}" 2
HTTP_URL=${T_URLS[0]}
HTTPS_URL=${T_URLS[1]}
t_check "first listener is plain HTTP" grep -q '^http://127.0.0.1:' <<<"$HTTP_URL"
t_check "second listener is HTTPS" grep -q '^https://127.0.0.1:' <<<"$HTTPS_URL"
got=$(t_curl --cacert "$T/cert.pem" "${HTTPS_URL}hello-world.bin" | sha256sum | cut -d' ' -f1)
t_expect_eq "HTTPS download verifies against the certificate and is byte-identical" "$got" "$SHA"
got=$(t_curl "${HTTP_URL}hello-world.bin" | sha256sum | cut -d' ' -f1)
t_expect_eq "plain HTTP beside it" "$got" "$SHA"
code=$(t_curl --cacert "$T/cert.pem" -o "$T/r" -w '%{http_code} %{size_download}' -r 1000-1999 "${HTTPS_URL}hello-world.bin")
t_expect_eq "HTTPS range -> 206" "$code" "206 1000"
t_check "HTTPS range bytes" cmp -s "$T/r" <(tail -c +1001 "$T/www/hello-world.bin" | head -c 1000)
code=$(t_curl --cacert "$T/cert.pem" -I -o /dev/null -w '%{http_code}' "${HTTPS_URL}hello-world.bin")
t_expect_eq "HTTPS HEAD" "$code" 200
code=$(t_curl --cacert "$T/cert.pem" -o "$T/idx" -w '%{http_code}' "${HTTPS_URL}?format=json")
t_expect_eq "HTTPS JSON index" "$code" 200
t_check "HTTPS index lists the image" grep -q '"project":"hello_world"' "$T/idx"
code=$(t_curl --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' --path-as-is "${HTTPS_URL}../outside/secret.txt")
t_expect_eq "HTTPS traversal -> 403" "$code" 403
rc=0; t_curl -o /dev/null "${HTTPS_URL}hello-world.bin" || rc=$?
t_expect_eq "an untrusted certificate is refused by the client (curl 60)" "$rc" 60
# 8 parallel HTTPS downloads of a 4 MiB file (read()+TLS, not sendfile)
head -c $((4 << 20)) /dev/urandom >"$T/www/big.bin"
BIG=$(sha256sum "$T/www/big.bin" | cut -d' ' -f1)
mkdir -p "$T/par"
for i in $(seq 1 8); do printf 'url = "%sbig.bin"\noutput = "%s/par/%d"\n' "$HTTPS_URL" "$T" "$i"; done >"$T/par.cfg"
curl --noproxy '*' -s --no-progress-meter --max-time 120 --cacert "$T/cert.pem" -Z -K "$T/par.cfg"
t_expect_eq "8 parallel HTTPS downloads byte-identical" "$(sha256sum "$T"/par/* | cut -d' ' -f1 | grep -c "^$BIG$")" 8
t_serve_stop both
t_expect_eq "clean stop" "$T_STOP_RC" 0
t_check "HTTPS requests are in the access log" grep -q '"GET /hello-world.bin HTTP/1.1" 206 1000$' "$T/both.out"

# --- HTTPS alone
t_serve_start tlsonly "$T/www" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --drain-timeout 1
t_expect_eq "one start line" "${#T_URLS[@]}" 1
t_check "it is HTTPS" grep -q '^https://127.0.0.1:' <<<"$T_URL"
got=$(t_curl --cacert "$T/cert.pem" "${T_URL}hello-world.bin" | sha256sum | cut -d' ' -f1)
t_expect_eq "HTTPS-only download" "$got" "$SHA"
plain=${T_URL/https:/http:}
rc=0; t_curl -o /dev/null "${plain}hello-world.bin" || rc=$?
t_check "plain HTTP to the HTTPS port fails ($rc)" test "$rc" -ne 0
code=$(t_curl --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' "${T_URL}notes.txt")
t_expect_eq "... and the server still serves HTTPS after it" "$code" 200
t_serve_stop tlsonly

# --- bad certificate material
printf 'not a certificate\n' >"$T/bad.pem"
rc=0; "$OTAKIT" serve "$T/www" --port 0 --tls-cert "$T/bad.pem" --tls-key "$T/key.pem" >/dev/null 2>"$T/err" || rc=$?
t_expect_eq "an unusable certificate exits 2" "$rc" 2
t_check "... with a message" grep -q 'otakit: cannot serve HTTPS' "$T/err"
rc=0; "$OTAKIT" serve "$T/www" --port 0 --tls-cert "$T/missing.pem" --tls-key "$T/key.pem" >/dev/null 2>"$T/err" || rc=$?
t_expect_eq "a missing certificate file exits 2" "$rc" 2
t_check "... naming the file" grep -q "otakit: $T/missing.pem" "$T/err"
rc=0; "$OTAKIT" serve "$T/www" --port 0 --tls-port 0 >/dev/null 2>&1 || rc=$?
t_expect_eq "--tls-port without a certificate exits 2" "$rc" 2

t_finish
