#!/usr/bin/env bash
# The device on a terminal (what `make monitor` runs), driven through a pseudo-terminal:
# coloured log lines, Ctrl-T R resets the chip (EN pin), Ctrl-] quits with exit 0.
set -euo pipefail
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
t_two_ota_table

F=$T/flash.bin
t_flash_new "$F"
/usr/bin/python3 - "$OTAKIT" "$F" >"$T/result" <<'PY'
import os, pty, select, sys, time
otakit, flash = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(otakit, [otakit, "device", "run", "--flash", flash, "--speedup", "0", "--timeout", "60"])
out = b""
def read_until(pat, t=30):
    global out
    end = time.time() + t
    while pat not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return pat in out
res = {}
res["banner"] = read_until(b"Quit: Ctrl+] | Reset: Ctrl+T followed by R")
res["running"] = read_until(b"Restarting in 5 seconds")
os.write(fd, b"\x14r")
res["reset"] = read_until(b"--- otakit: reset (EN pin)")
res["power-on after reset"] = read_until(b"Restarting in 3 seconds")
os.write(fd, b"\x1d")
res["exit line"] = read_until(b"--- exit")
_, status = os.waitpid(pid, 0)
res["exit 0"] = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
res["colour"] = b"\x1b[0;32mI (" in out
for k, v in res.items():
    print("%s %s" % ("yes" if v else "no", k))
PY
while read -r verdict what; do
  t_check "monitor: $what" test "$verdict" = yes
done <"$T/result"
t_check "monitor: all steps ran" test "$(wc -l <"$T/result")" -eq 7
t_check "monitor: log file without colour" test "$(grep -c $'\033' "$F.log" || true)" -eq 0
t_check "monitor: two power-on resets in the log" test "$(t_count "$F.log" "rst:0x1 (POWERON_RESET)")" -eq 2

t_finish
