#!/usr/bin/env bash
# bench.sh — run by `make bench` inside the local AWS (scripts/localaws.sh run).
#
# Runs the benchmarks that hold the design's performance figures, saves their raw
# output under .cache/bench/, and has test/bench/benchreport add a dated table (value, floor,
# ratio) at the top of BENCHMARKS.md's "Latest" part.
#
#   BENCH_COUNT=5 make bench      repeat each benchmark (medians in the table; raw
#                                 output ready for benchstat)
#   BENCH_RANGE=1 make bench      also the peak RSS over a 100,000-record Kinesis range
#                                 (slow; the DynamoDB Streams one always runs)
#
# Compare two runs with benchstat (golang.org/x/perf/cmd/benchstat, needs the network
# once): benchstat .cache/bench/OLD.txt .cache/bench/NEW.txt
set -euo pipefail
cd "$(dirname "$0")/.."
count=${BENCH_COUNT:-1}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p .cache/bench
out=".cache/bench/$(date -u +%Y%m%dT%H%M%SZ)-$commit.txt"

bench() {
  local pkg=$1 pattern=$2 benchtime=$3
  echo "== $pkg $pattern ($benchtime)" >&2
  go test -run '^$' -bench "$pattern" -benchtime "$benchtime" -benchmem -count "$count" -timeout 30m "$pkg" | tee -a "$out"
}

# In process, no AWS: encode + compress, redrive's rate controller on a simulated
# clock against kinesislimit's per-shard limits, and against a fake consumer function.
# (-bench splits its pattern at each / into one pattern per sub-benchmark level.)
bench ./archive '^BenchmarkEncode$/^object$/^(kinesis|dynamodb)$/^(archive|klauspost-default)$' 1s
bench ./archive '^BenchmarkEncode$/^message$/^(kinesis|dynamodb)$' 1s
bench ./redrive '^BenchmarkControllerSimulated$' 1x
# The consumer target against a function that answers 429 above its concurrency limit
# (lambdafn over HTTP on localhost; about 35 s).
bench ./redrive '^BenchmarkConsumerThrottled$' 1x
# Against the local AWS: read cost, end to end, and the built bootstraps.
bench ./test/bench '^BenchmarkDynamoDBRead$' 3x
bench ./test/bench '^BenchmarkHydrate$/^e2e-records=10$' 20x
bench ./test/bench '^BenchmarkHydrate$/^(e2e-records=10000|rss-records=10000)$' 3x
# The 100,000-record / 60 MB range on DynamoDB Streams, and its first 10,000 records
# (one run, so the items are written once): DynamoDB Local takes the items in about
# 30 s, the whole run takes about 80 s.
bench ./test/bench '^BenchmarkHydrate$/^rss-dynamodb-records=(10000|100000)$' 1x
# The same range on Kinesis, only when asked (BENCH_RANGE=1): kinesis-local slows
# down as a shard grows and had not taken the 100,000 records after 49 minutes on the
# shared 2-core machine, longer than the 30-minute timeout above.
if [[ ${BENCH_RANGE:-} == 1 ]]; then
  bench ./test/bench '^BenchmarkHydrate$/^rss-records=100000$' 1x
fi
bench ./test/bench '^BenchmarkColdStart$' 1x
bench ./internal/kafka '^BenchmarkKafkaRead$' 3x
# Last: kinesis-local takes minutes to take the 25,000 records this one writes.
bench ./internal/stream '^BenchmarkKinesisRead$' 1x

go run ./test/bench/benchreport -raw "$out" -commit "$commit"
