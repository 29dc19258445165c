#!/usr/bin/env bash
# bench/footprint: what the portable core (src/core/*.c, include/otakit) costs on a
# microcontroller: Debian's arm-none-eabi-gcc for a Cortex-M4, -Os, one section per
# function and per object. The SHA-256/MD5 engine is the port's (include/otakit/hash.h)
# and is not counted, nor is the C library (memcpy, memcmp, memset, strncmp).
#   bash bench/footprint.sh        (make bench runs it; scripts/setup.sh bench installs the compiler)
# The core is compiled twice: as a microcontroller port builds it (OTAKIT_TOOLS 0: no
# display names, no image or table writers, err.h; OTAKIT_LOG_MAX_LEVEL INFO, ESP-IDF's
# default, log.h) and as the host builds it (everything). Prints text / data / bss of
# each module in both, the row the performance issue tracks (the sum of boot, err,
# flash, image, log, otadata, ptable, update and ota, split from update since) against
# its target, then what a firmware links for one use (--gc-sections, every function of
# the use's public headers kept), the RAM of an update session (its structs, and the
# deepest stack through the core's calls, from -fcallgraph-info=su: the port's hooks
# count as 0) and whether any public header names a crypto library.
set -euo pipefail

SRC=${OTAKIT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
CC=arm-none-eabi-gcc
PY=/usr/bin/python3
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "bench/footprint: $CC is missing (scripts/setup.sh bench installs it); skipped" >&2
  exit 0
fi
CFLAGS=(-std=c11 -Os -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections
  -fstack-usage -fcallgraph-info=su -I"$SRC/include" -I"$SRC/src/core")
MCU_DEFS=(-DOTAKIT_TOOLS=0 -DOTAKIT_LOG_MAX_LEVEL=OTAKIT_LOG_INFO)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/host"
objs=()
for c in "$SRC"/src/core/*.c; do
  o=$tmp/$(basename "$c" .c).o
  (cd "$tmp" && "$CC" "${CFLAGS[@]}" "${MCU_DEFS[@]}" -c "$c" -o "$o")
  (cd "$tmp/host" && "$CC" "${CFLAGS[@]}" -c "$c" -o "$tmp/host/$(basename "$o")")
  objs+=("$o")
done

# link NAME HEADER...: the core linked for the public functions the headers declare.
link() {
  local name=$1 h syms=()
  shift
  for h in "$@"; do
    # shellcheck disable=SC2207
    syms+=($(grep -ohE '\botakit_[a-z0-9_]+[[:space:]]*\(' "$SRC/include/otakit/$h" | tr -d '( \t' | sort -u))
  done
  local args=() s
  for s in "${syms[@]}"; do
    args+=("-Wl,-u,$s")
  done
  "$CC" -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all \
    -Wl,-e,"${syms[0]}" "${args[@]}" "${objs[@]}" -o "$tmp/$name.elf"
}
link update update.h ota.h
link boot boot.h
link nvs nvs.h
link all boot.h diag.h efuse.h err.h flash.h hash.h image.h log.h nvs.h ota.h otadata.h ptable.h sigblock.h update.h

# The session's structs, as the target lays them out.
cat >"$tmp/sizes.c" <<'EOF'
#include "otakit/ota.h"
#include "otakit/ptable.h"
#include "otakit/update.h"
char size_of_otakit_update_t[sizeof(otakit_update_t)];
char size_of_otakit_ota_t[sizeof(otakit_ota_t)];
char size_of_otakit_ptable_t[sizeof(otakit_ptable_t)];
char size_of_otakit_hash_ctx_t[sizeof(otakit_hash_ctx_t)];
EOF
"$CC" -std=c11 -mcpu=cortex-m4 -mthumb -fno-common -I"$SRC/include" -c "$tmp/sizes.c" -o "$tmp/sizes.o"

crypto=none
if grep -lE '#[[:space:]]*include[[:space:]]*[<"](openssl|mbedtls|psa|wolfssl|tinycrypt|sodium|bearssl)' \
  "$SRC"/include/otakit/*.h >"$tmp/crypto.txt"; then
  crypto=$(xargs -n1 basename <"$tmp/crypto.txt" | tr '\n' ' ')
fi

"$PY" - "$tmp" "$crypto" "$($CC --version | head -1)" "${MCU_DEFS[*]}" <<'EOF'
import glob, os, re, subprocess, sys
tmp, crypto, cc, mcu_defs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

def size(path):
    out = subprocess.run(["arm-none-eabi-size", "-B", path], capture_output=True, text=True,
                         check=True).stdout.splitlines()[1].split()
    return int(out[0]), int(out[1]), int(out[2])

TEXT_TARGET, RAM_TARGET = 12288, 512
# The issue's row: the modules it names (ota.c was split from update.c since).
ROW = ["boot", "err", "flash", "image", "log", "otadata", "ptable", "update", "ota"]
print(f"bench/footprint: the core for a Cortex-M4, {cc}, -Os -mthumb, "
      "-ffunction-sections -fdata-sections (hash engine and C library not counted)")
print(f"microcontroller build: {mcu_defs}; host build: the defaults")
print(f"{'module (object file)':<30} {'text':>7} {'data':>6} {'bss':>6} {'host text':>10}")
tot, host_tot, row, row_host, row_ram = [0, 0, 0], 0, 0, 0, 0
for o in sorted(glob.glob(os.path.join(tmp, "*.o"))):
    name = os.path.basename(o)[:-2]
    if name == "sizes":
        continue
    t, d, b = size(o)
    ht = size(os.path.join(tmp, "host", name + ".o"))[0]
    tot = [tot[0] + t, tot[1] + d, tot[2] + b]
    host_tot += ht
    if name in ROW:
        row, row_host, row_ram = row + t, row_host + ht, row_ram + d + b
    print(f"{'src/core/' + name + '.c':<30} {t:>7} {d:>6} {b:>6} {ht:>10}")
print(f"{'all modules':<30} {tot[0]:>7} {tot[1]:>6} {tot[2]:>6} {host_tot:>10}")
print()
ok = row <= TEXT_TARGET and row_ram <= RAM_TARGET
print(f"{'core text (' + ', '.join(ROW) + ')':<30}")
print(f"{'  microcontroller build':<30} {row:>7} text, {row_ram} B static RAM; target <= {TEXT_TARGET} "
      f"text, <= {RAM_TARGET} B static RAM: {'met' if ok else 'OVER'}")
print(f"{'  host build':<30} {row_host:>7} text (names, writers and debug messages included)")
others = [n for n in (os.path.basename(o)[:-2] for o in sorted(glob.glob(os.path.join(tmp, "*.o"))))
          if n not in ROW and n != "sizes"]
print(f"{'  not in the row':<30} " + ", ".join(
    f"{n}.c {size(os.path.join(tmp, n + '.o'))[0]}" for n in others))
print()
# Static RAM of a link: the sizes of its data and bss symbols (the default linker
# script's own padding is not the core's).
def static_ram(path):
    nm = subprocess.run(["arm-none-eabi-nm", "-S", path], capture_output=True, text=True,
                        check=True).stdout
    return sum(int(f[1], 16) for f in (l.split() for l in nm.splitlines())
               if len(f) == 4 and f[2] in "bBdD")

print(f"{'linked for (--gc-sections)':<30} {'text':>7} {'RAM':>6}  target")
uses = [("update", "an update: update.h + ota.h"), ("boot", "a bootloader: boot.h"),
        ("nvs", "NVS: nvs.h"), ("all", "every public function")]
for key, label in uses:
    elf = os.path.join(tmp, key + ".elf")
    t, ram = size(elf)[0], static_ram(elf)
    target = ""
    if key == "update":
        ok = t <= TEXT_TARGET and ram <= RAM_TARGET
        target = f"text <= {TEXT_TARGET}, static RAM <= {RAM_TARGET}: {'met' if ok else 'OVER'}"
    print(f"{label:<30} {t:>7} {ram:>6}  {target}")
print(f"{'reference: ESP-IDF bootloader':<30} {'23-28K':>7}  (an ESP32 build's whole bootloader image, not built here)")

# Sizes of the session's structs: the symbols of sizes.o.
nm = subprocess.run(["arm-none-eabi-nm", "-S", os.path.join(tmp, "sizes.o")], capture_output=True,
                    text=True, check=True).stdout
sizes = {m.group(2): int(m.group(1), 16)
         for m in re.finditer(r"^\S+ (\S+) \w size_of_(\w+)$", nm, re.M)}

# Deepest stack from an entry point through the core's call graph.
nodes, edges = {}, {}
for ci in glob.glob(os.path.join(tmp, "*.ci")):
    text = open(ci).read()
    for m in re.finditer(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
        title, label = m.group(1), m.group(2)
        su = re.search(r"\\n(\d+) bytes \((static|dynamic[^)]*)\)", label)
        key = title.split(":")[-1] if ":" in title else title
        if su:
            nodes[key] = (int(su.group(1)), su.group(2))
    for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
        a, b = (x.split(":")[-1] for x in (m.group(1), m.group(2)))
        edges.setdefault(a, set()).add(b)

def depth(f, seen=()):
    if f in seen:
        return 0, [f + " (recursion)"]
    own = nodes.get(f, (0, ""))[0]
    best, path = 0, []
    for g in edges.get(f, ()):
        d, p = depth(g, seen + (f,))
        if d > best:
            best, path = d, p
    return own + best, [f] + path

print()
print(f"{'RAM of an update session':<44} {'bytes':>7}")
for s in ("otakit_update_t", "otakit_ota_t", "otakit_ptable_t", "otakit_hash_ctx_t"):
    print(f"{'sizeof(' + s + ')':<44} {sizes.get(s, 0):>7}")
dynamic = sorted(f for f, (_, kind) in nodes.items() if kind != "static")
for entry in ("otakit_update_begin", "otakit_update_write", "otakit_update_end"):
    d, path = depth(entry)
    print(f"{'stack, deepest path of ' + entry:<44} {d:>7}  {' > '.join(path)}")
d, path = depth("otakit_boot_select")
print(f"{'stack, deepest path of otakit_boot_select':<44} {d:>7}  {' > '.join(path)}")
if dynamic:
    print("functions with a dynamic stack: " + ", ".join(dynamic))
print()
print(f"public headers (include/otakit) that name a crypto library: {crypto}")
EOF
