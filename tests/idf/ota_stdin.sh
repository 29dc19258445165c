#!/usr/bin/env bash
# The firmware URL typed into the monitor: examples/system/ota/simple_ota_example with
# CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL="FROM_STDIN" (ESP-IDF's way: the app calls
# example_configure_stdin_stdout() and reads one line with fgets) gets the URL of a
# hello_world served over HTTPS from the device's stdin and completes its OTA:
#   - piped: `printf 'URL\n' | idf.py ... monitor`; the end of that stdin right after the
#     line does not end the run (the app restarts into hello_world from ota_1);
#   - typed: `idf.py monitor` in a terminal (tmux), the URL typed and Enter (a CR, which
#     the app reads as LF as from ESP-IDF's console); Ctrl-] then quits the monitor;
#   - stdin empty (/dev/null): the app waits for its line, the run goes on to --timeout.
# shellcheck source=tests/idf/lib.bash
source "$(dirname "$0")/lib.bash"

serve_hello

cp -r "$OTAKIT_SRC/examples/system/ota/simple_ota_example" app
cp cert.pem app/server_certs/ca_cert.pem
echo 'CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL="FROM_STDIN"' >>app/sdkconfig.defaults
cd app
t_expect_exit 0 idf.py "${HOST[@]}" set-target esp32
t_expect_exit 0 idf.py build
t_expect_has sdkconfig "CONFIG_EXAMPLE_FIRMWARE_UPGRADE_URL_FROM_STDIN=y"

# updated: the app read URL and hello_world runs from ota_1 (out.txt: the console)
updated() {
  t_expect_has "$T/out.txt" "simple_ota_example: Type the firmware upgrade URL and press Enter"
  t_expect_has "$T/out.txt" "simple_ota_example: Attempting to download update from $URL"
  t_expect_has "$T/out.txt" "simple_ota_example: OTA Succeed, Rebooting..."
  t_expect_has "$T/out.txt" "boot: Loaded app from partition at offset 0x1d0000"
  t_expect_has "$T/out.txt" "hello_world: Running partition ota_1 at offset 0x1d0000"
}

# ---- piped, then the end of stdin
printf '%s\n' "$URL" >url.txt
export OTAKIT_MONITOR_ARGS="--until 'hello_world: Running partition ota_1' --timeout 60"
t_expect_exit 0 idf.py -p build/flash.bin erase-flash flash monitor <url.txt
updated

# ---- typed on the monitor's terminal
t_expect_exit 0 idf.py -p build/typed.bin erase-flash flash
unset OTAKIT_MONITOR_ARGS
t_term_start "OTAKIT_MONITOR_ARGS='--timeout 60' idf.py -p build/typed.bin monitor"
if t_term_wait "Quit: Ctrl+] | Reset: Ctrl+T followed by R" &&
  t_term_wait "Type the firmware upgrade URL and press Enter"; then
  t_term_keys -l "$URL"
  t_term_keys Enter
  t_term_wait "hello_world: Running partition ota_1" && t_term_keys C-]
fi
rc=$(t_term_end)
[[ $rc == 0 ]] && t_ok || t_fail "typed: idf.py monitor: exit $rc"
t_term_screen >"$T/out.txt"
updated
t_expect_has "$T/out.txt" "--- exit"

# ---- nothing on stdin: the app waits, the device runs on to --timeout
t_expect_exit 0 idf.py -p build/empty.bin erase-flash flash
t_expect_exit 0 "$OTAKIT" device run --flash build/empty.bin --timeout 3 </dev/null
t_expect_has "$T/out.txt" "simple_ota_example: Type the firmware upgrade URL and press Enter"
t_expect_has "$T/out.txt" "--- otakit: timeout after 3 s"
if grep -qF "Attempting to download" "$T/out.txt"; then t_fail "the app got a URL from an empty stdin"; else t_ok; fi

t_finish
