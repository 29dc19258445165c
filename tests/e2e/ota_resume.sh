#!/usr/bin/env bash
# The link drops (or goes silent) in the middle of the file. The example reconnects
# with "Range: bytes=N-" and goes on where it stopped (206), or starts over when the
# server ignores Range (200); either way hello_world ends up in ota_0, byte for byte.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

size=$(stat -c %s "$T_BUILD/hello-world.bin")

# progress_ok LOG: every progress line is at a multiple of the interval (also after a
# resume at an odd offset), with the right share of the file and a rate; and there is
# one line per multiple below the size.
progress_ok() {
  python3 - "$1" "$size" "$interval" <<'PY'
import re, sys
log, size, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
got = []
for line in open(log, errors="replace"):
    m = re.search(r"ota: Have written image length (\d+) of (\d+) \((\d+)%\), (\d+) KiB/s$", line.rstrip())
    if m:
        n, total, pct = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if total != size or pct != n * 100 // size:
            sys.exit(f"bad numbers: {line.strip()}")
        got.append(n)
want = list(range(step, size + 1, step))
if got[-len(want):] != want:
    sys.exit(f"progress at {got}, want {want} (at the end)")
PY
}
interval=$(t_config_value EXAMPLE_PROGRESS_INTERVAL)
interval=${interval:-65536}

success() {
  local what=$1
  t_check "$what: hello_world runs from ota_0 (rc=$T_RC)" test "$T_RC" -eq 0
  t_check "$what: ota_0 holds hello-world.bin byte for byte" t_slot_holds "$F" 0x110000 "$T_BUILD/hello-world.bin"
  t_check "$what: otadata boots ota_0" test "$(t_otadata "$F" 'j["boot"]["label"]')" = ota_0
}

# 1. One drop at 50000 bytes, Range honoured: resume at 50000.
F=$T/flash1.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD" --drop-once-at 50000
t_ota_update "$F" hello-world.bin "Restarting in"
success "resume"
t_check "resume: the download goes on at byte 50000" t_in_order "$T_LOG" \
  "ota: Connection closed, errno = 104, after 50000 of $size bytes" \
  "ota: HTTP status 206, content length $((size - 50000)) (resume request)" \
  "ota: Resuming the download at byte 50000" \
  "ota: Connection closed, all packets received" \
  "ota: Total Write binary data length : $size" \
  "ota: Prepare to restart system!"
t_check "resume: progress at multiples of $interval with percent and rate" progress_ok "$T_LOG"
t_check "resume: the server answered the Range request with 206" \
  t_has "$T/server.log" "range=bytes=50000- -> 206 sent=$((size - 50000))"
t_dump_if_failed "$T_LOG" "$T/server.log"
t_serve_stop ota
rm -f "$T/server.log"

# 2. One drop, Range ignored (200): start over from byte 0.
F=$T/flash2.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD" --drop-once-at 50000 --ignore-range
t_ota_update "$F" hello-world.bin "Restarting in"
success "start over"
t_check "start over: the download restarts from byte 0" t_in_order "$T_LOG" \
  "ota: Connection closed, errno = 104, after 50000 of $size bytes" \
  "ota: The server ignored the Range request (status 200): starting over from byte 0" \
  "ota: esp_ota_begin succeeded" \
  "ota: Total Write binary data length : $size" \
  "ota: Prepare to restart system!"
t_dump_if_failed "$T_LOG" "$T/server.log"
t_serve_stop ota
rm -f "$T/server.log"

# 3. Every response is cut after 40000 bytes, Range honoured: resumed piece by piece.
F=$T/flash3.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD" --truncate 40000
t_ota_update "$F" hello-world.bin "Restarting in"
success "pieces"
pieces=$(( (size + 39999) / 40000 ))
t_check "pieces: $pieces requests of at most 40000 bytes" test "$(grep -c ' sent=' "$T/server.log")" -eq "$pieces"
want=()
for ((at = 40000; at < size; at += 40000)); do
  want+=("ota: Resuming the download at byte $at")
done
t_check "pieces: resumed at every multiple of 40000" t_in_order "$T_LOG" "${want[@]}"
t_check "pieces: progress at multiples of $interval with percent and rate, whatever the resume offsets" progress_ok "$T_LOG"
t_dump_if_failed "$T_LOG" "$T/server.log"
t_serve_stop ota
rm -f "$T/server.log"

# 4. The server goes silent after 60000 bytes without closing: the read times out
# (CONFIG_EXAMPLE_OTA_RECV_TIMEOUT of real time) and the download resumes at 60000. The
# timeout bounds the time without data, whatever the read's buffer: on the device clock
# (the log's timestamps) the stall is reported between 1x and 1.2x the timeout after the
# first chunk (the 60000 bytes arrive at once), not after two timeouts.
timeout_ms=$(t_config_value EXAMPLE_OTA_RECV_TIMEOUT)
F=$T/flash4.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD" --stall-once-at 60000
t_ota_update "$F" hello-world.bin "Restarting in"
success "stall"
t_check "stall: a receive timeout, then the rest by Range" t_in_order "$T_LOG" \
  "ota: No data from the server for $timeout_ms ms after 60000 bytes" \
  "ota: Resuming the download at byte 60000" \
  "ota: Total Write binary data length : $size"
t_check "stall: the server saw the Range request" t_has "$T/server.log" "range=bytes=60000- -> 206"
stamp() { sed -n "s/^[IWE] (\([0-9]*\)) $1.*/\1/p" "$T_LOG" | head -1; }
t0=$(stamp "ota: esp_ota_write header OK")
t1=$(stamp "ota: No data from the server for")
gap=$((${t1:-0} - ${t0:-0}))
t_check "stall: reported ${gap} ms after the data stopped (device clock), within [${timeout_ms}, 1.2 x ${timeout_ms}]" \
  test -n "$t0" -a -n "$t1" -a "$gap" -ge "$timeout_ms" -a "$gap" -le $((timeout_ms * 12 / 10))
t_dump_if_failed "$T_LOG" "$T/server.log"

t_finish
