#!/usr/bin/env bash
# docs/idf-projects.md's components table lists what otakit provides: every function that
# otakit's ESP-IDF projects (examples/, tools/test_apps/) call and that a header of
# otakit's ESP-IDF layer or of a component declares must appear there, by its full name.
# shellcheck source=tests/lib/testlib.bash
source "$(dirname "$0")/../lib/testlib.bash"
: "${OTAKIT_SRC:?OTAKIT_SRC must name the source directory}"
cd "$OTAKIT_SRC"
DOC=docs/idf-projects.md

# Functions the headers declare (a name followed by "(" after a return type, at a line's start).
find include/esp components examples/common_components -name '*.h' -print0 |
  xargs -0 grep -hoE '^[A-Za-z_][A-Za-z0-9_ *]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(' |
  sed -E 's/.*[ *]([A-Za-z_][A-Za-z0-9_]*)\($/\1/' | sort -u >"$T/declared"
# Names the projects' sources call.
find examples tools/test_apps -name '*.c' -print0 | xargs -0 grep -hoE '\b[A-Za-z_][A-Za-z0-9_]*\(' |
  tr -d '(' | sort -u >"$T/called"
# (app_main is the app's own; __attribute__ is no function)
comm -12 "$T/declared" "$T/called" | grep -vE '^(app_main|__.*)$' >"$T/used"
[[ $(wc -l <"$T/used") -gt 100 ]] && t_ok || t_fail "only $(wc -l <"$T/used") functions found: the scan is broken"
while read -r fn; do
  if grep -qF "\`$fn\`" "$DOC" || grep -qF "\`$fn()\`" "$DOC"; then t_ok; else t_fail "$DOC does not list $fn"; fi
done <"$T/used"
t_finish
