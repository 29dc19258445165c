#!/usr/bin/env bash
# Anti-rollback end to end (CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK, secure version 2 for the
# build's own images), in a second build of this tree. With the eFuse counter at 2:
# - an image of secure_version 1 is refused from its header, before esp_ota_begin erases
#   anything (ota_0 stays blank); written onto flash by hand, the bootloader refuses it;
# - an update of secure_version 3 that never confirms itself leaves the counter at 2 and
#   is rolled back;
# - one that confirms itself raises the counter to 3, and then the factory app (2) is no
#   longer bootable.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images
T_SB_PROJECTS=noconfirm_app t_secure_build arb CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y CONFIG_BOOTLOADER_APP_SECURE_VERSION=2
T_BUILD=$T_SB
OTA0=0x110000

www=$T/www
mkdir -p "$www"
# app_image STRIPPED PROJECT VERSION SECURE_VERSION OUT: one of the build's programs,
# packed again with another secure_version.
app_image() {
  "$OTAKIT" image create --program "$1" --project "$2" --version "$3" --secure-version "$4" \
    -o "$5" >/dev/null
}
app_image "$T_SB/projects/hello_world/hello_world.stripped" hello-world 1.0.0-sv1 1 "$www/sv1.bin"
app_image "$T_SB/projects/hello_world/hello_world.stripped" hello-world 1.0.0-sv3 3 "$www/sv3.bin"
app_image "$T_SB/projects/noconfirm_app/noconfirm_app.stripped" noconfirm_app 0.9.2-sv3 3 \
  "$www/noconfirm_sv3.bin"
t_pyserve_start ota "$www"

counter() { "$OTAKIT" efuse show --flash "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secure_version"])'; }
blank() {
  "$OTAKIT" flash read "$1" "$2" 4096 "$T/blank.bin" >/dev/null
  python3 -c 'import sys; sys.exit(0 if set(open(sys.argv[1], "rb").read()) == {0xff} else 1)' "$T/blank.bin"
}
new_device() {
  F=$T/flash.$1.bin
  t_flash_make "$F" 4MB
  "$OTAKIT" efuse set-secure-version --flash "$F" 2 >/dev/null
}

# 1. secure_version 1 < 2: refused from the header, nothing erased.
new_device low
t_ota_update "$F" sv1.bin "Exiting task due to fatal error..."
t_check "low: refused from the header (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: New firmware version: 1.0.0-sv1" \
  "ota: New firmware security version is less than eFuse programmed, 1 < 2" \
  "ota: Exiting task due to fatal error..."
t_check "low: esp_ota_begin was never called" t_lacks "$T_LOG" "esp_ota_begin succeeded"
t_check "low: ota_0 was not erased or written (still blank)" blank "$F" "$OTA0"
t_check "low: otadata untouched" t_otadata_blank "$F"
t_dump_if_failed "$T_LOG"

# 2. The same image forced onto flash: the bootloader does not take the otadata entry of
#    an app below the counter (as ESP-IDF's does) and boots the factory app.
"$OTAKIT" flash write "$F" "$OTA0" "$www/sv1.bin" >/dev/null
"$OTAKIT" otadata switch "$F" ota_0 >/dev/null
t_device_until "$F" "ota: Running partition type 0 subtype 0" "${T_FAST[@]}" --max-boots 1
t_check "forced low: the bootloader refuses ota_0 (rc=$T_RC)" t_in_order "$T_LOG" \
  "boot: ota data partition invalid, falling back to factory" \
  "boot: Loaded app from partition at offset 0x10000"
t_check "forced low: it never runs" t_lacks "$T_LOG" "Hello world!"
t_dump_if_failed "$T_LOG"

# 3. secure_version 3 that never confirms itself: the counter stays 2; rolled back.
new_device noconfirm
t_ota_update "$F" noconfirm_sv3.bin "ota: New version is the same as invalid version."
t_check "unconfirmed: runs from ota_0, then rolled back (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Prepare to restart system!" \
  "noconfirm_app: noconfirm_app 0.9.2-sv3 running from ota_0, state 0x1; not confirming it" \
  "boot: Loaded app from partition at offset 0x10000"
t_check "unconfirmed: the eFuse counter is still 2" test "$(counter "$F")" = 2
t_dump_if_failed "$T_LOG"

# 4. secure_version 3 that confirms itself: the counter rises to 3 with the confirmation.
new_device confirm
t_ota_update "$F" sv3.bin "Restarting in"
t_check "confirmed: runs and confirms itself (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset $OTA0" \
  "hello_world: New image is running (PENDING_VERIFY): self-test passed, marking it valid" \
  "Restarting in"
t_check "confirmed: the eFuse counter is 3" test "$(counter "$F")" = 3
# The factory app (secure_version 2) can no longer boot: select it by erasing otadata.
"$OTAKIT" otadata erase "$F" >/dev/null
t_device_until "$F" "Restarting in" "${T_FAST[@]}" --max-boots 1
t_check "confirmed: the factory app (2 < 3) is refused at boot, ota_0 boots" t_in_order "$T_LOG" \
  "boot: Application version is lower than the eFuse secure version (2 < 3)" \
  "boot: Loaded app from partition at offset $OTA0"
t_dump_if_failed "$T_LOG"

t_finish
