# shellcheck shell=bash
# Flash files and runs of the virtual device (sourced by testlib.bash). Waits are on
# the device's console, never on sleeps; every run has a --timeout and an outer timeout.
T_BUILD=${OTAKIT_BUILD:-}
# Device runs are bounded by --timeout; the outer timeout only catches a hung tool.
T_DEV_TIMEOUT=${OTAKIT_E2E_TIMEOUT:-60}
# A fast device: delays take no real time (tests that need real backoff pass --speedup 1).
# shellcheck disable=SC2034 # for the tests
T_FAST=(--speedup 0)
T_RUNS=0

t_require_images() {
  local f
  : "${OTAKIT_BUILD:?OTAKIT_BUILD must name the build directory}"
  for f in bootloader.bin partition-table.bin ota_data_initial.bin ota_example.bin hello-world.bin flash_args "$@"; do
    if [[ ! -f $T_BUILD/$f ]]; then
      echo "missing $T_BUILD/$f: build the project first (make)" >&2
      exit 1
    fi
  done
}
t_config_is() { grep -qx "CONFIG_$1=y" "$T_BUILD/config/sdkconfig"; }
t_config_has() { grep -qx "$1" "$T_BUILD/config/sdkconfig"; }
t_config_value() { sed -n "s/^CONFIG_$1=//p" "$T_BUILD/config/sdkconfig"; }
t_require_config() {
  local s
  for s in "$@"; do
    t_config_is "$s" || t_skip "this build has CONFIG_$s off"
  done
}

