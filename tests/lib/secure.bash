# shellcheck shell=bash
# The secure-update e2e tests (sourced by testlib.bash): a second build of this tree
# with a Security features configuration, in $OTAKIT_BUILD/secure-NAME/ (kept between
# runs, so later runs only rebuild what changed), with its own RSA-3072 signing key.
#
# t_secure_build NAME CONFIG_LINES...: configure and build it; sets T_SB (the build dir) and
# T_SB_KEY (its signing key). The factory app and the other images it makes are signed at
# build time (CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES). It builds only what the tests
# flash and serve: build/flash_args with its images (the factory project) and
# hello_world, plus the firmware projects named in T_SB_PROJECTS (each is a project build,
# firmware/CMakeLists.txt).
T_SB_PROJECTS=${T_SB_PROJECTS:-}
t_secure_build() {
  local name=$1
  shift
  T_SB=$OTAKIT_BUILD/secure-$name
  T_SB_KEY=$T_SB/secure_boot_signing_key.pem
  mkdir -p "$T_SB"
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
  if ! cmake -S "$OTAKIT_SRC" -B "$T_SB" -DOTAKIT_SDKCONFIG="$cfg" -DBUILD_TESTING=OFF \
    >"$T_SB/configure.log" 2>&1; then
    cat "$T_SB/configure.log" >&2
    echo "the $name build does not configure" >&2
    exit 1
  fi
  local targets=(flash_args_file hello_world)
  read -ra extra <<<"$T_SB_PROJECTS"
  targets+=("${extra[@]}")
  if ! cmake --build "$T_SB" -j 2 --target "${targets[@]}" >"$T_SB/build.log" 2>&1; then
    tail -40 "$T_SB/build.log" >&2
    echo "the $name build fails" >&2
    exit 1
  fi
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
