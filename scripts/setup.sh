#!/usr/bin/env bash
# Installs the Debian packages otakit needs. Run as root it calls apt-get; otherwise
# it prints the exact command to run and exits non-zero.
# Usage: scripts/setup.sh [--check] [fuzz] [bench]
#   --check  exit 0 when everything is present, 1 if not (installs nothing)
#   fuzz     also the packages of `make fuzz-long` (clang and its libFuzzer runtime)
#   bench    also the packages of `make bench` (a Cortex-M cross compiler and its C
#            library for bench/footprint.sh)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git curl ca-certificates
  libssl-dev libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev libcjson-dev
  libsqlite3-dev libpq-dev postgresql
  python3 python3-kconfiglib
  nginx-light wrk openssl tmux iproute2 clang-format
  chromium chromium-driver python3-selenium fonts-dejavu-core
)

check=0
for arg in "$@"; do
  case $arg in
    --check) check=1 ;;
    fuzz) PACKAGES+=(clang libclang-rt-dev) ;;
    bench) PACKAGES+=(gcc-arm-none-eabi libnewlib-arm-none-eabi) ;;
    *) echo "usage: scripts/setup.sh [--check] [fuzz] [bench]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $check == 1 ]]; then
  echo "otakit: missing packages: ${missing[*]}" >&2
  exit 1
fi

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
  echo "otakit: these Debian packages are missing: ${missing[*]}" >&2
  echo "otakit: run as root:  apt-get update && ${cmd[*]}" >&2
  exit 1
fi
echo "otakit: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${cmd[@]}"
