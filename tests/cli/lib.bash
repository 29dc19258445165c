# shellcheck shell=bash
# Shared by tests/cli/*.sh (sourced, not run; ctest only registers *.sh): a temp dir the
# script runs in (removed on exit), pass/fail counters and the closing line.
set -euo pipefail

OTAKIT=${OTAKIT:?set OTAKIT to the otakit binary}
# Debian's python3 (a pyenv shim in front of it can take a second per call)
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
}
# expect CODE CMD...: run CMD, check its exit code (stdout in out.txt, stderr in err.txt)
expect() {
    local want=$1 got=0
    shift
    "$@" >out.txt 2>err.txt || got=$?
    if [ "$got" = "$want" ]; then ok; else fail "$* -> exit $got, want $want: $(cat err.txt)"; fi
}
# finish: the closing line ctest's log shows; non-zero exit when any check failed.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
