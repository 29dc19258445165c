#!/usr/bin/env bash
# The build itself: make's dry run over the build tree prints no warning (a target named
# like its output file made make say "Circular flash_args <- flash_args dependency dropped").
# shellcheck source=lib.bash
source "$(dirname "$0")/lib.bash"
B=${OTAKIT_BUILD:?set OTAKIT_BUILD to the build directory}

if [[ -f $B/Makefile ]]; then
    make -C "$B" -n all >make-n.txt 2>&1 && ok || fail "make -n all in the build tree: $(tail -3 make-n.txt)"
    if grep -i "circular" make-n.txt >&2; then fail "make reports a circular dependency"; else ok; fi
    if grep -E "warning: (overriding|ignoring old) recipe" make-n.txt >&2; then fail "make reports clashing recipes"; else ok; fi
else
    echo "build tree has no Makefile (not the Unix Makefiles generator): make checks skipped"
fi

finish
