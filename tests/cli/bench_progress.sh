#!/usr/bin/env bash
# `make bench` runs its steps through bench/progress.bash: the machine line first (date,
# CPU, cores, load average); on a terminal a status line as each step starts and ends
# ("[1/2] NAME ...", "done in", "FAILED (exit N)"); piped, only the steps' own output.
# Every step runs; the exit status is 1 when one failed.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
P=$T_SRC/bench/progress.bash
printf 'echo table-one\n' >"$T/one.sh"
printf 'echo table-two\nexit 3\n' >"$T/two.sh"

t_expect_exit 1 bash "$P" "$T/one.sh" "$T/two.sh"
t_expect_match out.txt '^make bench: .*, [0-9]* cores, load average [0-9.]* [0-9.]* [0-9.]*$'
t_check "piped: both steps ran, in order" t_in_order out.txt table-one table-two
t_expect_lacks out.txt "[1/2]"
t_check "piped: no terminal codes" t_lacks out.txt $'\033'
t_expect_has err.txt "make bench: failed: $T/two.sh"

command -v script >/dev/null || t_skip "script(1) is missing (Debian package bsdutils): the terminal case is not checked"
rc=0
script -qec "bash '$P' '$T/one.sh' '$T/two.sh'" /dev/null >tty.txt 2>&1 || rc=$?
t_expect_eq "on a terminal: exit 1 (a step failed)" "$rc" 1
t_check "on a terminal: a status line before and after each step" t_in_order tty.txt \
  "[1/2] $T/one.sh ..." table-one "[1/2] $T/one.sh done in " \
  "[2/2] $T/two.sh ..." table-two "[2/2] $T/two.sh FAILED (exit 3)" "make bench: 2 steps in "
t_dump_if_failed tty.txt
t_finish
