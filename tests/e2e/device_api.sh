#!/usr/bin/env bash
# The ESP-IDF-style API on the device (firmware/test_apps/api_app): error codes, chip,
# MAC, device time, tasks, partitions, NOR rules, OTA sessions and their errors,
# set_boot, states, confirm, rollback, over three boots.
set -euo pipefail
# shellcheck source=tests/e2e/device_common.bash
source "$(dirname "$0")/device_common.bash"

F=$TMP/flash.bin
new_flash "$F" "$B/api_app.bin"
rc=0
run_device "$F" "$TMP/api.log" --until "API DONE" --mac 24:0a:c4:12:34:56 || rc=$?
check "api_app: exit 0" test $rc -eq 0
check "api_app: phase A ran" grep -Eq '^API phase A: [0-9]+ passed, 0 failed$' "$TMP/api.log"
check "api_app: phase B ran" grep -Eq '^API phase B: [0-9]+ passed, 0 failed$' "$TMP/api.log"
check "api_app: phase C ran" grep -Eq '^API phase C: [0-9]+ passed, 0 failed$' "$TMP/api.log"
check "api_app: no failed check" test "$(count "$TMP/api.log" "API FAIL")" -eq 0
grep "API FAIL" "$TMP/api.log" || true
check "api_app: at least 100 checks" test "$(count "$TMP/api.log" "API ok ")" -ge 100
check "api_app: log level filter" test "$(count "$TMP/api.log" "this info line is filtered out")" -eq 0
check "api_app: warning shown" grep -Eq '^W \([0-9]+\) api: log level set: warnings still show$' "$TMP/api.log"
check "api_app: booted ota_0 after set_boot" has "$TMP/api.log" "boot: Loaded app from partition at offset 0x110000"
check "api_app: 3 boots" test "$(json_field "$TMP/api.log.json" boots)" -eq 3
"$OTAKIT" otadata show "$F" >"$TMP/otadata"
check "api_app: otadata INVALID after the rollback" grep -q "state INVALID" "$TMP/otadata"
check "api_app: NVS checks ran in both phases" test "$(grep -c "API ok nvs\|API ok persisted" "$TMP/api.log")" -ge 10
check "api_app: otakit nvs reads the boot count the app stored" test "$("$OTAKIT" nvs get "$F" api boots)" = 2

finish
