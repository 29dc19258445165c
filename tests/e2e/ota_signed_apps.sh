#!/usr/bin/env bash
# Signed apps without hardware Secure Boot (CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT +
# CONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT), in a second build of this tree whose
# images are signed at build time. No eFuse is burned: esp_ota_end trusts the keys that
# signed the running app. A signed update is accepted; unsigned and other-key images are
# refused (nothing set to boot). The bootloader checks nothing in this mode, so an
# unsigned image written onto flash by hand does boot: the option defends against the
# network, not against whoever can write the flash.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images
t_secure_build signed CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT=y
T_BUILD=$T_SB
OTA0=0x110000

www=$T/www
mkdir -p "$www"
cp "$T_SB/hello-world.bin" "$www/signed.bin"
cp "$OTAKIT_BUILD/hello-world.bin" "$www/unsigned.bin"
"$OTAKIT" key generate --scheme rsa3072 "$T/other_key.pem" >/dev/null
"$OTAKIT" image sign --keyfile "$T/other_key.pem" "$www/unsigned.bin" "$www/other_key.bin" >/dev/null
t_pyserve_start ota "$www"

F=$T/flash.signed.bin
t_flash_make "$F" 4MB
t_ota_update "$F" signed.bin "Restarting in"
t_check "signed: checked against the running app's key, switched, runs (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Total Write binary data length" \
  "secure_boot_v2: Take trusted digest key(s) from running app" \
  "secure_boot_v2: Signature verified successfully! (block 0)" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset $OTA0" \
  "hello_world: Running partition ota_0"
# The bootloader's lines come before the factory app's first line.
boot_lines=$(sed '/ota: Starting OTA example/q' "$T_LOG")
t_check "signed: the bootloader checks no signature" test "${boot_lines/secure_boot_v2/}" = "$boot_lines"
t_check "signed: no eFuse was needed" test ! -e "$F.efuse"
t_dump_if_failed "$T_LOG"

for name in unsigned other_key; do
  F=$T/flash.$name.bin
  t_flash_make "$F" 4MB
  t_ota_update "$F" "$name.bin" "Exiting task due to fatal error..."
  t_check "$name: esp_ota_end refuses it (rc=$T_RC)" t_in_order "$T_LOG" \
    "ota: Total Write binary data length" \
    "esp_image: Secure boot signature verification failed" \
    "ota: Image validation failed, image is corrupted"
  t_check "$name: no switch" t_lacks "$T_LOG" "Prepare to restart system!"
  t_check "$name: otadata untouched" \
    t_otadata_blank "$F"
  t_dump_if_failed "$T_LOG"
done

# Without Secure Boot the bootloader does not check: an image written by hand boots.
F=$T/flash.forced.bin
t_flash_make "$F" 4MB
"$OTAKIT" flash write "$F" "$OTA0" "$www/unsigned.bin" >/dev/null
"$OTAKIT" otadata switch "$F" ota_0 >/dev/null
t_device_until "$F" "Hello world!" "${T_FAST[@]}" --max-boots 1
t_check "forced unsigned: boots without hardware Secure Boot (rc=$T_RC)" t_in_order "$T_LOG" \
  "boot: Loaded app from partition at offset $OTA0" "Hello world!"

t_finish
