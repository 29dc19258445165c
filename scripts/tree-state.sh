#!/usr/bin/env bash
# What git sees changed or untracked in the source tree (build trees are ignored). `make
# test` takes it before and after the tests: a test that writes into the tree (rather
# than its own temporary folder) makes them differ. Prints nothing outside a git checkout.
cd "$(dirname "$0")/.." || exit 1
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0
git status --porcelain --untracked-files=all
