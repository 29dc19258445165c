#!/usr/bin/env bash
# The seed's whole OTA flow in one command (`make demo`, docs/ota_example.md):
#   1. serve BUILD (hello-world.bin) on the configured port, as `make serve` does
#   2. erase the virtual device's flash and write bootloader, partition table, otadata and
#      the factory app (ota_example), as `make erase_flash flash` does
#   3. power the device on until hello_world runs from ota_0 (bounded by DEMO_TIMEOUT)
#   4. stop the device and the server, print the serial log and a summary
# Exit 0 only when hello_world really ran from ota_0 (its console line, and otadata
# selecting ota_0).
#
# Usage: scripts/demo.sh [BUILD [FLASH]]
# Environment: BUILD, FLASH, DEMO_TIMEOUT (seconds), DEMO_PORT (serve on this port of
# 127.0.0.1 instead of the configured address and port; 0 = any free port).
set -euo pipefail

BUILD=${1:-${BUILD:-build}}
FLASH=${2:-${FLASH:-$BUILD/flash.bin}}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-120}
OTAKIT=$BUILD/otakit
CONFIG=$BUILD/config/sdkconfig
HERE=$(cd "$(dirname "$0")" && pwd)

die() {
  echo "demo: $*" >&2
  exit 1
}

for f in "$OTAKIT" "$CONFIG" "$BUILD/flash_args" "$BUILD/ota_example.bin"; do
  [[ -e $f ]] || die "$f is missing: run 'make' first"
done

