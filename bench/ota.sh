#!/usr/bin/env bash
# bench/ota: a 16 MiB over-the-air update on the virtual device, from "connect" to
# "restart", against `curl -s URL | tee FILE | sha256sum` of the same image from the same
# server (download, store, hash: the least an update does), in the same rounds.
#
# The device: a 32 MB flash (the bootloader's image header says 32MB, as a build with
# CONFIG_ESPTOOLPY_FLASHSIZE_32MB makes it) whose partition table holds a 17 MiB ota_0,
# the build's ota_example as the factory app, and a 16 MiB app image served by
# `otakit serve`. One run is `otakit device run --until "Prepare to restart system!"`
# with no simulated delays (--speedup 0); the time is from the app's "Connect to Wifi !
# Start to Connect to Server" line to its "Prepare to restart system!" line (esp_ota_end's
# check and esp_ota_set_boot_partition included), in real time, as the lines reach this
# script. The device clock's figure (the log lines' timestamps) is printed beside it: it
# adds what the NOR timing model says the erases and writes take on an ESP32 module
# (about 45 ms a sector erase), which --speedup 0 does not spend in real time.
# Each round starts from the same flash file; the last round's ota_0 is compared with the
# image byte for byte.
#   OTAKIT=build/otakit OTAKIT_BUILD=build bash bench/ota.sh   (make bench sets them)
#   BENCH_ROUNDS=7   interleaved rounds; each row gives median, min and max
set -euo pipefail

OTAKIT=$(realpath "${OTAKIT:-build/otakit}")
B=$(realpath "${OTAKIT_BUILD:-$(dirname "$OTAKIT")}")
ROUNDS=${BENCH_ROUNDS:-7}
PY=/usr/bin/python3
# shellcheck source=bench/lib.bash
source "$(dirname "$0")/lib.bash"
bench_require ota curl sha256sum tee "$PY"
pack=$B/firmware/bootloader/bootloader_pack
stripped=$B/projects/native_ota_example/otakit-host/firmware/bootloader/bootloader.stripped
for f in "$pack" "$stripped" "$B/ota_example.bin" "$B/partition-table.bin"; do
  if [[ ! -f $f ]]; then
    echo "bench/ota: $f is missing: build first (make)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d)
