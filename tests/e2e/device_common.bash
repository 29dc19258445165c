# Sourced by tests/e2e/device_*.sh (not a test itself): a temp dir, pass/fail counting,
# and flash files for the virtual device built from the build's images.
#   env: OTAKIT (the otakit binary), OTAKIT_BUILD (its build dir), OTAKIT_SRC, OTAKIT_VECTORS
: "${OTAKIT:?OTAKIT must name the otakit binary}"
: "${OTAKIT_BUILD:?OTAKIT_BUILD must name the build directory}"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source directory}"
B=$OTAKIT_BUILD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

check() { # check NAME COMMAND...: count a pass or a failure
  local name=$1
  shift
  if "$@"; then
    pass=$((pass + 1))
    echo "ok   $name"
  else
    fail=$((fail + 1))
    echo "FAIL $name"
  fi
}

finish() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}

quiet() { "$@" >/dev/null 2>&1; }   # quiet COMMAND...: run it silently
has() { grep -qF -- "$2" "$1"; }      # has FILE TEXT
count() { grep -cF -- "$2" "$1" || true; } # count FILE TEXT: matching lines
json_field() { /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' "$1" "$2"; }

config_has() { grep -qx "$1" "$B/config/sdkconfig"; }

# The two-OTA table (ESP-IDF's "factory app, two OTA definitions"), whatever the build's
# configuration chose, so the layout below holds: otadata 0xd000, factory 0x10000,
# ota_0 0x110000, ota_1 0x210000.
TABLE=$TMP/two_ota.bin
"$OTAKIT" partition compile "$OTAKIT_SRC/firmware/partition_table/partitions_two_ota.csv" "$TABLE" \
  --flash-size 4MB >/dev/null
if ! config_has 'CONFIG_PARTITION_TABLE_OFFSET=0x8000'; then
  echo "SKIPPED: the build's bootloader looks for the partition table away from 0x8000"
  echo "0 passed, 0 failed"
  exit 77 # ctest's SKIP_RETURN_CODE: reported as skipped, not passed
fi

# new_flash FILE [FACTORY_IMAGE]: bootloader, table, blank otadata, factory app (hello-world).
new_flash() {
  rm -f "$1" "$1.efuse" "$1.log"
  "$OTAKIT" flash write "$1" 0x1000 "$B/bootloader.bin" 0x8000 "$TABLE" \
    0xd000 "$B/ota_data_initial.bin" 0x10000 "${2:-$B/hello-world.bin}" >/dev/null
}

# put_slot FILE SLOT IMAGE: write an image into ota_SLOT.
put_slot() {
  local addr=$((0x110000 + $2 * 0x100000))
  "$OTAKIT" flash write "$1" "$addr" "$3" >/dev/null
}

# otadata_entry FILE COPY SEQ STATE: write one otadata select entry (state as a number:
# 0 NEW, 1 PENDING_VERIFY, 2 VALID, 3 INVALID, 4 ABORTED, 0xffffffff UNDEFINED).
otadata_entry() {
  local entry=$TMP/otadata_entry.bin
  /usr/bin/python3 - "$entry" "$3" "$4" <<'PY'
import struct, sys, zlib
seq, state = int(sys.argv[2], 0), int(sys.argv[3], 0)
crc = zlib.crc32(struct.pack('<I', seq), 0xffffffff) & 0xffffffff
open(sys.argv[1], 'wb').write(struct.pack('<I', seq) + b'\xff' * 20 + struct.pack('<II', state, crc))
PY
  "$OTAKIT" flash write "$1" $((0xd000 + $2 * 0x1000)) "$entry" >/dev/null
}

# run_device FLASH OUT [options...]: run the device with instant delays; console into OUT,
# the JSON summary into OUT.json; returns otakit's exit code.
run_device() {
  local flash=$1 out=$2
  shift 2
  local rc=0
  "$OTAKIT" device run --flash "$flash" --log "$out" --speedup 0 --timeout 60 --json "$@" >"$out.json" || rc=$?
  return $rc
}
