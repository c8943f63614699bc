#!/usr/bin/env bash
# check-template.sh — run by scripts/test.sh inside the local AWS's network namespace
# (no internet; .venv/bin on PATH). Lints template.yaml with cfn-lint and
# `sam validate --lint`, builds both functions with `sam build` the way samconfig.toml
# says (makefile build method, in source, no Docker), and checks that each bootstrap is
# a linux/arm64 ELF executable built with -tags lambda.norpc and no cgo.
set -euo pipefail
cd "$(dirname "$0")/.."

# No telemetry, and SAM's global config (install id, version-check time) kept in the
# gitignored .cache instead of ~/.aws-sam. SAM's weekly PyPI version check fails fast
# here (no network) and is only logged at debug level.
export SAM_CLI_TELEMETRY=0
export __SAM_CLI_APP_DIR="$PWD/.cache/sam"
region=${AWS_REGION:-us-east-1}
fail() { printf 'check-template: %s\n' "$*" >&2; exit 1; }

echo "-- cfn-lint template.yaml"
cfn-lint --regions "$region" -- template.yaml

echo "-- sam validate --lint"
sam validate --lint --region "$region" --template-file template.yaml

echo "-- sam build (samconfig.toml: build_in_source, no container)"
rm -rf .aws-sam/build
log=$(sam build --template-file template.yaml 2>&1) || { printf '%s\n' "$log" >&2; fail "sam build failed"; }
# Building out of source would first copy the repository root (node_modules, .venv,
# .cache: hundreds of MB) into a scratch directory.
if grep -q 'CopySource' <<<"$log"; then
  printf '%s\n' "$log" >&2
  fail "sam build copied the sources to a scratch directory; want build_in_source"
fi

# check_bootstrap FILE — ELF64, little-endian, executable (ET_EXEC or PIE), AArch64;
# built by Go for linux/arm64 with lambda.norpc and without cgo.
check_bootstrap() {
  local f=$1 hdr info
  [ -x "$f" ] || fail "$f: missing or not executable"
  hdr=$(od -An -tx1 -N20 "$f" | tr -d ' \n')
  [ "${hdr:0:12}" = 7f454c460201 ] || fail "$f: not a 64-bit little-endian ELF file (header $hdr)"
  case "${hdr:32:4}" in 0200 | 0300) ;; *) fail "$f: ELF type ${hdr:32:4}, want an executable" ;; esac
  [ "${hdr:36:4}" = b700 ] || fail "$f: ELF machine ${hdr:36:4}, want b700 (AArch64)"
  info=$(go version -m "$f") || fail "$f: no Go build information"
  for want in 'GOOS=linux' 'GOARCH=arm64' 'CGO_ENABLED=0' '-tags=lambda.norpc'; do
    grep -qF -- "$want" <<<"$info" || fail "$f: built without $want"
  done
  printf 'check-template: %s is a linux/arm64 bootstrap (%s bytes)\n' "$f" "$(wc -c <"$f")"
}

for fn in HydrateFunction RedriveFunction; do
  check_bootstrap ".aws-sam/build/$fn/bootstrap"
done
