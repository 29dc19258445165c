#!/usr/bin/env bash
# A pinned image digest (CONFIG_EXAMPLE_FIRMWARE_SHA256, here OTAKIT_FIRMWARE_SHA256 for
# the run): the example installs the download only when the SHA-256 of the whole file,
# as `otakit serve`'s JSON index lists it, is the pinned one; otherwise it refuses it
# after esp_ota_end and before esp_ota_set_boot_partition, so the factory app stays.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

www=$T/www
mkdir -p "$www"
cp "$T_BUILD/hello-world.bin" "$www/hello-world.bin"
cp "$T_BUILD/noconfirm_app.bin" "$www/other.bin"
t_serve_start ota "$www" --access-log "$T/server.log"
# The digest as an operator gets it: from the server's JSON index.
index=$T/index.json
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://127.0.0.1:$T_PORT/?format=json" >"$index"
digest=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print([f["sha256"] for f in (j["files"] if isinstance(j, dict) else j) if f["name"] == "hello-world.bin"][0])' "$index")
t_check "the index's digest is the file's SHA-256" test "$digest" = "$(sha256sum "$T_BUILD/hello-world.bin" | cut -d' ' -f1)"

# 1. The pinned file: installed.
F=$T/flash.ok.bin
t_flash_make "$F" 4MB
OTAKIT_FIRMWARE_SHA256=$digest t_ota_update "$F" hello-world.bin "Restarting in"
t_check "pinned: matches, switched, runs (rc=$T_RC)" t_in_order "$T_LOG" \
  "ota: Total Write binary data length" \
  "ota: SHA-256 of the download matches the pinned one: $digest" \
  "ota: Prepare to restart system!" \
  "hello_world: Running partition ota_0"
t_dump_if_failed "$T_LOG"

# 2. Another (valid) image at the URL: refused before set_boot.
refused() {
  local what=$1 pin=$2 why=$3
  F=$T/flash.$what.bin
  t_flash_make "$F" 4MB
  OTAKIT_FIRMWARE_SHA256=$pin t_ota_update "$F" other.bin "Exiting task due to fatal error..."
  t_check "$what: refused after esp_ota_end (rc=$T_RC)" t_in_order "$T_LOG" \
    "ota: Total Write binary data length" "$why" "ota: Exiting task due to fatal error..."
  t_check "$what: no switch" t_lacks "$T_LOG" "Prepare to restart system!"
  t_check "$what: otadata untouched" \
    t_otadata_blank "$F"
  t_dump_if_failed "$T_LOG"
}
refused other_image "$digest" "is not the pinned $digest: not installing"
refused bad_pin "12345" "The pinned SHA-256 '12345' is not 64 hex digits: not installing"

t_finish
