package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/envelope"
)

var hydrateVars = map[string]string{
	"STREAMDLQ_ALLOWED_STREAMS":       "comma-separated stream ARN patterns that may be read (* wildcard); required",
	"STREAMDLQ_ROLE_MAP":              "comma-separated ACCOUNT=ROLE_ARN to assume for other accounts' streams",
	"STREAMDLQ_DEAGGREGATE":           "split KPL-aggregated Kinesis records (true/false)",
	"STREAMDLQ_ARCHIVE_BUCKET":        "S3 bucket of the archive",
	"STREAMDLQ_ARCHIVE_PREFIX":        "key prefix in the archive bucket",
	"STREAMDLQ_DLQ_URL":               "URL of the SQS dead-letter queue",
	"STREAMDLQ_EVENT_BUS":             "EventBridge bus to announce failures on (empty: none)",
	"STREAMDLQ_KMS_KEY_ID":            "KMS key for SSE-KMS archive objects (empty: SSE-S3)",
	"STREAMDLQ_ALLOWED_KAFKA_SERVERS": "comma-separated host:port patterns (* wildcard) of Kafka bootstrap servers that may be read",
	"STREAMDLQ_KAFKA_TLS":             "connect to Kafka with TLS (true/false, default true)",
	"STREAMDLQ_KAFKA_TLS_CA":          "PEM file of CA certificates trusted for Kafka besides the system roots",
	"STREAMDLQ_KAFKA_AUTH":            "Kafka authentication: none, scram-sha-512, scram-sha-256, iam (MSK IAM) or mtls",
	"STREAMDLQ_KAFKA_SECRET_ARN":      "Secrets Manager secret with the Kafka SCRAM user or client certificate",
}

func runHydrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hydrate", flag.ContinueOnError)
	event := fs.String("event", "", "on-failure input: a file in any supported shape (SNS, SQS, S3 object, bare record, Pipes DLQ), or - for stdin")
	dryRun := fs.Bool("dry-run", false, "hydrate and print only; write nothing to the archive, the DLQ or the bus")
	env := newEnvFlags(fs, hydrateVars)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq hydrate --event FILE|- [--dry-run] [flags]\n\nPrints one hydrated failure document (JSON) per line on stdout; logs go to stderr.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 0); err != nil {
		return err
	}
	payload, err := readInput(*event, os.Stdin)
	if err != nil {
		return err
	}
	c, err := hydrate.LoadConfig(env.lookup, !*dryRun)
	if err != nil {
		return usageError{err}
	}
	if c.Allowed.Empty() {
		return usageError{errors.New("no stream allowlist: set STREAMDLQ_ALLOWED_STREAMS or --allowed-streams to the stream ARN(s) you mean to read, e.g. arn:aws:kinesis:us-east-1:123456789012:stream/orders")}
	}
	log := awsenv.Logger(stderr)
	ctx = log.WithContext(ctx)
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	h := hydrate.NewFromConfig(cfg, c, *dryRun, func(o *hydrate.HandlerOptions) {
		o.Emit = func(doc *archive.Document, _ *hydrate.Captured) { _ = enc.Encode(doc) }
	})
	_, err = h.Handle(ctx, payload)
	var pe *envelope.ParseError
	if errors.As(err, &pe) {
		return usageError{err}
	}
	return err
}
