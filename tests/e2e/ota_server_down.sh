#!/usr/bin/env bash
# The server is down when the example starts: a clear error, a bounded backoff, and the
# update goes through once the server is up. Without a server at all the example gives
# up after CONFIG_EXAMPLE_CONNECT_RETRIES attempts.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

attempts=$(sed -n 's/^CONFIG_EXAMPLE_CONNECT_RETRIES=//p' "$B/config/sdkconfig")
attempts=${attempts:-5}

# 1. Down, then up. Real-time delays here (--speedup 1): the backoff is what lets the
# server come up between two attempts. The test reacts to the console, not to a clock.
F=$TMP/flash1.bin
make_flash "$F" 4MB
port=$(free_port)
LOG=$TMP/console.down.txt
fifo=$TMP/device.fifo
mkfifo "$fifo"
OTAKIT_SERVER_URL=http://127.0.0.1:$port/hello-world.bin \
  timeout $((DEV_TIMEOUT + 30)) "$OTAKIT" device run --flash "$F" --until "Restarting in" \
  --timeout "$DEV_TIMEOUT" --speedup 1 --color never --log "$LOG" >"$fifo" &
dev=$!
E2E_PIDS+=("$dev")
exec {dfd}<"$fifo"
seen=0
while IFS= read -r -t "$DEV_TIMEOUT" line <&"$dfd"; do
  if [[ $line == *"ota: Connect to http server failed!"* ]]; then seen=1; break; fi
done
check "the first connection fails while the server is down" test "$seen" -eq 1
python3 "$E2E_DIR/ota_server.py" --dir "$B" --port "$port" --port-file "$TMP/port" --log "$TMP/server.log" &
E2E_PIDS+=("$!")
cat <&"$dfd" >/dev/null   # drain the console until the device run ends
rc=0
wait "$dev" || rc=$?
check "the update completes once the server is up (rc=$rc)" test "$rc" -eq 0
check "a clear error, a retry after the backoff, then the download" in_order "$LOG" \
  "HTTP_CLIENT: Connection failed, sock < 0: Failed to connect to 127.0.0.1 port $port" \
  "ota: Connect to http server failed! (ESP_ERR_HTTP_CONNECT, errno=111) attempt 1 of $attempts" \
  "ota: Server not reachable at 127.0.0.1:$port, retrying in" \
  "ota: Connected to server" \
  "ota: esp_ota_begin succeeded" \
  "ota: Prepare to restart system!" \
  "hello_world: Running partition ota_0 at offset 0x110000"
check "ota_0 holds hello-world.bin" slot_holds "$F" 0x110000 "$B/hello-world.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 2. Never up: every attempt fails, then the example stops (instant delays).
F=$TMP/flash2.bin
make_flash "$F" 4MB
port=$(free_port)
OTAKIT_SERVER_URL=http://127.0.0.1:$port/hello-world.bin \
  run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}"
check "without a server the example gives up (rc=$RC)" test "$RC" -eq 0
check "every attempt is logged, then the final error" in_order "$LOG" \
  "attempt 1 of $attempts" \
  "attempt $attempts of $attempts" \
  "ota: Could not get http://127.0.0.1:$port/hello-world.bin after $attempts attempts" \
  "ota: Exiting task due to fatal error..."
check "no more attempts than configured" test "$(grep -c "ota: Connect to http server failed!" "$LOG")" -eq "$attempts"
check "otadata untouched" test "$(otadata "$F" 'j["boot"]["label"]')" = factory
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
