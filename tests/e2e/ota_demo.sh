#!/usr/bin/env bash
# The seed's flow end to end: the factory app joins the AP, downloads hello-world.bin
# from `otakit serve` (and, a second time, from `python3 -m http.server`), writes it
# to ota_0, switches otadata and restarts; the bootloader starts hello_world from ota_0.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

size=$(stat -c %s "$T_BUILD/hello-world.bin")

check_run() {
  local what=$1 port=$2
  t_check "$what: the run ends at hello_world's countdown (rc=$T_RC)" test "$T_RC" -eq 0
  t_check "$what: the seed's lines, in order" t_in_order "$T_LOG" \
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
  t_check "$what: no error line" t_lacks "$T_LOG" "E ("
  t_check "$what: ota_0 holds hello-world.bin byte for byte" t_slot_holds "$F" 0x110000 "$T_BUILD/hello-world.bin"
  t_check "$what: otadata boots ota_0" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
  if t_config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
    t_check "$what: hello_world confirmed itself (VALID)" \
      test "$(t_otadata "$F" 'j["copies"][j["active"]]["state_name"]')" = VALID
  fi
  t_check "$what: one software restart, no panic" \
    test "$(t_json "$T_RESULT" '(j["restarts"] >= 1, j["panics"])')" = "(True, 0)"
}

# 1. otakit serve, as `make serve` runs it.
F=$T/flash.bin
t_flash_make "$F" 4MB
t_serve_start ota "$T_BUILD" --access-log "$T/server.log"
t_ota_update "$F" hello-world.bin "Restarting in"
check_run "otakit serve" "$T_PORT"
t_dump_if_failed "$T_LOG"
t_serve_stop ota

# 2. python3 -m http.server, the seed's server (HTTP/1.0, no Range).
F=$T/flash2.bin
t_flash_make "$F" 4MB
port=$(t_free_port)
fifo=$T/http.fifo
mkfifo "$fifo"
python3 -u -m http.server "$port" --bind 127.0.0.1 --directory "$T_BUILD" >"$fifo" 2>"$T/http.err" &
t_track_pid "$!"
exec {fd}<"$fifo"
started=0
while read -r -t 20 line <&"$fd"; do
  if [[ $line == "Serving HTTP on 127.0.0.1 port $port"* ]]; then started=1; break; fi
done
cat <&"$fd" >/dev/null &
t_track_pid "$!"
t_check "python3 -m http.server started on port $port" test "$started" -eq 1
OTAKIT_SERVER_URL=http://127.0.0.1:$port/hello-world.bin t_device_until "$F" "Restarting in" "${T_FAST[@]}"
check_run "python3 -m http.server" "$port"
t_dump_if_failed "$T_LOG"

# 3. `make demo`'s driver, on a free port and a flash file of its own.
rc=0
DEMO_PORT=0 DEMO_TIMEOUT=$T_DEV_TIMEOUT "$OTAKIT_SRC/scripts/demo.sh" "$T_BUILD" "$T/demo/flash.bin" \
  >"$T/demo.out" 2>&1 || rc=$?
t_check "scripts/demo.sh succeeds (rc=$rc)" test "$rc" -eq 0
t_check "scripts/demo.sh prints the serial log and the summary" t_in_order "$T/demo.out" \
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
t_dump_if_failed "$T/demo.out"

t_finish
