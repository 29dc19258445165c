#!/usr/bin/env bash
# Power cuts during a real update, at the process level: `otakit device run
# --powercut-at N` kills the device at its N-th flash operation (before it, after it, or
# torn half way) while the factory app downloads hello_world, switches otadata,
# restarts, and hello_world confirms itself. Whatever N and the mode, the device must
# come back to a running app, old (the factory OTA example) or new (hello_world), with
# otadata and the slots consistent:
#  - a cut before the switch ("Prepare to restart system!"): the factory app runs again
#    and completes the update;
#  - a cut after it: either hello_world runs (confirmed), or, with rollback on, a new
#    app that lost the power before confirming itself is rolled back (ESP-IDF's rule)
#    and the factory app refuses that version ("New version is the same as invalid").
#
# The cut points are sampled over every flash operation of a clean run:
#   OTAKIT_E2E_POWERCUT_SAMPLES  how many (default 30)
#   OTAKIT_E2E_POWERCUT_SEED     which (default 1)
#   OTAKIT_E2E_POWERCUT=N:MODE   replay one case (the line a failure prints)
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_require_images

samples=${OTAKIT_E2E_POWERCUT_SAMPLES:-30}
seed=${OTAKIT_E2E_POWERCUT_SEED:-1}
UNTIL="Restarting in"
REFUSED="press the reset button to download it"

PRISTINE=$T/pristine.bin
t_flash_make "$PRISTINE" 4MB
t_pyserve_start ota "$T_BUILD"
export OTAKIT_SERVER_URL=http://127.0.0.1:$T_PORT/hello-world.bin

# The clean run counts the operations.
F=$T/flash.bin
cp "$PRISTINE" "$F"
t_device_until "$F" "$UNTIL" "${T_FAST[@]}"
t_check "the clean run updates to hello_world (rc=$T_RC)" test "$T_RC" -eq 0
total=$(t_json "$T_RESULT" 'j["flash_ops_first_power_on"]')
t_check "the clean run counted its flash operations ($total)" test "$total" -gt 100
[[ $T_FAILED -eq 0 ]] || { t_dump_log "$T_LOG"; t_finish; }

if [[ -n ${OTAKIT_E2E_POWERCUT:-} ]]; then
  cases=("$OTAKIT_E2E_POWERCUT")
else
  mapfile -t cases < <(python3 - "$total" "$samples" "$seed" <<'PY'
import random, sys
total, samples, seed = (int(a) for a in sys.argv[1:])
rng = random.Random(seed)
modes = ["before", "after", "torn"]
points = {1, total}
# Evenly spread, each moved by a seeded jitter inside its stride.
stride = max(1, total // max(1, samples - 2))
for i in range(samples - 2):
    points.add(min(total, 1 + i * stride + rng.randrange(stride)))
for i, n in enumerate(sorted(points)):
    print("%d:%s" % (n, modes[(i + seed) % 3]))
PY
  )
fi

bad=0
for c in "${cases[@]}"; do
  n=${c%%:*} mode=${c#*:}
  cp "$PRISTINE" "$F"
  t_device_until_any "$F" "$UNTIL" "$REFUSED" "${T_FAST[@]}" --powercut-at "$n" --powercut-mode "$mode"
  cutline=$(grep -m1 '^--- otakit: power cut at flash operation' "$T_LOG" || true)
  switched=$(sed -n '/^--- otakit: power cut at flash operation/q; /ota: Prepare to restart system!/p' "$T_LOG")
  # The first app the bootloader starts after the power comes back.
  after=$(awk '/^--- otakit: power cut at flash operation/ {cut=1; next}
               cut && /app_init: Project name:/ {print $NF; exit}' "$T_LOG")
  problems=()
  [[ $cutline == "--- otakit: power cut at flash operation $n "* ]] || problems+=("no cut at $n")
  [[ $after == native_ota || $after == hello_world ]] || problems+=("after the cut the app was '${after:-none}'")
  case $T_MATCHED in
  1)
    end="updated"
    t_slot_holds "$F" 0x110000 "$T_BUILD/hello-world.bin" || problems+=("ota_0 does not hold hello-world.bin")
    [[ $(t_otadata "$F" 'j["boot"]["label"]') == ota_0 ]] || problems+=("otadata does not boot ota_0")
    ;;
  2)
    end="rolled back"
    [[ -n $switched ]] || problems+=("rolled back although the cut came before the switch")
    t_config_is BOOTLOADER_APP_ROLLBACK_ENABLE || problems+=("rolled back without rollback enabled")
    [[ $(t_otadata "$F" 'j["boot"]["label"]') == factory ]] || problems+=("otadata does not boot factory")
    t_has "$T_LOG" "ota: Last invalid firmware version: 1.0.0" || problems+=("no invalid version logged")
    ;;
  *)
    end="stuck"
    problems+=("neither hello_world nor the factory app's stop line appeared")
    ;;
  esac
  if [[ ${#problems[@]} -eq 0 ]]; then
    t_ok "cut at $n ($mode${switched:+, after the switch}): back to $after, $end"
  else
    t_fail "cut at $n ($mode): ${problems[*]} -- replay: OTAKIT_E2E_POWERCUT=$n:$mode"
    bad=$((bad + 1))
    [[ $bad -gt 2 ]] || t_dump_log "$T_LOG"
  fi
done

t_finish
