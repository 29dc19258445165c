#!/usr/bin/env bash
# The ESP-IDF-style API on the device (tools/test_apps/system/api_app): error codes, chip,
# MAC, device time, tasks, partitions, NOR rules, OTA sessions and their errors,
# set_boot, states, confirm, rollback, over three boots.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table

F=$T/flash.bin
t_flash_new "$F" "$T_BUILD/api_app.bin"
t_device_check "api_app: exit 0" 0 "$F" "$T/api.log" --until "API DONE" --mac 24:0a:c4:12:34:56
t_check "api_app: phase A ran" grep -Eq '^API phase A: [0-9]+ passed, 0 failed$' "$T/api.log"
t_check "api_app: phase B ran" grep -Eq '^API phase B: [0-9]+ passed, 0 failed$' "$T/api.log"
t_check "api_app: phase C ran" grep -Eq '^API phase C: [0-9]+ passed, 0 failed$' "$T/api.log"
t_check "api_app: no failed check" test "$(t_count "$T/api.log" "API FAIL")" -eq 0
grep "API FAIL" "$T/api.log" || true
t_check "api_app: at least 100 checks" test "$(t_count "$T/api.log" "API ok ")" -ge 100
t_check "api_app: Wi-Fi power save checked" t_has "$T/api.log" "API ok wifi ps reads NONE"
t_check "api_app: queues checked" t_has "$T/api.log" "API ok queue: five items in order across a full queue"
t_check "api_app: semaphores checked" t_has "$T/api.log" "API ok recursive: free after the second give"
t_check "api_app: log level filter" test "$(t_count "$T/api.log" "this info line is filtered out")" -eq 0
t_check "api_app: warning shown" grep -Eq '^W \([0-9]+\) api: log level set: warnings still show$' "$T/api.log"
t_check "api_app: booted ota_0 after set_boot" t_has "$T/api.log" "boot: Loaded app from partition at offset 0x110000"
t_check "api_app: 3 boots" test "$(t_json_field "$T/api.log.json" boots)" -eq 3
"$OTAKIT" otadata show "$F" >"$T/otadata"
t_check "api_app: otadata INVALID after the rollback" grep -q "state INVALID" "$T/otadata"
t_check "api_app: NVS checks ran in both phases" test "$(grep -c "API ok nvs\|API ok persisted" "$T/api.log")" -ge 10
t_check "api_app: otakit nvs reads the boot count the app stored" test "$("$OTAKIT" nvs get "$F" api boots)" = 2

t_finish
