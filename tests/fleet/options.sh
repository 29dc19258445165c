#!/usr/bin/env bash
# otakit fleet serve's options: --auto-register (TargetToken and GatewayToken),
# --gateway-token-file, --anonymous-download, --artifact-base-url, --max-upload (413,
# nothing stored), --keyfile (unsigned uploads refused), and the command line's errors.
source "$(dirname "$0")/common.bash"

# --- command line
out=$("$OTAKIT" fleet --help)
check "--help prints the usage" grep -q '^usage: otakit fleet serve' <<<"$out"
rc=0; "$OTAKIT" fleet bogus 2>/dev/null || rc=$?
expect "unknown verb exits 2" "$rc" 2
rc=0; "$OTAKIT" fleet serve --port 70000 2>/dev/null || rc=$?
expect "port out of range exits 2" "$rc" 2
rc=0; "$OTAKIT" fleet devices --auto-register 2>/dev/null || rc=$?
expect "a server option on a client verb exits 2" "$rc" 2
rc=0; err=$("$OTAKIT" fleet serve --port 0 --data-dir "$tmp/d0" --db "host=$tmp/nowhere dbname=x" 2>&1) || rc=$?
expect "an unreachable PostgreSQL exits 2" "$rc" 2
check "and says so" grep -q 'otakit: fleet: database: PostgreSQL' <<<"$err"
rc=0; err=$(OTAKIT_FLEET_TOKEN= "$OTAKIT" fleet devices --server http://127.0.0.1:9 2>&1) || rc=$?
expect "no admin token exits 2" "$rc" 2
rc=0; "$OTAKIT" fleet devices --server http://127.0.0.1:9 2>/dev/null || rc=$?
expect "an unreachable server exits 1" "$rc" 1

# --- auto-register, gateway token, anonymous download, CDN links, upload limit
printf 'gateway-secret-0123456789\n' >"$tmp/gw"
start_fleet open --data-dir "$tmp/open" --auto-register --gateway-token-file "$tmp/gw" \
  --anonymous-download --artifact-base-url http://cdn.example/fw --max-upload 200000
ddi GET newdev chosen-token-0123
expect "auto-register: an unknown device's first poll: 200" "$CODE" 200
ddi GET newdev another-token-0123
expect "auto-register: then its token is the one it came with (401)" "$CODE" 401
C -o /dev/null -w '%{http_code}' -H 'Authorization: GatewayToken gateway-secret-0123456789' \
  "$FURL/DEFAULT/controller/v1/gwdev" >"$tmp/code"
expect "auto-register through the gateway: 200" "$(<"$tmp/code")" 200
C -o /dev/null -w '%{http_code}' -H 'Authorization: GatewayToken wrong' \
  "$FURL/DEFAULT/controller/v1/gwdev" >"$tmp/code"
expect "a wrong gateway token: 401" "$(<"$tmp/code")" 401
expect "two devices registered" "$(fleet devices | json '[d["controllerId"] for d in j]')" '["gwdev", "newdev"]'
ddi GET newdev/deploymentBase/1 unknown-device-token
expect "a deploymentBase does not register: still 401" "$CODE" 401
ART=$(fleet upload "$IMG_A" | json 'j["id"]')
fleet device assign newdev "$ART" >/dev/null
ddi GET newdev chosen-token-0123
ddi GET "$(json 'j["_links"]["deploymentBase"]["href"]' <<<"$BODY")" chosen-token-0123
SHA=$(sha256sum <"$IMG_A" | cut -d' ' -f1)
expect "--artifact-base-url: the download link" "$(json 'j["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]' <<<"$BODY")" "http://cdn.example/fw/$SHA.bin"
check "the bytes are there for the CDN to serve" cmp -s "$tmp/open/artifacts/$SHA.bin" "$IMG_A"
code=$(C -o "$tmp/anon.bin" -w '%{http_code}' "$FURL/DEFAULT/controller/v1/newdev/softwaremodules/$ART/artifacts/$(fleet artifacts | json 'j[0]["filename"]')")
expect "--anonymous-download: no token needed" "$code" 200
head -c 300000 /dev/zero >"$tmp/big.bin"
rc=0; err=$(fleet upload "$tmp/big.bin" 2>&1) || rc=$?
expect "an upload over --max-upload is refused" "$rc" 1
check "with 413" grep -q 'HTTP 413' <<<"$err"
code=$(C -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' \
  --data-binary @"$tmp/big.bin" "$FURL/rest/v1/artifacts")
expect "chunked, over the limit: 413" "$code" 413
expect "nothing stored for them" "$(ls "$tmp/open/artifacts" | wc -l)" 1
head -c 20000 /dev/zero | tr '\0' x >"$tmp/long.json"
code=$(C -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: TargetToken chosen-token-0123' \
  --data-binary @"$tmp/long.json" "$FURL/DEFAULT/controller/v1/newdev/configData")
expect "a DDI body over 16 KiB: 413" "$code" 413
stop_server open

# --- signed uploads only
"$OTAKIT" key generate --scheme ecdsa256 "$tmp/key.pem" >/dev/null
"$OTAKIT" image sign --keyfile "$tmp/key.pem" "$IMG_A" "$tmp/signed.bin" >/dev/null
"$OTAKIT" key generate --scheme ecdsa256 "$tmp/other.pem" >/dev/null
"$OTAKIT" image sign --keyfile "$tmp/other.pem" "$IMG_A" "$tmp/foreign.bin" >/dev/null
start_fleet signed --data-dir "$tmp/signed" --keyfile "$tmp/key.pem"
rc=0; err=$(fleet upload "$IMG_A" 2>&1) || rc=$?
expect "--keyfile: an unsigned image is refused" "$rc" 1
check "naming the signature" grep -q 'HTTP 422: the image is not signed with the server' <<<"$err"
rc=0; fleet upload "$tmp/foreign.bin" >/dev/null 2>&1 || rc=$?
expect "--keyfile: another key's signature is refused" "$rc" 1
expect "--keyfile: a signed image is taken" "$(fleet upload "$tmp/signed.bin" | json 'j["signed"]')" 1
finish
