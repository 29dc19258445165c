#!/usr/bin/env bash
# Secure Boot V2 on the virtual device (CONFIG_SECURE_BOOT_V2_ENABLED), in a second build
# of this tree whose images are signed at build time. The eFuse holds the build key's
# digest. An update signed by that key is accepted, checked at esp_ota_end and again by
# the bootloader. Unsigned, other-key, tampered-payload and tampered-signature images and
# an image signed only by a revoked key are refused by esp_ota_end (nothing set to boot,
# the factory app keeps running) and, written onto flash and selected by hand, refused by
# the bootloader, which boots the factory app instead.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images
t_secure_build sbv2 CONFIG_SECURE_BOOT=y CONFIG_SECURE_BOOT_V2_ENABLED=y \
  CONFIG_PARTITION_TABLE_OFFSET=0xA000
T_BUILD=$T_SB # t_flash_make and the images come from the Secure Boot build
OTA0=0x120000

www=$T/www
mkdir -p "$www"
key2=$T/other_key.pem
"$OTAKIT" key generate --scheme rsa3072 "$key2" >/dev/null
cp "$T_SB/hello-world.bin" "$www/signed.bin"
# The unsigned image: the same app as otakit's default build makes it.
cp "$OTAKIT_BUILD/hello-world.bin" "$www/unsigned.bin"
"$OTAKIT" image sign --keyfile "$key2" "$www/unsigned.bin" "$www/other_key.bin" >/dev/null
t_tamper "$www/signed.bin" "$www/tampered_payload.bin" payload
t_tamper "$www/signed.bin" "$www/tampered_signature.bin" signature
# Preconditions of the test, not checks of otakit: the tampered images are still images.
for f in tampered_payload tampered_signature; do
  if ! "$OTAKIT" image verify "$www/$f.bin" >/dev/null 2>&1 ||
    "$OTAKIT" image verify "$www/$f.bin" --keyfile "$T_SB_KEY" >/dev/null 2>&1; then
    echo "setup failed: $f.bin should be a valid image with a bad signature" >&2
    exit 1
  fi
done

new_device() {
  F=$T/flash.$1.bin
  t_flash_make "$F" 4MB
  "$OTAKIT" efuse burn-key-digest --flash "$F" --keyfile "$T_SB_KEY" >/dev/null
}

t_pyserve_start ota "$www"
url() { echo "http://127.0.0.1:$T_PORT/$1"; }

# 1. A signed update: checked at esp_ota_end and by the bootloader, then it runs.
new_device signed
OTAKIT_SERVER_URL=$(url signed.bin) t_device_until "$F" "Restarting in" "${T_FAST[@]}"
t_check "signed: the bootloader checks the factory app's signature (rc=$T_RC)" t_in_order "$T_LOG" \
  "secure_boot_v2: Signature verified successfully! (block 0)" \
  "boot: Loaded app from partition at offset 0x20000" \
  "ota: Starting OTA example..."
t_check "signed: esp_ota_end checks it against the eFuse digest, then the switch" t_in_order "$T_LOG" \
  "ota: Total Write binary data length" \
  "secure_boot_v2: Take trusted digest key(s) from eFuse block(s)" \
  "secure_boot_v2: Signature verified successfully! (block 0)" \
  "ota: Prepare to restart system!" \
  "secure_boot_v2: Signature verified successfully! (block 0)" \
  "boot: Loaded app from partition at offset $OTA0" \
  "hello_world: Running partition ota_0"
t_check "signed: no error line" t_lacks "$T_LOG" "E ("
t_check "signed: otadata boots ota_0" test "$(t_secure_otadata "$F" 'j["boot"]["label"]')" = ota_0
t_dump_if_failed "$T_LOG"

# 2. Refused by esp_ota_end: nothing is set to boot, the factory app keeps running.
refused_update() {
  local name=$1 why=$2
  new_device "$name"
  OTAKIT_SERVER_URL=$(url "$name.bin") t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}"
  t_check "$name: the download completes, then esp_ota_end refuses it (rc=$T_RC)" t_in_order "$T_LOG" \
    "ota: Total Write binary data length" \
    "$why" \
    "esp_image: Secure boot signature verification failed" \
    "ota: Image validation failed, image is corrupted" \
    "ota: Exiting task due to fatal error..."
  t_check "$name: no switch, no restart" t_lacks "$T_LOG" "Prepare to restart system!"
  t_check "$name: otadata untouched" \
    test "$(t_secure_otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"])')" = "(True, True)"
  t_dump_if_failed "$T_LOG"
}
refused_update unsigned "no signature block (erased)"
refused_update other_key "signature block key is not a trusted key"
refused_update tampered_payload "signature block image digest does not match the image"
refused_update tampered_signature "signature does not verify"

# 3. Forced onto flash (written to ota_0 and selected by hand): the bootloader refuses
#    it and boots the factory app.
forced() {
  local name=$1 why=$2
  new_device "forced_$name"
  "$OTAKIT" flash write "$F" "$OTA0" "$www/$name.bin" >/dev/null
  "$OTAKIT" otadata switch "$F" ota_0 --table-offset 0xA000 >/dev/null
  t_device_until "$F" "ota: Running partition type 0 subtype 0" "${T_FAST[@]}" --max-boots 1
  t_check "forced $name: the bootloader refuses ota_0 and boots the factory app (rc=$T_RC)" \
    t_in_order "$T_LOG" \
    "secure_boot_v2: app at $OTA0: $why" \
    "esp_image: Secure boot signature verification failed" \
    "boot: Loaded app from partition at offset 0x20000" \
    "ota: Running partition type 0 subtype 0"
  t_check "forced $name: it never runs" t_lacks "$T_LOG" "Hello world!"
  t_dump_if_failed "$T_LOG"
}
forced unsigned "no signature block (erased)"
forced other_key "signature block key is not a trusted key"
forced tampered_payload "signature block image digest does not match the image"
forced tampered_signature "signature does not verify"

# 4. A revoked key: the device trusts the build key (block 0) and key2 (block 1), then
#    block 1 is revoked. An image signed by key2 alone is refused by the OTA and at boot.
new_device revoked
"$OTAKIT" efuse burn-key-digest --flash "$F" --keyfile "$key2" >/dev/null
"$OTAKIT" efuse revoke --flash "$F" 1 >/dev/null
t_check "revoked: efuse show says block 1 is revoked" \
  test "$("$OTAKIT" efuse show --flash "$F" --json | python3 -c \
    'import json,sys; j=json.load(sys.stdin); print(j["key_blocks"][1]["revoked"])')" = True
OTAKIT_SERVER_URL=$(url other_key.bin) t_device_until "$F" "Exiting task due to fatal error..." "${T_FAST[@]}"
t_check "revoked: esp_ota_end refuses the key2 image (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Total Write binary data length" \
  "signature block key is not a trusted key" \
  "ota: Image validation failed, image is corrupted"
t_check "revoked: no switch" t_lacks "$T_LOG" "Prepare to restart system!"
"$OTAKIT" flash write "$F" "$OTA0" "$www/other_key.bin" >/dev/null
"$OTAKIT" otadata switch "$F" ota_0 --table-offset 0xA000 >/dev/null
t_device_until "$F" "ota: Running partition type 0 subtype 0" "${T_FAST[@]}" --max-boots 1
t_check "revoked: the bootloader refuses it too and boots the factory app (rc=$T_RC)" t_in_order "$T_LOG" \
  "secure_boot_v2: app at $OTA0: signature block key is not a trusted key" \
  "boot: Loaded app from partition at offset 0x20000"
t_dump_if_failed "$T_LOG"

t_finish