serve_pid=
cleanup() {
  if [[ -n $serve_pid ]]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/www"

# The bootloader the build packs for CONFIG_ESPTOOLPY_FLASHSIZE_32MB (the same program,
# its header's flash-size code 5) and a table for a 32 MB chip.
"$pack" "$stripped" "$tmp/bootloader.bin" 0x7000 32MB >/dev/null
printf '%s\n' '# Name, Type, SubType, Offset, Size, Flags' 'nvs, data, nvs, 0x9000, 0x4000,' \
  'otadata, data, ota, 0xd000, 0x2000,' 'phy_init, data, phy, 0xf000, 0x1000,' \
  'factory, app, factory, 0x10000, 1M,' 'ota_0, app, ota_0, 0x110000, 17M,' >"$tmp/table.csv"
"$OTAKIT" partition compile "$tmp/table.csv" "$tmp/table.bin" --flash-size 32MB >/dev/null
"$OTAKIT" flash erase "$tmp/pristine.bin" --size 32MB >/dev/null
"$OTAKIT" flash write "$tmp/pristine.bin" 0x1000 "$tmp/bootloader.bin" 0x8000 "$tmp/table.bin" \
  0xd000 "$B/ota_data_initial.bin" 0x10000 "$B/ota_example.bin" >/dev/null

# A 16 MiB app image: the program plus the image's lead-in (header, app description
# padded to the 64 KiB mapping rule), two segment headers, padding and the hash.
head -c $((16 * 1024 * 1024 - 0x10000 - 96)) /dev/urandom >"$tmp/prog"
"$OTAKIT" image create --program "$tmp/prog" --project bench --version 2.0.0 \
  -o "$tmp/www/fw16.bin" >/dev/null
rm -f "$tmp/prog"
size=$(stat -c %s "$tmp/www/fw16.bin")

bench_serve ota "$OTAKIT" "$tmp/www" "$tmp/serve" --quiet
serve_pid=$BENCH_SERVE_PID
url=${BENCH_SERVE_URL}fw16.bin

"$PY" - "$OTAKIT" "$tmp" "$url" "$size" "$ROUNDS" <<'PYEOF'
import hashlib, os, re, shutil, statistics, subprocess, sys, time

otakit, tmp, url, size, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
image = os.path.join(tmp, "www", "fw16.bin")
want = hashlib.sha256(open(image, "rb").read()).hexdigest()
flash = os.path.join(tmp, "flash.bin")
START, END = "Start to Connect to Server", "Prepare to restart system!"
stamp = re.compile(r"^[IWE] \((\d+)\) ")


def device():
    """One update: (real seconds from START to END, device-clock seconds)."""
    shutil.copyfile(os.path.join(tmp, "pristine.bin"), flash)
    env = dict(os.environ, OTAKIT_SERVER_URL=url)
    argv = [otakit, "device", "run", "--flash", flash, "--until", END, "--speedup", "0",
            "--timeout", "300", "--color", "never"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    t0 = t1 = d0 = d1 = None
    log = []
    for raw in p.stdout:
        now = time.perf_counter()
        line = raw.decode(errors="replace").rstrip("\n")
        log.append(line)
        m = stamp.match(line)
        if START in line and t0 is None:
            t0, d0 = now, int(m.group(1)) if m else None
        elif END in line and t1 is None:
            t1, d1 = now, int(m.group(1)) if m else None
    rc = p.wait()
    if rc != 0 or t0 is None or t1 is None:
        sys.stderr.write("\n".join(log[-30:]) + "\n")
        sys.exit(f"bench/ota: the device's update did not finish (exit {rc})")
    dev = (d1 - d0) / 1000 if d0 is not None and d1 is not None else float("nan")
    return t1 - t0, dev


def peer():
    out = os.path.join(tmp, "curl.bin")
    t0 = time.perf_counter()
    r = subprocess.run(["bash", "-c", 'set -o pipefail; curl -s "$1" | tee "$2" | sha256sum', "peer", url, out],
                       stdout=subprocess.PIPE, check=True)
    t1 = time.perf_counter()
    if r.stdout.split()[0].decode() != want:
        sys.exit("bench/ota: curl | tee | sha256sum got other bytes")
    return t1 - t0


device()
peer()  # warm-up: page cache, the server's first connection
dev, clock, ref, ratios = [], [], [], []
for _ in range(rounds):
    d, c = device()
    r = peer()
    dev.append(d)
    clock.append(c)
    ref.append(r)
    ratios.append(d / r)

with open(flash, "rb") as f:
    f.seek(0x110000)
    if f.read(size) != open(image, "rb").read():
        sys.exit("bench/ota: ota_0 does not hold the image after the update")

load = " ".join(open("/proc/loadavg").read().split()[:3])
print(f"bench/ota: a {size} byte app image over HTTP from otakit serve, 32 MB flash, {rounds} interleaved"
      f" rounds, real time (load average at the end: {load})")
print(f"{'what':<44} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'MB/s':>7}")
rows = [("device: connect to restart (real time)", dev),
        ("device: connect to restart (device clock)*", clock),
        ("curl -s URL | tee FILE | sha256sum", ref)]
for name, v in rows:
    m = statistics.median(v)
    print(f"{name:<44} {m * 1000:>10.1f} {min(v) * 1000:>8.1f} {max(v) * 1000:>8.1f} {size / m / 1e6:>7.1f}")
print(f"ratio device / curl|tee|sha256sum, per round: median {statistics.median(ratios):.2f}x "
      f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x); target <= 1.25x")
print("(the device's time holds the download, esp_ota_write of each 1 KiB read, esp_ota_end's")
print(" image check and esp_ota_set_boot_partition; ota_0 held the image byte for byte;")
print(" * the device clock adds the modeled flash erase/program time of an ESP32 module)")
PYEOF
