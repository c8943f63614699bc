package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/redrive"
)

var redriveVars = map[string]string{
	"STREAMDLQ_DLQ_URL":               "URL of the SQS dead-letter queue to redrive from",
	"STREAMDLQ_PARKING_QUEUE_URL":     "parking queue for poison messages",
	"STREAMDLQ_ARCHIVE_BUCKET":        "S3 bucket of the archive (claim checks, --from-archive)",
	"STREAMDLQ_ARCHIVE_PREFIX":        "key prefix in the archive bucket",
	"STREAMDLQ_REDRIVE_TARGETS":       "comma-separated PATTERN=TARGET routes (TARGET: kinesis, lambda:NAME, events:BUS, sqs:URL, kafka, kafka:TOPIC)",
	"STREAMDLQ_REDRIVE_MAX_RATE":      "ceiling in records/s per target (Kinesis default: its open shards' capacity x share)",
	"STREAMDLQ_REDRIVE_MAX_BYTES":     "ceiling in bytes/s per target",
	"STREAMDLQ_REDRIVE_SHARE":         "share of a Kinesis target's capacity to use, leaving the rest to live producers (default 0.5)",
	"STREAMDLQ_MAX_RECEIVE_COUNT":     "receives after which a failing message is parked (default 5)",
	"STREAMDLQ_KMS_KEY_ID":            "KMS key for claim checks of replaced messages",
	"STREAMDLQ_REDRIVE_RATE":          "starting rate in records/s (default: half the ceiling)",
	"STREAMDLQ_REDRIVE_KAFKA_BROKERS": "bootstrap servers (host:port,...) of the cluster kafka and kafka:TOPIC targets produce to",
	"STREAMDLQ_KAFKA_TLS":             "connect to Kafka with TLS (true/false, default true)",
	"STREAMDLQ_KAFKA_TLS_CA":          "PEM file of CA certificates trusted for Kafka besides the system roots",
	"STREAMDLQ_KAFKA_AUTH":            "Kafka authentication: none, scram-sha-512, scram-sha-256, iam (MSK IAM) or mtls",
	"STREAMDLQ_KAFKA_SECRET_ARN":      "Secrets Manager secret with the Kafka SCRAM user or client certificate",
}

func runRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fromQueue := fs.String("from-queue", "", "redrive from this DLQ URL (default STREAMDLQ_DLQ_URL)")
	fromArchive := fs.String("from-archive", "", "redrive from the archive instead: s3://BUCKET[/PREFIX]")
	since := fs.String("since", "", "with --from-archive: first day (YYYY-MM-DD, UTC) of the failures")
	until := fs.String("until", "", "with --from-archive: last day (YYYY-MM-DD, UTC)")
	to := fs.String("to", "", "send every failure here: kinesis (its source stream), lambda:NAME, events:BUS, sqs:URL, kafka (its source topic) or kafka:TOPIC")
	rate := fs.Float64("rate", 0, "starting rate in records/s")
	streamFilter := fs.String("stream", "", "only failures of streams matching this glob (name or ARN)")
	shard := fs.String("shard", "", "only failures of this shard")
	condition := fs.String("condition", "", "only failures with this on-failure condition")
	dryRun := fs.Bool("dry-run", false, "report what would be sent where; send, delete and park nothing")
	budget := fs.Duration("budget", 0, "stop taking new work after this long (default: until drained)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	env := newEnvFlags(fs, redriveVars)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq redrive [--from-queue URL | --from-archive s3://BUCKET/PREFIX --since DAY --until DAY]\n                        [--to kinesis|lambda:NAME|events:BUS|sqs:URL|kafka|kafka:TOPIC] [--rate N] [--dry-run]\n\nReplays failures to their targets under throttle awareness; a DLQ message is deleted only\nafter every record in it was delivered.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 0); err != nil {
		return err
	}
	if *fromQueue != "" {
		*env["STREAMDLQ_DLQ_URL"] = *fromQueue
	}
	c, err := redriveConfig(env, *fromArchive, *to)
	if err != nil {
		return err
	}
	if c.ArchiveFilter.Since, err = parseDay("since", *since); err != nil {
		return err
	}
	if c.ArchiveFilter.Until, err = parseDay("until", *until); err != nil {
		return err
	}
	if *rate > 0 {
		c.Throttle.Start.Records = *rate
	}
	filter := redrive.Filter{Since: c.ArchiveFilter.Since, Until: endOfDay(c.ArchiveFilter.Until)}
	if *streamFilter != "" {
		filter.Streams = []string{*streamFilter}
	}
	if *shard != "" {
		filter.Shards, c.ArchiveFilter.Shard = []string{*shard}, *shard
	}
	if *condition != "" {
		filter.Conditions = []string{*condition}
	}
	log := awsenv.Logger(stderr)
	ctx = log.WithContext(ctx)
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return err
	}
	rep, err := runRedriver(ctx, cfg, c, filter, *dryRun, *budget, stderr)
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(rep)
	} else {
		printReport(stdout, rep)
	}
	if err == nil && rep.Left > 0 && !rep.DryRun {
		err = fmt.Errorf("%d records were not delivered and stay where they were", rep.Left)
	}
	return err
}

