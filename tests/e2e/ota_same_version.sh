#!/usr/bin/env bash
# The server offers the version that is already running: native_ota_example's check
# stops before esp_ota_begin, so nothing is erased or written and otadata stays blank.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD"
t_ota_update "$F" ota_example.bin "We will not continue the update."
t_check "the run reaches the same-version stop (rc=$T_RC)" test "$T_RC" -eq 0
t_check "the versions are logged, then the update is skipped" t_in_order "$T_LOG" \
  "ota: Writing to partition subtype 16 at offset 0x110000" \
  "ota: New firmware version: 1.0.0-ota" \
  "ota: Running firmware version: 1.0.0-ota" \
  "ota: Current running version is the same as a new. We will not continue the update."
t_check "esp_ota_begin was not called" t_lacks "$T_LOG" "esp_ota_begin succeeded"
t_check "the device did not restart" test "$(t_json "$T_RESULT" 'j["restarts"]')" -eq 0
t_check "otadata is still blank (the factory app boots)" \
  t_otadata_blank "$F" factory
"$OTAKIT" flash read "$F" 0x110000 0x100000 "$T/ota0.bin" >/dev/null
t_check "ota_0 is untouched (all 0xFF)" python3 -c \
  'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d.count(255)==len(d) else 1)' "$T/ota0.bin"
t_dump_if_failed "$T_LOG"

t_finish
