#!/usr/bin/python3
"""After the app image is built: does it fit the smallest app partition of the table?

Prints ESP-IDF's line ("X.bin binary size 0x... bytes. Smallest app partition is 0x...
bytes. 0x... bytes (N%) free.") and exits 1, naming the partition, when it does not fit.
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--otakit", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("image")
    a = ap.parse_args()
    out = subprocess.run([a.otakit, "partition", "show", a.table, "--json"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return 1
    apps = [p for p in json.loads(out.stdout)["partitions"] if p["type_id"] == 0]
    if not apps:
        sys.stderr.write("Error: the partition table has no app partition\n")
        return 1
    size = os.path.getsize(a.image)
    smallest = min(apps, key=lambda p: p["size"])
    name = os.path.basename(a.image)
    if size > smallest["size"]:
        sys.stderr.write("Error: app partition is too small for binary %s size 0x%x:\n"
                         "  - Part '%s' @ 0x%x size 0x%x (overflow 0x%x)\n"
                         % (name, size, smallest["name"], smallest["offset"], smallest["size"],
                            size - smallest["size"]))
        return 1
    free = smallest["size"] - size
    print("%s binary size 0x%x bytes. Smallest app partition is 0x%x bytes. 0x%x bytes (%d%%) free."
          % (name, size, smallest["size"], free, free * 100 // smallest["size"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
