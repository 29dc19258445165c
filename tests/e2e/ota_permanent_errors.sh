#!/usr/bin/env bash
# Errors that no retry can heal end the update at once, with one clear line and one
# request: a 404, a 403, an image for another chip (stopped before anything is erased).
# Errors that can heal back off and retry: a 503 twice, then the file, and the update
# completes. (A server certificate that does not verify: tests/e2e/ota_https.sh.)
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

requests() { grep -c "^GET " "$T/server.log" 2>/dev/null || true; }
fresh_server() { # fresh_server DIR [ota_server.py options]
  rm -f "$T/server.log"
  t_pyserve_start ota "$@"
}

# 1. 404: the file is not there.
www=$T/www
mkdir -p "$www"
fresh_server "$www"
F=$T/flash.bin
t_flash_make "$F" 4MB
t_ota_update "$F" hello-world.bin "Exiting task due to fatal error..." --max-boots 1
t_check "404: the run ends on the fatal error (rc=$T_RC)" test "$T_RC" -eq 0
t_check "404: one line names the missing file" t_has "$T_LOG" \
  "ota: HTTP GET http://127.0.0.1:$T_PORT/hello-world.bin failed: the server answered 404 (file not found"
t_check "404: exactly one request, no retry" test "$(requests)" -eq 1
t_check "404: no backoff" t_lacks "$T_LOG" "retrying in"
t_dump_if_failed "$T_LOG"

# 2. 403 on every request.
cp "$T_BUILD/hello-world.bin" "$www/"
fresh_server "$www" --status 403
t_flash_make "$F" 4MB
t_ota_update "$F" hello-world.bin "Exiting task due to fatal error..." --max-boots 1
t_check "403: one line with the status" t_has "$T_LOG" \
  "ota: HTTP GET http://127.0.0.1:$T_PORT/hello-world.bin failed: the server answered 403"
t_check "403: exactly one request, no retry" test "$(requests)" -eq 1
t_check "403: no backoff" t_lacks "$T_LOG" "retrying in"
t_dump_if_failed "$T_LOG"

# 3. An image for another chip (chip id 9, ESP32-S3, in the header): stopped on the
# first chunk, before esp_ota_begin erases anything.
python3 - "$T_BUILD/hello-world.bin" "$www/s3.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[12:14] = (9).to_bytes(2, "little")
open(sys.argv[2], "wb").write(d)
PY
fresh_server "$www"
t_flash_make "$F" 4MB
"$OTAKIT" flash write "$F" 0x110000 "$T_BUILD/api_app.bin" >/dev/null 2>&1 || \
  "$OTAKIT" flash write "$F" 0x110000 "$T_BUILD/hello-world.bin" >/dev/null
"$OTAKIT" flash read "$F" 0x110000 0x100000 "$T/ota0.before" >/dev/null
t_ota_update "$F" s3.bin "Exiting task due to fatal error..." --max-boots 1
t_check "other chip: ESP-IDF's line, once" test "$(grep -c "ota: Mismatch chip id, expected 0, found 9" "$T_LOG")" -eq 1
t_check "other chip: exactly one request" test "$(requests)" -eq 1
t_check "other chip: nothing erased" t_lacks "$T_LOG" "esp_ota_begin succeeded"
"$OTAKIT" flash read "$F" 0x110000 0x100000 "$T/ota0.after" >/dev/null
t_check "other chip: ota_0 unchanged" cmp -s "$T/ota0.before" "$T/ota0.after"
t_dump_if_failed "$T_LOG"

# 4. 503 twice, then the file: backoff, retries, the update completes.
fresh_server "$www" --status 503 --status-times 2
t_flash_make "$F" 4MB
t_ota_update "$F" hello-world.bin "hello_world: Running partition ota_0"
t_check "503: the update completes (rc=$T_RC)" test "$T_RC" -eq 0
t_check "503: two answers with the status, each retried after a backoff" t_in_order "$T_LOG" \
  "ota: HTTP GET http://127.0.0.1:$T_PORT/hello-world.bin failed: the server answered 503" \
  "ota: Server not reachable at 127.0.0.1:$T_PORT, retrying in" \
  "ota: HTTP GET http://127.0.0.1:$T_PORT/hello-world.bin failed: the server answered 503" \
  "ota: Server not reachable at 127.0.0.1:$T_PORT, retrying in" \
  "ota: esp_ota_begin succeeded" \
  "ota: Prepare to restart system!"
t_check "503: three requests" test "$(requests)" -eq 3
t_check "503: ota_0 holds hello-world.bin" t_slot_holds "$F" 0x110000 "$T_BUILD/hello-world.bin"
t_dump_if_failed "$T_LOG"

t_finish