t_flash_make() {
  local flash=$1 size=${2:-4MB}
  shift 2 || shift $#
  local args=() addr file
  while read -r addr file; do
    [[ -z $addr || $addr == \#* || $addr == --* ]] && continue
    args+=("$addr" "$file")
  done <"$T_BUILD/flash_args"
  rm -f "$flash"
  "$OTAKIT" flash erase "$flash" --size "$size" >/dev/null
  "$OTAKIT" flash write "$flash" "${args[@]}" >/dev/null
  if [[ $# -gt 0 ]]; then
    "$OTAKIT" flash write "$flash" "$@" >/dev/null
  fi
}

# The two-OTA table (ESP-IDF's "factory app, two OTA definitions"), whatever the build's
# configuration chose, so this layout holds: otadata 0xd000, factory 0x10000,
# ota_0 0x110000, ota_1 0x210000.
t_two_ota_table() {
  T_TABLE=$T/two_ota.bin
  "$OTAKIT" partition compile "$T_SRC/firmware/partition_table/partitions_two_ota.csv" "$T_TABLE" \
    --flash-size 4MB >/dev/null
  t_config_has 'CONFIG_PARTITION_TABLE_OFFSET=0x8000' ||
    t_skip "the build's bootloader looks for the partition table away from 0x8000"
}
t_flash_new() {
  rm -f "$1" "$1.efuse" "$1.log"
  "$OTAKIT" flash write "$1" 0x1000 "$T_BUILD/bootloader.bin" 0x8000 "$T_TABLE" \
    0xd000 "$T_BUILD/ota_data_initial.bin" 0x10000 "${2:-$T_BUILD/hello-world.bin}" >/dev/null
}
t_flash_put_slot() {
  "$OTAKIT" flash write "$1" $((0x110000 + $2 * 0x100000)) "$3" >/dev/null
}
# states: 0 NEW, 1 PENDING_VERIFY, 2 VALID, 3 INVALID, 4 ABORTED, 0xffffffff UNDEFINED
t_otadata_entry() {
  local entry=$T/otadata_entry.bin
  "$T_PY" - "$entry" "$3" "$4" <<'PY'
import struct, sys, zlib
seq, state = int(sys.argv[2], 0), int(sys.argv[3], 0)
crc = zlib.crc32(struct.pack('<I', seq), 0xffffffff) & 0xffffffff
open(sys.argv[1], 'wb').write(struct.pack('<I', seq) + b'\xff' * 20 + struct.pack('<II', state, crc))
PY
  "$OTAKIT" flash write "$1" $((0xd000 + $2 * 0x1000)) "$entry" >/dev/null
}

t_device_run() {
  local flash=$1 out=$2
  shift 2
  "$OTAKIT" device run --flash "$flash" --log "$out" --speedup 0 --timeout 60 --json "$@" >"$out.json"
}
# t_device_check DESC CODE FLASH OUT [OPTS]: t_device_run, one check that it exited CODE
t_device_check() {
  local desc=$1 want=$2
  shift 2
  T_RC=0
  t_device_run "$@" || T_RC=$?
  t_check "$desc" test "$T_RC" -eq "$want"
}
# shellcheck disable=SC2034 # T_RC, T_LOG and T_RESULT are for the caller
t_device_until() {
  local flash=$1 until=$2
  shift 2
  T_RUNS=$((T_RUNS + 1))
  T_LOG=$T/console.$T_RUNS.txt
  T_RESULT=$T/result.$T_RUNS.json
  T_RC=0
  timeout $((T_DEV_TIMEOUT + 30)) "$OTAKIT" device run --flash "$flash" --until "$until" \
    --timeout "$T_DEV_TIMEOUT" --log "$T_LOG" --json --color never "$@" >"$T_RESULT" || T_RC=$?
}
# shellcheck disable=SC2034 # T_MATCHED and T_LOG are for the caller
t_device_until_any() {
  local flash=$1 t1=$2 t2=$3
  shift 3
  T_RUNS=$((T_RUNS + 1))
  T_LOG=$T/console.$T_RUNS.txt
  T_MATCHED=0
  local fifo=$T/device.$T_RUNS.fifo line dev fd
  mkfifo "$fifo"
  timeout $((T_DEV_TIMEOUT + 30)) "$OTAKIT" device run --flash "$flash" --timeout "$T_DEV_TIMEOUT" \
    --log "$T_LOG" --color never "$@" >"$fifo" &
  dev=$!
  exec {fd}<"$fifo"
  while IFS= read -r line <&"$fd"; do
    if [[ $line == *"$t1"* ]]; then T_MATCHED=1; break; fi
    if [[ $line == *"$t2"* ]]; then T_MATCHED=2; break; fi
  done
  kill "$dev" 2>/dev/null || true
  cat <&"$fd" >/dev/null
  exec {fd}<&-
  wait "$dev" 2>/dev/null || true
  rm -f "$fifo"
}

# t_ota_update FLASH FILE TEXT [OPTS]: t_device_until with no delays, updating from
# FILE on the server last started (T_PORT)
t_ota_update() {
  local flash=$1 file=$2 until=$3
  shift 3
  OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/$file t_device_until "$flash" "$until" "${T_FAST[@]}" "$@"
}
t_otadata() {
  "$OTAKIT" otadata show "$1" --json >"$T/otadata.json"
  t_json "$T/otadata.json" "$2"
}
# t_otadata_blank FLASH [BOOT_LABEL]: both otadata copies erased (and the bootloader picks BOOT_LABEL)
t_otadata_blank() {
  local want="(True, True, '${2:-}')"
  [[ $(t_otadata "$1" "(j['copies'][0]['erased'], j['copies'][1]['erased'], '${2:-}' and j['boot']['label'])") == "$want" ]]
}
t_slot_holds() {
  local size
  size=$(stat -c %s "$3")
  "$OTAKIT" flash read "$1" "$2" "$size" "$T/slot.bin" >/dev/null
  cmp -s "$T/slot.bin" "$3"
}
t_image_version() {
  "$OTAKIT" image info "$1" --json >"$T/image_info.json"
  t_json "$T/image_info.json" 'j["app_desc"]["version"]'
}
t_image_variant() {
  local prog=$T/prog.$$.$RANDOM
  "$OTAKIT" image extract "$1" -o "$prog" >/dev/null
  "$OTAKIT" image create --program "$prog" --project "${4:-native_ota}" --version "$2" -o "$3" >/dev/null
  rm -f "$prog"
}
