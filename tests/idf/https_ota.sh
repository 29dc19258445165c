#!/usr/bin/env bash
# esp_https_ota over HTTPS against `otakit serve`, with ESP-IDF-layout OTA apps built by
# idf.py (otakit as IDF_PATH): examples/system/ota/simple_ota_example and
# advanced_https_ota, each copied into a temporary folder, given a certificate made here
# with openssl (CN and SAN 127.0.0.1) and the server's URL, and built once. The image they
# fetch is examples/get-started/hello_world built as version 2.0.0.
#   - simple: esp_https_ota() through the certificate bundle (the test's CA as the custom
#     bundle), ota_0 -> ota_1, hello_world runs, the slot holds the served bytes;
#   - advanced, partial download (16 KiB Range requests) with OTA resumption: a clean
#     update (one HEAD, then GETs of 16 KiB), then the same update with the power cut in
#     the middle of the download: after the reboot the app reads the byte count it kept in
#     NVS, the download continues from there (the server sends only the rest) and the
#     finished image is byte for byte the served one.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source directory}"
command -v openssl >/dev/null 2>&1 || { echo "openssl is missing (scripts/setup.sh installs it)"; exit 77; }
unset IDF_PATH IDF_TARGET
# shellcheck source=export.sh
. "$OTAKIT_SRC/export.sh" >/dev/null

# slot_is FLASH OFFSET: the partition at OFFSET starts with the served image, byte for byte
slot_is() {
  if cmp -s -n "$SIZE" -i "$(($2)):0" "$1" "$IMG"; then t_ok; else t_fail "$1 at $2 does not hold the served image"; fi
}
WIFI=(--wifi-aps myssid:mypassword)
# The projects reuse this build's host parts (the otakit tool, the core, the port, the
# virtual device) and compile only what reads their sdkconfig, as otakit's own build does.
HOST=()
if [[ -n ${OTAKIT_BUILD:-} && -f $OTAKIT_BUILD/otakit-host-targets.cmake ]]; then
  HOST=(-D "OTAKIT_HOST_BUILD=$OTAKIT_BUILD")
fi

