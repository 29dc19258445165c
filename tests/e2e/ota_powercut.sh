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
# shellcheck source=lib/ota_common.sh
source "$(dirname "$0")/lib/ota_common.sh"
require_images

samples=${OTAKIT_E2E_POWERCUT_SAMPLES:-30}
seed=${OTAKIT_E2E_POWERCUT_SEED:-1}
UNTIL="Restarting in"
REFUSED="press the reset button to download it"

PRISTINE=$TMP/pristine.bin
make_flash "$PRISTINE" 4MB
serve "$B"
export OTAKIT_SERVER_URL=http://127.0.0.1:$SERVER_PORT/hello-world.bin

# The clean run counts the operations.
F=$TMP/flash.bin
cp "$PRISTINE" "$F"
run_device "$F" "$UNTIL" "${FAST[@]}"
check "the clean run updates to hello_world (rc=$RC)" test "$RC" -eq 0
total=$(json "$RESULT" 'j["flash_ops_first_power_on"]')
check "the clean run counted its flash operations ($total)" test "$total" -gt 100
[[ $E2E_FAIL -eq 0 ]] || { dump_log "$LOG"; finish; }

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
  run_device_any "$F" "$UNTIL" "$REFUSED" "${FAST[@]}" --powercut-at "$n" --powercut-mode "$mode"
  cutline=$(grep -m1 '^--- otakit: power cut at flash operation' "$LOG" || true)
  switched=$(sed -n '/^--- otakit: power cut at flash operation/q; /ota: Prepare to restart system!/p' "$LOG")
  # The first app the bootloader starts after the power comes back.
  after=$(awk '/^--- otakit: power cut at flash operation/ {cut=1; next}
               cut && /app_init: Project name:/ {print $NF; exit}' "$LOG")
  problems=()
  [[ $cutline == "--- otakit: power cut at flash operation $n "* ]] || problems+=("no cut at $n")
  [[ $after == native_ota || $after == hello_world ]] || problems+=("after the cut the app was '${after:-none}'")
  case $MATCHED in
  1)
    end="updated"
    slot_holds "$F" 0x110000 "$B/hello-world.bin" || problems+=("ota_0 does not hold hello-world.bin")
    [[ $(otadata "$F" 'j["boot"]["label"]') == ota_0 ]] || problems+=("otadata does not boot ota_0")
    ;;
  2)
    end="rolled back"
    [[ -n $switched ]] || problems+=("rolled back although the cut came before the switch")
    config_is BOOTLOADER_APP_ROLLBACK_ENABLE || problems+=("rolled back without rollback enabled")
    [[ $(otadata "$F" 'j["boot"]["label"]') == factory ]] || problems+=("otadata does not boot factory")
    has "$LOG" "ota: Last invalid firmware version: 1.0.0" || problems+=("no invalid version logged")
    ;;
  *)
    end="stuck"
    problems+=("neither hello_world nor the factory app's stop line appeared")
    ;;
  esac
  if [[ ${#problems[@]} -eq 0 ]]; then
    ok "cut at $n ($mode${switched:+, after the switch}): back to $after, $end"
  else
    not_ok "cut at $n ($mode): ${problems[*]} -- replay: OTAKIT_E2E_POWERCUT=$n:$mode"
    bad=$((bad + 1))
    [[ $bad -gt 2 ]] || dump_log "$LOG"
  fi
done

finish
