#!/usr/bin/env bash
# bench/boot: power-on to app_main on the virtual device, in real time: `otakit device run
# --until "Calling app_main()"` on a flash written from the build (the ROM stage checks
# and runs the bootloader, the bootloader picks and checks the app and runs it, the app
# prints its start-up lines), against /bin/true in the same rounds. Also the CPU time
# the three programs use (bench/timing.py), and where the time goes, stage by stage.
#   OTAKIT=build/otakit OTAKIT_BUILD=build bash bench/boot.sh   (make bench sets them)
#   BENCH_ROUNDS=40   interleaved rounds; each row gives median, min and max
#   BENCH_STAGE_RUNS=15   power-ons under perf for the breakdown by stage (below)
#   OTAKIT_BASELINE_BUILD=/path/to/other/build   adds that build's boot (its otakit and
#                     its firmware on a flash of its own) as a row, to measure a change
set -euo pipefail

OTAKIT=${OTAKIT:-build/otakit}
B=$(realpath "${OTAKIT_BUILD:-$(dirname "$OTAKIT")}")
ROUNDS=${BENCH_ROUNDS:-40}
BASELINE=${OTAKIT_BASELINE_BUILD:-}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

if [[ ! -x $PY ]]; then
  echo "bench/boot: $PY is missing (scripts/setup.sh installs it); skipped" >&2
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# flash_for BUILD FILE: a flash file with what BUILD/flash_args lists (make flash's
# layout: bootloader, partition table, blank otadata, the factory app)
flash_for() {
  local build=$1 file=$2 off bin
  "$build/otakit" flash erase "$file" --size 4MB >/dev/null
  while read -r off bin; do
    "$build/otakit" flash write "$file" "$off" "$bin" >/dev/null
  done <"$build/flash_args"
}

flash_for "$B" "$tmp/flash.bin"
run=(device run --until "Calling app_main()" --no-log --quiet)
app=$(awk '$1 == "0x10000" {print $2}' "$B/flash_args")
echo "bench/boot: the flash holds $(basename "$app"); power-on until \"Calling app_main()\""
cmds=$(
  "$PY" - "$B/otakit" "$tmp/flash.bin" "$BASELINE" "$tmp" "${run[@]}" <<'PYEOF'
import json, sys
otakit, flash, baseline, tmp, run = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
cmds = [{"name": "/bin/true", "argv": ["/bin/true"]},
        {"name": "otakit device run", "argv": [otakit] + run[:2] + ["--flash", flash] + run[2:]}]
if baseline:
    cmds.append({"name": "baseline device run",
                 "argv": [baseline + "/otakit"] + run[:2] + ["--flash", tmp + "/baseline.bin"] + run[2:]})
print(json.dumps(cmds))
PYEOF
)
if [[ -n $BASELINE ]]; then
  flash_for "$BASELINE" "$tmp/baseline.bin"
fi
cat >"$tmp/spec.json" <<SPEC
{"title": "bench/boot: power-on to app_main", "rounds": $ROUNDS, "warmup": 2,
 "reference": "/bin/true", "commands": $cmds,
 "target": "otakit device run <= 20 ms median real time, power-on to app_main (no reference)"}
SPEC
"$PY" "$HERE/timing.py" "$tmp/spec.json"

# Where a power-on's time goes, from the kernel's exec/fork/exit events (perf's sched
# tracepoints, which cost the programs nothing): the device (otakit's start, the ROM
# stage, the shared block) until it forks the bootloader, the fork until the bootloader
# program runs, the bootloader until it execs the app, the app until the run ends at
# "Calling app_main()". Skipped when perf cannot record them (not installed, or
# /proc/sys/kernel/perf_event_paranoid forbids it).
STAGE_RUNS=${BENCH_STAGE_RUNS:-15}
# stage_run BUILD FLASH OUT: one power-on under perf, its events in OUT
stage_run() {
  perf record -q -o "$tmp/stage.data" -e sched:sched_process_exec -e sched:sched_process_fork \
    -e sched:sched_process_exit -- "$1/otakit" device run --flash "$2" --until "Calling app_main()" \
    --no-log --quiet >/dev/null 2>&1 &&
    perf script -i "$tmp/stage.data" -F pid,time,event 2>/dev/null >"$3"
}
# stage_table LABEL PREFIX: the table of the runs in PREFIX.N.txt
stage_table() {
  "$PY" - "$1" "$2" "$STAGE_RUNS" <<'PYEOF'
import statistics, sys
label, prefix, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = ["device start, ROM stage, shared block", "fork until the bootloader runs",
         "bootloader: start, checks, app load", "app: start until app_main"]
cols = [[] for _ in names]
for i in range(1, runs + 1):
    ev = []
    for line in open(f"{prefix}.{i}.txt"):
        p = line.split()
        if len(p) >= 3:
            ev.append((float(p[1].rstrip(":")), p[2]))
    execs = [t for t, e in ev if e.startswith("sched:sched_process_exec")]
    forks = [t for t, e in ev if e.startswith("sched:sched_process_fork")]
    exits = [t for t, e in ev if e.startswith("sched:sched_process_exit")]
    if len(execs) < 3 or not forks or not exits:
        continue
    t = [execs[0], forks[0], execs[1], execs[2], exits[-1]]
    for k in range(4):
        cols[k].append((t[k + 1] - t[k]) * 1000)
if not cols[0]:
    sys.exit(0)
print(f"{label}: stages of a power-on, {len(cols[0])} runs, real time (ms: median, min, max)")
for n, v in zip(names, cols):
    print(f"  {n:<40} {statistics.median(v):>7.2f} {min(v):>7.2f} {max(v):>7.2f}")
tot = [sum(c[i] for c in cols) for i in range(len(cols[0]))]
print(f"  {'total (exec of otakit to its exit)':<40} {statistics.median(tot):>7.2f} {min(tot):>7.2f} {max(tot):>7.2f}")
PYEOF
}
stages() {
  local i
  for i in $(seq 1 "$STAGE_RUNS"); do
    stage_run "$B" "$tmp/flash.bin" "$tmp/stages-a.$i.txt" || return 1
    if [[ -n $BASELINE ]]; then
      stage_run "$BASELINE" "$tmp/baseline.bin" "$tmp/stages-b.$i.txt" || return 1
    fi
  done
  stage_table "otakit device run" "$tmp/stages-a"
  if [[ -n $BASELINE ]]; then
    stage_table "baseline device run" "$tmp/stages-b"
  fi
}
if command -v perf >/dev/null 2>&1 && perf record -q -o "$tmp/probe.data" -e sched:sched_process_exec -- /bin/true >/dev/null 2>&1; then
  echo
  stages || echo "bench/boot: perf could not record the stages; skipped"
else
  echo "bench/boot: perf cannot record sched tracepoints here: no breakdown by stage"
fi
