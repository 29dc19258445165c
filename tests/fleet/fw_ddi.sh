#!/usr/bin/env bash
# The DDI OTA example (examples/system/ota/ddi_ota_example, build/ddi_ota.bin) on the
# virtual device against the DDI responder: the factory app (1.0.0) gets a deployment of
# 2.0.0, downloads it with esp_https_ota, checks its SHA-256, reports progress, restarts,
# passes its self-test, confirms itself and reports success. With the self-test GPIO
# held low the new app rolls back, and the factory app reports the rollback as a failure.
# A deployment whose SHA-256 does not match is refused before anything is switched.
# Against otakit fleet serve, a rollout to two such devices records one success and one
# rollback (an error).
source "$(dirname "$0")/sim_common.bash"
t_require_images ddi_ota.bin
t_require_config BOOTLOADER_APP_ROLLBACK_ENABLE
pin=4 # CONFIG_EXAMPLE_DDI_SELFTEST_GPIO's default

# start_ddi NAME ARTIFACT [options]: the responder, polled every second; sets DDI_URL
start_ddi() {
  start_responder "$1" "$2" --sleep 00:00:01 "${@:3}"
}
state() { # state EXPR: a Python expression over the responder's /_state (as j)
  t_curl "$DDI_URL/_state" >"$T/state.json"
  t_json "$T/state.json" "$1"
}

t_image_variant "$T_BUILD/ddi_ota.bin" 2.0.0 "$T/v2.bin" ddi_ota
start_ddi ddi "$T/v2.bin" --version 2.0.0
export OTAKIT_DDI_URL=$DDI_URL

# 1. The update, confirmed, success reported.
F=$T/ok.bin
t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ddi_ota.bin"
OTAKIT_DDI_CONTROLLER_ID=dev-ok t_device_until "$F" "ddi: action 1 closed: success" "${T_FAST[@]}"
t_check "update: the run reaches the success report (rc=$T_RC)" test "$T_RC" -eq 0
t_check "update: download, check, restart, self-test, confirm, report" t_in_order "$T_LOG" \
  "ddi: Running ddi_ota 1.0.0 from factory" \
  "ddi: Deployment 1: os 2.0.0" \
  "ddi_client: v2.bin: SHA-256 matches the deployment" \
  "ddi: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "ddi: Running ddi_ota 2.0.0 from ota_0" \
  "ddi: New app (PENDING_VERIFY): running the self-test" \
  "ddi: Self-test passed: app confirmed" \
  "ddi: action 1 closed: success"
t_check "update: the server recorded success" test "$(state 'j["closed"].get("dev-ok")')" = success
t_check "update: progress, then installed, then closed" test \
  "$(state '[(f["execution"], (f["progress"] or {}).get("cnt")) for f in j["feedback"]["dev-ok"]]')" = \
  "[('proceeding', 1), ('proceeding', 2), ('closed', 3)]"
t_check "update: configData sent" test "$(state 'j["config"]["dev-ok"]["version"]')" = 1.0.0
t_check "update: ota_0 is VALID and boots" \
  test "$(t_otadata "$F" '(max(c["state_name"] for c in j["copies"] if c["valid"]), j["boot"]["label"])')" = \
  "('VALID', 'ota_0')"
t_dump_if_failed "$T_LOG"

# 2. The self-test fails: rollback, reported as a failure by the factory app.
F=$T/bad.bin
t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ddi_ota.bin"
OTAKIT_DDI_CONTROLLER_ID=dev-bad t_device_until "$F" "ddi: action 1 closed: failure" "${T_FAST[@]}" \
  --gpio "$pin=0"
t_check "rollback: the run reaches the failure report (rc=$T_RC)" test "$T_RC" -eq 0
t_check "rollback: self-test fails, the factory app reports it" t_in_order "$T_LOG" \
  "ddi: Running ddi_ota 2.0.0 from ota_0" \
  "ddi: Self-test: GPIO $pin is held low" \
  "ddi: Self-test failed: rolling back" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ddi: Running ddi_ota 1.0.0 from factory" \
  "ddi: action 1 closed: failure (rolled back: the new app failed its self-test)"
