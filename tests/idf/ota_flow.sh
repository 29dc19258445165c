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
# With otakit built (ctest's OTAKIT_BUILD), set-target adds -D OTAKIT_HOST_BUILD=<it>, so the
# projects reuse otakit's host parts instead of compiling them again.
# shellcheck source=tests/cli/lib.bash
source "$(dirname "$0")/../cli/lib.bash"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source directory}"
command -v openssl >/dev/null 2>&1 || { echo "openssl is missing (scripts/setup.sh installs it)"; exit 77; }
command -v tmux >/dev/null 2>&1 || { echo "tmux is missing (scripts/setup.sh installs it)"; exit 77; }
unset IDF_PATH IDF_TARGET TMUX
(
  cd "$OTAKIT_SRC"
  # shellcheck source=export.sh
  . ./export.sh >/dev/null
  env
) >env.txt
IDF_PATH=$(sed -n 's/^IDF_PATH=//p' env.txt)
PATH=$(sed -n 's/^PATH=//p' env.txt)
export IDF_PATH PATH IDF_TARGET=esp32
[[ $IDF_PATH == "$OTAKIT_SRC" && $(command -v idf.py) == "$OTAKIT_SRC/tools/idf.py" ]] ||
  { echo "export.sh did not set IDF_PATH and PATH" >&2; exit 1; }
HOST=()
if [[ -n ${OTAKIT_BUILD:-} && -f $OTAKIT_BUILD/otakit-host-targets.cmake ]]; then
  HOST=(-D "OTAKIT_HOST_BUILD=$OTAKIT_BUILD")
fi

has() { if grep -qF -- "$2" "$1"; then ok; else fail "$1 lacks '$2'; it ends: $(tail -n 8 "$1")"; fi; }
SOCK=$T/tmux.sock
SERVER=
cleanup() {
  [[ -n $SERVER ]] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
  tmux -S "$SOCK" kill-server 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# ---- the new app: hello_world, built with idf.py
cp -r "$OTAKIT_SRC/examples/get-started/hello_world" hello
(cd hello && idf.py "${HOST[@]}" set-target esp32 && idf.py build) >hello.txt 2>&1 ||
  { cat hello.txt >&2; exit 1; }
IMG=$T/hello/build/hello_world.bin

# ---- its build/ served over HTTPS
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=127.0.0.1' \
  -addext 'subjectAltName=IP:127.0.0.1' -keyout key.pem -out cert.pem 2>/dev/null
"$OTAKIT" serve hello/build --port 0 --tls-cert cert.pem --tls-key key.pem \
  --access-log "$T/access.log" >serve.out 2>serve.err &
SERVER=$!
for _ in $(seq 1 400); do
  grep -q '^serving ' serve.out 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat serve.err >&2; exit 1; }
  sleep 0.05
done
BASE=$(sed -n 's/^serving .* on \(https:\/\/[^ ]*\)$/\1/p' serve.out)
[[ $BASE == https://127.0.0.1:* ]] || { echo "no server URL: $(cat serve.out serve.err)" >&2; exit 1; }
URL=${BASE%/}/hello_world.bin

# ---- the factory app: native_ota_example, the server's certificate where ESP-IDF's example keeps it
cp -r "$OTAKIT_SRC/examples/system/ota/native_ota_example" ota
mkdir -p ota/server_certs
cp cert.pem ota/server_certs/ca_cert.pem
cd ota
expect 0 idf.py "${HOST[@]}" set-target esp32
has out.txt "Set Target to: esp32"

# idf.py menuconfig in a terminal (tmux, 160x40), driven with keys.
# screen TEXT: wait (bounded) until the terminal shows TEXT.
screen() {
  local i
  for i in $(seq 1 300); do
    tmux -S "$SOCK" capture-pane -p -t mc 2>/dev/null | grep -qF -- "$1" && return 0
    [[ -f $T/mc.rc ]] && break
    sleep 0.05
  done
  fail "menuconfig never showed '$1'; the screen: $(tmux -S "$SOCK" capture-pane -p -t mc 2>/dev/null)"
  return 1
}
keys() { tmux -S "$SOCK" send-keys -t mc "$@"; }
# set_string SYMBOL PROMPT VALUE: jump to the string option SYMBOL, type VALUE
set_string() {
  keys /
  screen "Jump to symbol" || return 1
  keys -l "$1"
  screen "$1(=" || return 1
  keys Enter
  screen "()  $2" || return 1
  keys Enter
  screen "$2 (string)" || return 1
  keys -l "$3"
  keys Enter
  screen "($3) $2"
}
# The window stays after idf.py ends (read), for its last lines; cleanup ends tmux.
tmux -S "$SOCK" new-session -d -s mc -x 160 -y 40 "idf.py menuconfig; echo \$? >'$T/mc.rc'; read -r _" ||
  { echo "tmux cannot start a terminal" >&2; exit 1; }
if screen "Example Configuration  --->" &&
  set_string EXAMPLE_FIRMWARE_UPG_URL "Firmware Upgrade URL" "$URL" &&
  set_string EXAMPLE_SERVER_CA_CERT "Server CA certificate (PEM file embedded in the app)" \
    server_certs/ca_cert.pem; then
  keys Q
  screen "Save configuration?" && keys y
fi
for _ in $(seq 1 1200); do [[ -s $T/mc.rc ]] && break; sleep 0.05; done
tmux -S "$SOCK" capture-pane -p -t mc -S - >"$T/mc.out" 2>/dev/null
[[ $(cat "$T/mc.rc" 2>/dev/null) == 0 ]] && ok || fail "idf.py menuconfig: exit '$(cat "$T/mc.rc" 2>/dev/null)': $(cat "$T/mc.out")"
has "$T/mc.out" "Configuration saved to '$T/ota/sdkconfig'"
has sdkconfig "CONFIG_EXAMPLE_FIRMWARE_UPG_URL=\"$URL\""
has sdkconfig 'CONFIG_EXAMPLE_SERVER_CA_CERT="server_certs/ca_cert.pem"'
has build/config/sdkconfig.h "#define CONFIG_EXAMPLE_FIRMWARE_UPG_URL \"$URL\""

expect 0 idf.py build
has out.txt "Project build complete"
export OTAKIT_MONITOR_ARGS="--until 'hello_world: Running partition ota_0' --timeout 60"
expect 0 idf.py -p build/flash.bin erase-flash flash monitor
has out.txt "boot: Loaded app from partition at offset 0x10000"
has out.txt "app_init: Project name:     native_ota"
has out.txt "ota: Server URL: $URL"
has out.txt "ota: Server certificate pinned: ca_cert.pem embedded in the app"
has out.txt "ota: Prepare to restart system!"
has out.txt "boot: Loaded app from partition at offset 0x110000"
has out.txt "Hello world!"
has out.txt "hello_world: Running partition ota_0 at offset 0x110000"
has "$T/access.log" '"GET /hello_world.bin HTTP/1.1" 200'
size=$(stat -c %s "$IMG")
expect 0 "$OTAKIT" flash read build/flash.bin 0x110000 "$size" "$T/ota0.bin"
cmp -s "$T/ota0.bin" "$IMG" && ok || fail "ota_0 does not hold the served hello_world.bin"

finish
