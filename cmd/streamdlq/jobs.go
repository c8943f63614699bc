package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/redrive"
)

func runJobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	arc := addArchiveFlags(fs)
	asJSON := fs.Bool("json", false, "one JSON object per job instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq jobs [--archive s3://BUCKET/PREFIX] [--json]\n\nLists the resumable archive replays (streamdlq redrive --from-archive ... --job NAME):\nwhat each replays and how many archive objects it has fully redriven.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 0); err != nil {
		return err
	}
	bucket, prefix, err := arc.location()
	if err != nil {
		return err
	}
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return err
	}
	jobs, err := redrive.ListJobs(ctx, awsenv.S3(cfg), bucket, prefix)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, j := range jobs {
			_ = enc.Encode(j)
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSTARTED\tSOURCE\tSTREAM\tSHARD\tSINCE\tUNTIL\tOBJECTS DONE")
	for _, j := range jobs {
		f := j.Filter
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", j.Name, j.Started.Format(time.RFC3339), dash(f.Source), dash(f.Stream), dash(f.Shard), day(f.Since), day(f.Until), j.Done)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02")
}
