#!/usr/bin/env bash
# chaos.sh — run by `make chaos` inside the local AWS (scripts/localaws.sh run).
#
# The long reliability run: the seeded fault matrix (test/chaos) for CHAOS_RUNS
# runs from CHAOS_SEED, writing its table into RELIABILITY.md; the hostile-input and
# security tests; the template's policy checks; and, beside them, every fuzz target for
# FUZZTIME. The fuzzing runs in the background from the start: it is bounded by time,
# not work, so the matrix beside it costs it executions, not minutes, and the whole run
# takes about as long as the fuzzing alone (two hours at the default on two cores,
# instead of two and a half one after the other).
# `make test` runs the same matrix for 50 runs (the package's default).
#
#   CHAOS_RUNS=500 CHAOS_SEED=1000 FUZZTIME=10m make chaos     (the defaults)
#   go test ./test/chaos -run 'TestChaos$' -v -args -chaos.seed=S -chaos.runs=1
#                                       replays run S (under scripts/localaws.sh run)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${CHAOS_RUNS:-500}
seed=${CHAOS_SEED:-1000}
fuzztime=${FUZZTIME:-10m}

# Every part runs even when an earlier one failed; the exit status says whether any did.
failed=()

results=$(mktemp) out=$(mktemp) fuzzlog=$(mktemp) fuzzfailed=$(mktemp)
trap 'rm -f "$results" "$out" "$fuzzlog" "$fuzzfailed"' EXIT

# fuzz_all fuzzes every target in turn, writing the results table to $results and the
# name of each target that failed to $fuzzfailed.
fuzz_all() {
  printf '| Package | Target | Fuzzed for | Executions | New interesting inputs | Result |\n|---|---|---|---:|---:|---|\n' >"$results"
  while read -r pkg target; do
    [ -n "$pkg" ] || continue
    result="no crash"
    scripts/fuzz.sh "$pkg" "$target" "$fuzztime" >"$out" 2>&1 || {
      result="**failed** (input under $pkg/testdata/fuzz/$target)"; echo "$pkg $target" >>"$fuzzfailed"; }
    cat "$out"
    # The last progress line: "fuzz: elapsed: 10m0s, execs: 123 (205/sec), new interesting: 4 (total: 50)"
    last=$(grep -E '^fuzz: elapsed: ' "$out" | tail -n 1 || true)
    execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
    newer=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
    printf '| `%s` | %s | %s | %s | %s | %s |\n' "$pkg" "$target" "$fuzztime" "${execs:-?}" "${newer:-?}" "$result" >>"$results"
  done < <(scripts/fuzz-targets.sh)
}

echo "== fuzz ($fuzztime each), in the background; its output follows the matrix's"
fuzz_all >"$fuzzlog" 2>&1 &
fuzzpid=$!

echo "== fault matrix: $runs runs from seed $seed; hostile inputs; security checks"
go test -count=1 -timeout 150m -v ./test/chaos \
  -args -chaos.runs="$runs" -chaos.seed="$seed" -chaos.report="$PWD/RELIABILITY.md" || failed+=("test/chaos")

echo "== template: scoped identity policies, bucket denies non-TLS"
go test -count=1 -run 'TestIdentityPoliciesScoped|TestBucketPolicyDeniesInsecureTransport' ./test/template ||
  failed+=("test/template policies")

echo "== fuzz: waiting for the fuzzing to finish"
wait "$fuzzpid" || failed+=("fuzz runner")
cat "$fuzzlog"
while read -r f; do failed+=("$f"); done <"$fuzzfailed"

# Put the table between the fuzz markers of RELIABILITY.md.
awk -v table="$results" '
  /<!-- chaos: begin fuzz results/ { print; print ""; while ((getline line < table) > 0) print line; print ""; skip = 1; next }
  /<!-- chaos: end fuzz results/ { skip = 0 }
  !skip' RELIABILITY.md >RELIABILITY.md.new && mv RELIABILITY.md.new RELIABILITY.md

if [ ${#failed[@]} -gt 0 ]; then
  printf 'chaos: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