conf() {
  sed -n "s/^CONFIG_$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$CONFIG"
}
ip=$(conf EXAMPLE_SERVER_IP)
port=$(conf EXAMPLE_SERVER_PORT)
file=$(conf EXAMPLE_FILENAME)
ip=${ip:-127.0.0.1}
port=${port:-8070}
file=${file:-/hello-world.bin}
[[ $file == /* ]] || file=/$file
[[ -f $BUILD$file ]] || die "$BUILD$file is missing: the factory app downloads it (CONFIG_EXAMPLE_FILENAME)"

work=$(mktemp -d "${TMPDIR:-/tmp}/otakit-demo.XXXXXX")
server_pid=
device_pid=
cleanup() {
  [[ -z $device_pid ]] || kill "$device_pid" 2>/dev/null || true
  [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() {
  printf '\n== %s\n' "$*"
}

# 1. The server. The configured address and port first; if the port is taken, any free
# port on 127.0.0.1, and the device is told the URL at run time.
start_server() { # ADDR PORT -> sets url, or returns 1
  local addr=$1 p=$2 line fifo=$work/server.fifo
  rm -f "$fifo"
  mkfifo "$fifo"
  if "$OTAKIT" serve --help >/dev/null 2>&1; then
    "$OTAKIT" serve "$BUILD" --bind "$addr" --port "$p" --access-log "$work/access.log" \
      >"$fifo" 2>"$work/server.err" &
    server_pid=$!
    server_kind="otakit serve"
    exec {sfd}<"$fifo"
    while read -r -t 20 line <&"$sfd"; do
      if [[ $line =~ ^serving\ .*\ on\ (https?://[^ ]+)$ ]]; then
        url=${BASH_REMATCH[1]}
        url=${url%/}
        cat <&"$sfd" >/dev/null &
        return 0
      fi
    done
  else
    python3 -u -m http.server "$p" --bind "$addr" --directory "$BUILD" >"$fifo" 2>"$work/server.err" &
    server_pid=$!
    server_kind="python3 -m http.server"
    exec {sfd}<"$fifo"
    while read -r -t 20 line <&"$sfd"; do
      if [[ $line =~ ^Serving\ HTTP\ on\ .*\ port\ ([0-9]+) ]]; then
        url=http://$addr:${BASH_REMATCH[1]}
        cat <&"$sfd" >/dev/null &
        return 0
      fi
    done
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  return 1
}

server_url_env=()
if [[ -n ${DEMO_PORT:-} ]]; then
  step "make serve: serving $BUILD on 127.0.0.1 port $DEMO_PORT (DEMO_PORT)"
  start_server 127.0.0.1 "$DEMO_PORT" || die "the server does not start: $(cat "$work/server.err")"
  server_url_env=(OTAKIT_SERVER_URL="$url$file")
elif step "make serve: serving $BUILD on http://$ip:$port" && ! start_server "$ip" "$port"; then
  echo "demo: could not serve on $ip:$port ($(tail -n 1 "$work/server.err" 2>/dev/null))"
  echo "demo: using a free port on 127.0.0.1 instead; the device gets the URL in OTAKIT_SERVER_URL"
  start_server 127.0.0.1 0 || die "the server does not start: $(cat "$work/server.err")"
  server_url_env=(OTAKIT_SERVER_URL="$url$file")
fi
echo "$server_kind: $url$file"

# 2. Flash, as `make erase_flash flash`.
step "make erase_flash flash: $FLASH"
mkdir -p "$(dirname "$FLASH")"
"$HERE/device.sh" erase "$BUILD" "$FLASH"
"$HERE/device.sh" flash "$BUILD" "$FLASH"

# 3. Power on. The run ends when hello_world, started from ota_0, has confirmed itself
# and begins its countdown.
UNTIL="Restarting in"
step "make monitor: the device runs until hello_world counts down (at most ${DEMO_TIMEOUT} s)"
log=$FLASH.log
start=$(date +%s.%N)
rc=0
env "${server_url_env[@]}" "$OTAKIT" device run --flash "$FLASH" --until "$UNTIL" --timeout "$DEMO_TIMEOUT" \
  --log "$log" --flash-trace "$work/trace" --color never --json >"$work/result.json" || rc=$?
end=$(date +%s.%N)

# 4. Stop the server; show everything.
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=

step "serial log ($log)"
cat "$log"

python3 - "$log" "$work/result.json" "$work/trace" "$start" "$end" "$BUILD$file" <<'PY' >"$work/summary"
import json, os, re, sys
log_path, result_path, trace_path, start, end, image = sys.argv[1:]
text = open(log_path, errors="replace").read()
try:
    result = json.load(open(result_path))
except (OSError, ValueError):
    result = {}

def find(pattern, default=None):
    m = re.search(pattern, text, re.M)
    return m.groups() if m else default

total = find(r"ota: Total Write binary data length : (\d+)")
slot = find(r"ota: Writing to partition subtype (\d+) at offset (0x[0-9a-f]+)")
t0 = find(r"^I \((\d+)\) ota: Starting OTA example\.\.\.")
t1 = find(r"^I \((\d+)\) ota: Prepare to restart system!")
ran = find(r"hello_world: Running partition (\S+) at offset (0x[0-9a-f]+), version (\S+)")

erases = {}
try:
    for line in open(trace_path):
        f = line.split()
        if len(f) >= 4 and f[1] == "e":
            addr, size = int(f[2], 16), int(f[3], 0)
            erases[addr] = erases.get(addr, 0) + size // 4096
except OSError:
    pass
def erased_in(lo, hi):
    return sum(n for a, n in erases.items() if lo <= a < hi)

print("downloaded:      %s bytes of %s (%d bytes)" % (total[0] if total else "?", os.path.basename(image),
                                                    os.path.getsize(image)))
if slot:
    sub, off = int(slot[0]), slot[1]
    name = "ota_%d" % (sub - 16) if 16 <= sub < 32 else "subtype %d" % sub
    print("slot written:    %s @ %s" % (name, off))
    lo = int(off, 16)
    in_slot = erased_in(lo, lo + 0x100000)
    print("sectors erased:  %d in %s, %d in otadata (0xd000), %d in all%s" % (
        in_slot, name, erased_in(0xd000, 0xf000), sum(erases.values()),
        " (the slot was blank after erase_flash: sequential writes\n"
        "                 erase a sector only when it is not blank)" if in_slot == 0 else ""))
if t0 and t1:
    print("update time:     %d ms of device time (factory app start to restart)" % (int(t1[0]) - int(t0[0])))
print("run time:        %.2f s real time, %s boots, %s restarts, %s panics" % (
    float(end) - float(start), result.get("boots", "?"), result.get("restarts", "?"), result.get("panics", "?")))
print("hello_world:     %s" % ("ran from %s @ %s (version %s)" % ran if ran else "did not run"))
PY

step "summary"
cat "$work/summary"

ok=1
[[ $rc -eq 0 ]] || { echo "demo: the device run ended without hello_world's countdown: $(python3 -c \
  'import json,sys; print(json.load(open(sys.argv[1])).get("message","?"))' "$work/result.json" 2>/dev/null)"; ok=0; }
grep -q "hello_world: Running partition ota_0 at offset 0x110000" "$log" ||
  { echo "demo: hello_world did not run from ota_0"; ok=0; }
boot=$("$OTAKIT" otadata show "$FLASH" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["boot"]["label"])' || true)
echo "otadata boots:   ${boot:-?} (otakit otadata show $FLASH)"
[[ $boot == ota_0 ]] || { echo "demo: otadata does not select ota_0"; ok=0; }

if [[ $ok -eq 1 ]]; then
  echo
  echo "demo: OK - the factory app updated the device to hello_world in ota_0"
  exit 0
fi
echo
echo "demo: FAILED (serial log above; see docs/ota_example.md, Troubleshooting)"
exit 1
