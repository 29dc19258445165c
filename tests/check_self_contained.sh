#!/usr/bin/env bash
# The repository is self-contained: a user's clone, with no folders beside it, builds and
# passes its tests. This check fails when a tracked file refers to a place outside the
# tree, and when a test vector no longer matches the SHA-256 its provenance README gives.
#
# What counts as "outside":
#   - the team's folder beside the checkout (`..` then `shared`), by any spelling;
#   - an absolute path into a home or work folder (/root/, /home/, /work/, /tmp/otakit...);
#   - a relative path that climbs above the repository's root: a leading run of `../` longer
#     than the depth of the file that holds it, or any `../` after the source root's variable.
# Test data that spells URL paths on purpose (the server's traversal tests) climbs at most
# to the root, so it passes the depth rule.
#
# Usage: check_self_contained.sh [REPO]     (default: the repository holding this script)
#        check_self_contained.sh --self-test  (the check must refuse planted bad files)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [[ ${1:-} == --self-test ]]; then
  t=$(mktemp -d) && trap 'rm -rf "$t"' EXIT
  git init -q "$t/r" && mkdir -p "$t/r/tests/vectors/data" "$t/r/a/b"
  for i in $(seq 1 12); do echo "ok $i" >"$t/r/a/f$i.txt"; done
  echo data >"$t/r/tests/vectors/data/v.bin"
  (cd "$t/r/tests/vectors/data" && sha256sum v.bin >SHA256SUMS &&
    echo "| \`$(cut -d' ' -f1 SHA256SUMS)\` | v.bin |" >README.md)
  git -C "$t/r" add -A && bash "$0" "$t/r" >/dev/null || { echo "FAIL: a clean tree was refused"; exit 1; }
  n=0
  for plant in 'x=..''/shared/vectors' 'p=/work/main/x' 'src=${CMAKE_SOURCE_DIR}/../x' 'cd "../../../up"' \
    'VEC=$(dirname "$0")/../../../../v'; do
    printf '%s\n' "$plant" >"$t/r/a/b/bad.sh" && git -C "$t/r" add -A
    if bash "$0" "$t/r" >/dev/null; then echo "FAIL: planted '$plant' passed"; exit 1; fi
    n=$((n + 1))
  done
  rm "$t/r/a/b/bad.sh" && echo tampered >"$t/r/tests/vectors/data/v.bin" && git -C "$t/r" add -A
  if bash "$0" "$t/r" >/dev/null 2>&1; then echo "FAIL: a changed vector passed"; exit 1; fi
  echo "self-test: a clean tree passes; $n planted references and a changed vector fail"
  exit 0
fi
cd "${1:-$(git -C "$here" rev-parse --show-toplevel)}" || exit 2

self=tests/check_self_contained.sh
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Text files that git tracks (the vectors' binaries and the fuzz corpora are data).
mapfile -t files < <(git ls-files | grep -v -e '^tests/vectors/data/' -e '^tests/fuzz/corpus/' \
  -e "^$self\$")
((${#files[@]} >= 10)) || { echo "FAIL: git ls-files listed ${#files[@]} files"; exit 1; }

sib='\.\./'shared
while IFS= read -r hit; do bad "refers to the folder beside the checkout: $hit"; done \
  < <(grep -nE "$sib|shared/(vectors|spec|seed|hooks)/" -- "${files[@]}" 2>/dev/null)

while IFS= read -r hit; do bad "absolute path into a machine's folders: $hit"; done \
  < <(grep -nE '(^|[^A-Za-z0-9_.])/(root|home|work)/[A-Za-z0-9_.-]' -- "${files[@]}" 2>/dev/null)

while IFS= read -r hit; do bad "climbs above the source root: $hit"; done \
  < <(grep -nE '(SOURCE_DIR|OTAKIT_SRC|top)\}?/\.\.(/|$|[^./])' -- "${files[@]}" 2>/dev/null)

# A run of ../ that starts a path token (after a quote, space, =, ( or : or <, or the
# output of $(dirname ...)), measured in steps against the depth of the file holding it.
# One perl pass over every file (a few processes per file made this check the slowest
# unit test).
while IFS= read -r hit; do bad "$hit"; done < <(perl -ne '
  my $depth = ($ARGV =~ tr{/}{});
  while (m{(?:^|[ "\x27=(:<]|\)/)((?:\.\./)+)}g) {
    my $run = $1;
    my $steps = () = $run =~ m{\.\./}g;
    print "$ARGV: \x27$run\x27 climbs $steps levels from a file $depth deep\n" if $steps > $depth;
  }
  close ARGV if eof;' -- "${files[@]}")

# The vectors are the bytes their README describes.
if ! (cd tests/vectors/data && sha256sum --quiet -c SHA256SUMS); then
  bad "tests/vectors/data differs from its SHA256SUMS"
fi
listed=$(wc -l <tests/vectors/data/SHA256SUMS)
present=$(git ls-files tests/vectors/data | grep -v -e '/README.md$' -e '/SHA256SUMS$' | wc -l)
((listed == present)) || bad "tests/vectors/data holds $present tracked files, SHA256SUMS lists $listed"
while read -r sum path; do
  grep -q "\`$sum\` | $path |" tests/vectors/data/README.md ||
    bad "tests/vectors/data/README.md does not give $path's SHA-256"
done <tests/vectors/data/SHA256SUMS

if ((fail)); then exit 1; fi
echo "self-contained: ${#files[@]} tracked text files refer to nothing outside the tree; $listed vectors match"
