#!/usr/bin/env bash
# The seed's flow with ESP-IDF's commands, as docs/idf-projects.md shows it: `. ./export.sh`,
# then, in fresh copies of examples/get-started/hello_world (the new app) and
# examples/system/ota/native_ota_example (the factory app), each in a temporary folder:
#   idf.py set-target esp32
#   idf.py menuconfig      driven with keys in a real terminal (tmux): "Jump to symbol" to
#                          the firmware upgrade URL and the server CA, type them, Q, save;
#                          sdkconfig and build/config/sdkconfig.h then hold the new values
#   idf.py build
#   idf.py -p build/flash.bin erase-flash flash monitor
# hello_world's build/ is served over HTTPS by `otakit serve` (a certificate for 127.0.0.1
# made here with openssl, pinned by the factory app through server_certs/ca_cert.pem). The
# monitor ends when hello_world says it runs from ota_0; ota_0 then holds the served image.
# shellcheck source=tests/idf/lib.bash
source "$(dirname "$0")/lib.bash"

serve_hello

cp -r "$OTAKIT_SRC/examples/system/ota/native_ota_example" ota
mkdir -p ota/server_certs
cp cert.pem ota/server_certs/ca_cert.pem
cd ota
t_expect_exit 0 idf.py "${HOST[@]}" set-target esp32
t_expect_has "$T/out.txt" "Set Target to: esp32"

# set_string SYMBOL PROMPT VALUE: in menuconfig, jump to the string option SYMBOL and type VALUE
set_string() {
  t_term_keys /
  t_term_wait "Jump to symbol" || return 1
  t_term_keys -l "$1"
  t_term_wait "$1(=" || return 1
  t_term_keys Enter
  t_term_wait "()  $2" || return 1
  t_term_keys Enter
  t_term_wait "$2 (string)" || return 1
  t_term_keys -l "$3"
  t_term_keys Enter
  t_term_wait "($3) $2"
}
t_term_start "idf.py menuconfig"
if t_term_wait "Example Configuration  --->" &&
  set_string EXAMPLE_FIRMWARE_UPG_URL "Firmware Upgrade URL" "$URL" &&
  set_string EXAMPLE_SERVER_CA_CERT "Server CA certificate (PEM file embedded in the app)" \
    server_certs/ca_cert.pem; then
  t_term_keys Q
  t_term_wait "Save configuration?" && t_term_keys y
fi
rc=$(t_term_end)
[[ $rc == 0 ]] && t_ok || t_fail "idf.py menuconfig: exit $rc: $(t_term_screen)"
t_term_screen >menuconfig.txt
t_expect_has menuconfig.txt "Configuration saved to '$T/ota/sdkconfig'"
t_expect_has sdkconfig "CONFIG_EXAMPLE_FIRMWARE_UPG_URL=\"$URL\""
t_expect_has sdkconfig 'CONFIG_EXAMPLE_SERVER_CA_CERT="server_certs/ca_cert.pem"'
t_expect_has build/config/sdkconfig.h "#define CONFIG_EXAMPLE_FIRMWARE_UPG_URL \"$URL\""

t_expect_exit 0 idf.py build
t_expect_has "$T/out.txt" "Project build complete"
export OTAKIT_MONITOR_ARGS="--until 'hello_world: Running partition ota_0' --timeout 60"
t_expect_exit 0 idf.py -p build/flash.bin erase-flash flash monitor
t_expect_has "$T/out.txt" "boot: Loaded app from partition at offset 0x10000"
t_expect_has "$T/out.txt" "app_init: Project name:     native_ota"
t_expect_has "$T/out.txt" "ota: Server URL: $URL"
t_expect_has "$T/out.txt" "ota: Server certificate pinned: ca_cert.pem embedded in the app"
t_expect_has "$T/out.txt" "ota: Prepare to restart system!"
t_expect_has "$T/out.txt" "boot: Loaded app from partition at offset 0x110000"
t_expect_has "$T/out.txt" "Hello world!"
t_expect_has "$T/out.txt" "hello_world: Running partition ota_0 at offset 0x110000"
t_expect_has "$T/access.log" '"GET /hello_world.bin HTTP/1.1" 200'
size=$(stat -c %s "$IMG")
t_expect_exit 0 "$OTAKIT" flash read build/flash.bin 0x110000 "$size" "$T/ota0.bin"
cmp -s "$T/ota0.bin" "$IMG" && t_ok || t_fail "ota_0 does not hold the served hello_world.bin"

t_finish
