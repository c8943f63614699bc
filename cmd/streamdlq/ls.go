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
	"text/tabwriter"
	"time"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/settings"
)

// archiveFlags select an archive: --archive s3://bucket/prefix, or the environment.
type archiveFlags struct{ url *string }

func addArchiveFlags(fs *flag.FlagSet) archiveFlags {
	return archiveFlags{fs.String("archive", "", "archive location s3://BUCKET[/PREFIX] (default: STREAMDLQ_ARCHIVE_BUCKET and STREAMDLQ_ARCHIVE_PREFIX)")}
}

func (f archiveFlags) location() (bucket, prefix string, err error) {
	if *f.url == "" {
		bucket, prefix = os.Getenv(settings.ArchiveBucket.Env), os.Getenv(settings.ArchivePrefix.Env)
	} else {
		rest, ok := strings.CutPrefix(*f.url, "s3://")
		if !ok {
			return "", "", usageError{fmt.Errorf("--archive %q: want s3://BUCKET[/PREFIX]", *f.url)}
		}
		bucket, prefix, _ = strings.Cut(rest, "/")
	}
	if bucket == "" {
		return "", "", usageError{errors.New("no archive: pass --archive s3://BUCKET[/PREFIX] or set STREAMDLQ_ARCHIVE_BUCKET")}
	}
	return bucket, prefix, nil
}

func (f archiveFlags) open(ctx context.Context) (*archive.Archive, error) {
	bucket, prefix, err := f.location()
	if err != nil {
		return nil, err
	}
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return nil, err
	}
	return archive.New(awsenv.S3(cfg), func(o *archive.Options) { o.Bucket, o.Prefix = bucket, prefix }), nil
}

func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	arc := addArchiveFlags(fs)
	var filter archive.Filter
	fs.StringVar(&filter.Source, "source", "", "kinesis or dynamodb")
	fs.StringVar(&filter.Stream, "stream", "", "Kinesis stream name or DynamoDB table name")
	fs.StringVar(&filter.Shard, "shard", "", "shard id")
	since := fs.String("since", "", "first day (YYYY-MM-DD, UTC) of the failures' first arrival")
	until := fs.String("until", "", "last day (YYYY-MM-DD, UTC)")
	asJSON := fs.Bool("json", false, "one JSON object per failure instead of a table")
	limit := fs.Int("limit", 1000, "list at most this many failures")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq ls [--archive s3://BUCKET/PREFIX] [--source S] [--stream NAME] [--shard ID] [--since DAY] [--until DAY] [--json]\n\nLists the failures in the archive: stream, shard, range, records, status, age.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 0); err != nil {
		return err
	}
	var err error
	if filter.Since, err = parseDay("since", *since); err != nil {
		return err
	}
	if filter.Until, err = parseDay("until", *until); err != nil {
		return err
	}
	a, err := arc.open(ctx)
	if err != nil {
		return err
	}
	var rows []archive.Summary
	for obj, err := range a.List(ctx, filter) {
		if err != nil {
			return err
		}
		s, err := a.Summarize(ctx, obj.Key)
		if err != nil {
			return err
		}
		if rows = append(rows, s); len(rows) >= *limit {
			break
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	return printTable(stdout, rows, time.Now())
}

func printTable(w io.Writer, rows []archive.Summary, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tSHARD\tRANGE\tRECORDS\tSTATUS\tAGE\tKEY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", archive.StreamName(r.StreamARN), r.ShardID,
			abbrevRange(r.Start, r.End), r.Records, r.Expected, r.Status, age(now.Sub(r.FirstArrival)), r.Key)
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(no failures)")
	}
	return tw.Flush()
}

// abbrevRange shows the last digits of long sequence numbers, which is where
// neighbouring records differ.
func abbrevRange(start, end string) string {
	short := func(s string) string {
		if len(s) > 12 {
			return "…" + s[len(s)-10:]
		}
		return s
	}
	return short(start) + ".." + short(end)
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func parseDay(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--%s %q: want YYYY-MM-DD", name, s)}
	}
	return t, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
