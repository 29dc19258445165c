#!/usr/bin/env bash
# scripts/test_cpu: where `make test`'s time goes, in CPU seconds per test, which depend far
# less on the machine's other load than wall times do. Runs the ctest tests a selection
# names one at a time (as ctest would: its command, environment, working directory and
# skip code) and prints, costliest first, each test's user + system CPU (its process and
# every child it waited for: servers a test starts and kills count only as far as they
# were waited for), its wall time and its outcome, then the totals.
#   bash scripts/test_cpu.sh BUILD [CTEST SELECTION...]
#   bash scripts/test_cpu.sh build -L 'unit|vectors|cli'
#   bash scripts/test_cpu.sh build -R 'idf_|e2e_ota_secure'
# The selection is ctest's own (-L, -R, -E, -LE); with none, every test of BUILD runs:
# that is the whole suite, one test at a time, so name a selection unless you mean it.
set -euo pipefail

if [[ $# -lt 1 || ! -f $1/CTestTestfile.cmake ]]; then
  echo "usage: scripts/test_cpu.sh BUILD [CTEST SELECTION...] (BUILD: a configured build tree)" >&2
  exit 2
fi
B=$(realpath "$1")
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ctest --test-dir "$B" --show-only=json-v1 "$@" >"$tmp/tests.json"

/usr/bin/python3 - "$tmp/tests.json" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import json, os, subprocess, sys, time

doc = json.load(open(sys.argv[1]))
tests = doc.get("tests", [])
if not tests:
    sys.exit("scripts/test_cpu: the selection names no test")
rows = []
for t in tests:
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = dict(os.environ)
    for kv in props.get("ENVIRONMENT", []):
        k, _, v = kv.partition("=")
        env[k] = v
    cwd = props.get("WORKING_DIRECTORY") or os.path.dirname(t["command"][0]) or "."
    skip = props.get("SKIP_RETURN_CODE")
    start = time.monotonic()
    child = subprocess.Popen(t["command"], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    rc = os.waitstatus_to_exitcode(status)
    outcome = "pass" if rc == 0 else "skip" if skip is not None and rc == int(skip) else f"FAIL ({rc})"
    rows.append((ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime, wall, t["name"], outcome))
    print(f"  {t['name']}: {ru.ru_utime + ru.ru_stime:.1f} s CPU, {wall:.1f} s wall, {outcome}",
          file=sys.stderr, flush=True)

rows.sort(reverse=True)
print(f"scripts/test_cpu: {len(rows)} tests one at a time, {sys.argv[2]} CPUs, "
      f"load average at the start {sys.argv[3]}")
print(f"{'test':<34} {'CPU s':>8} {'user':>8} {'sys':>8} {'wall s':>8}  outcome")
for cpu, user, sys_, wall, name, outcome in rows:
    print(f"{name:<34} {cpu:>8.1f} {user:>8.1f} {sys_:>8.1f} {wall:>8.1f}  {outcome}")
tot = [sum(r[i] for r in rows) for i in range(4)]
print(f"{'total':<34} {tot[0]:>8.1f} {tot[1]:>8.1f} {tot[2]:>8.1f} {tot[3]:>8.1f}")
print(f"load average at the end {' '.join(open('/proc/loadavg').read().split()[:3])}")
sys.exit(1 if any(r[5].startswith("FAIL") for r in rows) else 0)
EOF