t_check "rollback: the server recorded failure" test "$(state 'j["closed"].get("dev-bad")')" = failure
t_check "rollback: the server hears it was a rollback" \
  test "$(state 'j["feedback"]["dev-bad"][-1]["details"][0]')" = "rolled back: the new app failed its self-test"
t_check "rollback: the factory app boots, ota_0 INVALID" \
  test "$(t_otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('INVALID', 'factory')"
t_dump_if_failed "$T_LOG"

# 3. A SHA-256 in the deployment that the bytes do not have: nothing is switched.
mkdir -p "$T/www"
cp "$T/v2.bin" "$T/www/v2.bin"
t_patch "$T/www/v2.bin" 100000 '\x00'
start_files "$T/www"
start_ddi badsha "$T/v2.bin" --artifact-url "${FILES_URL}v2.bin"
F=$T/sha.bin
t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ddi_ota.bin"
OTAKIT_DDI_URL=$DDI_URL OTAKIT_DDI_CONTROLLER_ID=dev-sha t_device_until "$F" "ddi: action 1 closed: failure" "${T_FAST[@]}"
t_check "bad SHA-256: refused and reported (rc=$T_RC)" t_in_order "$T_LOG" \
  "ddi_client: v2.bin: SHA-256 of the partition differs from the deployment's" \
  "ddi: action 1 closed: failure (update failed: ESP_ERR_INVALID_CRC)"
t_check "bad SHA-256: no restart into the new image" t_lacks "$T_LOG" "Prepare to restart system!"
t_check "bad SHA-256: the factory app stays selected" test "$(t_otadata "$F" 'j["boot"]["label"]')" = factory
t_dump_if_failed "$T_LOG"

# 4. otakit fleet serve: a rollout to two devices; it records one success and, for the
# device whose self-test fails, the rollback as an error.
start_fleet fleet --data-dir "$T/fleet"
art=$(fleet upload "$T/v2.bin" | json 'j["id"]')
fleet device add fw-ok --tag fw --device-token tok-fw-ok-0123456789 >/dev/null
fleet device add fw-bad --tag fw --device-token tok-fw-bad-0123456789 >/dev/null
r=$(fleet rollout create --name fw --artifact "$art" --tag fw --error-threshold 100 | json 'j["id"]')
fleet rollout start "$r" >/dev/null
F=$T/fleet_ok.bin
t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ddi_ota.bin"
OTAKIT_DDI_URL=$FURL OTAKIT_DDI_CONTROLLER_ID=fw-ok OTAKIT_DDI_TOKEN=tok-fw-ok-0123456789 \
  t_device_until "$F" "closed: success (updated" "${T_FAST[@]}"
t_check "fleet serve: the device reports success (rc=$T_RC)" t_in_order "$T_LOG" \
  "SHA-256 matches the deployment" "ddi: Self-test passed: app confirmed" "closed: success (updated"
t_dump_if_failed "$T_LOG"
F=$T/fleet_bad.bin
t_flash_make "$F" 4MB 0x10000 "$T_BUILD/ddi_ota.bin"
OTAKIT_DDI_URL=$FURL OTAKIT_DDI_CONTROLLER_ID=fw-bad OTAKIT_DDI_TOKEN=tok-fw-bad-0123456789 \
  t_device_until "$F" "closed: failure (rolled back" "${T_FAST[@]}" --gpio "$pin=0"
t_check "fleet serve: the other reports its rollback (rc=$T_RC)" t_in_order "$T_LOG" \
  "ddi: Self-test failed: rolling back" "ddi: Running ddi_ota 1.0.0 from factory" \
  "closed: failure (rolled back"
t_dump_if_failed "$T_LOG"
t_check "fleet serve: success recorded" test \
  "$(fleet device show fw-ok | json '[a["status"] for a in j["actions"]]')" = '["finished"]'
t_check "fleet serve: the rollback recorded as an error" test \
  "$(fleet device show fw-bad | json '[a["status"] for a in j["actions"]]')" = '["error"]'
t_check "fleet serve: the rollout finished, one finished, one error" test \
  "$(fleet rollout show "$r" | json '(j["status"], j["groups"][0]["finished"], j["groups"][0]["error"])')" = \
  "('finished', 1, 1)"
t_finish
