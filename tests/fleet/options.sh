#!/usr/bin/env bash
# otakit fleet serve's options: --auto-register (TargetToken and GatewayToken),
# --gateway-token-file, --anonymous-download, --artifact-base-url, --max-upload (413,
# nothing stored), --keyfile (unsigned uploads refused), and the command line's errors.
source "$(dirname "$0")/common.bash"

# --- command line
out=$("$OTAKIT" fleet --help)
t_check "--help prints the usage" grep -q '^usage: otakit fleet serve' <<<"$out"
rc=0; "$OTAKIT" fleet bogus 2>/dev/null || rc=$?
t_expect_eq "unknown verb exits 2" "$rc" 2
rc=0; "$OTAKIT" fleet serve --port 70000 2>/dev/null || rc=$?
t_expect_eq "port out of range exits 2" "$rc" 2
rc=0; "$OTAKIT" fleet devices --auto-register 2>/dev/null || rc=$?
t_expect_eq "a server option on a client verb exits 2" "$rc" 2
rc=0; err=$("$OTAKIT" fleet serve --port 0 --data-dir "$T/d0" --db "host=$T/nowhere dbname=x" 2>&1) || rc=$?
t_expect_eq "an unreachable PostgreSQL exits 2" "$rc" 2
t_check "and says so" grep -q 'otakit: fleet: database: PostgreSQL' <<<"$err"
rc=0; err=$(OTAKIT_FLEET_TOKEN= "$OTAKIT" fleet devices --server http://127.0.0.1:9 2>&1) || rc=$?
t_expect_eq "no admin token exits 2" "$rc" 2
rc=0; "$OTAKIT" fleet devices --server http://127.0.0.1:9 2>/dev/null || rc=$?
t_expect_eq "an unreachable server exits 1" "$rc" 1

# --- auto-register, gateway token, anonymous download, CDN links, upload limit
printf 'gateway-secret-0123456789\n' >"$T/gw"
start_fleet open --data-dir "$T/open" --auto-register --gateway-token-file "$T/gw" \
  --anonymous-download --artifact-base-url http://cdn.example/fw --max-upload 200000
ddi GET newdev chosen-token-0123
t_expect_eq "auto-register: an unknown device's first poll: 200" "$CODE" 200
ddi GET newdev another-token-0123
t_expect_eq "auto-register: then its token is the one it came with (401)" "$CODE" 401
t_curl -o /dev/null -w '%{http_code}' -H 'Authorization: GatewayToken gateway-secret-0123456789' \
  "$FURL/DEFAULT/controller/v1/gwdev" >"$T/code"
t_expect_eq "auto-register through the gateway: 200" "$(<"$T/code")" 200
t_curl -o /dev/null -w '%{http_code}' -H 'Authorization: GatewayToken wrong' \
  "$FURL/DEFAULT/controller/v1/gwdev" >"$T/code"
t_expect_eq "a wrong gateway token: 401" "$(<"$T/code")" 401
t_expect_eq "two devices registered" "$(fleet devices | json '[d["controllerId"] for d in j]')" '["gwdev", "newdev"]'
ddi GET newdev/deploymentBase/1 unknown-device-token
t_expect_eq "a deploymentBase does not register: still 401" "$CODE" 401
ART=$(fleet upload "$IMG_A" | json 'j["id"]')
fleet device assign newdev "$ART" >/dev/null
ddi GET newdev chosen-token-0123
ddi GET "$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$BODY")" chosen-token-0123
SHA=$(sha256sum <"$IMG_A" | cut -d' ' -f1)
t_expect_eq "--artifact-base-url: the download link" "$(json 'j["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]' <<<"$BODY")" "http://cdn.example/fw/$SHA.bin"
t_check "the bytes are there for the CDN to serve" cmp -s "$T/open/artifacts/$SHA.bin" "$IMG_A"
code=$(t_curl -o "$T/anon.bin" -w '%{http_code}' "$FURL/DEFAULT/controller/v1/newdev/softwaremodules/$ART/artifacts/$(fleet artifacts | json 'j[0]["filename"]')")
t_expect_eq "--anonymous-download: no token needed" "$code" 200
head -c 300000 /dev/zero >"$T/big.bin"
rc=0; err=$(fleet upload "$T/big.bin" 2>&1) || rc=$?
t_expect_eq "an upload over --max-upload is refused" "$rc" 1
t_check "with 413" grep -q 'HTTP 413' <<<"$err"
code=$(t_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' \
  --data-binary @"$T/big.bin" "$FURL/rest/v1/artifacts")
t_expect_eq "chunked, over the limit: 413" "$code" 413
t_expect_eq "nothing stored for them" "$(ls "$T/open/artifacts" | wc -l)" 1
head -c 20000 /dev/zero | tr '\0' x >"$T/long.json"
code=$(t_curl -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: TargetToken chosen-token-0123' \
  --data-binary @"$T/long.json" "$FURL/DEFAULT/controller/v1/newdev/configData")
t_expect_eq "a DDI body over 16 KiB: 413" "$code" 413
t_serve_stop open

# --- signed uploads only
"$OTAKIT" key generate --scheme ecdsa256 "$T/key.pem" >/dev/null
"$OTAKIT" image sign --keyfile "$T/key.pem" "$IMG_A" "$T/signed.bin" >/dev/null
"$OTAKIT" key generate --scheme ecdsa256 "$T/other.pem" >/dev/null
"$OTAKIT" image sign --keyfile "$T/other.pem" "$IMG_A" "$T/foreign.bin" >/dev/null
start_fleet signed --data-dir "$T/signed" --keyfile "$T/key.pem"
rc=0; err=$(fleet upload "$IMG_A" 2>&1) || rc=$?
t_expect_eq "--keyfile: an unsigned image is refused" "$rc" 1
t_check "naming the signature" grep -q 'HTTP 422: the image is not signed with the server' <<<"$err"
rc=0; fleet upload "$T/foreign.bin" >/dev/null 2>&1 || rc=$?
t_expect_eq "--keyfile: another key's signature is refused" "$rc" 1
t_expect_eq "--keyfile: a signed image is taken" "$(fleet upload "$T/signed.bin" | json 'j["signed"]')" 1
t_finish
