# shellcheck shell=bash
# Sourced by the secure-update e2e tests after ota_common.sh: a second build of this tree
# with a Security features configuration, in $OTAKIT_BUILD/secure-NAME/ (kept between
# runs, so later runs only rebuild what changed), with its own RSA-3072 signing key.
#
# secure_build NAME CONFIG_LINES...: configure and build it; sets SB (the build dir) and
# SB_KEY (its signing key). The factory app and the other images it makes are signed at
# build time (CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES). It builds only what the tests
# flash and serve: build/flash_args with its images (the factory project) and
# hello_world, plus the firmware projects named in SB_PROJECTS (each is a project build,
# firmware/CMakeLists.txt).
SB_PROJECTS=${SB_PROJECTS:-}
secure_build() {
  local name=$1
  shift
  SB=$OTAKIT_BUILD/secure-$name
  SB_KEY=$SB/secure_boot_signing_key.pem
  mkdir -p "$SB"
  if [[ ! -f $SB_KEY ]]; then
    "$OTAKIT" key generate --scheme rsa3072 "$SB_KEY" >/dev/null
  fi
  local cfg=$SB/sdkconfig.in
  {
    printf '%s\n' CONFIG_ESPTOOLPY_FLASHSIZE_4MB=y CONFIG_PARTITION_TABLE_TWO_OTA=y \
      CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE=y "CONFIG_SECURE_BOOT_SIGNING_KEY=\"$SB_KEY\"" "$@"
  } >"$cfg.new"
  cmp -s "$cfg.new" "$cfg" || mv "$cfg.new" "$cfg"
  rm -f "$cfg.new"
  if ! cmake -S "$OTAKIT_SRC" -B "$SB" -DOTAKIT_SDKCONFIG="$cfg" -DBUILD_TESTING=OFF \
    >"$SB/configure.log" 2>&1; then
    cat "$SB/configure.log" >&2
    echo "the $name build does not configure" >&2
    exit 1
  fi
  local targets=(flash_args_file hello_world)
  read -ra extra <<<"$SB_PROJECTS"
  targets+=("${extra[@]}")
  if ! cmake --build "$SB" -j 2 --target "${targets[@]}" >"$SB/build.log" 2>&1; then
    tail -40 "$SB/build.log" >&2
    echo "the $name build fails" >&2
    exit 1
  fi
}

# sb_otadata FLASH EXPR: like otadata, for a table at CONFIG_PARTITION_TABLE_OFFSET.
sb_otadata() {
  local out=$TMP/otadata.json off
  off=$(sed -n 's/^CONFIG_PARTITION_TABLE_OFFSET=//p' "$SB/config/sdkconfig")
  "$OTAKIT" otadata show "$1" --json --table-offset "$off" >"$out"
  json "$out" "$2"
}

# tamper IN OUT payload|signature: a signed image altered so that only its signature can
# tell. payload: one program byte flipped, with the checksum and the appended SHA-256
# made right again (the image itself verifies). signature: one byte of block 0's
# signature flipped, with the block's CRC made right again (the block parses).
tamper() {
  python3 - "$1" "$2" "$3" "$OTAKIT" <<'PY'
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