# ---- the new app, and the HTTPS server that serves it
cp -r "$OTAKIT_SRC/examples/get-started/hello_world" hello
echo "2.0.0" >hello/version.txt
t_expect_exit 0 idf.py -C hello "${HOST[@]}" build
IMG=$T/hello/build/hello_world.bin
SIZE=$(stat -c %s "$IMG")
t_tls_cert cert.pem key.pem
t_serve_start serve hello/build --tls-cert cert.pem --tls-key key.pem --access-log "$T/access.log"
BASE=$T_URL
[[ $BASE == https://127.0.0.1:* ]] || { echo "no server URL: $(cat serve.out serve.err)" >&2; exit 1; }
FW=${BASE%/}/hello_world.bin

# project NAME EXAMPLE LINE...: copy the example, give it the certificate, the URL and LINEs
project() {
  local name=$1 ex=$2
  shift 2
  cp -r "$OTAKIT_SRC/examples/system/ota/$ex" "$name"
  cp cert.pem "$name/server_certs/ca_cert.pem"
  printf 'CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL="%s"\n' "$FW" >>"$name/sdkconfig.defaults"
  printf '%s\n' "$@" >>"$name/sdkconfig.defaults"
}

# ---- simple_ota_example: esp_https_ota(), certificate bundle
project simple simple_ota_example
t_expect_exit 0 idf.py -C simple "${HOST[@]}" build
t_expect_has simple/sdkconfig "CONFIG_EXAMPLE_USE_CERT_BUNDLE=y"
export OTAKIT_MONITOR_ARGS="--until 'Hello world!' --timeout 120 ${WIFI[*]}"
t_expect_exit 0 idf.py -C simple -p "$T/simple.bin" erase-flash flash monitor
t_expect_has out.txt "simple_ota_example: Running from ota_0 at 0x20000"
t_expect_has out.txt "simple_ota_example: Attempting to download update from $FW"
t_expect_has out.txt "esp_https_ota: Starting OTA..."
t_expect_has out.txt "esp_https_ota: Writing to <ota_1> partition at offset 0x1d0000"
t_expect_has out.txt "simple_ota_example: OTA Succeed, Rebooting..."
t_expect_has out.txt "boot: Loaded app from partition at offset 0x1d0000"
t_expect_has out.txt "Hello world!"
slot_is simple.bin 0x1d0000

# ---- advanced_https_ota: partial download + resumption, factory and two OTA slots
REQ=16384
project adv advanced_https_ota CONFIG_PARTITION_TABLE_TWO_OTA=y \
  CONFIG_EXAMPLE_ENABLE_PARTIAL_HTTP_DOWNLOAD=y "CONFIG_EXAMPLE_HTTP_REQUEST_SIZE=$REQ" \
  CONFIG_EXAMPLE_ENABLE_OTA_RESUMPTION=y
t_expect_exit 0 idf.py -C adv "${HOST[@]}" build
t_expect_exit 0 idf.py -C adv -p "$T/adv0.bin" erase-flash flash
(( SIZE > 3 * REQ )) && t_ok || t_fail "the image ($SIZE bytes) is too small to need several requests"

# access_since LINE: the access log after its first LINE lines
access_since() { tail -n +"$(($1 + 1))" access.log; }

# a clean update, traced
cp adv0.bin adv1.bin
mark=$(wc -l <access.log)
t_expect_exit 0 "$OTAKIT" device run --flash adv1.bin --until "Hello world!" --timeout 120 "${WIFI[@]}" \
  --flash-trace "$T/trace.txt"
t_expect_has out.txt "advanced_https_ota_example: No download to resume: starting from the beginning"
t_expect_has out.txt "advanced_https_ota_example: Image size: $SIZE bytes"
t_expect_has out.txt "esp_https_ota: Writing to <ota_0> partition at offset 0x110000"
t_expect_has out.txt "advanced_https_ota_example: Downloaded $SIZE image bytes"
t_expect_has out.txt "advanced_https_ota_example: ESP_HTTPS_OTA upgrade successful. Rebooting ..."
t_expect_has out.txt "boot: Loaded app from partition at offset 0x110000"
t_expect_has out.txt "Hello world!"
slot_is adv1.bin 0x110000
access_since "$mark" >run1.log
want_gets=$(((SIZE + REQ - 1) / REQ))
[[ $(grep -c '"HEAD /hello_world.bin' run1.log) == 1 ]] && t_ok || t_fail "want one HEAD: $(cat run1.log)"
[[ $(grep -c '"GET /hello_world.bin HTTP/1.1" 206 ' run1.log) == "$want_gets" ]] && t_ok ||
  t_fail "want $want_gets ranged GETs of $SIZE bytes: $(cat run1.log)"
[[ $(grep -c "\"GET /hello_world.bin HTTP/1.1\" 206 $REQ\$" run1.log) == $((want_gets - 1)) ]] && t_ok ||
  t_fail "want every GET but the last to carry $REQ bytes: $(cat run1.log)"

# the same update, with the power cut at the middle write into ota_0
writes=()
while read -r n op addr _ who; do
  [[ $op == w && $who == app ]] && ((addr >= 0x110000 && addr < 0x210000)) && writes+=("$n")
done <trace.txt
(( ${#writes[@]} > 8 )) || { t_fail "the trace shows ${#writes[@]} writes into ota_0"; t_finish; exit 1; }
cut=${writes[$((${#writes[@]} / 2))]}
cp adv0.bin adv2.bin
mark=$(wc -l <access.log)
t_expect_exit 0 "$OTAKIT" device run --flash adv2.bin --until "Hello world!" --timeout 120 "${WIFI[@]}" \
  --powercut-at "$cut"
t_expect_has out.txt "--- otakit: power cut at flash operation $cut"
t_expect_has out.txt "advanced_https_ota_example: Resuming the download at byte "
kept=$(sed -n 's/.*Resuming the download at byte \([0-9]*\) (kept in NVS).*/\1/p' out.txt | head -n 1)
(( kept >= 1024 && kept < SIZE )) && t_ok || t_fail "resumed at byte '$kept' of $SIZE"
t_expect_has out.txt "advanced_https_ota_example: ESP_HTTPS_OTA upgrade successful. Rebooting ..."
t_expect_has out.txt "boot: Loaded app from partition at offset 0x110000"
t_expect_has out.txt "Hello world!"
slot_is adv2.bin 0x110000
# After the reboot (the run's last HEAD) the server sent exactly the bytes not kept.
access_since "$mark" >run2.log
last_head=$(grep -n '"HEAD /hello_world.bin' run2.log | tail -n 1 | cut -d: -f1)
sent=$(tail -n +"$((last_head + 1))" run2.log | awk '/"GET \/hello_world.bin/ { s += $NF } END { print s + 0 }')
[[ $sent == $((SIZE - kept)) ]] && t_ok || t_fail "after the reboot the server sent $sent bytes, want $((SIZE - kept))"

# ---- refusals: nothing is written, the running app stays
t_expect_exit 0 idf.py -C simple -p "$T/s0.bin" erase-flash flash
blank_slot=$(dd if=s0.bin bs=4096 skip=$((0x1d0000 / 4096)) count=1 2>/dev/null | sha256sum)
# an image for another chip (chip id 5, ESP32-C3): refused on its header
cp "$IMG" good.bin
t_patch "$IMG" 12 '\x05\x00'
cp s0.bin s1.bin
t_expect_exit 0 "$OTAKIT" device run --flash s1.bin --until "Firmware upgrade failed" --timeout 120 "${WIFI[@]}"
t_expect_has out.txt "esp_https_ota: Mismatch chip id, expected 0, found 5"
t_expect_has out.txt "simple_ota_example: Firmware upgrade failed (ESP_ERR_INVALID_VERSION)"
[[ $(dd if=s1.bin bs=4096 skip=$((0x1d0000 / 4096)) count=1 2>/dev/null | sha256sum) == "$blank_slot" ]] && t_ok ||
  t_fail "the refused image reached ota_1"
# no image on the server
rm "$IMG"
cp s0.bin s2.bin
t_expect_exit 0 "$OTAKIT" device run --flash s2.bin --until "Firmware upgrade failed" --timeout 120 "${WIFI[@]}"
t_expect_has out.txt "esp_https_ota: File not found(404)"
t_expect_has out.txt "esp_https_ota: Failed to establish HTTP connection"
cp good.bin "$IMG"

t_finish
