#!/usr/bin/env bash
# test.sh — run by `make test` inside the local AWS (scripts/localaws.sh run).
set -euo pipefail
cd "$(dirname "$0")/.."
# Fuzz by execution count: a count has no deadline, so no coordinator race (scripts/fuzz.sh).
fuzztime=${FUZZTIME:-50000x}

echo "== gofmt, go vet, staticcheck (pinned in go.mod's tool line)"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
go vet ./...
go tool staticcheck ./...

echo "== go test -race (unit + integration against the local AWS)"
go test -race ${GO_TEST_FLAGS:--count=1 -timeout 20m} ./...

for check in scripts/check-*.sh; do
  [ -e "$check" ] || continue
  echo "== $check"
  "$check"
done

echo "== fuzz ($fuzztime each)"
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  scripts/fuzz.sh "$pkg" "$target" "$fuzztime"
done < <(scripts/fuzz-targets.sh)
