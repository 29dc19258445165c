#!/usr/bin/env bash
# The server is down when the example starts: a clear error, a bounded backoff, and the
# update goes through once the server is up. Without a server at all the example gives
# up after CONFIG_EXAMPLE_CONNECT_RETRIES attempts.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

attempts=$(t_config_value EXAMPLE_CONNECT_RETRIES)
attempts=${attempts:-5}

# 1. Down, then up. Real-time delays here (--speedup 1): the backoff is what lets the
# server come up between two attempts. The test reacts to the console, not to a clock.
F=$T/flash1.bin
t_flash_make "$F" 4MB
port=$(t_free_port)
T_LOG=$T/console.down.txt
fifo=$T/device.fifo
mkfifo "$fifo"
OTAKIT_SERVER_URL=http://127.0.0.1:$port/hello-world.bin \
  timeout $((T_DEV_TIMEOUT + 30)) "$OTAKIT" device run --flash "$F" --until "Restarting in" \
  --timeout "$T_DEV_TIMEOUT" --speedup 1 --color never --log "$T_LOG" >"$fifo" &
dev=$!
t_track_pid "$dev"
exec {dfd}<"$fifo"
seen=0
while IFS= read -r -t "$T_DEV_TIMEOUT" line <&"$dfd"; do
  if [[ $line == *"ota: Connect to http server failed!"* ]]; then seen=1; break; fi
done
t_check "the first connection fails while the server is down" test "$seen" -eq 1
python3 "$T_SRC/tests/e2e/ota_server.py" --dir "$T_BUILD" --port "$port" --port-file "$T/port" --log "$T/server.log" &
t_track_pid "$!"
cat <&"$dfd" >/dev/null   # drain the console until the device run ends
rc=0
wait "$dev" || rc=$?
t_check "the update completes once the server is up (rc=$rc)" test "$rc" -eq 0
t_check "a clear error, a retry after the backoff, then the download" t_in_order "$T_LOG" \
  "HTTP_CLIENT: Connection failed, sock < 0: Failed to connect to 127.0.0.1 port $port" \
  "ota: Connect to http server failed! (ESP_ERR_HTTP_CONNECT, errno=111) attempt 1 of $attempts" \
  "ota: Server not reachable at 127.0.0.1:$port, retrying in" \
  "ota: Connected to server" \
  "ota: esp_ota_begin succeeded" \
  "ota: Prepare to restart system!" \
  "hello_world: Running partition ota_0 at offset 0x110000"
t_check "ota_0 holds hello-world.bin" t_slot_holds "$F" 0x110000 "$T_BUILD/hello-world.bin"
t_dump_if_failed "$T_LOG"

# 2. Never up: every attempt fails, then the example stops (instant delays).
F=$T/flash2.bin
t_flash_make "$F" 4MB
port=$(t_free_port)
OTAKIT_SERVER_URL=http://127.0.0.1:$port/hello-world.bin \
  t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}"
t_check "without a server the example gives up (rc=$T_RC)" test "$T_RC" -eq 0
t_check "every attempt is logged, then the final error" t_in_order "$T_LOG" \
  "attempt 1 of $attempts" \
  "attempt $attempts of $attempts" \
  "ota: Could not get http://127.0.0.1:$port/hello-world.bin after $attempts attempts" \
  "ota: Exiting task due to fatal error..."
t_check "no more attempts than configured" test "$(grep -c "ota: Connect to http server failed!" "$T_LOG")" -eq "$attempts"
t_check "otadata untouched" test "$(t_otadata "$F" 'j["boot"]["label"]')" = factory
t_dump_if_failed "$T_LOG"

t_finish
