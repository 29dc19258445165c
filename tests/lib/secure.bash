# shellcheck shell=bash
# The secure-update e2e tests (sourced by testlib.bash): the firmware of this tree
# with a Security features configuration, in $OTAKIT_BUILD/secure-NAME/ (kept between
# runs, so later runs only rebuild what changed), with its own RSA-3072 signing key.
#
# t_secure_build NAME CONFIG_LINES...: configure and build it; sets T_SB (the build dir) and
# T_SB_KEY (its signing key). As otakit's own build does (firmware/CMakeLists.txt), each
# image comes from an ESP-IDF project built in $T_SB/projects/<name> over this build's host
# parts (OTAKIT_HOST_BUILD: the otakit tool, the core, the port, the virtual device), so
# only what reads the configuration is compiled: the factory project (its app, signed at
# build time with CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES, bootloader, partition table,
# blank otadata; $T_SB/flash_args lists them), hello_world and the firmware projects named
# in T_SB_PROJECTS (tools/test_apps/system/<name>, their apps only).
T_SB_PROJECTS=${T_SB_PROJECTS:-}
t_secure_build() {
  local name=$1
  shift
  T_SB=$OTAKIT_BUILD/secure-$name
  T_SB_KEY=$T_SB/secure_boot_signing_key.pem
  mkdir -p "$T_SB/config"
  if [[ ! -f $T_SB_KEY ]]; then
    "$OTAKIT" key generate --scheme rsa3072 "$T_SB_KEY" >/dev/null
  fi
  local cfg=$T_SB/sdkconfig.in
  {
    printf '%s\n' CONFIG_ESPTOOLPY_FLASHSIZE_4MB=y CONFIG_PARTITION_TABLE_TWO_OTA=y \
      CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y "CONFIG_SECURE_BOOT_SIGNING_KEY=\"$T_SB_KEY\"" "$@"
  } >"$cfg.new"
  cmp -s "$cfg.new" "$cfg" || mv "$cfg.new" "$cfg"
  rm -f "$cfg.new"
  # The build's python (it has kconfiglib), type and warnings.
  local py v
  py=$(sed -n 's/^OTAKIT_PYTHON:[A-Z]*=//p' "$OTAKIT_BUILD/CMakeCache.txt")
  py=${py:-/usr/bin/python3}
  _SB_ARGS=(-DOTAKIT_HOST_BUILD="$OTAKIT_BUILD")
  for v in CMAKE_BUILD_TYPE OTAKIT_WERROR OTAKIT_PYTHON; do
    _SB_ARGS+=("-D$v=$(sed -n "s/^$v:[A-Z]*=//p" "$OTAKIT_BUILD/CMakeCache.txt")")
  done
  # The complete configuration (every symbol), as the build makes it (scripts/sdkconfig.cmake).
  if ! (cd "$OTAKIT_SRC" && srctree=$OTAKIT_SRC KCONFIG_CONFIG=$cfg "$py" -m genconfig \
    --header-path "$T_SB/config/sdkconfig.h" --config-out "$T_SB/config/sdkconfig" Kconfig) >"$T_SB/configure.log" 2>&1; then
    cat "$T_SB/configure.log" >&2
    echo "the $name configuration is refused" >&2
    exit 1
  fi
  _sb_project native_ota_example examples/system/ota/native_ota_example flash_args_file \
    native_ota.bin ota_example.bin bootloader/bootloader.bin bootloader.bin \
    partition_table/partition-table.bin partition-table.bin ota_data_initial.bin ota_data_initial.bin
  PROJECT_VER=1.0.0 _sb_project hello_world examples/get-started/hello_world app \
    hello_world.bin hello-world.bin
  local p
  for p in $T_SB_PROJECTS; do
    _sb_project "$p" "tools/test_apps/system/$p" app "$p.bin" "$p.bin"
  done
  "$py" "$OTAKIT_SRC/scripts/flash_args.py" --otakit "$OTAKIT" --table "$T_SB/partition-table.bin" \
    --table-offset "$(sed -n 's/^CONFIG_PARTITION_TABLE_OFFSET=//p' "$T_SB/config/sdkconfig")" \
    --bootloader "$T_SB/bootloader.bin" --otadata "$T_SB/ota_data_initial.bin" \
    --factory "$T_SB/ota_example.bin" -o "$T_SB/flash_args"
}

# _sb_project NAME SOURCE TARGET FROM TO [FROM TO ...]: build TARGET of the project in
# SOURCE (relative to the source tree) in $T_SB/projects/NAME with the configuration, then
# copy its FROM files (relative to its build) to $T_SB/TO. PROJECT_VER in the environment
# sets the app's version.
_sb_project() {
  local name=$1 src=$OTAKIT_SRC/$2 target=$3 dir=$T_SB/projects/$1
  shift 3
  mkdir -p "$dir"
  # The project's build writes its sdkconfig back: it is replaced only when the
  # configuration changed, so that a later run rebuilds nothing.
  cmake -DIN="$T_SB/config/sdkconfig" -DOUT="$dir/sdkconfig.from-otakit.new" -DROOT="$OTAKIT_SRC" \
    -P "$OTAKIT_SRC/firmware/project_config.cmake"
  if ! cmp -s "$dir/sdkconfig.from-otakit.new" "$dir/sdkconfig.from-otakit"; then
    mv "$dir/sdkconfig.from-otakit.new" "$dir/sdkconfig.from-otakit"
    cp "$dir/sdkconfig.from-otakit" "$dir/sdkconfig"
  fi
  rm -f "$dir/sdkconfig.from-otakit.new"
  local args=("${_SB_ARGS[@]}" -DSDKCONFIG="$dir/sdkconfig")
  [[ -z ${PROJECT_VER:-} ]] || args+=(-DPROJECT_VER="$PROJECT_VER")
  if ! IDF_PATH=$OTAKIT_SRC cmake -S "$src" -B "$dir" "${args[@]}" >"$dir/configure.log" 2>&1; then
    cat "$dir/configure.log" >&2
    echo "the $T_SB project $name does not configure" >&2
    exit 1
  fi
  if ! IDF_PATH=$OTAKIT_SRC cmake --build "$dir" -j 2 --target "$target" >"$dir/build.log" 2>&1; then
    tail -40 "$dir/build.log" >&2
    echo "the $T_SB project $name fails to build" >&2
    exit 1
  fi
  while [[ $# -gt 0 ]]; do
    cp "$dir/$1" "$T_SB/$2"
    shift 2
  done
}

# t_secure_otadata FLASH EXPR: like otadata, for a table at CONFIG_PARTITION_TABLE_OFFSET.
t_secure_otadata() {
  local out=$T/otadata.json off
  off=$(sed -n 's/^CONFIG_PARTITION_TABLE_OFFSET=//p' "$T_SB/config/sdkconfig")
  "$OTAKIT" otadata show "$1" --json --table-offset "$off" >"$out"
  t_json "$out" "$2"
}

# t_tamper IN OUT payload|signature: a signed image altered so that only its signature can
# tell. payload: one program byte flipped, with the checksum and the appended SHA-256
# made right again (the image itself verifies). signature: one byte of block 0's
# signature flipped, with the block's CRC made right again (the block parses).
t_tamper() {
  "$T_PY" - "$1" "$2" "$3" "$OTAKIT" <<'PY'
import binascii, hashlib, json, subprocess, sys
src, dst, what, otakit = sys.argv[1:5]
d = bytearray(open(src, "rb").read())
info = json.loads(subprocess.run([otakit, "image", "verify", src, "--json"],
                                 capture_output=True, text=True).stdout)
length, sector = info["length"], info["signature"]["sector_offset"]
if what == "payload":
    d[length // 2] ^= 0x01              # inside the program segment
    d[length - 33] ^= 0x01              # the XOR checksum follows the data
    d[length - 32:length] = hashlib.sha256(bytes(d[:length - 32])).digest()
else:
    d[sector + 812 + 100] ^= 0x01       # RSA signature of block 0
    crc = binascii.crc32(bytes(d[sector:sector + 1196])) & 0xffffffff
    d[sector + 1196:sector + 1200] = crc.to_bytes(4, "little")
open(dst, "wb").write(d)
PY
}
