#!/usr/bin/env bash
# The server announces the whole Content-Length but closes after 50000 bytes, on every
# request, and ignores Range (as python3 -m http.server does): the example reconnects,
# starts over, makes no progress, and gives up with "Error in receiving complete file"
# without touching otadata.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

retries=$(sed -n 's/^CONFIG_EXAMPLE_RESUME_RETRIES=//p' "$B/config/sdkconfig")
retries=${retries:-3}
F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$B" --truncate 50000 --ignore-range
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin
run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}"
check "the run reaches the fatal-error line (rc=$RC)" test "$RC" -eq 0
check "the drop, the resume attempts and the refusal are logged" in_order "$LOG" \
  "ota: esp_ota_begin succeeded" \
  "ota: Connection closed, errno = 104, after 50000 of" \
  "ota: The server ignored the Range request (status 200): starting over from byte 0" \
  "ota: The download made no progress in $retries reconnections" \
  "ota: Total Write binary data length : 50000" \
  "ota: Error in receiving complete file" \
  "ota: Exiting task due to fatal error..."
check "no switch and no restart" lacks "$LOG" "Prepare to restart system!"
check "otadata untouched: the factory app stays the boot app" \
  test "$(otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"], j["boot"]["label"])')" = \
  "(True, True, 'factory')"
check "the server saw 1 + $retries requests, the later ones with Range: bytes=50000-" \
  test "$(grep -c "range=bytes=50000- -> 200 sent=50000" "$TMP/server.log")" -eq "$retries"
[[ $E2E_FAIL -eq 0 ]] || { dump_log "$LOG"; dump_log "$TMP/server.log"; }

finish
