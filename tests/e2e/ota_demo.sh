#!/usr/bin/env bash
# The seed's flow end to end: the factory app joins the AP, downloads hello-world.bin
# from `otakit serve` (and, a second time, from `python3 -m http.server`), writes it
# to ota_0, switches otadata and restarts; the bootloader starts hello_world from ota_0.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

size=$(stat -c %s "$B/hello-world.bin")

check_run() {
  local what=$1 port=$2
  check "$what: the run ends at hello_world's countdown (rc=$RC)" test "$RC" -eq 0
  check "$what: the seed's lines, in order" in_order "$LOG" \
    "ota: Starting OTA example..." \
    "ota: Running partition type 0 subtype 0 (offset 0x00010000)" \
    "wifi station: got ip:127.0.0.1" \
    "ota: Connect to Wifi ! Start to Connect to Server...." \
    "ota: Server IP: 127.0.0.1 Server Port:$port" \
    "ota: Connected to server" \
    "ota: Connected to http server" \
    "ota: Writing to partition subtype 16 at offset 0x110000" \
    "ota: New firmware version: 1.0.0" \
    "ota: Running firmware version: 1.0.0-ota" \
    "ota: esp_ota_begin succeeded" \
    "ota: Have written image length 65536" \
    "ota: Connection closed, all packets received" \
    "ota: Total Write binary data length : $size" \
    "ota: Prepare to restart system!" \
    "rst:0xc (SW_CPU_RESET)" \
    "boot: Loaded app from partition at offset 0x110000" \
    "Hello world!" \
    "hello_world: Running partition ota_0 at offset 0x110000"
  check "$what: no error line" lacks "$LOG" "E ("
  check "$what: ota_0 holds hello-world.bin byte for byte" slot_holds "$F" 0x110000 "$B/hello-world.bin"
  check "$what: otadata boots ota_0" test "$(otadata "$F" 'j["boot"]["label"]')" = ota_0
  if config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
    check "$what: hello_world confirmed itself (VALID)" \
      test "$(otadata "$F" 'j["copies"][j["active"]]["state_name"]')" = VALID
  fi
  check "$what: one software restart, no panic" \
    test "$(json "$RESULT" '(j["restarts"] >= 1, j["panics"])')" = "(True, 0)"
}

# 1. otakit serve, as `make serve` runs it.
F=$TMP/flash.bin
make_flash "$F" 4MB
serve_otakit "$B"
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "Restarting in" "${FAST[@]}"
check_run "otakit serve" "$SERVER_PORT"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
stop_server

# 2. python3 -m http.server, the seed's server (HTTP/1.0, no Range).
F=$TMP/flash2.bin
make_flash "$F" 4MB
port=$(free_port)
fifo=$TMP/http.fifo
mkfifo "$fifo"
python3 -u -m http.server "$port" --bind 127.0.0.1 --directory "$B" >"$fifo" 2>"$TMP/http.err" &
E2E_PIDS+=("$!")
exec {fd}<"$fifo"
started=0
while read -r -t 20 line <&"$fd"; do
  if [[ $line == "Serving HTTP on 127.0.0.1 port $port"* ]]; then started=1; break; fi
done
cat <&"$fd" >/dev/null &
E2E_PIDS+=("$!")
check "python3 -m http.server started on port $port" test "$started" -eq 1
OTAKIT_SERVER_URL=http://127.0.0.1:$port/hello-world.bin run_device "$F" "Restarting in" "${FAST[@]}"
check_run "python3 -m http.server" "$port"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 3. `make demo`'s driver, on a free port and a flash file of its own.
rc=0
DEMO_PORT=0 DEMO_TIMEOUT=$DEV_TIMEOUT "$OTAKIT_SRC/scripts/demo.sh" "$B" "$TMP/demo/flash.bin" \
  >"$TMP/demo.out" 2>&1 || rc=$?
check "scripts/demo.sh succeeds (rc=$rc)" test "$rc" -eq 0
check "scripts/demo.sh prints the serial log and the summary" in_order "$TMP/demo.out" \
  "== make erase_flash flash" \
  "== serial log" \
  "ota: Starting OTA example..." \
  "hello_world: Running partition ota_0 at offset 0x110000" \
  "== summary" \
  "downloaded:      $size bytes of hello-world.bin" \
  "slot written:    ota_0 @ 0x110000" \
  "sectors erased:" \
  "hello_world:     ran from ota_0 @ 0x110000" \
  "otadata boots:   ota_0" \
  "demo: OK"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$TMP/demo.out"

finish
