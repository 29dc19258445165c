#!/usr/bin/env bash
# A corrupt image (one byte flipped in the program) downloads completely, fails
# esp_ota_end's verification ("Image validation failed, image is corrupted") and is
# never made the boot partition: the running (factory) app stays.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

www=$TMP/www
mkdir -p "$www"
cp "$B/hello-world.bin" "$www/hello-world.bin"
size=$(stat -c %s "$www/hello-world.bin")
python3 - "$www/hello-world.bin" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[len(d) // 2] ^= 0x01  # inside the program segment
open(p, "wb").write(d)
PY
# A precondition of the test, not a check of otakit: stop if the flip did not happen.
if cmp -s "$www/hello-world.bin" "$B/hello-world.bin"; then
  echo "setup failed: the served copy is still identical to hello-world.bin" >&2
  exit 1
fi

F=$TMP/flash.bin
make_flash "$F" 4MB
serve "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin
run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}"
check "the run reaches the fatal-error line (rc=$RC)" test "$RC" -eq 0
check "the whole file is written, then refused" in_order "$LOG" \
  "ota: esp_ota_begin succeeded" \
  "ota: Connection closed, all packets received" \
  "ota: Total Write binary data length : $size" \
  "ota: Image validation failed, image is corrupted" \
  "ota: Exiting task due to fatal error..."
check "no switch and no restart" lacks "$LOG" "Prepare to restart system!"
check "the device did not restart" test "$(json "$RESULT" 'j["restarts"]')" -eq 0
check "otadata untouched: the factory app stays the boot app" \
  test "$(otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"], j["boot"]["label"])')" = \
  "(True, True, 'factory')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# Power cycle: the old app boots again.
run_device "$F" "ota: Running partition type 0 subtype 0" "${FAST[@]}"
check "after a power cycle the factory app runs again (rc=$RC)" in_order "$LOG" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Starting OTA example..." \
  "ota: Running partition type 0 subtype 0 (offset 0x00010000)"

finish
