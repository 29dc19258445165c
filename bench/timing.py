#!/usr/bin/env python3
"""Wall time of short commands, measured in interleaved rounds (bench/startup.sh,
bench/boot.sh, bench/tools.sh use it).

    timing.py SPEC.json

SPEC: {"title": str, "rounds": int, "warmup": int, "reference": name,
       "commands": [{"name": str, "argv": [...], "reference": name (optional)}, ...],
       "target": str (optional, printed under the table)}

Each round runs every command once, in order, so that a busy machine hurts them alike;
one run is posix_spawn + wait4 of the command with its output discarded (it must exit
0). Prints one row per command: median, min and max wall time in ms, the median CPU time
(user + system, from wait4), and the ratio of its median to its reference's median (the
command's own "reference", else the spec's), measured in the same rounds.
"""
import json
import os
import statistics
import sys
import time


def run_once(argv):
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, devnull, 0),
            (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
        ]
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        t1 = time.perf_counter_ns()
    finally:
        os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"timing: {' '.join(argv)} exited {code}")
    return (t1 - t0) / 1e6, (usage.ru_utime + usage.ru_stime) * 1e3


def main():
    spec = json.load(open(sys.argv[1]))
    cmds = spec["commands"]
    rounds = int(spec.get("rounds", 30))
    for _ in range(int(spec.get("warmup", 2))):
        for c in cmds:
            run_once(c["argv"])
    times = {c["name"]: [] for c in cmds}
    cpu = {c["name"]: [] for c in cmds}
    for _ in range(rounds):
        for c in cmds:
            wall, used = run_once(c["argv"])
            times[c["name"]].append(wall)
            cpu[c["name"]].append(used)
    med = {n: statistics.median(v) for n, v in times.items()}
    width = max(len(c["name"]) for c in cmds) + 2
    print(f"{spec['title']}: {rounds} interleaved rounds, wall time per run "
          f"(load average at the end: {' '.join(open('/proc/loadavg').read().split()[:3])})")
    print(f"{'command':<{width}} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'CPU ms':>7}  ratio (median)")
    for c in cmds:
        v = times[c["name"]]
        ref = c.get("reference", spec.get("reference"))
        ratio = ""
        if ref and ref != c["name"]:
            ratio = f"{med[c['name']] / med[ref]:.2f}x {ref}"
        used = statistics.median(cpu[c["name"]])
        print(f"{c['name']:<{width}} {med[c['name']]:>10.2f} {min(v):>8.2f} {max(v):>8.2f} {used:>7.2f}  {ratio}")
    if spec.get("target"):
        print(f"target: {spec['target']}")
    print("(CPU ms: user + system time of the command and the children it waited for, median;")
    print(" on a busy machine wall time also holds the time spent waiting for a CPU)")


if __name__ == "__main__":
    main()
