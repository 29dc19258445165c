#!/usr/bin/env bash
# The seed's "use a secure protocol": the factory app downloads over HTTPS from
# `otakit serve --tls-cert/--tls-key`, with the server's certificate pinned
# (OTAKIT_SERVER_CA), and boots hello_world from ota_0. With another CA pinned the TLS
# handshake fails, nothing is written and the factory app stays. A CA embedded by the
# build (ota_example_pinned.bin: EXAMPLE_SERVER_CA_CERT's EMBED_TXTFILES path, with
# build/test_certs/ca_cert.pem) is pinned without OTAKIT_SERVER_CA; an https:// URL
# with no CA at all stops with a message that says how to set one.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

www=$T/www
mkdir -p "$www"
cp "$T_BUILD/hello-world.bin" "$www/hello-world.bin"
for name in server other; do
  t_tls_cert "$T/$name.pem" "$T/$name.key"
done
t_serve_start ota "$www" --access-log "$T/server.log" --tls-cert "$T/server.pem" --tls-key "$T/server.key"
export OTAKIT_SERVER_URL=https://127.0.0.1:$T_PORT/hello-world.bin

# The wrong CA pinned: refused at the handshake.
F=$T/flash-bad.bin
t_flash_make "$F" 4MB
OTAKIT_SERVER_CA=$T/other.pem t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}" \
  --max-boots 1
t_check "wrong CA: the run ends on the fatal error (rc=$T_RC)" test "$T_RC" -eq 0
t_check "wrong CA: esp-tls's lines, once" t_in_order "$T_LOG" \
  "esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700" \
  "esp-tls-mbedtls: Failed to verify peer certificate!" \
  "esp-tls: Failed to open new connection" \
  "transport_base: Failed to open a new connection" \
  "HTTP_CLIENT: Connection failed, sock < 0" \
  "ota: The certificate of 127.0.0.1:$T_PORT does not verify against the pinned CA (ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED 0x801a, mbedtls -0x2700, flags 0x8, not signed by the CA): not retrying" \
  "ota: Exiting task due to fatal error..."
t_check "wrong CA: exactly one attempt" test "$(grep -c "Failed to verify peer certificate!" "$T_LOG")" -eq 1
t_check "wrong CA: not retried, not called unreachable" bash -c \
  "! grep -qE 'retrying in|Server not reachable|Connect to http server failed' '$T_LOG'"
t_check "wrong CA: no OpenSSL text" bash -c "! grep -qi 'SSL certificate problem' '$T_LOG'"
cp "$T_LOG" "$T/wrong-ca.log"
t_check "wrong CA: nothing is switched" t_lacks "$T_LOG" "Prepare to restart system!"
t_check "wrong CA: the factory app stays the boot app" \
  test "$(t_otadata "$F" 'j["boot"]["label"]')" = factory
t_dump_if_failed "$T_LOG"

# The server's own certificate pinned: the update goes through.
F=$T/flash.bin
t_flash_make "$F" 4MB
OTAKIT_SERVER_CA=$T/server.pem t_device_until "$F" "hello_world: Running partition ota_0" "${T_FAST[@]}"
t_check "pinned CA: hello_world runs from ota_0 (rc=$T_RC)" test "$T_RC" -eq 0
t_check "pinned CA: the app used HTTPS with the pinned certificate" t_in_order "$T_LOG" \
  "ota: Server URL from OTAKIT_SERVER_URL: https://127.0.0.1:$T_PORT/hello-world.bin" \
  "ota: Server certificate pinned from $T/server.pem" \
  "ota: Total Write binary data length : $(stat -c %s "$www/hello-world.bin")" \
  "boot: Loaded app from partition at offset 0x110000"
t_check "pinned CA: the server logged the HTTPS download" grep -q '"GET /hello-world.bin HTTP/1.1" 200' "$T/server.log"
"$OTAKIT" flash read "$F" 0x110000 "$(stat -c %s "$www/hello-world.bin")" "$T/ota0.bin" >/dev/null
t_check "pinned CA: ota_0 holds hello-world.bin" cmp -s "$T/ota0.bin" "$www/hello-world.bin"
t_dump_if_failed "$T_LOG"

# No CA anywhere (the stock ota_example embeds none by default): a clear stop.
if ! grep -q '^CONFIG_EXAMPLE_SERVER_CA_CERT=".\+"' "$T_BUILD/config/sdkconfig"; then
  F=$T/flash-noca.bin
  t_flash_make "$F" 4MB
  t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}" --max-boots 1
  t_check "no CA: stops and says how to set one" t_has "$T_LOG" \
    "ota: https://127.0.0.1:$T_PORT/hello-world.bin is HTTPS but no server CA certificate is set: set EXAMPLE_SERVER_CA_CERT"
  t_check "no CA: nothing downloaded" t_lacks "$T_LOG" "esp_ota_begin succeeded"
  t_dump_if_failed "$T_LOG"
fi

# The CA embedded in the app by the build (EMBED_TXTFILES' _binary_ca_cert_pem_start).
if [[ -f $T_BUILD/ota_example_pinned.bin && -f $T_BUILD/test_certs/ca_key.pem ]]; then
  t_serve_stop ota
  t_serve_start ota "$www" --access-log "$T/server.log" --tls-cert "$T_BUILD/test_certs/ca_cert.pem" --tls-key "$T_BUILD/test_certs/ca_key.pem"
  F=$T/flash-embedded.bin
  t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ota_example_pinned.bin"
  OTAKIT_SERVER_URL=https://127.0.0.1:$T_PORT/hello-world.bin \
    t_device_until "$F" "hello_world: Running partition ota_0" "${T_FAST[@]}"
  t_check "embedded CA: hello_world runs from ota_0 (rc=$T_RC)" test "$T_RC" -eq 0
  t_check "embedded CA: pinned from the app, no OTAKIT_SERVER_CA" t_in_order "$T_LOG" \
    "ota: Server certificate pinned: ca_cert.pem embedded in the app" \
    "ota: Total Write binary data length : $(stat -c %s "$www/hello-world.bin")"
  t_dump_if_failed "$T_LOG"
  # and the embedded CA refuses a server with another certificate
  t_serve_stop ota
  t_serve_start ota "$www" --access-log "$T/server.log" --tls-cert "$T/other.pem" --tls-key "$T/other.key"
  t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ota_example_pinned.bin"
  OTAKIT_SERVER_URL=https://127.0.0.1:$T_PORT/hello-world.bin \
    t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}" --max-boots 1
  t_check "embedded CA: another server certificate is refused" t_lacks "$T_LOG" "esp_ota_begin succeeded"
  t_dump_if_failed "$T_LOG"
else
  echo "# ota_example_pinned.bin or build/test_certs missing (no openssl at build time): embedded CA not tested"
fi
t_finish
