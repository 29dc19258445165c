#!/usr/bin/env bash
# A pinned image digest (CONFIG_EXAMPLE_FIRMWARE_SHA256, here OTAKIT_FIRMWARE_SHA256 for
# the run): the example installs the download only when the SHA-256 of the whole file,
# as `otakit serve`'s JSON index lists it, is the pinned one; otherwise it refuses it
# after esp_ota_end and before esp_ota_set_boot_partition, so the factory app stays.
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

www=$TMP/www
mkdir -p "$www"
cp "$B/hello-world.bin" "$www/hello-world.bin"
cp "$B/noconfirm_app.bin" "$www/other.bin"
serve_otakit "$www"
# The digest as an operator gets it: from the server's JSON index.
index=$TMP/index.json
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://127.0.0.1:$SERVER_PORT/?format=json" >"$index"
digest=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print([f["sha256"] for f in (j["files"] if isinstance(j, dict) else j) if f["name"] == "hello-world.bin"][0])' "$index")
check "the index's digest is the file's SHA-256" test "$digest" = "$(sha256sum "$B/hello-world.bin" | cut -d' ' -f1)"

# 1. The pinned file: installed.
F=$TMP/flash.ok.bin
make_flash "$F" 4MB
OTAKIT_FIRMWARE_SHA256=$digest OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin \
  run_device "$F" "Restarting in" "${FAST[@]}"
check "pinned: matches, switched, runs (rc=$RC)" in_order "$LOG" \
  "ota: Total Write binary data length" \
  "ota: SHA-256 of the download matches the pinned one: $digest" \
  "ota: Prepare to restart system!" \
  "hello_world: Running partition ota_0"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 2. Another (valid) image at the URL: refused before set_boot.
refused() {
  local what=$1 pin=$2 why=$3
  F=$TMP/flash.$what.bin
  make_flash "$F" 4MB
  OTAKIT_FIRMWARE_SHA256=$pin OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/other.bin \
    run_device "$F" "Exiting task due to fatal error..." "${FAST[@]}"
  check "$what: refused after esp_ota_end (rc=$RC)" in_order "$LOG" \
    "ota: Total Write binary data length" "$why" "ota: Exiting task due to fatal error..."
  check "$what: no switch" lacks "$LOG" "Prepare to restart system!"
  check "$what: otadata untouched" \
    test "$(otadata "$F" '(j["copies"][0]["erased"], j["copies"][1]["erased"])')" = "(True, True)"
  [[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
}
refused other_image "$digest" "is not the pinned $digest: not installing"
refused bad_pin "12345" "The pinned SHA-256 '12345' is not 64 hex digits: not installing"

finish
