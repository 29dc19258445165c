#!/usr/bin/env bash
# An update over a real, flapping link. The device (`otakit device run`) and the server
# (`otakit serve` over HTTPS) run in two network namespaces this test creates, joined by
# a veth pair whose server side is rate-limited (tc tbf, 400 kbit/s). While the image
# downloads, the link is taken down and up three times, each time when the device has
# received a further part of the image (read from the device side's byte counter); the
# update completes and ota_0 holds exactly the server's file (SHA-256).
# Needs root, iproute2 (ip, tc) and network namespaces: otherwise it says why, exit 77.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

[[ $(id -u) -eq 0 ]] || t_skip "network namespaces need root"
command -v ip >/dev/null || t_skip "no 'ip' (Debian package iproute2)"
command -v tc >/dev/null || t_skip "no 'tc' (Debian package iproute2)"
command -v openssl >/dev/null || t_skip "no openssl to make the server's certificate"

# Unique names for this run; the namespaces (and the veth pair in them) always go.
NS_SRV=otakit-srv-$$-$RANDOM
NS_DEV=otakit-dev-$$-$RANDOM
netns_cleanup() {
  ip netns del "$NS_SRV" 2>/dev/null || true
  ip netns del "$NS_DEV" 2>/dev/null || true
}
t_at_exit netns_cleanup
trap 'exit 143' TERM INT HUP
ip netns add "$NS_SRV" 2>/dev/null || t_skip "cannot create a network namespace (ip netns add)"
ip netns add "$NS_DEV" || t_skip "cannot create a second network namespace"
# `ip netns exec` mounts /sys for the namespace: it fails where / is not a mount point
# (a plain chroot), though the namespaces themselves can be made.
ip netns exec "$NS_SRV" true 2>/dev/null ||
  t_skip "cannot run a program in a network namespace (ip netns exec; / is not a mount point?)"
SRV_IP=10.201.0.1
DEV_IP=10.201.0.2
ip link add vs netns "$NS_SRV" type veth peer name vd netns "$NS_DEV" ||
  t_skip "cannot create a veth pair between namespaces"
ip -n "$NS_SRV" addr add "$SRV_IP/24" dev vs
ip -n "$NS_DEV" addr add "$DEV_IP/24" dev vd
for ns in "$NS_SRV" "$NS_DEV"; do
  ip -n "$ns" link set lo up
done
ip -n "$NS_SRV" link set vs up
ip -n "$NS_DEV" link set vd up
tc -n "$NS_SRV" qdisc add dev vs root tbf rate 400kbit burst 16kb latency 200ms ||
  t_skip "tc cannot add a tbf qdisc (kernel without sch_tbf?)"

www=$T/www
mkdir -p "$www"
cp "$T_BUILD/hello-world.bin" "$www/hello-world.bin"
size=$(stat -c %s "$www/hello-world.bin")
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$SRV_IP" \
  -addext "subjectAltName=IP:$SRV_IP" -keyout "$T/server.key" -out "$T/server.pem" 2>/dev/null
T_SERVE_BIND=$SRV_IP T_SERVE_WRAP="ip netns exec $NS_SRV" \
  t_serve_start ota "$www" --tls-cert "$T/server.pem" --tls-key "$T/server.key"

F=$T/flash.bin
t_flash_make "$F" 4MB
LOG=$T/device.txt
ip netns exec "$NS_DEV" env OTAKIT_SERVER_URL="https://$SRV_IP:$T_PORT/hello-world.bin" \
  OTAKIT_SERVER_CA="$T/server.pem" timeout $((T_DEV_TIMEOUT + 30)) "$OTAKIT" device run \
  --flash "$F" --until "hello_world: Running partition ota_0" --timeout "$T_DEV_TIMEOUT" \
  --log "$LOG" --json --color never "${T_FAST[@]}" >"$T/result.json" &
DEV_PID=$!
t_track_pid "$DEV_PID"

# rx: bytes the device side of the link has received (its namespace's /proc/net/dev, seen
# through the device process).
rx() { awk '$1 == "vd:" { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$DEV_PID/net/dev" 2>/dev/null || echo 0; }
# wait_rx N: poll (at most 30 s) until the device side has received N bytes; 1 if not.
wait_rx() {
  local i
  for ((i = 0; i < 600; i++)); do
    [[ $(rx) -ge $1 ]] && return 0
    kill -0 "$DEV_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Three flaps, at a fifth, two fifths and three fifths of the image.
flaps=0
for part in 1 2 3; do
  if ! wait_rx $((size * part / 5)); then
    echo "the device did not reach $((size * part / 5)) bytes"
    break
  fi
  during=0
  grep -qF "Total Write binary data length" "$LOG" 2>/dev/null || during=1
  ip -n "$NS_DEV" link set vd down
  before=$(rx)
  # Down for a while: a bounded poll that also checks nothing gets through.
  still=1
  for ((i = 0; i < 10; i++)); do
    sleep 0.05
    [[ $(rx) -eq $before ]] || still=0
  done
  ip -n "$NS_DEV" link set vd up
  t_check "flap $part: link down at $before bytes, while the image downloads" test "$during" -eq 1
  t_check "flap $part: nothing crossed the link while it was down" test "$still" -eq 1
  # The transfer goes on over the restored link.
  if wait_rx $((before + 4096)); then
    flaps=$((flaps + 1))
  fi
done
t_check "three flaps, each followed by more of the download" test "$flaps" -eq 3

RC=0
wait "$DEV_PID" || RC=$?
t_check "the update completes and hello_world runs from ota_0 (rc=$RC)" test "$RC" -eq 0
t_check "the device used HTTPS over the namespace link" t_in_order "$LOG" \
  "ota: Server URL from OTAKIT_SERVER_URL: https://$SRV_IP:$T_PORT/hello-world.bin" \
  "ota: Total Write binary data length : $size" \
  "boot: Loaded app from partition at offset 0x110000"
"$OTAKIT" flash read "$F" 0x110000 "$size" "$T/ota0.bin" >/dev/null
want=$(sha256sum <"$www/hello-world.bin" | cut -d' ' -f1)
got=$(sha256sum <"$T/ota0.bin" | cut -d' ' -f1)
t_check "ota_0's SHA-256 is the server file's ($want)" test "$got" = "$want"
t_dump_if_failed "$LOG"
t_serve_stop ota
t_finish
