#!/usr/bin/env bash
# The Wi-Fi goes away in the middle of the download (otakit device run --wifi-drop-at
# BYTES[:SECONDS]), eight times: each time the station loses the AP (beacon timeout),
# the example's event handler reconnects as ESP-IDF's station example does, the download
# waits for the address and resumes with "Range: bytes=N-" at the byte it reached. The
# update completes, ota_0 holds hello-world.bin (same SHA-256) and hello_world runs.
# Also: an outage longer than the Wi-Fi retries last ends the download cleanly.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

size=$(stat -c %s "$T_BUILD/hello-world.bin")
ssid=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_SSID="\(.*\)"$/\1/p' "$T_BUILD/config/sdkconfig")
retries=$(t_config_value EXAMPLE_WIFI_MAXIMUM_RETRY)
offsets=(2048 10000 30000 65536 70001 100000 120000 $((size - 384)))
secs=(0.5 1 3 2 0 1.5 4 1)
drops=()
for i in "${!offsets[@]}"; do
  drops+=(--wifi-drop-at "${offsets[i]}:${secs[i]}")
done

F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD"
t_ota_update "$F" hello-world.bin "hello_world: Running partition ota_0" "${drops[@]}"
t_check "eight drops: hello_world runs from ota_0 (rc=$T_RC)" test "$T_RC" -eq 0
t_check "eight drops: the AP went away eight times" \
  test "$(grep -c 'wifi:the AP "[^"]*" is gone for' "$T_LOG")" -eq 8
want=()
for i in "${!offsets[@]}"; do
  ms=$(python3 -c "print(int(${secs[i]} * 1000))")
  want+=("wifi:the AP \"$ssid\" is gone for $ms ms (--wifi-drop-at), reason 200 (BEACON_TIMEOUT)"
    "ota: Wi-Fi lost after ${offsets[i]} bytes: waiting for the AP to come back"
    "ota: Wi-Fi is back: resuming the download at byte ${offsets[i]}"
    "ota: Resuming the download at byte ${offsets[i]}")
done
t_check "eight drops: each one lost, reconnected and resumed at its byte, in order" t_in_order "$T_LOG" "${want[@]}"
# (the station's own lines run on its task: with --speedup 0 a reconnection can finish
# before the download notices the loss, so they are counted, not ordered)
t_check "eight drops: nine addresses (the first join and eight reconnections)" \
  test "$(grep -c "wifi station: got ip:127.0.0.1" "$T_LOG")" -eq 9
t_check "eight drops: the server answered eight Range requests with 206" \
  test "$(grep -c 'range=bytes=[0-9]*- -> 206' "$T/server.log")" -eq 8
for o in "${offsets[@]}"; do
  t_check "eight drops: Range request at $o" t_has "$T/server.log" "range=bytes=$o- -> 206 sent=$((size - o))"
done
t_check "eight drops: the whole file, once" t_has "$T_LOG" "ota: Total Write binary data length : $size"
"$OTAKIT" flash read "$F" 0x110000 "$size" "$T/ota0.bin" >/dev/null
t_check "eight drops: ota_0's SHA-256 is hello-world.bin's" \
  test "$(sha256sum <"$T/ota0.bin" | cut -d' ' -f1)" = "$(sha256sum <"$T_BUILD/hello-world.bin" | cut -d' ' -f1)"
t_check "eight drops: otadata boots ota_0" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
t_dump_if_failed "$T_LOG" "$T/server.log"

# An outage longer than the station's retries (each full scan takes 2.4 s of device time).
F=$T/flash2.bin
t_flash_make "$F" 4MB
t_ota_update "$F" hello-world.bin "Exiting task due to fatal error..." --max-boots 1 --wifi-drop-at 20000:600
t_check "long outage: the example stops (rc=$T_RC)" test "$T_RC" -eq 0
t_check "long outage: every retry" t_has "$T_LOG" "wifi station: retry to connect to the AP ($retries of $retries)"
t_check "long outage: a clear end" t_in_order "$T_LOG" \
  "ota: Wi-Fi lost after 20000 bytes: waiting for the AP to come back" \
  "ota: The Wi-Fi did not come back after $retries retries: giving up the download" \
  "ota: Error in receiving complete file" \
  "ota: Exiting task due to fatal error..."
t_check "long outage: nothing switched" test "$(t_otadata "$F" 'j["boot"]["label"]')" = factory
t_dump_if_failed "$T_LOG"

# Bad usage of the option.
rc=0
"$OTAKIT" device run --flash "$F" --wifi-drop-at 10x:1 --timeout 1 2>"$T/err" || rc=$?
t_check "bad --wifi-drop-at: exit 2 (rc=$rc)" test "$rc" -eq 2
t_check "bad --wifi-drop-at: named" grep -q "bad --wifi-drop-at '10x:1'" "$T/err"

t_finish
