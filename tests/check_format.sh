#!/usr/bin/env bash
# Every C source and header that git tracks is formatted as the repository's .clang-format
# says (clang-format --dry-run flags nothing). Skips (77), saying why, without clang-format
# or outside a git checkout.
#
# Usage: check_format.sh [REPO]   (default: the repository holding this script)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v clang-format >/dev/null 2>&1 ||
  { echo "skip: clang-format is missing (Debian package clang-format)"; exit 77; }
root=${1:-$(git -C "$here" rev-parse --show-toplevel 2>/dev/null)} ||
  { echo "skip: not a git checkout (the check lists the tracked files with git)"; exit 77; }
cd "$root" || exit 2
[[ -f .clang-format ]] || { echo "FAIL: $root has no .clang-format"; exit 1; }

mapfile -t files < <(git ls-files '*.c' '*.h')
((${#files[@]} >= 10)) || { echo "FAIL: git ls-files listed ${#files[@]} C files"; exit 1; }
mapfile -t flagged < <(clang-format --dry-run "${files[@]}" 2>&1 |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: warning: code should be clang-formatted.*/\1/p' | sort -u)
if ((${#flagged[@]} > 0)); then
  printf 'FAIL: not formatted (clang-format -i FILE): %s\n' "${flagged[@]}"
  exit 1
fi
echo "format: ${#files[@]} C files as .clang-format says ($(clang-format --version))"
