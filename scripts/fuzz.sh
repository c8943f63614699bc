#!/usr/bin/env bash
# fuzz.sh PKG TARGET FUZZTIME — fuzzes one target; used by scripts/test.sh and scripts/chaos.sh.
#
# FUZZTIME is a duration (10m) or an execution count (50000x). A duration has a known race
# in Go's fuzz coordinator (golang/go#51484, #75804): when the deadline fires while a worker
# is mid-call the run can end in a bare "context deadline exceeded" with nothing found. So
# a failure counts as a finding when the engine wrote a failing input or printed anything
# but that bare deadline; a bare deadline is reported, and the target's corpus is then
# replayed deterministically, which must pass. A count has no deadline and no such race,
# which is why `make test` fuzzes by count.
set -uo pipefail
cd "$(dirname "$0")/.."
pkg=$1 target=$2 fuzztime=$3

out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && exit 0

# The lines after "--- FAIL:" say why; a real finding writes "Failing input written to".
why=$(sed -n '/^--- FAIL: /,$p' "$out" | grep -vE '^(--- FAIL: |FAIL|exit status |ok )' | sed 's/^[[:space:]]*//' | grep -v '^$')
if grep -q 'Failing input written to' "$out" || [ "$why" != "context deadline exceeded" ]; then
  echo "fuzz.sh: $target in $pkg found a failure (see above)" >&2
  exit 1
fi
echo "fuzz.sh: $target ended in the fuzz coordinator's deadline race with no failing input; replaying its corpus"
go test -count=1 -run="^${target}\$" "$pkg"
