#!/usr/bin/env bash
# The server announces the whole Content-Length but closes after 50000 bytes, on every
# request, and ignores Range (as python3 -m http.server does): the example reconnects,
# starts over, makes no progress, and gives up with "Error in receiving complete file"
# without touching otadata.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

retries=$(t_config_value EXAMPLE_RESUME_RETRIES)
retries=${retries:-3}
F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD" --truncate 50000 --ignore-range
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/hello-world.bin
t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}"
t_check "the run reaches the fatal-error line (rc=$T_RC)" test "$T_RC" -eq 0
t_check "the drop, the resume attempts and the refusal are logged" t_in_order "$T_LOG" \
  "ota: esp_ota_begin succeeded" \
  "ota: Connection closed, errno = 104, after 50000 of" \
  "ota: The server ignored the Range request (status 200): starting over from byte 0" \
  "ota: The download made no progress in $retries reconnections" \
  "ota: Total Write binary data length : 50000" \
  "ota: Error in receiving complete file" \
  "ota: Exiting task due to fatal error..."
t_check "no switch and no restart" t_lacks "$T_LOG" "Prepare to restart system!"
t_check "otadata untouched: the factory app stays the boot app" \
  t_otadata_blank "$F" factory
t_check "the server saw 1 + $retries requests, the later ones with Range: bytes=50000-" \
  test "$(grep -c "range=bytes=50000- -> 200 sent=50000" "$T/server.log")" -eq "$retries"
t_dump_if_failed "$T_LOG" "$T/server.log"

t_finish
