#!/usr/bin/env bash
# The seed's "use a secure protocol": the factory app downloads over HTTPS from
# `otakit serve --tls-cert/--tls-key`, with the server's certificate pinned
# (OTAKIT_SERVER_CA), and boots hello_world from ota_0. With another CA pinned the TLS
# handshake fails, nothing is written and the factory app stays. A CA embedded by the
# build (ota_example_pinned.bin: EXAMPLE_SERVER_CA_CERT's EMBED_TXTFILES path, with
# build/test_certs/ca_cert.pem) is pinned without OTAKIT_SERVER_CA; an https:// URL
# with no CA at all stops with a message that says how to set one.
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
check "wrong CA: esp-tls's lines, once" in_order "$LOG" \
  "esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700" \
  "esp-tls-mbedtls: Failed to verify peer certificate!" \
  "esp-tls: Failed to open new connection" \
  "transport_base: Failed to open a new connection" \
  "HTTP_CLIENT: Connection failed, sock < 0" \
  "ota: The certificate of 127.0.0.1:$SERVER_PORT does not verify against the pinned CA (ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED 0x801a, mbedtls -0x2700, flags 0x8, not signed by the CA): not retrying" \
  "ota: Exiting task due to fatal error..."
check "wrong CA: exactly one attempt" test "$(grep -c "Failed to verify peer certificate!" "$LOG")" -eq 1
check "wrong CA: not retried, not called unreachable" bash -c \
  "! grep -qE 'retrying in|Server not reachable|Connect to http server failed' '$LOG'"
check "wrong CA: no OpenSSL text" bash -c "! grep -qi 'SSL certificate problem' '$LOG'"
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

# No CA anywhere (the stock ota_example embeds none by default): a clear stop.
if ! grep -q '^CONFIG_EXAMPLE_SERVER_CA_CERT=".\+"' "$B/config/sdkconfig"; then
  F=$TMP/flash-noca.bin
  make_flash "$F" 4MB
  run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" --max-boots 1
  check "no CA: stops and says how to set one" has "$LOG" \
    "ota: https://127.0.0.1:$SERVER_PORT/hello-world.bin is HTTPS but no server CA certificate is set: set EXAMPLE_SERVER_CA_CERT"
  check "no CA: nothing downloaded" lacks "$LOG" "esp_ota_begin succeeded"
  [[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
fi

# The CA embedded in the app by the build (EMBED_TXTFILES' _binary_ca_cert_pem_start).
if [[ -f $B/ota_example_pinned.bin && -f $B/test_certs/ca_key.pem ]]; then
  serve_otakit "$www" --tls-cert "$B/test_certs/ca_cert.pem" --tls-key "$B/test_certs/ca_key.pem"
  F=$TMP/flash-embedded.bin
  make_flash "$F" 4MB 0x10000 "$B/ota_example_pinned.bin"
  OTAKIT_SERVER_URL=https://127.0.0.1:$SERVER_PORT/hello-world.bin \
    run_device "$F" "hello_world: Running partition ota_0" "${FAST[@]}"
  check "embedded CA: hello_world runs from ota_0 (rc=$RC)" test "$RC" -eq 0
  check "embedded CA: pinned from the app, no OTAKIT_SERVER_CA" in_order "$LOG" \
    "ota: Server certificate pinned: ca_cert.pem embedded in the app" \
    "ota: Total Write binary data length : $(stat -c %s "$www/hello-world.bin")"
  [[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
  # and the embedded CA refuses a server with another certificate
  serve_otakit "$www" --tls-cert "$TMP/other.pem" --tls-key "$TMP/other.key"
  make_flash "$F" 4MB 0x10000 "$B/ota_example_pinned.bin"
  OTAKIT_SERVER_URL=https://127.0.0.1:$SERVER_PORT/hello-world.bin \
    run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" --max-boots 1
  check "embedded CA: another server certificate is refused" lacks "$LOG" "esp_ota_begin succeeded"
  [[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
else
  echo "# ota_example_pinned.bin or build/test_certs missing (no openssl at build time): embedded CA not tested"
fi
finish
