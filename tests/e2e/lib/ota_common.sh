# shellcheck shell=bash
# Shared by tests/e2e/ota_*.sh (sourced, not run). Each test gets its own temp dir,
# flash files and servers on 127.0.0.1 with free ports; everything it starts is stopped
# by the EXIT trap. Waits are on lines (a server's start line, the device's console),
# never on sleeps; every device run has a --timeout and an outer `timeout`.
#
# Environment (set by ctest): OTAKIT (the otakit binary), OTAKIT_BUILD (the build dir
# with the firmware images and flash_args), OTAKIT_SRC (the source tree).

set -euo pipefail

: "${OTAKIT:?OTAKIT must name the otakit binary}"
: "${OTAKIT_BUILD:?OTAKIT_BUILD must name the build directory}"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source tree}"

B=$OTAKIT_BUILD
E2E_DIR=$OTAKIT_SRC/tests/e2e
TMP=$(mktemp -d "${TMPDIR:-/tmp}/otakit-e2e.XXXXXX")
E2E_PIDS=()
E2E_PASS=0
E2E_FAIL=0
E2E_RUN=0
# Device runs are bounded by --timeout; the outer timeout only catches a hung tool.
DEV_TIMEOUT=${OTAKIT_E2E_TIMEOUT:-60}

e2e_cleanup() {
  local p
  for p in "${E2E_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${E2E_PIDS[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap e2e_cleanup EXIT

ok() {
  E2E_PASS=$((E2E_PASS + 1))
  echo "ok - $*"
}

not_ok() {
  E2E_FAIL=$((E2E_FAIL + 1))
  echo "not ok - $*"
}

# check DESCRIPTION COMMAND...: one assertion.
check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# The console of the last failing run helps more than any message.
dump_log() {
  echo "---- $1 ----"
  cat "$1" 2>/dev/null || true
  echo "---- end of $1 ----"
}

finish() {
  echo "$E2E_PASS passed, $E2E_FAIL failed"
  [[ $E2E_FAIL -eq 0 ]]
}

# Needs the firmware images a full build makes.
require_images() {
  local f
  for f in bootloader.bin partition-table.bin ota_data_initial.bin ota_example.bin hello-world.bin flash_args "$@"; do
    if [[ ! -f $B/$f ]]; then
      echo "missing $B/$f: build the project first (make)" >&2
      exit 1
    fi
  done
}

# config_is SYMBOL: whether CONFIG_SYMBOL=y in the build's configuration.
config_is() {
  grep -qx "CONFIG_$1=y" "$B/config/sdkconfig"
}

# make_flash FILE [SIZE] [ADDR FILE ...]: a blank flash with what `make flash` writes
# (build/flash_args), then the extra ADDR FILE pairs written over it.
make_flash() {
  local flash=$1 size=${2:-4MB}
  shift 2 || shift $#
  local args=() addr file
  while read -r addr file; do
    [[ -z $addr || $addr == \#* || $addr == --* ]] && continue
    args+=("$addr" "$file")
  done <"$B/flash_args"
  rm -f "$flash"
  "$OTAKIT" flash erase "$flash" --size "$size" >/dev/null
  "$OTAKIT" flash write "$flash" "${args[@]}" >/dev/null
  if [[ $# -gt 0 ]]; then
    "$OTAKIT" flash write "$flash" "$@" >/dev/null
  fi
}

# serve DIR [ota_server.py options]: start the test server on a free port.
# Sets SERVER_PORT and SERVER_PID.
serve() {
  local dir=$1
  shift
  local fifo
  fifo=$(mktemp -u "$TMP/srv.XXXXXX")
  mkfifo "$fifo"
  python3 "$E2E_DIR/ota_server.py" --dir "$dir" --port-file - --log "$TMP/server.log" "$@" >"$fifo" &
  SERVER_PID=$!
  E2E_PIDS+=("$SERVER_PID")
  local fd
  exec {fd}<"$fifo"
  if ! read -r -t 20 SERVER_PORT <&"$fd"; then
    echo "the test server did not start" >&2
    exit 1
  fi
  exec {fd}<&-
  rm -f "$fifo"
}

# serve_otakit DIR [OPTIONS]: `otakit serve` on a free port (HTTP, or HTTPS alone with
# --tls-cert/--tls-key). Sets SERVER_PORT and SERVER_PID. SERVE_BIND: the address
# (127.0.0.1); SERVE_WRAP: a command prefix that execs the server (`ip netns exec NS`).
serve_otakit() {
  local dir=$1 fifo line fd bind=${SERVE_BIND:-127.0.0.1}
  shift
  fifo=$(mktemp -u "$TMP/srv.XXXXXX")
  mkfifo "$fifo"
  ${SERVE_WRAP:-} "$OTAKIT" serve "$dir" --port 0 --bind "$bind" --access-log "$TMP/server.log" "$@" >"$fifo" 2>"$TMP/serve.err" &
  SERVER_PID=$!
  E2E_PIDS+=("$SERVER_PID")
  exec {fd}<"$fifo"
  SERVER_PORT=
  while read -r -t 20 line <&"$fd"; do
    if [[ $line =~ ^serving\ .*\ on\ https?://${bind//./\\.}:([0-9]+)/?$ ]]; then
      SERVER_PORT=${BASH_REMATCH[1]}
      break
    fi
  done
  # Keep reading the (now silent) stdout in the background so the server never blocks.
  cat <&"$fd" >/dev/null &
  E2E_PIDS+=("$!")
  exec {fd}<&-
  rm -f "$fifo"
  if [[ -z $SERVER_PORT ]]; then
    echo "otakit serve did not start:" >&2
    cat "$TMP/serve.err" >&2
    exit 1
  fi
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# free_port: a port nothing listens on right now (for a server started later).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# run_device FLASH UNTIL [device options]: power the device on until UNTIL appears on the
# console (or --timeout). The console goes to $TMP/console.N.txt, named by LOG; the
# device's JSON result to $TMP/result.N.json, named by RESULT; the exit code to RC.
# shellcheck disable=SC2034 # RC, LOG and RESULT are for the caller
run_device() {
  local flash=$1 until=$2
  shift 2
  E2E_RUN=$((E2E_RUN + 1))
  LOG=$TMP/console.$E2E_RUN.txt
  RESULT=$TMP/result.$E2E_RUN.json
  RC=0
  timeout $((DEV_TIMEOUT + 30)) "$OTAKIT" device run --flash "$flash" --until "$until" \
    --timeout "$DEV_TIMEOUT" --log "$LOG" --json --color never "$@" >"$RESULT" || RC=$?
}

# run_device_any FLASH TEXT1 TEXT2 [device options]: like run_device, but the run ends
# (the device is powered off) at whichever text appears first; MATCHED is 1 or 2, or 0
# when neither appeared before --timeout. The console goes to LOG.
# shellcheck disable=SC2034 # MATCHED and LOG are for the caller
run_device_any() {
  local flash=$1 t1=$2 t2=$3
  shift 3
  E2E_RUN=$((E2E_RUN + 1))
  LOG=$TMP/console.$E2E_RUN.txt
  MATCHED=0
  local fifo=$TMP/device.$E2E_RUN.fifo line dev fd
  mkfifo "$fifo"
  timeout $((DEV_TIMEOUT + 30)) "$OTAKIT" device run --flash "$flash" --timeout "$DEV_TIMEOUT" \
    --log "$LOG" --color never "$@" >"$fifo" &
  dev=$!
  exec {fd}<"$fifo"
  while IFS= read -r line <&"$fd"; do
    if [[ $line == *"$t1"* ]]; then MATCHED=1; break; fi
    if [[ $line == *"$t2"* ]]; then MATCHED=2; break; fi
  done
  kill "$dev" 2>/dev/null || true
  cat <&"$fd" >/dev/null
  exec {fd}<&-
  wait "$dev" 2>/dev/null || true
  rm -f "$fifo"
}

# has LOG TEXT: TEXT appears in LOG (fixed string).
has() {
  grep -qF -- "$2" "$1"
}

# lacks LOG TEXT
lacks() {
  ! grep -qF -- "$2" "$1"
}

# in_order LOG TEXT...: the texts appear in this order (each on a later line).
in_order() {
  local log=$1
  shift
  python3 - "$log" "$@" <<'EOF'
import sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
i = 0
for want in sys.argv[2:]:
    while i < len(lines) and want not in lines[i]:
        i += 1
    if i == len(lines):
        print("in_order: %r not found after the previous text" % want, file=sys.stderr)
        sys.exit(1)
    i += 1
EOF
}

# json FILE EXPR: evaluate a Python expression over the JSON object `j` in FILE.
json() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# otadata FLASH EXPR: evaluate EXPR over `otakit otadata show FLASH --json` as `j`.
otadata() {
  local out=$TMP/otadata.json
  "$OTAKIT" otadata show "$1" --json >"$out"
  json "$out" "$2"
}

# slot_holds FLASH ADDR IMAGE: the flash at ADDR holds exactly the bytes of IMAGE.
slot_holds() {
  local out=$TMP/slot.bin size
  size=$(stat -c %s "$3")
  "$OTAKIT" flash read "$1" "$2" "$size" "$out" >/dev/null
  cmp -s "$out" "$3"
}

# variant IMAGE VERSION OUT [PROJECT]: the same program as IMAGE, packaged with another version.
variant() {
  local prog=$TMP/prog.$$.$RANDOM
  "$OTAKIT" image extract "$1" -o "$prog" >/dev/null
  "$OTAKIT" image create --program "$prog" --project "${4:-native_ota}" --version "$2" -o "$3" >/dev/null
  rm -f "$prog"
}

# A fast device: delays take no real time (tests that need real backoff pass --speedup 1).
# shellcheck disable=SC2034 # for the tests
FAST=(--speedup 0)
