package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/settings"
	"github.com/streamdlq/streamdlq/redrive"
)

func runRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	fromArchive := fs.String("from-archive", "", "redrive from the archive instead: s3://BUCKET[/PREFIX]")
	since := fs.String("since", "", "with --from-archive: first day (YYYY-MM-DD, UTC) of the failures")
	until := fs.String("until", "", "with --from-archive: last day (YYYY-MM-DD, UTC)")
	to := fs.String("to", "", "send every failure here instead of re-invoking the consumer function that failed (the default):\n"+
		"consumer; kinesis (put back on its source stream: EVERY consumer of the stream sees the records again;\n"+
		"DynamoDB failures are refused); kinesis:ARN; lambda:NAME; events:BUS; sqs:URL;\n"+
		"kafka (produce back to its source topic); kafka:TOPIC")
	streamFilter := fs.String("stream", "", "only failures of streams matching this glob (name or ARN)")
	shard := fs.String("shard", "", "only failures of this shard")
	condition := fs.String("condition", "", "only failures with this on-failure condition")
	job := fs.String("job", "", "with --from-archive: resumable replay under this name; progress is kept in the archive bucket\n"+
		"(jobs/NAME/), so a run cut short, a crash or a second run goes on without sending an object twice")
	dryRun := fs.Bool("dry-run", false, "report what would be sent where; send, delete and park nothing")
	budget := fs.Duration("budget", 0, "stop taking new work after this long (default: until drained)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	env := newEnvFlags(fs, settings.Redrive)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq redrive [--dlq-url URL | --from-archive s3://BUCKET/PREFIX --since DAY --until DAY [--job NAME]]\n                        [--to consumer|kinesis|lambda:NAME|events:BUS|sqs:URL|kafka|kafka:TOPIC] [--redrive-rate N] [--dry-run]\n\n"+
			"Replays failures to their targets under throttle awareness; a DLQ message is deleted only\n"+
			"after every record in it was delivered. By default each failure goes back to the consumer\n"+
			"function that failed (the functionArn of its on-failure record, with its alias or version),\n"+
			"with the event its event source mapping sends; --to kinesis puts the records back on the\n"+
			"stream instead, where every consumer of the stream sees them again.\n\n"+
			"Exit status: 0 all delivered; 1 the run failed (or another redrive holds the source's\n"+
			"lease: the message names it); 2 bad flags or configuration;\n"+
			"5 records were left undelivered or failures had no route (they stay queued).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 0); err != nil {
		return err
	}
	if err := checkRedriveFlags(redriveFlags{*env[settings.DLQURL.Env], *fromArchive, *since, *until, *streamFilter, *job, *env[settings.RedriveRate.Env], *budget}); err != nil {
		return err
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
	c.Job = *job
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
	if err == nil && !rep.DryRun && (rep.Left > 0 || rep.NoRoute > 0) {
		err = leftError{rep.Left, rep.NoRoute}
	}
	return err
}

// leftError: the run finished but left records undelivered or failures unroutable;
// they stay where they were. Exit code exitLeft.
type leftError struct{ records, unroutable int }

func (e leftError) Error() string {
	return fmt.Sprintf("%d records were not delivered and %d failures had no route; they stay where they were", e.records, e.unroutable)
}

// redriveFlags are the flags checked before anything else happens.
type redriveFlags struct {
	dlqURL, fromArchive, since, until, stream, job, rate string
	budget                                               time.Duration
}

// checkRedriveFlags checks every flag before any call, naming each bad one and why.
func checkRedriveFlags(f redriveFlags) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.dlqURL != "" && f.fromArchive != "" {
		bad("--dlq-url and --from-archive: choose one source")
	}
	if f.dlqURL != "" && !isQueueURL(f.dlqURL) {
		bad("--dlq-url %q: want a queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME", f.dlqURL)
	}
	if f.fromArchive != "" && !strings.HasPrefix(f.fromArchive, "s3://") || f.fromArchive == "s3://" {
		bad("--from-archive %q: want s3://BUCKET[/PREFIX]", f.fromArchive)
	}
	since, err1 := parseDay("since", f.since)
	until, err2 := parseDay("until", f.until)
	errs = append(errs, err1, err2)
	if err1 == nil && err2 == nil && !since.IsZero() && !until.IsZero() && since.After(until) {
		bad("--since %s is after --until %s", f.since, f.until)
	}
	if _, err := path.Match(f.stream, ""); err != nil {
		bad("--stream %q: %v", f.stream, err)
	}
	if rate, err := strconv.ParseFloat(f.rate, 64); f.rate != "" && (err != nil || rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0)) {
		bad("--redrive-rate %v: want a positive number of records/s (0: the default)", f.rate)
	}
	if f.job != "" && f.fromArchive == "" {
		bad("--job: only with --from-archive (the DLQ keeps its own progress)")
	}
	if f.job != "" {
		if err := redrive.CheckJobName(f.job); err != nil {
			bad("--job: %v", err)
		}
	}
	if f.budget < 0 {
		bad("--budget %v: must not be negative", f.budget)
	}
	if err := errors.Join(errs...); err != nil {
		return usageError{err}
	}
	return nil
}

// isQueueURL reports whether s looks like an SQS queue URL: http(s), a host and a
// path naming the account and the queue.
func isQueueURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		len(strings.Split(strings.Trim(u.Path, "/"), "/")) == 2
}

func redriveConfig(env envFlags, fromArchive, to string) (redrive.Config, error) {
	lookup := env.lookup
	if fromArchive != "" {
		bucket, prefix, err := archiveFlags{&fromArchive}.location()
		if err != nil {
			return redrive.Config{}, err
		}
		*env[settings.ArchiveBucket.Env], *env[settings.ArchivePrefix.Env] = bucket, prefix
	}
	c, err := redrive.LoadConfig(lookup, fromArchive != "")
	if err != nil {
		return c, usageError{err}
	}
	if fromArchive == "" && !isQueueURL(c.DLQURL) {
		return c, usageError{fmt.Errorf("STREAMDLQ_DLQ_URL (--dlq-url) %q: want a queue URL", c.DLQURL)}
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
	fmt.Fprintf(w, "delivered %d, throttled %d, retried %d, left %d; messages removed %d, replaced %d, parked %d, requeued %d, kept %d (filtered %d, no route %d), unreadable %d\n",
		r.Delivered, r.Throttled, r.Retried, r.Left, r.Removed, r.Replaced, r.Parked, r.Requeued, r.Kept, r.Filtered, r.NoRoute, r.Unreadable)
	for _, e := range r.Errors {
		fmt.Fprintln(w, "error:", strings.TrimSpace(e))
	}
}
