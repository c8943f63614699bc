package bench

import "fmt"

// Figures are the measurements BENCHMARKS.md tracks, with the floors the design
// sets: the least possible API calls per hydrated batch, encode throughput and
// allocations, peak RSS, cold start, binary size, and redrive's use of a stream's
// write capacity.
func Figures() []Figure {
	var fs []Figure
	for _, n := range []int{1, 100, 10_000, 25_000} {
		fs = append(fs, Figure{Name: fmt.Sprintf("Kinesis read, N=%d: API calls per batch", n), Package: "internal/stream",
			Benchmark: fmt.Sprintf("BenchmarkKinesisRead/N=%d", n), Unit: "apicalls/batch", Dir: AtMost, FloorUnit: "min-apicalls/batch"})
	}
	for _, n := range []int{1, 100, 10_000, 25_000} {
		fs = append(fs, Figure{Name: fmt.Sprintf("DynamoDB Streams read, N=%d: API calls per batch", n), Package: "test/bench",
			Benchmark: fmt.Sprintf("BenchmarkDynamoDBRead/records=%d", n), Unit: "calls/read", Dir: AtMost, FloorUnit: "min-calls/read"})
	}
	for _, n := range []int{1, 100, 10_000, 25_000} {
		fs = append(fs,
			Figure{Name: fmt.Sprintf("Kafka read, N=%d: Fetch requests per batch", n), Package: "internal/kafka",
				Benchmark: fmt.Sprintf("BenchmarkKafkaRead/N=%d", n), Unit: "fetches/batch", Dir: AtMost, FloorUnit: "min-fetches/batch"},
			Figure{Name: fmt.Sprintf("Kafka read, N=%d: requests per batch (Metadata + Fetch)", n), Package: "internal/kafka",
				Benchmark: fmt.Sprintf("BenchmarkKafkaRead/N=%d", n), Unit: "apicalls/batch", Dir: AtMost, FloorUnit: "min-apicalls/batch"},
			Figure{Name: fmt.Sprintf("Kafka read, N=%d: records hydrated per second (local broker)", n), Package: "internal/kafka",
				Benchmark: fmt.Sprintf("BenchmarkKafkaRead/N=%d", n), Unit: "records/s", Dir: NoFloor})
	}
	for _, shape := range []string{"kinesis", "dynamodb"} {
		for _, form := range []struct{ name, bench string }{
			{"archive object (JSON Lines + gzip)", "BenchmarkEncode/object/" + shape + "/archive"},
			{"DLQ message body", "BenchmarkEncode/message/" + shape},
		} {
			fs = append(fs,
				Figure{Name: fmt.Sprintf("Encode %s records → %s, JSON written (before compression) per CPU-second", shape, form.name), Package: "archive", Benchmark: form.bench, Unit: "json-MB/cpu-s", Dir: AtLeast, Floor: 100},
				Figure{Name: fmt.Sprintf("Encode %s records → %s, records per CPU-second", shape, form.name), Package: "archive", Benchmark: form.bench, Unit: "records/cpu-s", Dir: NoFloor},
				Figure{Name: fmt.Sprintf("Encode %s records → %s, payload per CPU-second", shape, form.name), Package: "archive", Benchmark: form.bench, Unit: "MB/cpu-s", Dir: NoFloor},
				Figure{Name: fmt.Sprintf("Encode %s records → %s: allocations", shape, form.name), Package: "archive", Benchmark: form.bench, Unit: "allocs/record", Dir: AtMost, Floor: 5})
		}
	}
	for _, enc := range []struct{ name, bench string }{
		{"DynamoDB encoder alone (JSON text, no gzip)", "ddbEncoder"},
		{"For comparison: the DynamoDB encoder before the rewrite for speed", "oldDDBEncoder"},
	} {
		fs = append(fs, Figure{Name: enc.name, Package: "archive", Benchmark: "BenchmarkEncode/records/dynamodb/" + enc.bench, Unit: "json-MB/cpu-s", Dir: NoFloor})
	}
	for _, shape := range []string{"kinesis", "dynamodb"} {
		fs = append(fs, Figure{Name: fmt.Sprintf("For comparison: %s archive object with gzip's default level", shape), Package: "archive",
			Benchmark: "BenchmarkEncode/object/" + shape + "/klauspost-default", Unit: "json-MB/cpu-s", Dir: NoFloor})
	}
	fs = append(fs, Figure{Name: "Peak RSS of the hydrate bootstrap, 10,000 records / 6 MB batch", Package: "test/bench",
		Benchmark: "BenchmarkHydrate/rss-records=10000", Unit: "peak-rss-MB", Dir: AtMost, Floor: 48})
	// The 100,000-record range is a DynamoDB Streams one: DynamoDB Local takes it in
	// half a minute, kinesis-local not in 49 (its range runs only with BENCH_RANGE=1,
	// reported in the raw output only).
	const ddbRange = "BenchmarkHydrate/rss-dynamodb-records=100000"
	fs = append(fs,
		Figure{Name: "Peak RSS of the hydrate bootstrap, 100,000-record / 60 MB DynamoDB Streams range (60 MB of items)", Package: "test/bench",
			Benchmark: ddbRange, Unit: "peak-rss-MB", Dir: AtMost, Floor: 64},
		Figure{Name: "Peak RSS of the hydrate bootstrap, the first 10,000 records of the same range (does the peak grow with the range?)", Package: "test/bench",
			Benchmark: "BenchmarkHydrate/rss-dynamodb-records=10000", Unit: "peak-rss-MB", Dir: NoFloor},
		Figure{Name: "100,000-record DynamoDB Streams range: archive object as JSON Lines (before compression), MiB", Package: "test/bench",
			Benchmark: ddbRange, Unit: "archive-json-MB", Dir: NoFloor},
		Figure{Name: "100,000-record DynamoDB Streams range: archive object as stored (gzip), MiB", Package: "test/bench",
			Benchmark: ddbRange, Unit: "archive-gz-MB", Dir: NoFloor},
		Figure{Name: "100,000-record DynamoDB Streams range: hydrate bootstrap CPU time (user + system, init included)", Package: "test/bench",
			Benchmark: ddbRange, Unit: "cpu-ms/invocation", Dir: NoFloor})
	for _, fn := range []string{"hydrate", "redrive"} {
		fs = append(fs,
			Figure{Name: fn + " bootstrap cold start (process start → first /next), median of 20", Package: "test/bench",
				Benchmark: "BenchmarkColdStart/" + fn, Unit: "init-ms-median", Dir: AtMost, Floor: 30},
			Figure{Name: fn + " bootstrap size (linux/amd64, stripped)", Package: "test/bench",
				Benchmark: "BenchmarkColdStart/" + fn, Unit: "binary-MB", Dir: AtMost, Floor: 20})
	}
	for _, shards := range []int{1, 4} {
		bench := fmt.Sprintf("BenchmarkControllerSimulated/shards=%d", shards)
		fs = append(fs,
			Figure{Name: fmt.Sprintf("Redrive to Kinesis, %d shard(s): delivered / capacity after warm-up", shards), Package: "redrive",
				Benchmark: bench, Unit: "capacity-fraction", Dir: AtLeast, Floor: 0.90},
			Figure{Name: fmt.Sprintf("Redrive to Kinesis, %d shard(s): throttled fraction after warm-up", shards), Package: "redrive",
				Benchmark: bench, Unit: "throttled-fraction", Dir: AtMost, Floor: 0.05})
	}
	for _, c := range []struct{ bench, name string }{
		{"concurrency=1", "concurrency 1"},
		{"concurrency=1/live=1", "concurrency 1 shared with 1 live poller"},
		{"concurrency=2/live=2", "concurrency 2 shared with 2 live pollers"},
	} {
		bench := "BenchmarkConsumerThrottled/" + c.bench
		fs = append(fs,
			Figure{Name: fmt.Sprintf("Redrive to the consumer function (429 above its %s): delivered records/s", c.name), Package: "redrive", Benchmark: bench, Unit: "records/s", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("Redrive to the consumer function (429 above its %s): capacity used, live included", c.name), Package: "redrive", Benchmark: bench, Unit: "capacity-fraction", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("Redrive to the consumer function (429 above its %s): throttled fraction", c.name), Package: "redrive", Benchmark: bench, Unit: "throttled-fraction", Dir: NoFloor})
	}
	for _, n := range []int{10, 10_000} {
		bench := fmt.Sprintf("BenchmarkHydrate/e2e-records=%d", n)
		fs = append(fs,
			Figure{Name: fmt.Sprintf("End to end hydrate → archive → DLQ, %d-record failures", n), Package: "test/bench", Benchmark: bench, Unit: "failures/s", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("End to end hydrate → archive → DLQ, %d-record failures", n), Package: "test/bench", Benchmark: bench, Unit: "records/s", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("%d-record failure: CPU time in process", n), Package: "test/bench", Benchmark: bench, Unit: "cpu-ms/failure", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("%d-record failure: estimated Lambda duration at 128 MB (CPU × 1769/128 + waiting)", n), Package: "test/bench", Benchmark: bench, Unit: "lambda-ms/failure", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("%d-record failure: Lambda duration at 128 MB from CPU alone (CPU × 1769/128; lower bound)", n), Package: "test/bench", Benchmark: bench, Unit: "lambda-cpu-ms/failure", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("1,000 %d-record failures at 128 MB arm64: Lambda (duration + requests), USD", n), Package: "test/bench", Benchmark: bench, Unit: "lambda-usd/1k-failures", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("1,000 %d-record failures at 128 MB arm64: Lambda from CPU alone (lower bound), USD", n), Package: "test/bench", Benchmark: bench, Unit: "lambda-cpu-usd/1k-failures", Dir: NoFloor},
			Figure{Name: fmt.Sprintf("1,000 %d-record failures: Lambda + S3 + SQS + EventBridge requests, USD", n), Package: "test/bench", Benchmark: bench, Unit: "usd/1k-failures", Dir: NoFloor})
	}
	return fs
}
