#!/usr/bin/env python3
"""Write build/flash_args for `make flash`: what goes where, ESP-IDF's format.

First line: "--flash_size SIZE"; then "ADDR FILE" lines: the bootloader at 0x1000, the
partition table, the blank otadata (when the table has an otadata partition) and the
factory app (at the factory partition, or the first app partition when there is none).
Offsets come from the compiled table (`otakit partition show --json`).
"""
import argparse
import json
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--otakit", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--table-offset", required=True)
    ap.add_argument("--bootloader", required=True)
    ap.add_argument("--otadata", required=True)
    ap.add_argument("--factory", required=True)
    ap.add_argument("--flash-size", default=None)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    out = subprocess.run([a.otakit, "partition", "show", a.table, "--json"],
                         check=False, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return 1
    parts = json.loads(out.stdout)["partitions"]
    otadata = next((p for p in parts if p["type_id"] == 1 and p["subtype_id"] == 0), None)
    apps = [p for p in parts if p["type_id"] == 0]
    factory = next((p for p in apps if p["subtype_id"] == 0), apps[0] if apps else None)
    if factory is None:
        sys.stderr.write("flash_args: %s: the partition table has no app partition\n" % a.table)
        return 1
    lines = ["0x1000 %s" % a.bootloader, "%s %s" % (a.table_offset, a.table)]
    if otadata is not None:
        lines.append("0x%x %s" % (otadata["offset"], a.otadata))
    lines.append("0x%x %s" % (factory["offset"], a.factory))
    with open(a.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
