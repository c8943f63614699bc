// Package testkit is the one test kit of the harness: it connects integration tests to
// the local AWS that `make test` starts (scripts/localaws.sh): kinesis-local, DynamoDB
// Local and moto server, reached through the SDK's standard AWS_ENDPOINT_URL_*
// variables; it sets up streams, tables, queues and buckets (resources.go); it holds
// the SDK middlewares tests use to count, fail or answer calls (middleware.go) and the
// retention simulation the demo and the fault matrix share (retention.go).
//
// Under `make test` (STREAMDLQ_LOCALAWS=1) an unreachable emulator fails the test.
// Under a plain `go test` the integration tests skip, saying how to run them.
package testkit

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Services, named as in AWS_ENDPOINT_URL_<SERVICE>.
const (
	Kinesis         = "KINESIS"
	DynamoDB        = "DYNAMODB"
	DynamoDBStreams = "DYNAMODB_STREAMS"
	Moto            = "" // AWS_ENDPOINT_URL: SQS, S3, SNS, EventBridge, STS
)

// Config returns an aws.Config for the local AWS after checking that the named
// services' emulators answer. It skips the test outside `make test`.
func Config(t testing.TB, services ...string) aws.Config {
	t.Helper()
	if os.Getenv("STREAMDLQ_LOCALAWS") != "1" {
		t.Skip("integration test: needs the local AWS; run `make test` (or scripts/localaws.sh run go test ./...)")
	}
	for _, s := range services {
		if err := reachable(s); err != nil {
			t.Fatalf("local AWS is not reachable: %v", err)
		}
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

func reachable(service string) error {
	name := "AWS_ENDPOINT_URL"
	if service != "" {
		name += "_" + service
	}
	raw := os.Getenv(name)
	if raw == "" {
		return fmt.Errorf("%s is not set", name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s=%q: %w", name, raw, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		return fmt.Errorf("%s=%s: %w", name, raw, err)
	}
	return conn.Close()
}

var seq atomic.Int64

// Name returns a resource name unique within this test binary run, built from the
// test's name so leftovers are easy to trace. It uses only [a-zA-Z0-9-].
func Name(t testing.TB, prefix string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	base := b.String()
	if len(base) > 30 {
		base = base[len(base)-30:]
	}
	return strings.ToLower(fmt.Sprintf("%s-%s-%d-%d", prefix, strings.Trim(base, "-"), time.Now().UnixNano()%1e6, seq.Add(1)))
}
