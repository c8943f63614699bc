#!/usr/bin/env bash
# fuzz-targets.sh — prints "PACKAGE FuzzName" for every fuzz target in the module.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | sort | while read -r f; do
  pkg="./$(dirname "${f#./}")"
  grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | sed 's/^func //' | while read -r name; do echo "$pkg $name"; done
done
