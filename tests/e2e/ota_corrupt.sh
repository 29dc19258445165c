#!/usr/bin/env bash
# A corrupt image (one byte flipped in the program) downloads completely, fails
# esp_ota_end's verification ("Image validation failed, image is corrupted") and is
# never made the boot partition: the running (factory) app stays.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

www=$T/www
mkdir -p "$www"
cp "$T_BUILD/hello-world.bin" "$www/hello-world.bin"
size=$(stat -c %s "$www/hello-world.bin")
python3 - "$www/hello-world.bin" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
d[len(d) // 2] ^= 0x01  # inside the program segment
open(p, "wb").write(d)
PY
# A precondition of the test, not a check of otakit: stop if the flip did not happen.
if cmp -s "$www/hello-world.bin" "$T_BUILD/hello-world.bin"; then
  echo "setup failed: the served copy is still identical to hello-world.bin" >&2
  exit 1
fi

F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$www"
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/hello-world.bin
t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}"
t_check "the run reaches the fatal-error line (rc=$T_RC)" test "$T_RC" -eq 0
t_check "the whole file is written, then refused" t_in_order "$T_LOG" \
  "ota: esp_ota_begin succeeded" \
  "ota: Connection closed, all packets received" \
  "ota: Total Write binary data length : $size" \
  "ota: Image validation failed, image is corrupted" \
  "ota: Exiting task due to fatal error..."
t_check "no switch and no restart" t_lacks "$T_LOG" "Prepare to restart system!"
t_check "the device did not restart" test "$(t_json "$T_RESULT" 'j["restarts"]')" -eq 0
t_check "otadata untouched: the factory app stays the boot app" \
  t_otadata_blank "$F" factory
t_dump_if_failed "$T_LOG"

# Power cycle: the old app boots again.
t_device_until "$F" "ota: Running partition type 0 subtype 0" "${T_FAST[@]}"
t_check "after a power cycle the factory app runs again (rc=$T_RC)" t_in_order "$T_LOG" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Starting OTA example..." \
  "ota: Running partition type 0 subtype 0 (offset 0x00010000)"

t_finish
