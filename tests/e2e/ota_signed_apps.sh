#!/usr/bin/env bash
# Signed apps without hardware Secure Boot (CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT +
# CONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT), in a second build of this tree whose
# images are signed at build time. No eFuse is burned: esp_ota_end trusts the keys that
# signed the running app. A signed update is accepted; unsigned and other-key images are
# refused (nothing set to boot). The bootloader checks nothing in this mode, so an
# unsigned image written onto flash by hand does boot: the option defends against the
# network, not against whoever can write the flash.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
# shellcheck source=lib/secure_build.sh
source "$(dirname "$0")/lib/secure_build.sh"
require_images
secure_build signed CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT=y
B=$SB
OTA0=0x110000

www=$TMP/www
mkdir -p "$www"
cp "$SB/hello-world.bin" "$www/signed.bin"
cp "$OTAKIT_BUILD/hello-world.bin" "$www/unsigned.bin"
"$OTAKIT" key generate --scheme rsa3072 "$TMP/other_key.pem" >/dev/null
"$OTAKIT" image sign --keyfile "$TMP/other_key.pem" "$www/unsigned.bin" "$www/other_key.bin" >/dev/null
serve "$www"

F=$TMP/flash.signed.bin
make_flash "$F" 4MB
OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/signed.bin run_device "$F" "Restarting in" "${FAST[@]}"
check "signed: checked against the running app's key, switched, runs (rc=$RC)" in_order "$LOG" \
  "ota: Total Write binary data length" \
  "secure_boot_v2: Take trusted digest key(s) from running app" \
  "secure_boot_v2: Signature verified successfully! (block 0)" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset $OTA0" \
  "hello_world: Running partition ota_0"
# The bootloader's lines come before the factory app's first line.
boot_lines=$(sed '/ota: Starting OTA example/q' "$LOG")
check "signed: the bootloader checks no signature" test "${boot_lines/secure_boot_v2/}" = "$boot_lines"
check "signed: no eFuse was needed" test ! -e "$F.efuse"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

for name in unsigned other_key; do
  F=$TMP/flash.$name.bin
  make_flash "$F" 4MB
  OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/$name.bin \
    run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}"
  check "$name: esp_ota_end refuses it (rc=$RC)" in_order "$LOG" \
    "ota: Total Write binary data length" \
    "esp_image: Secure boot signature verification failed" \
    "ota: Image validation failed, image is corrupted"
  check "$name: no switch" lacks "$LOG" "Prepare to restart system!"
  check "$name: otadata untouched" \
    test "$(otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"])')" = "(True, True)"
  [[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
done

# Without Secure Boot the bootloader does not check: an image written by hand boots.
F=$TMP/flash.forced.bin
make_flash "$F" 4MB
"$OTAKIT" flash write "$F" "$OTA0" "$www/unsigned.bin" >/dev/null
"$OTAKIT" otadata switch "$F" ota_0 >/dev/null
run_device "$F" "Hello world!" "${FAST[@]}" --max-boots 1
check "forced unsigned: boots without hardware Secure Boot (rc=$RC)" in_order "$LOG" \
  "boot: Loaded app from partition at offset $OTA0" "Hello world!"

finish
