#!/usr/bin/env bash
# The Wi-Fi goes away in the middle of the download (otakit device run --wifi-drop-at
# BYTES[:SECONDS]), eight times: each time the station loses the AP (beacon timeout),
# the example's event handler reconnects as ESP-IDF's station example does, the download
# waits for the address and resumes with "Range: bytes=N-" at the byte it reached. The
# update completes, ota_0 holds hello-world.bin (same SHA-256) and hello_world runs.
# Also: an outage longer than the Wi-Fi retries last ends the download cleanly.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

size=$(stat -c %s "$B/hello-world.bin")
ssid=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_SSID="\(.*\)"$/\1/p' "$B/config/sdkconfig")
retries=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=//p' "$B/config/sdkconfig")
offsets=(2048 10000 30000 65536 70001 100000 120000 $((size - 384)))
secs=(0.5 1 3 2 0 1.5 4 1)
drops=()
for i in "${!offsets[@]}"; do
  drops+=(--wifi-drop-at "${offsets[i]}:${secs[i]}")
done

F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$B"
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "hello_world: Running partition ota_0" "${FAST[@]}" "${drops[@]}"
check "eight drops: hello_world runs from ota_0 (rc=$RC)" test "$RC" -eq 0
check "eight drops: the AP went away eight times" \
  test "$(grep -c 'wifi:the AP "[^"]*" is gone for' "$LOG")" -eq 8
want=()
for i in "${!offsets[@]}"; do
  ms=$(python3 -c "print(int(${secs[i]} * 1000))")
  want+=("wifi:the AP \"$ssid\" is gone for $ms ms (--wifi-drop-at), reason 200 (BEACON_TIMEOUT)"
    "ota: Wi-Fi lost after ${offsets[i]} bytes: waiting for the AP to come back"
    "ota: Wi-Fi is back: resuming the download at byte ${offsets[i]}"
    "ota: Resuming the download at byte ${offsets[i]}")
done
check "eight drops: each one lost, reconnected and resumed at its byte, in order" in_order "$LOG" "${want[@]}"
# (the station's own lines run on its task: with --speedup 0 a reconnection can finish
# before the download notices the loss, so they are counted, not ordered)
check "eight drops: nine addresses (the first join and eight reconnections)" \
  test "$(grep -c "wifi station: got ip:127.0.0.1" "$LOG")" -eq 9
check "eight drops: the server answered eight Range requests with 206" \
  test "$(grep -c 'range=bytes=[0-9]*- -> 206' "$TMP/server.log")" -eq 8
for o in "${offsets[@]}"; do
  check "eight drops: Range request at $o" has "$TMP/server.log" "range=bytes=$o- -> 206 sent=$((size - o))"
done
check "eight drops: the whole file, once" has "$LOG" "ota: Total Write binary data length : $size"
"$OTAKIT" flash read "$F" 0x110000 "$size" "$TMP/ota0.bin" >/dev/null
check "eight drops: ota_0's SHA-256 is hello-world.bin's" \
  test "$(sha256sum <"$TMP/ota0.bin" | cut -d' ' -f1)" = "$(sha256sum <"$B/hello-world.bin" | cut -d' ' -f1)"
check "eight drops: otadata boots ota_0" test "$(otadata "$F" 'j["boot"]["label"]')" = ota_0
[[ $E2E_FAIL -eq 0 ]] || { dump_log "$LOG"; dump_log "$TMP/server.log"; }

# An outage longer than the station's retries (each full scan takes 2.4 s of device time).
F=$TMP/flash2.bin
make_flash "$F" 4MB
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" --max-boots 1 --wifi-drop-at 20000:600
check "long outage: the example stops (rc=$RC)" test "$RC" -eq 0
check "long outage: every retry" has "$LOG" "wifi station: retry to connect to the AP ($retries of $retries)"
check "long outage: a clear end" in_order "$LOG" \
  "ota: Wi-Fi lost after 20000 bytes: waiting for the AP to come back" \
  "ota: The Wi-Fi did not come back after $retries retries: giving up the download" \
  "ota: Error in receiving complete file" \
  "ota: Exiting task due to fatal error..."
check "long outage: nothing switched" test "$(otadata "$F" 'j["boot"]["label"]')" = factory
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# Bad usage of the option.
rc=0
"$OTAKIT" device run --flash "$F" --wifi-drop-at 10x:1 --timeout 1 2>"$TMP/err" || rc=$?
check "bad --wifi-drop-at: exit 2 (rc=$rc)" test "$rc" -eq 2
check "bad --wifi-drop-at: named" grep -q "bad --wifi-drop-at '10x:1'" "$TMP/err"

finish
