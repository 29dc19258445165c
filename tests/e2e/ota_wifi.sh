#!/usr/bin/env bash
# Joining the access point (the seed's step 1 and its troubleshooting): a wrong password
# or an unknown SSID gives ESP-IDF's retry lines and a clear final error; the right
# network among others gets an address on the loopback. Each failed attempt takes the
# device time it takes on an ESP32 (the log's timestamps: a 4-way handshake that fails
# ends 3 s after "assoc -> run"), and the example's lines for one failure ("retry to
# connect to the AP", then "connect to the AP fail") come before the next attempt's.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

cfg=$T_BUILD/config/sdkconfig
ssid=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_SSID="\(.*\)"$/\1/p' "$cfg")
pass=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_PASSWORD="\(.*\)"$/\1/p' "$cfg")
retries=$(sed -n 's/^CONFIG_EXAMPLE_WIFI_MAXIMUM_RETRY=//p' "$cfg")
F=$T/flash.bin
t_flash_make "$F" 4MB
export OTAKIT_SERVER_URL=http://127.0.0.1:1/hello-world.bin   # never reached here

# 1. Wrong password.
t_device_until "$F" "ota: Exiting task due to fatal error..." "${T_FAST[@]}" --wifi-aps "$ssid:not-$pass"
t_check "wrong password: the example stops (rc=$T_RC)" test "$T_RC" -eq 0
t_check "wrong password: handshake failures, retries, then a clear error" t_in_order "$T_LOG" \
  "wifi:4-way handshake with \"$ssid\" failed, reason 15 (4WAY_HANDSHAKE_TIMEOUT): wrong password?" \
  "wifi station: retry to connect to the AP (1 of $retries)" \
  "wifi station: retry to connect to the AP ($retries of $retries)" \
  "wifi station: connect to the AP fail" \
  "wifi station: Failed to connect to SSID:$ssid after $retries retries" \
  "ota: Exiting task due to fatal error..."
t_check "wrong password: $retries retries, $((retries + 1)) failures" \
  test "$(grep -c "wifi station: connect to the AP fail" "$T_LOG")" -eq $((retries + 1))
t_check "wrong password: no address, no server connection" bash -c \
  "! grep -qE 'got ip|Connect to Wifi !' '$T_LOG'"
# attempts LOG FAILURE_TEXT MIN_MS RETRIES: every failure is followed by the example's
# lines before the next attempt starts, and failures are at least MIN_MS apart on the
# device clock.
attempts() {
  python3 - "$@" <<'PY'
import re, sys
log, failure, min_ms, retries = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = [l.rstrip("\n") for l in open(log, errors="replace")]
def ts(l):
    m = re.match(r"^[EWID] \((\d+)\) ", l)
    return int(m.group(1)) if m else None
fails = [i for i, l in enumerate(lines) if failure in l]
bad = []
if len(fails) != retries + 1:
    bad.append(f"{len(fails)} failures, want {retries + 1}")
for k, i in enumerate(fails):
    end = fails[k + 1] if k + 1 < len(fails) else len(lines)
    block = [l for l in lines[i:end]]
    own = [l for l in block if "wifi station:" in l]
    want = ["disconnected from SSID"]
    if k < retries:
        want.append(f"retry to connect to the AP ({k + 1} of {retries})")
    want.append("connect to the AP fail")
    got = [next((j for j, l in enumerate(own) if w in l), -1) for w in want]
    if -1 in got or got != sorted(got):
        bad.append(f"failure {k + 1}: lines {want} not in order in {own}")
    if k + 1 < len(fails):
        nxt = next((j for j, l in enumerate(block) if j > 0 and ("wifi:new:" in l or "wifi:no AP" in l)), len(block))
        last = max((j for j, l in enumerate(block) if "connect to the AP fail" in l), default=len(block))
        if last > nxt:
            bad.append(f"failure {k + 1}: 'connect to the AP fail' after the next attempt began")
        gap = ts(lines[fails[k + 1]]) - ts(lines[i])
        if gap < min_ms:
            bad.append(f"failures {k + 1} and {k + 2} are {gap} ms apart on the device clock, want >= {min_ms}")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}
t_check "wrong password: each failure's lines in ESP-IDF's order, attempts >= 3 s apart in device time" \
  attempts "$T_LOG" "wifi:4-way handshake with" 3000 "$retries"
t_dump_if_failed "$T_LOG"

# 2. Unknown SSID.
t_device_until "$F" "ota: Exiting task due to fatal error..." "${T_FAST[@]}" --wifi-aps "otherap:secret123"
t_check "unknown SSID: the example stops (rc=$T_RC)" test "$T_RC" -eq 0
t_check "unknown SSID: no AP found, retries, clear error" t_in_order "$T_LOG" \
  "wifi:no AP with SSID \"$ssid\" found (in range: otherap), reason 201 (NO_AP_FOUND)" \
  "wifi station: disconnected from SSID \"$ssid\", reason 201 (NO_AP_FOUND)" \
  "wifi station: retry to connect to the AP (1 of $retries)" \
  "wifi station: Failed to connect to SSID:$ssid"
t_check "unknown SSID: each failure's lines in order, full scans >= 2 s apart in device time" \
  attempts "$T_LOG" "wifi:no AP with SSID" 2000 "$retries"
t_dump_if_failed "$T_LOG"

# 3. The configured network among others.
t_device_until "$F" "ota: Connect to Wifi ! Start to Connect to Server...." "${T_FAST[@]}" \
  --wifi-aps "otherap:secret123,$ssid:$pass"
t_check "right network: joined (rc=$T_RC)" test "$T_RC" -eq 0
t_check "right network: ESP-IDF's join lines and a loopback address" t_in_order "$T_LOG" \
  "wifi:mode : sta" \
  "wifi:connected with $ssid, aid = 1, channel 1, BW20" \
  "esp_netif_handlers: sta ip: 127.0.0.1, mask: 255.0.0.0, gw: 127.0.0.1" \
  "wifi station: got ip:127.0.0.1" \
  "ota: Connect to Wifi ! Start to Connect to Server...."
t_check "right network: no retry" t_lacks "$T_LOG" "retry to connect to the AP"
t_dump_if_failed "$T_LOG"

t_finish
