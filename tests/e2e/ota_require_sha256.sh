#!/usr/bin/env bash
# CONFIG_OTAKIT_APP_REQUIRE_SHA256 (on in otakit's own sdkconfig.defaults): an app image
# whose header says no SHA-256 follows (hash_appended = 0), which ESP-IDF accepts on the
# strength of its 1-byte XOR checksum, is refused by esp_ota_end and by the bootloader.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images
t_require_config OTAKIT_APP_REQUIRE_SHA256

www=$T/www
mkdir -p "$www"
# hello-world.bin without its appended SHA-256: header byte 23 cleared, the 32 bytes dropped.
python3 - "$T_BUILD/hello-world.bin" "$www/nohash.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
assert d[23] == 1
d[23] = 0
open(sys.argv[2], "wb").write(d[:-32])
PY
# A precondition, not a check of otakit: without the option the image is valid.
if ! "$OTAKIT" image verify "$www/nohash.bin" >/dev/null; then
  echo "setup failed: nohash.bin is not a valid image" >&2
  exit 1
fi
t_pyserve_start ota "$www"

F=$T/flash.bin
t_flash_make "$F" 4MB
t_ota_update "$F" nohash.bin "Exiting task due to fatal error..."
t_check "esp_ota_end refuses it (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Total Write binary data length" \
  "New image failed verification (no appended SHA-256 at image offset 0x17)" \
  "ota: Image validation failed, image is corrupted"
t_check "no switch" t_lacks "$T_LOG" "Prepare to restart system!"
t_check "otadata untouched" \
  t_otadata_blank "$F"
t_dump_if_failed "$T_LOG"

"$OTAKIT" flash write "$F" 0x110000 "$www/nohash.bin" >/dev/null
"$OTAKIT" otadata switch "$F" ota_0 >/dev/null
t_device_until "$F" "ota: Running partition type 0 subtype 0" "${T_FAST[@]}" --max-boots 1
t_check "forced onto flash: the bootloader refuses it and boots the factory app (rc=$T_RC)" \
  t_in_order "$T_LOG" \
  "esp_image: image at 0x110000: no appended SHA-256" \
  "boot: Loaded app from partition at offset 0x10000"
t_check "forced onto flash: it never runs" t_lacks "$T_LOG" "Hello world!"
t_dump_if_failed "$T_LOG"

t_finish
