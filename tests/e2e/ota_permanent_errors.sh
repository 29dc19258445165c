#!/usr/bin/env bash
# Errors that no retry can heal end the update at once, with one clear line and one
# request: a 404, a 403, an image for another chip (stopped before anything is erased).
# Errors that can heal back off and retry: a 503 twice, then the file, and the update
# completes. (A server certificate that does not verify: tests/e2e/ota_https.sh.)
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

requests() { grep -c "^GET " "$TMP/server.log" 2>/dev/null || true; }
fresh_server() { # fresh_server DIR [ota_server.py options]
  rm -f "$TMP/server.log"
  serve "$@"
}

# 1. 404: the file is not there.
www=$TMP/www
mkdir -p "$www"
fresh_server "$www"
F=$TMP/flash.bin
make_flash "$F" 4MB
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" --max-boots 1
check "404: the run ends on the fatal error (rc=$RC)" test "$RC" -eq 0
check "404: one line names the missing file" has "$LOG" \
  "ota: HTTP GET http://127.0.0.1:$SERVER_PORT/hello-world.bin failed: the server answered 404 (file not found"
check "404: exactly one request, no retry" test "$(requests)" -eq 1
check "404: no backoff" lacks "$LOG" "retrying in"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 2. 403 on every request.
cp "$B/hello-world.bin" "$www/"
fresh_server "$www" --status 403
make_flash "$F" 4MB
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" --max-boots 1
check "403: one line with the status" has "$LOG" \
  "ota: HTTP GET http://127.0.0.1:$SERVER_PORT/hello-world.bin failed: the server answered 403"
check "403: exactly one request, no retry" test "$(requests)" -eq 1
check "403: no backoff" lacks "$LOG" "retrying in"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 3. An image for another chip (chip id 9, ESP32-S3, in the header): stopped on the
# first chunk, before esp_ota_begin erases anything.
python3 - "$B/hello-world.bin" "$www/s3.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[12:14] = (9).to_bytes(2, "little")
open(sys.argv[2], "wb").write(d)
PY
fresh_server "$www"
make_flash "$F" 4MB
"$OTAKIT" flash write "$F" 0x110000 "$B/api_app.bin" >/dev/null 2>&1 || \
  "$OTAKIT" flash write "$F" 0x110000 "$B/hello-world.bin" >/dev/null
"$OTAKIT" flash read "$F" 0x110000 0x100000 "$TMP/ota0.before" >/dev/null
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/s3.bin \
  run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}" --max-boots 1
check "other chip: ESP-IDF's line, once" test "$(grep -c "ota: Mismatch chip id, expected 0, found 9" "$LOG")" -eq 1
check "other chip: exactly one request" test "$(requests)" -eq 1
check "other chip: nothing erased" lacks "$LOG" "esp_ota_begin succeeded"
"$OTAKIT" flash read "$F" 0x110000 0x100000 "$TMP/ota0.after" >/dev/null
check "other chip: ota_0 unchanged" cmp -s "$TMP/ota0.before" "$TMP/ota0.after"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 4. 503 twice, then the file: backoff, retries, the update completes.
fresh_server "$www" --status 503 --status-times 2
make_flash "$F" 4MB
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "hello_world: Running partition ota_0" "${FAST[@]}"
check "503: the update completes (rc=$RC)" test "$RC" -eq 0
check "503: two answers with the status, each retried after a backoff" in_order "$LOG" \
  "ota: HTTP GET http://127.0.0.1:$SERVER_PORT/hello-world.bin failed: the server answered 503" \
  "ota: Server not reachable at 127.0.0.1:$SERVER_PORT, retrying in" \
  "ota: HTTP GET http://127.0.0.1:$SERVER_PORT/hello-world.bin failed: the server answered 503" \
  "ota: Server not reachable at 127.0.0.1:$SERVER_PORT, retrying in" \
  "ota: esp_ota_begin succeeded" \
  "ota: Prepare to restart system!"
check "503: three requests" test "$(requests)" -eq 3
check "503: ota_0 holds hello-world.bin" slot_holds "$F" 0x110000 "$B/hello-world.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
