#!/usr/bin/env bash
# The seed's "use a secure protocol": the factory app downloads over HTTPS from
# `otakit serve --tls-cert/--tls-key`, with the server's certificate pinned
# (OTAKIT_SERVER_CA), and boots hello_world from ota_0. With another CA pinned the TLS
# handshake fails, nothing is written and the factory app stays.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

www=$TMP/www
mkdir -p "$www"
cp "$B/hello-world.bin" "$www/hello-world.bin"
for name in server other; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' \
    -addext 'subjectAltName=IP:127.0.0.1' -keyout "$TMP/$name.key" -out "$TMP/$name.pem" 2>/dev/null
done
serve_otakit "$www" --tls-cert "$TMP/server.pem" --tls-key "$TMP/server.key"
export OTAKIT_SERVER_URL=https://127.0.0.1:$SERVER_PORT/hello-world.bin

# The wrong CA pinned: refused at the handshake.
F=$TMP/flash-bad.bin
make_flash "$F" 4MB
OTAKIT_SERVER_CA=$TMP/other.pem run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" \
  --max-boots 1
check "wrong CA: the run ends on the fatal error (rc=$RC)" test "$RC" -eq 0
check "wrong CA: the certificate is refused" grep -q "SSL certificate problem" "$LOG"
cp "$LOG" "$TMP/wrong-ca.log"
check "wrong CA: nothing is switched" lacks "$LOG" "Prepare to restart system!"
check "wrong CA: the factory app stays the boot app" \
  test "$(otadata "$F" 'j["boot"]["label"]')" = factory
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# The server's own certificate pinned: the update goes through.
F=$TMP/flash.bin
make_flash "$F" 4MB
OTAKIT_SERVER_CA=$TMP/server.pem run_device "$F" "hello_world: Running partition ota_0" "${FAST[@]}"
check "pinned CA: hello_world runs from ota_0 (rc=$RC)" test "$RC" -eq 0
check "pinned CA: the app used HTTPS with the pinned certificate" in_order "$LOG" \
  "ota: Server URL from OTAKIT_SERVER_URL: https://127.0.0.1:$SERVER_PORT/hello-world.bin" \
  "ota: Server certificate pinned from $TMP/server.pem" \
  "ota: Total Write binary data length : $(stat -c %s "$www/hello-world.bin")" \
  "boot: Loaded app from partition at offset 0x110000"
check "pinned CA: the server logged the HTTPS download" grep -q '"GET /hello-world.bin HTTP/1.1" 200' "$TMP/server.log"
"$OTAKIT" flash read "$F" 0x110000 "$(stat -c %s "$www/hello-world.bin")" "$TMP/ota0.bin" >/dev/null
check "pinned CA: ota_0 holds hello-world.bin" cmp -s "$TMP/ota0.bin" "$www/hello-world.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
finish
