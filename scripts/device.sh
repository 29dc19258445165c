#!/usr/bin/env bash
# The flash steps of the Makefile (docs/device.md):
#   scripts/device.sh erase BUILD FLASH   make FLASH a blank flash of the configured size
#   scripts/device.sh flash BUILD FLASH   write what BUILD/flash_args lists into FLASH
# The flash size is CONFIG_ESPTOOLPY_FLASHSIZE of the build's configuration, unless
# FLASH_CHIP_SIZE gives the virtual chip another real size (the seed's 0x104 case: a build
# for 4MB on a 2MB chip is `make erase_flash flash FLASH_CHIP_SIZE=2MB`).
set -euo pipefail

if [[ $# -ne 3 || ( $1 != erase && $1 != flash ) ]]; then
  echo "usage: scripts/device.sh erase|flash BUILD FLASH" >&2
  exit 2
fi
cmd=$1 build=$2 flash=$3
otakit=$build/otakit
config=$build/config/sdkconfig
if [[ ! -x $otakit || ! -f $config ]]; then
  echo "otakit: $build is not built: run make first" >&2
  exit 2
fi
size=$(sed -n 's/^CONFIG_ESPTOOLPY_FLASHSIZE="\(.*\)"$/\1/p' "$config")
size=${size:-4MB}
configured=$size
if [[ -n ${FLASH_CHIP_SIZE:-} ]]; then
  size=$FLASH_CHIP_SIZE
fi

case $cmd in
erase)
  # A new file: erase_flash also resizes the flash when the configured size changed.
  rm -f "$flash"
  "$otakit" flash erase "$flash" --size "$size"
  if [[ $size != "$configured" ]]; then
    echo "otakit: the virtual chip has $size of flash; the build is configured for $configured (CONFIG_ESPTOOLPY_FLASHSIZE)"
  fi
  ;;
flash)
  if [[ ! -f $build/flash_args ]]; then
    echo "otakit: $build/flash_args is missing: run make first" >&2
    exit 2
  fi
  args=()
  while read -r addr file; do
    [[ -z $addr || $addr == \#* || $addr == --* ]] && continue
    args+=("$addr" "$file")
  done <"$build/flash_args"
  if [[ -f $flash && $size =~ ^([0-9]+)MB$ && $(stat -c %s "$flash") -ne $((BASH_REMATCH[1] << 20)) ]]; then
    have=$(($(stat -c %s "$flash") >> 20))MB
    echo "otakit: $flash is a ${have} chip, not $size: 'make erase_flash flash' makes a new one" \
      "('make flash FLASH_CHIP_SIZE=$have' keeps this chip)" >&2
    exit 2
  fi
  "$otakit" flash write "$flash" "${args[@]}" --size "$size"
  echo "otakit: flashed $flash; 'make monitor' powers the device on"
  ;;
esac
