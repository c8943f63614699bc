package template

import (
	"context"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/internal/testkit/runtimeapi"
)

// BenchmarkColdStart measures each bootstrap (built for this host) from process start
// to its first /next request: config parsing, SDK config and client set-up - what
// Lambda bills as Init Duration, less the download of the code. No AWS call is made
// before the first invocation, so no emulator is needed.
func BenchmarkColdStart(b *testing.B) {
	env := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDCOLDSTART", "AWS_SECRET_ACCESS_KEY=coldstart",
		"STREAMDLQ_ARCHIVE_BUCKET=archive", "STREAMDLQ_ARCHIVE_PREFIX=streamdlq",
		"STREAMDLQ_DLQ_URL=https://sqs.us-east-1.amazonaws.com/000000000000/dlq",
		"STREAMDLQ_PARKING_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/000000000000/parking",
		"STREAMDLQ_ALLOWED_STREAMS=arn:aws:kinesis:us-east-1:000000000000:stream/orders",
	}
	for _, fn := range []string{"hydrate", "redrive"} {
		b.Run(fn, func(b *testing.B) {
			bin := buildBootstrap(b, "./cmd/"+fn)
			var total time.Duration
			for b.Loop() {
				f := runtimeapi.Start(b, bin, env)
				d, err := f.InitDuration(context.Background())
				if err != nil {
					b.Fatalf("%v\n%s", err, f.Logs())
				}
				total += d
				f.Stop()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "init-ms/op")
		})
	}
}
