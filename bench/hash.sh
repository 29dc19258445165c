#!/usr/bin/env bash
# bench/hash: how fast `otakit image verify` checks a 16 MiB app image, against
# `openssl dgst -sha256` of the same file, measured in the same run. Verifying reads the
# file and hashes every byte up to the checksum once (SHA-256) plus an XOR checksum over
# the segment data, so openssl's plain SHA-256 of the file is the floor it can approach.
#   OTAKIT=build/otakit bash bench/hash.sh       (make bench sets OTAKIT)
#   BENCH_ROUNDS=15  rounds; the commands take turns within a round, so a busy
#                    machine hurts them alike; each row gives median, min and max
#   OTAKIT_BASELINE=/path/to/other/otakit   adds that build's `image verify` as a row
#                    (an older commit, to measure a change in the same run)
set -euo pipefail

OTAKIT=${OTAKIT:-build/otakit}
ROUNDS=${BENCH_ROUNDS:-15}
BASELINE=${OTAKIT_BASELINE:-}
PY=/usr/bin/python3

for tool in openssl "$PY"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench/hash: $tool is missing (scripts/setup.sh installs it); skipped" >&2
    exit 0
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A program that makes the image 16 MiB: the image adds the 0x10020-byte lead-in
# (header, app description segment padded to the 64 KiB mapping rule), two segment
# headers, the checksum padding and the 32-byte hash.
head -c $((16 * 1024 * 1024 - 0x10000 - 96)) /dev/urandom >"$tmp/prog"
"$OTAKIT" image create --program "$tmp/prog" --project bench --version 1 -o "$tmp/app.bin" >/dev/null
size=$(stat -c %s "$tmp/app.bin")

# Wall time of one run in microseconds; the command's output is discarded, its exit
# status must be 0.
time_us() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}

: >"$tmp/verify.txt"
: >"$tmp/openssl.txt"
: >"$tmp/baseline.txt"
# One warm-up run each (page cache, dynamic linking), not counted.
"$OTAKIT" image verify "$tmp/app.bin" >/dev/null
openssl dgst -sha256 "$tmp/app.bin" >/dev/null
if [[ -n $BASELINE ]]; then
  "$BASELINE" image verify "$tmp/app.bin" >/dev/null
fi
for _ in $(seq 1 "$ROUNDS"); do
  time_us "$OTAKIT" image verify "$tmp/app.bin" >>"$tmp/verify.txt"
  time_us openssl dgst -sha256 "$tmp/app.bin" >>"$tmp/openssl.txt"
  if [[ -n $BASELINE ]]; then
    time_us "$BASELINE" image verify "$tmp/app.bin" >>"$tmp/baseline.txt"
  fi
done

"$PY" - "$size" "$ROUNDS" "$tmp/verify.txt" "$tmp/openssl.txt" "$tmp/baseline.txt" <<'EOF'
import statistics, sys
size, rounds = int(sys.argv[1]), int(sys.argv[2])
rows = [("otakit image verify", sys.argv[3]), ("openssl dgst -sha256", sys.argv[4])]
if open(sys.argv[5]).read().split():
    rows.append(("baseline image verify", sys.argv[5]))
print(f"bench/hash: a {size} byte app image, {rounds} interleaved rounds (wall time per run)")
print(f"{'command':<22} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'MB/s (median)':>14} {'vs openssl':>11}")
med = {}
for name, path in rows:
    v = [int(x) / 1000 for x in open(path).read().split()]
    med[name] = statistics.median(v)
for name, path in rows:
    v = [int(x) / 1000 for x in open(path).read().split()]
    m = med[name]
    ratio = m / med["openssl dgst -sha256"]
    print(f"{name:<22} {m:>10.1f} {min(v):>8.1f} {max(v):>8.1f} {size / m / 1000:>14.0f} {ratio:>10.2f}x")
print("target: otakit image verify <= 1.25x the time of openssl dgst -sha256")
EOF