func redriveConfig(env envFlags, fromArchive, to string) (redrive.Config, error) {
	lookup := env.lookup
	if fromArchive != "" {
		bucket, prefix, err := archiveFlags{&fromArchive}.location()
		if err != nil {
			return redrive.Config{}, err
		}
		*env["STREAMDLQ_ARCHIVE_BUCKET"], *env["STREAMDLQ_ARCHIVE_PREFIX"] = bucket, prefix
	}
	c, err := redrive.LoadConfig(lookup, fromArchive != "")
	if err != nil {
		return c, usageError{err}
	}
	if to != "" {
		r, err := redrive.ParseRoute("*=" + to)
		if err != nil {
			return c, usageError{fmt.Errorf("--to: %w", err)}
		}
		c.Routes = []redrive.Route{r}
	}
	return c, nil
}

func runRedriver(ctx context.Context, cfg aws.Config, c redrive.Config, f redrive.Filter, dryRun bool, budget time.Duration, stderr io.Writer) (redrive.Report, error) {
	r := redrive.NewFromConfig(cfg, c, func(o *redrive.Options) {
		o.Filter, o.DryRun, o.Budget = f, dryRun, budget
		if isTerminal(os.Stderr) {
			o.Progress = func(rep redrive.Report) {
				fmt.Fprintf(stderr, "\r%d/%d records delivered, %d throttled, %d left, %.0f rec/s   ", rep.Delivered, rep.Records, rep.Throttled, rep.Left, rep.Rate())
			}
		}
	})
	rep, err := r.Run(ctx)
	if isTerminal(os.Stderr) {
		fmt.Fprintln(stderr)
	}
	return rep, err
}

func endOfDay(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(24*time.Hour - time.Nanosecond)
}

func printReport(w io.Writer, r redrive.Report) {
	verb := "redrove"
	if r.DryRun {
		verb = "would redrive (dry run)"
	}
	fmt.Fprintf(w, "%s from %s: %d messages, %d records, %d bytes in %s (%s)\n", verb, r.Source, r.Messages, r.Records, r.Bytes, r.Elapsed.Round(time.Millisecond), r.Stopped)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tFAILURES\tRECORDS\tBYTES\tDELIVERED\tTHROTTLED\tRETRIED\tLEFT")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", t.Target, t.Failures, t.Records, t.Bytes, t.Delivered, t.Throttled, t.Retried, t.Left)
	}
	tw.Flush()
	fmt.Fprintf(w, "delivered %d, throttled %d, retried %d, left %d; messages removed %d, replaced %d, parked %d, kept %d (filtered %d, no route %d), unreadable %d\n",
		r.Delivered, r.Throttled, r.Retried, r.Left, r.Removed, r.Replaced, r.Parked, r.Kept, r.Filtered, r.NoRoute, r.Unreadable)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", strings.TrimSpace(e))
	}
}
