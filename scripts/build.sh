#!/usr/bin/env bash
# build.sh — `make build`: the Lambda bootstraps, linux/arm64 as deployed, into
# bin/hydrate/bootstrap and bin/redrive/bootstrap. It runs the same Makefile targets
# `sam build` runs (build-HydrateFunction, build-RedriveFunction), so the binaries are
# the ones SAM would package.
set -euo pipefail
cd "$(dirname "$0")/.."

for fn in Hydrate Redrive; do
  dir="$PWD/bin/${fn,,}"
  mkdir -p "$dir"
  make --no-print-directory "build-${fn}Function" ARTIFACTS_DIR="$dir"
  printf 'build: %s (%s bytes)\n' "bin/${fn,,}/bootstrap" "$(wc -c <"$dir/bootstrap")"
done
