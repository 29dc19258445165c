#!/usr/bin/env bash
# Joining the access point (the seed's step 1 and its troubleshooting): a wrong password
# or an unknown SSID gives ESP-IDF's retry lines and a clear final error; the right
# network among others gets an address on the loopback.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

cfg=$B/config/sdkconfig
ssid=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_SSID="\(.*\)"$/\1/p' "$cfg")
pass=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_PASSWORD="\(.*\)"$/\1/p' "$cfg")
retries=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=//p' "$cfg")
F=$TMP/flash.bin
make_flash "$F" 4MB
export OTAKIT_SERVER_URL=http://127.0.0.1:1/hello-world.bin   # never reached here

# 1. Wrong password.
run_device "$F" "ota: Exiting task due to fatal error..." "${FAST[@]}" --wifi-aps "$ssid:not-$pass"
check "wrong password: the example stops (rc=$RC)" test "$RC" -eq 0
check "wrong password: handshake failures, retries, then a clear error" in_order "$LOG" \
  "wifi:4-way handshake with \"$ssid\" failed, reason 15 (4WAY_HANDSHAKE_TIMEOUT): wrong password?" \
  "wifi station: retry to connect to the AP (1 of $retries)" \
  "wifi station: retry to connect to the AP ($retries of $retries)" \
  "wifi station: connect to the AP fail" \
  "wifi station: Failed to connect to SSID:$ssid after $retries retries" \
  "ota: Exiting task due to fatal error..."
check "wrong password: $retries retries, $((retries + 1)) failures" \
  test "$(grep -c "wifi station: connect to the AP fail" "$LOG")" -eq $((retries + 1))
check "wrong password: no address, no server connection" bash -c \
  "! grep -qE 'got ip|Connect to Wifi !' '$LOG'"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 2. Unknown SSID.
run_device "$F" "ota: Exiting task due to fatal error..." "${FAST[@]}" --wifi-aps "otherap:secret123"
check "unknown SSID: the example stops (rc=$RC)" test "$RC" -eq 0
check "unknown SSID: no AP found, retries, clear error" in_order "$LOG" \
  "wifi:no AP with SSID \"$ssid\" found (in range: otherap), reason 201 (NO_AP_FOUND)" \
  "wifi station: disconnected from SSID \"$ssid\", reason 201 (NO_AP_FOUND)" \
  "wifi station: retry to connect to the AP (1 of $retries)" \
  "wifi station: Failed to connect to SSID:$ssid"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 3. The configured network among others.
run_device "$F" "ota: Connect to Wifi ! Start to Connect to Server...." "${FAST[@]}" \
  --wifi-aps "otherap:secret123,$ssid:$pass"
check "right network: joined (rc=$RC)" test "$RC" -eq 0
check "right network: ESP-IDF's join lines and a loopback address" in_order "$LOG" \
  "wifi:mode : sta" \
  "wifi:connected with $ssid, aid = 1, channel 1, BW20" \
  "esp_netif_handlers: sta ip: 127.0.0.1, mask: 255.0.0.0, gw: 127.0.0.1" \
  "wifi station: got ip:127.0.0.1" \
  "ota: Connect to Wifi ! Start to Connect to Server...."
check "right network: no retry" lacks "$LOG" "retry to connect to the AP"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
