#!/usr/bin/env bash
# chaos.sh — run by `make chaos` inside the local AWS (scripts/localaws.sh run).
#
# The long reliability run: the seeded fault matrix (internal/chaos) for CHAOS_RUNS
# runs from CHAOS_SEED, writing its table into RELIABILITY.md; the hostile-input and
# security tests; the template's policy checks; then every fuzz target for FUZZTIME.
# `make test` runs the same matrix for 50 runs (the package's default).
#
#   CHAOS_RUNS=500 CHAOS_SEED=1000 FUZZTIME=10m make chaos     (the defaults)
#   go test ./internal/chaos -run 'TestChaos$' -v -args -chaos.seed=S -chaos.runs=1
#                                       replays run S (under scripts/localaws.sh run)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${CHAOS_RUNS:-500}
seed=${CHAOS_SEED:-1000}
fuzztime=${FUZZTIME:-10m}

echo "== fault matrix: $runs runs from seed $seed; hostile inputs; security checks"
go test -count=1 -timeout 120m -v ./internal/chaos \
  -args -chaos.runs="$runs" -chaos.seed="$seed" -chaos.report="$PWD/RELIABILITY.md" |
  grep -v '^{' # the flow's own log lines are scanned by the test, not shown

echo "== template: scoped identity policies, bucket denies non-TLS"
go test -count=1 -run 'TestIdentityPoliciesScoped|TestBucketPolicyDeniesInsecureTransport' ./internal/samtemplate

echo "== fuzz ($fuzztime each)"
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
done < <(scripts/fuzz-targets.sh)
