#!/usr/bin/env python3
"""Write build/flash_args for `make flash`: what goes where, ESP-IDF's format.

With --flash-size the first line is "--flash_mode dio --flash_freq 40m --flash_size SIZE"
(esptool's options, as ESP-IDF writes them); then "ADDR FILE" lines: the bootloader at 0x1000, the
partition table, the blank otadata (when the table has an otadata partition) and the
factory app (at the factory partition, or the first app partition when there is none).
Offsets come from the compiled table (`otakit partition show --json`).
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
    ap.add_argument("--table-offset", required=True)
    ap.add_argument("--bootloader", required=True)
    ap.add_argument("--otadata", required=True)
    ap.add_argument("--factory", required=True)
    ap.add_argument("--flash-size", default=None)
    ap.add_argument("--relative-to", default=None,
                    help="write file names relative to this directory (ESP-IDF's build/flash_args)")
    ap.add_argument("--app-args", default=None,
                    help="also write the app's line alone here (idf.py app-flash)")
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
    def name(path):
        return os.path.relpath(path, a.relative_to) if a.relative_to else path

    lines = []
    if a.flash_size:
        lines.append("--flash_mode dio --flash_freq 40m --flash_size %s" % a.flash_size)
    lines += ["0x1000 %s" % name(a.bootloader), "%s %s" % (a.table_offset, name(a.table))]
    if otadata is not None:
        lines.append("0x%x %s" % (otadata["offset"], name(a.otadata)))
    app_line = "0x%x %s" % (factory["offset"], name(a.factory))
    lines.append(app_line)
    with open(a.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    if a.app_args:
        with open(a.app_args, "w") as f:
            f.write(app_line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
