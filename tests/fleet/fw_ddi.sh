#!/usr/bin/env bash
# The DDI OTA example (examples/system/ota/ddi_ota_example, build/ddi_ota.bin) on the
# virtual device against the DDI responder: the factory app (1.0.0) gets a deployment of
# 2.0.0, downloads it with esp_https_ota, checks its SHA-256, reports progress, restarts,
# passes its self-test, confirms itself and reports success. With the self-test GPIO
# held low the new app rolls back, and the factory app reports the rollback as a failure.
# A deployment whose SHA-256 does not match is refused before anything is switched.
# Against otakit fleet serve, a rollout to two such devices records one success and one
# rollback (an error).
# shellcheck source=../e2e/lib/ota_common.sh
source "$OTAKIT_SRC/tests/e2e/lib/ota_common.sh"
require_images ddi_ota.bin
if ! config_is BOOTLOADER_APP_ROLLBACK_ENABLE; then
  echo "SKIPPED: this build has CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE off"
  finish
  exit 77
fi
pin=4 # CONFIG_EXAMPLE_DDI_SELFTEST_GPIO's default

# start_ddi NAME ARTIFACT [options]: the responder on a free port; sets DDI_URL
start_ddi() {
  local name=$1
  shift
  python3 "$OTAKIT_SRC/tests/fleet/ddi_responder.py" --artifact "$1" --port-file "$TMP/$name.port" \
    --sleep 00:00:01 "${@:2}" >"$TMP/$name.log" 2>&1 &
  E2E_PIDS+=($!)
  for _ in $(seq 1 400); do
    [[ -s $TMP/$name.port ]] && break
    sleep 0.05
  done
  DDI_URL=http://127.0.0.1:$(cat "$TMP/$name.port")
}
state() { # state EXPR: a Python expression over the responder's /_state (as j)
  curl --noproxy '*' -s "$DDI_URL/_state" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

variant "$B/ddi_ota.bin" 2.0.0 "$TMP/v2.bin" ddi_ota
start_ddi ddi "$TMP/v2.bin" --version 2.0.0
export OTAKIT_DDI_URL=$DDI_URL

# 1. The update, confirmed, success reported.
F=$TMP/ok.bin
make_flash "$F" 4MB 0x10000 "$B/ddi_ota.bin"
OTAKIT_DDI_CONTROLLER_ID=dev-ok run_device "$F" "ddi: action 1 closed: success" "${FAST[@]}"
check "update: the run reaches the success report (rc=$RC)" test "$RC" -eq 0
check "update: download, check, restart, self-test, confirm, report" in_order "$LOG" \
  "ddi: Running ddi_ota 1.0.0 from factory" \
  "ddi: Deployment 1: os 2.0.0" \
  "ddi_client: v2.bin: SHA-256 matches the deployment" \
  "ddi: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "ddi: Running ddi_ota 2.0.0 from ota_0" \
  "ddi: New app (PENDING_VERIFY): running the self-test" \
  "ddi: Self-test passed: app confirmed" \
  "ddi: action 1 closed: success"
check "update: the server recorded success" test "$(state 'j["closed"].get("dev-ok")')" = success
check "update: progress, then installed, then closed" test \
  "$(state '[(f["execution"], (f["progress"] or {}).get("cnt")) for f in j["feedback"]["dev-ok"]]')" = \
  "[('proceeding', 1), ('proceeding', 2), ('closed', 3)]"
check "update: configData sent" test "$(state 'j["config"]["dev-ok"]["version"]')" = 1.0.0
check "update: ota_0 is VALID and boots" \
  test "$(otadata "$F" '(max(c["state_name"] for c in j["copies"] if c["valid"]), j["boot"]["label"])')" = \
  "('VALID', 'ota_0')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 2. The self-test fails: rollback, reported as a failure by the factory app.
F=$TMP/bad.bin
make_flash "$F" 4MB 0x10000 "$B/ddi_ota.bin"
OTAKIT_DDI_CONTROLLER_ID=dev-bad run_device "$F" "ddi: action 1 closed: failure" "${FAST[@]}" \
  --gpio "$pin=0"
check "rollback: the run reaches the failure report (rc=$RC)" test "$RC" -eq 0
check "rollback: self-test fails, the factory app reports it" in_order "$LOG" \
  "ddi: Running ddi_ota 2.0.0 from ota_0" \
  "ddi: Self-test: GPIO $pin is held low" \
  "ddi: Self-test failed: rolling back" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ddi: Running ddi_ota 1.0.0 from factory" \
  "ddi: action 1 closed: failure (rolled back: the new app failed its self-test)"
check "rollback: the server recorded failure" test "$(state 'j["closed"].get("dev-bad")')" = failure
check "rollback: the server hears it was a rollback" \
  test "$(state 'j["feedback"]["dev-bad"][-1]["details"][0]')" = "rolled back: the new app failed its self-test"
check "rollback: the factory app boots, ota_0 INVALID" \
  test "$(otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('INVALID', 'factory')"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 3. A SHA-256 in the deployment that the bytes do not have: nothing is switched.
cp "$TMP/v2.bin" "$TMP/www.bin"
mkdir -p "$TMP/www"
printf '\x00' | dd of="$TMP/www.bin" bs=1 seek=100000 conv=notrunc 2>/dev/null
cp "$TMP/www.bin" "$TMP/www/v2.bin"
serve_otakit "$TMP/www"
start_ddi badsha "$TMP/v2.bin" --artifact-url "http://127.0.0.1:$SERVER_PORT/v2.bin"
F=$TMP/sha.bin
make_flash "$F" 4MB 0x10000 "$B/ddi_ota.bin"
OTAKIT_DDI_URL=$DDI_URL OTAKIT_DDI_CONTROLLER_ID=dev-sha run_device "$F" "ddi: action 1 closed: failure" "${FAST[@]}"
check "bad SHA-256: refused and reported (rc=$RC)" in_order "$LOG" \
  "ddi_client: v2.bin: SHA-256 of the partition differs from the deployment's" \
  "ddi: action 1 closed: failure (update failed: ESP_ERR_INVALID_CRC)"
check "bad SHA-256: no restart into the new image" lacks "$LOG" "Prepare to restart system!"
check "bad SHA-256: the factory app stays selected" test "$(otadata "$F" 'j["boot"]["label"]')" = factory
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"

# 4. otakit fleet serve: a rollout to two devices; it records one success and, for the
# device whose self-test fails, the rollback as an error.
export OTAKIT_FLEET_TOKEN=fleet-admin-token-0123456789
"$OTAKIT" fleet serve --port 0 --bind 127.0.0.1 --data-dir "$TMP/fleet" >"$TMP/fleet.out" 2>&1 &
E2E_PIDS+=($!)
for _ in $(seq 1 400); do
  grep -q '^serving fleet on ' "$TMP/fleet.out" && break
  sleep 0.05
done
FURL=$(sed -n 's/^serving fleet on \(http:\/\/[^ ]*\)\/ .*/\1/p' "$TMP/fleet.out")
fl() { "$OTAKIT" fleet "$@" --server "$FURL"; }
jf() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
art=$(fl upload "$TMP/v2.bin" | jf 'j["id"]')
fl device add fw-ok --tag fw --device-token tok-fw-ok-0123456789 >/dev/null
fl device add fw-bad --tag fw --device-token tok-fw-bad-0123456789 >/dev/null
r=$(fl rollout create --name fw --artifact "$art" --tag fw --error-threshold 100 | jf 'j["id"]')
fl rollout start "$r" >/dev/null
F=$TMP/fleet_ok.bin
make_flash "$F" 4MB 0x10000 "$B/ddi_ota.bin"
OTAKIT_DDI_URL=$FURL OTAKIT_DDI_CONTROLLER_ID=fw-ok OTAKIT_DDI_TOKEN=tok-fw-ok-0123456789 \
  run_device "$F" "closed: success (updated" "${FAST[@]}"
check "fleet serve: the device reports success (rc=$RC)" in_order "$LOG" \
  "SHA-256 matches the deployment" "ddi: Self-test passed: app confirmed" "closed: success (updated"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
F=$TMP/fleet_bad.bin
make_flash "$F" 4MB 0x10000 "$B/ddi_ota.bin"
OTAKIT_DDI_URL=$FURL OTAKIT_DDI_CONTROLLER_ID=fw-bad OTAKIT_DDI_TOKEN=tok-fw-bad-0123456789 \
  run_device "$F" "closed: failure (rolled back" "${FAST[@]}" --gpio "$pin=0"
check "fleet serve: the other reports its rollback (rc=$RC)" in_order "$LOG" \
  "ddi: Self-test failed: rolling back" "ddi: Running ddi_ota 1.0.0 from factory" \
  "closed: failure (rolled back"
[[ $E2E_FAIL -eq 0 ]] || dump_log "$LOG"
check "fleet serve: success recorded" test \
  "$(fl device show fw-ok | jf '[a["status"] for a in j["actions"]]')" = "['finished']"
check "fleet serve: the rollback recorded as an error" test \
  "$(fl device show fw-bad | jf '[a["status"] for a in j["actions"]]')" = "['error']"
check "fleet serve: the rollout finished, one finished, one error" test \
  "$(fl rollout show "$r" | jf '(j["status"], j["groups"][0]["finished"], j["groups"][0]["error"])')" = \
  "('finished', 1, 1)"
finish
