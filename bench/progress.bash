#!/usr/bin/env bash
# bench/progress.bash STEP...: what `make bench` (target bench-all) runs. Prints the
# machine first (date, CPU model, cores, load average), then runs each STEP: a benchmark
# program, or a bench/*.sh script (run with bash). On a terminal a status line names each
# step as it starts ("[2/7] bench/hash.sh ...") and says how long it took; when the
# output is not a terminal (a log, CI) only the benchmarks' own tables are printed.
# Exit status: 0, or 1 when a step failed (every step runs).
set -uo pipefail

status() { :; }
if [[ -t 1 ]]; then
  status() { printf '\033[1m%s\033[0m\n' "$*"; }
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), ${cpu:-unknown CPU}, $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
n=$#
i=0
failed=()
t_all=$(date +%s%N)
for step in "$@"; do
  i=$((i + 1))
  name=$step
  [[ $step == */bench/* ]] && name=bench/${step##*/bench/}
  status "[$i/$n] $name ..."
  t0=$(date +%s%N)
  if [[ $step == *.sh ]]; then
    bash "$step"
  else
    "$step"
  fi
  rc=$?
  secs=$((($(date +%s%N) - t0) / 1000000))
  if [[ $rc -eq 0 ]]; then
    status "[$i/$n] $name done in $((secs / 1000)).$((secs % 1000 / 100)) s"
  else
    status "[$i/$n] $name FAILED (exit $rc)"
    failed+=("$name")
  fi
  echo
done
secs=$((($(date +%s%N) - t_all) / 1000000))
# The one row of the performance table no step measures: it is a whole test run.
echo "make test on 2 cores: not run by make bench (\`time make test\` measures it); target <= 4 minutes"
status "make bench: $n steps in $((secs / 1000)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "make bench: failed: ${failed[*]}" >&2
  exit 1
fi
