# shellcheck shell=bash
# What the bench/*.sh scripts share (sourced; not a step of `make bench`).

# bench_require NAME TOOL...: a benchmark skips itself (exit 0, saying why) when a tool
# it needs is missing.
bench_require() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "bench/$name: $tool is missing (scripts/setup.sh installs it); skipped" >&2
      exit 0
    fi
  done
}

# bench_serve NAME OTAKIT DIR OUT [OPTION...]: start `OTAKIT serve DIR --port 0 OPTION...`
# in the background, its output in OUT.out and OUT.err; waits (bounded) for its start
# line. Sets BENCH_SERVE_PID and BENCH_SERVE_URL (http://127.0.0.1:PORT/), or exits 1.
bench_serve() {
  local name=$1 otakit=$2 dir=$3 out=$4
  shift 4
  "$otakit" serve "$dir" --port 0 "$@" >"$out.out" 2>"$out.err" &
  # shellcheck disable=SC2034 # for the caller
  BENCH_SERVE_PID=$!
  for _ in $(seq 1 200); do
    grep -q '^serving ' "$out.out" && break
    sleep 0.05
  done
  BENCH_SERVE_URL=$(sed -n 's/^serving .* on \(http[^ ]*\)$/\1/p' "$out.out" | head -n1)
  if [[ -z $BENCH_SERVE_URL ]]; then
    echo "bench/$name: otakit serve did not start" >&2
    cat "$out.err" >&2
    exit 1
  fi
}
