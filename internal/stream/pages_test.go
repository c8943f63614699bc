package stream

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// ReadPages hands over the records Read returns, page by page, and keeps none.
func TestReadPagesHandsWhatReadReturns(t *testing.T) {
	s := newFakeShard(250)
	whole, err := NewKinesisReader(s.client()).Read(context.Background(), rangeOf(3, 240))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var pages int
	res, err := NewKinesisReader(s.client(), func(o *KinesisOptions) { o.Limit = 50 }).ReadPages(context.Background(), rangeOf(3, 240),
		func(recs []batch.Record) error {
			pages++
			for _, r := range recs {
				got = append(got, r.SequenceNumber())
			}
			return nil
		})
	if err != nil || len(res.Records) != 0 || pages < 5 {
		t.Fatalf("got %d records kept, %d pages, %v; want none kept, at least 5 pages", len(res.Records), pages, err)
	}
	if len(got) != len(whole.Records) {
		t.Fatalf("got %d records, want %d", len(got), len(whole.Records))
	}
	for i, r := range whole.Records {
		if got[i] != r.SequenceNumber() {
			t.Fatalf("record %d: got %s, want %s", i, got[i], r.SequenceNumber())
		}
	}
}

// PageBytes sizes each GetRecords by the mean record size seen so far.
func TestPageBytesSizesPages(t *testing.T) {
	s := newFakeShard(100)
	for i := range s.records {
		s.records[i].Data, s.records[i].PartitionKey = bytes.Repeat([]byte{'x'}, 996), aws.String("pkey") // 1,000 bytes
	}
	var limits []int32
	client := s.client()
	client.GetRecordsFunc = func(ctx context.Context, in *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error) {
		limits = append(limits, aws.ToInt32(in.Limit))
		return s.getRecords(ctx, in)
	}
	n := 0
	_, err := NewKinesisReader(client, func(o *KinesisOptions) { o.PageBytes = 30_000 }).ReadPages(context.Background(), rangeOf(0, 99),
		func(recs []batch.Record) error { n += len(recs); return nil })
	if err != nil || n != 100 {
		t.Fatalf("got %d records, %v; want 100", n, err)
	}
	// 30,000 / 1 KiB assumed, then 30,000 / 1,000 measured.
	want := []int32{29, 30, 30, 30}
	if len(limits) < len(want) {
		t.Fatalf("got limits %v, want %v", limits, want)
	}
	for i, w := range want {
		if limits[i] != w {
			t.Fatalf("got limits %v, want %v…", limits, want)
		}
	}
}
