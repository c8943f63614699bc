# streamdlq — the README's two commands are `make demo` and `make test`.
# Both install what they need into gitignored places (.venv, node_modules, .cache)
# and run inside a private loopback-only network with the local AWS started for them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
LOCALAWS := scripts/localaws.sh
GO_TEST_FLAGS ?= -count=1 -timeout 20m
# Short fuzzing in `make test` (an execution count per target: no deadline race, see
# scripts/fuzz.sh); `make chaos` fuzzes for longer.
FUZZTIME ?= 50000x

.PHONY: all install test demo build bench chaos clean

all: test

install:
	$(LOCALAWS) install

## test: everything CI runs — go.mod tidy, gofmt, vet, staticcheck, unit + integration
## tests with the race detector against the local AWS, short fuzzing, the template
## checks and the short chaos run. (The tidy check needs the module proxy, so it runs
## before the offline, loopback-only namespace.)
test: install
	go mod tidy -diff
	$(LOCALAWS) run scripts/test.sh

## demo: the main job on a local AWS — failed batches rescued, archived, queued and
## replayed, with a report; under a minute once installed.
demo: install
	$(LOCALAWS) run go run ./cmd/demo

## build: the Lambda bootstrap binaries (linux/arm64, as deployed) into bin/.
build:
	scripts/build.sh

clean:
	rm -rf bin .aws-sam

# sam build (template.yaml, Metadata: BuildMethod: makefile) runs these with ARTIFACTS_DIR
# set; scripts/build.sh runs them into bin/, so a bootstrap is built one way only.
build-HydrateFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./cmd/hydrate

build-RedriveFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./cmd/redrive

## bench: the performance figures against the design's floors on the local AWS; adds
## a dated table to BENCHMARKS.md (raw output in .cache/bench/ for benchstat).
bench: install
	$(LOCALAWS) run scripts/bench.sh

## chaos: the long reliability run — 500 seeded fault-matrix runs (RELIABILITY.md's
## table), hostile inputs, security checks, and FUZZTIME (10m) per fuzz target.
CHAOS_FUZZTIME ?= 10m
chaos: install
	$(LOCALAWS) run env FUZZTIME=$(CHAOS_FUZZTIME) scripts/chaos.sh
