#!/usr/bin/env bash
# Rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE): the new app runs but never confirms
# itself and restarts. The next boot finds it still PENDING_VERIFY, marks it ABORTED and
# starts the previous app (factory).
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images noconfirm_app.bin
t_require_config BOOTLOADER_APP_ROLLBACK_ENABLE

ver=$(t_image_version "$T_BUILD/noconfirm_app.bin")
F=$T/flash.bin
t_flash_make "$F" 4MB
t_pyserve_start ota "$T_BUILD"
t_ota_update "$F" noconfirm_app.bin "ota: The firmware has been rolled back to the previous version."
t_check "the run reaches the rollback message (rc=$T_RC)" test "$T_RC" -eq 0
t_check "update, unconfirmed run, rollback on the next boot" t_in_order "$T_LOG" \
  "ota: New firmware version: $ver" \
  "ota: Prepare to restart system!" \
  "boot: Loaded app from partition at offset 0x110000" \
  "noconfirm_app: noconfirm_app $ver running from ota_0, state 0x1; not confirming it" \
  "rst:0xc (SW_CPU_RESET)" \
  "boot: Loaded app from partition at offset 0x10000" \
  "ota: Last invalid firmware version: $ver" \
  "ota: New version is the same as invalid version."
t_check "no panic: the app restarted on its own" test "$(t_json "$T_RESULT" 'j["panics"]')" -eq 0
t_check "otadata: ota_0's entry is ABORTED and the factory app boots" \
  test "$(t_otadata "$F" '(sorted(c["state_name"] for c in j["copies"])[0], j["boot"]["label"])')" = \
  "('ABORTED', 'factory')"
t_dump_if_failed "$T_LOG"
t_serve_stop ota

t_finish
