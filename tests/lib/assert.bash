# shellcheck shell=bash
# Counted checks, predicates and JSON values (sourced by testlib.bash).
T_PASSED=0
T_FAILED=0

t_ok() {
  T_PASSED=$((T_PASSED + 1))
  if [[ $# -gt 0 ]]; then echo "ok   $*"; fi
}
t_fail() {
  T_FAILED=$((T_FAILED + 1))
  echo "FAIL: $*" >&2
}
t_check() {
  local desc=$1
  shift
  if "$@"; then t_ok "$desc"; else t_fail "$desc"; fi
}
t_check_eval() {
  if eval "$2"; then t_ok "$1"; else t_fail "$1"; fi
}
t_expect_exit() {
  local want=$1 got=0
  shift
  "$@" >"$T/out.txt" 2>"$T/err.txt" || got=$?
  if [[ $got == "$want" ]]; then
    t_ok
  else
    t_fail "$* -> exit $got, want $want: $(head -c 600 "$T/err.txt")"
  fi
}
t_expect_eq() {
  if [[ $2 == "$3" ]]; then t_ok "$1"; else t_fail "$1: got '$2', want '$3'"; fi
}
t_expect_has() {
  if t_has "$1" "$2"; then t_ok; else t_fail "$1 lacks '$2'; it ends: $(tail -n 8 "$1")"; fi
}
t_expect_lacks() {
  if t_lacks "$1" "$2"; then t_ok; else t_fail "$1 has '$2'"; fi
}
t_expect_match() {
  if grep -q -- "$2" "$1"; then t_ok; else t_fail "$1 lacks '$2': $(head -c 400 "$1")"; fi
}
t_expect_same() {
  if cmp -s "$1" "$2"; then t_ok; else t_fail "$1 and $2 differ"; fi
}
t_expect_json() {
  if "$T_PY" -c 'import json,sys
j = d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$2" "$3"; then
    t_ok
  else
    t_fail "$1: $(head -c 600 "$2")"
  fi
}
t_finish() {
  echo "$T_PASSED passed, $T_FAILED failed"
  [[ $T_FAILED -eq 0 ]]
}
t_skip() {
  echo "SKIPPED: $*"
  t_finish
  exit 77 # ctest's SKIP_RETURN_CODE: reported as skipped, not passed
}

t_has() { grep -qF -- "$2" "$1"; }
t_lacks() { ! grep -qF -- "$2" "$1"; }
t_count() { grep -cF -- "$2" "$1" || true; }
t_in_order() {
  local file=$1
  shift
  "$T_PY" - "$file" "$@" <<'PY'
import sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
i = 0
for want in sys.argv[2:]:
    while i < len(lines) and want not in lines[i]:
        i += 1
    if i == len(lines):
        print("in_order: %r not found after the previous text" % want, file=sys.stderr)
        sys.exit(1)
    i += 1
PY
}
t_json() {
  "$T_PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
t_json_field() {
  "$T_PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' "$1" "$2"
}
