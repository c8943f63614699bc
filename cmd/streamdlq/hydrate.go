package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/settings"
)

func runHydrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hydrate", flag.ContinueOnError)
	event := fs.String("event", "", "on-failure input: a file in any supported shape (SNS, SQS, S3 object, bare record, Pipes DLQ), or - for stdin")
	fromQueue := fs.String("from-queue", "", "instead of --event: re-hydrate the messages of the hydrator's own failure queue (URL), oldest first, as the rehydration schedule does")
	dryRun := fs.Bool("dry-run", false, "hydrate and print only; write nothing to the archive, the DLQ or the bus")
	timeout := fs.Duration("timeout", 5*time.Minute, "deadline of the whole run; what is not read by then is reported missing (exit 4)")
	env := newEnvFlags(fs, settings.Hydrate)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq hydrate --event FILE|- [--dry-run] [flags]\n       streamdlq hydrate --from-queue URL [flags]\n\nPrints one hydrated failure document (JSON) per line on stdout (with --from-queue, a report); logs go to stderr.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 0); err != nil {
		return err
	}
	if err := checkHydrateFlags(*event, *fromQueue, *dryRun, *timeout); err != nil {
		return err
	}
	var payload []byte
	if *fromQueue == "" {
		var err error
		if payload, err = readInput(*event, os.Stdin); err != nil {
			return err
		}
	}
	c, err := hydrate.LoadConfig(env.lookup, !*dryRun)
	if err != nil {
		return usageError{err}
	}
	// A self-managed Kafka cluster is allowed by its servers alone; an empty stream
	// allowlist then refuses every stream and MSK cluster.
	if c.Allowed.Empty() && len(c.Kafka.Servers) == 0 {
		return usageError{errors.New("no stream allowlist: set STREAMDLQ_ALLOWED_STREAMS or --allowed-streams to the stream ARN(s) you mean to read, e.g. arn:aws:kinesis:us-east-1:123456789012:stream/orders (or --allowed-kafka-servers for a self-managed Kafka cluster)")}
	}
	ctx = awsenv.Logger(stderr).WithContext(ctx)
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *fromQueue != "" {
		return rehydrateQueue(ctx, cfg, c, *fromQueue, stdout)
	}
	return hydrateEvent(ctx, cfg, c, payload, *dryRun, *timeout, stdout)
}

func checkHydrateFlags(event, fromQueue string, dryRun bool, timeout time.Duration) error {
	switch {
	case timeout <= 0:
		return usageError{fmt.Errorf("--timeout %v: want a positive duration", timeout)}
	case fromQueue != "" && event != "":
		return usageError{errors.New("--event and --from-queue: give one")}
	case fromQueue != "" && dryRun:
		return usageError{errors.New("--from-queue deletes the messages it hydrates, so it cannot be a --dry-run")}
	}
	return nil
}

// hydrateEvent hydrates one input, printing each document.
func hydrateEvent(ctx context.Context, cfg aws.Config, c hydrate.Config, payload []byte, dryRun bool, timeout time.Duration, stdout io.Writer) error {
	enc := json.NewEncoder(stdout)
	var missing []string
	h := hydrate.NewFromConfig(cfg, c, dryRun, func(o *hydrate.HandlerOptions) {
		o.Emit = func(doc *archive.Document, _ *hydrate.Captured) {
			_ = enc.Encode(doc)
			if m := whatIsMissing(doc); m != "" {
				missing = append(missing, m)
			}
		}
	})
	_, err := h.Handle(ctx, payload)
	var pe *envelope.ParseError
	var ie *hydrate.IncompleteError
	switch {
	case errors.As(err, &pe):
		return usageError{err}
	case errors.As(err, &ie):
		if len(missing) == 0 {
			missing = append(missing, err.Error())
		}
	case err != nil && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)):
		missing = append(missing, fmt.Sprintf("not captured when the --timeout of %v ran out: %v", timeout, err))
	case err != nil:
		return err
	}
	if len(missing) > 0 {
		return incompleteError{missing: missing, dryRun: dryRun}
	}
	return nil
}

// rehydrateQueue drains the hydrator's failure queue by hand and prints the report.
func rehydrateQueue(ctx context.Context, cfg aws.Config, c hydrate.Config, url string, stdout io.Writer) error {
	q := sqs.NewFromConfig(cfg)
	r := hydrate.NewRehydrator(hydrate.NewFromConfig(cfg, c, false), q, q, c.ParkingQueueURL)
	rep, err := r.Run(ctx, url)
	if err != nil {
		return err
	}
	_ = json.NewEncoder(stdout).Encode(rep)
	if len(rep.Missing) > 0 || rep.Released > 0 {
		missing := rep.Missing
		if rep.Released > 0 {
			missing = append(missing, fmt.Sprintf("%d messages not started before the --timeout; they are back on the queue", rep.Released))
		}
		return incompleteError{missing: missing, fromQueue: true}
	}
	return nil
}

// whatIsMissing describes a document that does not hold its whole range, or "".
func whatIsMissing(doc *archive.Document) string {
	hy := doc.Hydration
	if len(hy.Gaps) == 0 && (hy.Status == archive.StatusComplete || hy.Status == archive.StatusMoreThanBatch) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s..%s: %s, %d records read", hy.StreamARN, hy.ShardID, hy.Start, hy.End, hy.Status, hy.Fetched)
	if hy.Expected > 0 {
		fmt.Fprintf(&b, " of %d", hy.Expected)
	}
	for _, g := range hy.Gaps {
		fmt.Fprintf(&b, "; missing %s..%s (%s", g.From, g.To, g.Reason)
		if g.Detail != "" {
			fmt.Fprintf(&b, ": %.200s", g.Detail)
		}
		b.WriteString(")")
	}
	return b.String()
}

// incompleteError says that a failure was not completely captured: exit code 4.
type incompleteError struct {
	missing   []string
	dryRun    bool
	fromQueue bool
}

func (e incompleteError) Error() string {
	rerun := "A rerun with the same event reads the range again; a capture that reads more supersedes the partial one in the archive and the DLQ, and records already trimmed from the stream stay missing."
	switch {
	case e.dryRun:
		rerun = "Nothing was written (--dry-run); a rerun reads the range again."
	case e.fromQueue:
		rerun = "Messages kept stay on the queue and a rerun (or the rehydration schedule) tries them again while their records are in the stream; parked ones are on the parking queue with the reason."
	}
	return "failure not completely captured:\n  " + strings.Join(e.missing, "\n  ") + "\n" + rerun
}
