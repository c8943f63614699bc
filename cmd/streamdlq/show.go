package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/streamdlq/streamdlq/archive"
)

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	arc := addArchiveFlags(fs)
	payloads := fs.Bool("payloads", false, "print record payloads (customer data: off by default)")
	asJSON := fs.Bool("json", false, "print the hydrated failure document as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq show [--archive s3://BUCKET/PREFIX] [--payloads] [--json] KEY|s3://BUCKET/KEY\n\nShows one archived failure and its records, decoded. Payloads only with --payloads.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr, 1); err != nil {
		return err
	}
	key := fs.Arg(0)
	if rest, ok := strings.CutPrefix(key, "s3://"); ok {
		bucket, k, _ := strings.Cut(rest, "/")
		*arc.url, key = "s3://"+bucket, k
	}
	a, err := arc.open(ctx)
	if err != nil {
		return err
	}
	doc, err := a.Get(ctx, key)
	if err != nil {
		return err
	}
	if !*payloads {
		redact(doc)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(doc)
	}
	return printDocument(stdout, key, doc, *payloads)
}

// redact drops payloads, keeping what identifies each record.
func redact(doc *archive.Document) {
	for _, r := range doc.Records {
		switch {
		case r.Kinesis != nil:
			r.Kinesis.Kinesis.Data = nil
		case r.DynamoDB != nil:
			r.DynamoDB.Change.NewImage, r.DynamoDB.Change.OldImage = nil, nil
		}
	}
}

func printDocument(w io.Writer, key string, doc *archive.Document, payloads bool) error {
	h := doc.Hydration
	fmt.Fprintf(w, "failure   %s\nstream    %s\nshard     %s\nrange     %s .. %s\nstatus    %s (%d of %d records, %d API calls, condition %s)\n",
		key, h.StreamARN, h.ShardID, h.Start, h.End, h.Status, h.Fetched, h.Expected, h.Calls, h.Condition)
	for _, g := range h.Gaps {
		fmt.Fprintf(w, "gap       %s .. %s: %s %s\n", g.From, g.To, g.Reason, g.Detail)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSEQUENCE\tKEY\tSIZE\tARRIVED\tDATA")
	for i, r := range doc.Records {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", i, r.SequenceNumber(), recordKey(r), r.PayloadSize(), arrived(r), payload(r, payloads))
	}
	return tw.Flush()
}

func recordKey(r batch.Record) string {
	if r.Kinesis != nil {
		k := r.Kinesis.Kinesis.PartitionKey
		if s := r.Kinesis.Kinesis.SubSequenceNumber; s != nil {
			k += fmt.Sprintf(" [sub %d]", *s)
		}
		return k
	}
	b, _ := json.Marshal(r.DynamoDB.Change.Keys)
	return r.DynamoDB.EventName + " " + string(b)
}

func arrived(r batch.Record) string {
	if r.Kinesis != nil {
		return r.Kinesis.Kinesis.ApproximateArrivalTimestamp.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return r.DynamoDB.Change.ApproximateCreationDateTime.UTC().Format("2006-01-02T15:04:05Z")
}

func payload(r batch.Record, show bool) string {
	if !show {
		return "(hidden; --payloads)"
	}
	if r.Kinesis != nil {
		d := r.Kinesis.Kinesis.Data
		if utf8.Valid(d) && !strings.ContainsAny(string(d), "\n\t") {
			return string(d)
		}
		b, _ := json.Marshal(d) // base64, as Lambda delivers it
		return "base64:" + strings.Trim(string(b), `"`)
	}
	b, _ := json.Marshal(r.DynamoDB.Change.NewImage)
	return string(b)
}
