#!/usr/bin/env bash
# The server offers the version that is already running: native_ota_example's check
# stops before esp_ota_begin, so nothing is erased or written and otadata stays blank.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$B"
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/ota_example.bin \
  run_device "$F" "We will not continue the update." "${FAST[@]}"
check "the run reaches the same-version stop (rc=$RC)" test "$RC" -eq 0
check "the versions are logged, then the update is skipped" in_order "$LOG" \
  "ota: Writing to partition subtype 16 at offset 0x110000" \
  "ota: New firmware version: 1.0.0-ota" \
  "ota: Running firmware version: 1.0.0-ota" \
  "ota: Current running version is the same as a new. We will not continue the update."
check "esp_ota_begin was not called" lacks "$LOG" "esp_ota_begin succeeded"
check "the device did not restart" test "$(json "$RESULT" 'j["restarts"]')" -eq 0
check "otadata is still blank (the factory app boots)" \
  test "$(otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"], j["boot"]["label"])')" = \
  "(True, True, 'factory')"
"$OTAKIT" flash read "$F" 0x110000 0x100000 "$TMP/ota0.bin" >/dev/null
check "ota_0 is untouched (all 0xFF)" python3 -c \
  'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d.count(255)==len(d) else 1)' "$TMP/ota0.bin"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

finish
