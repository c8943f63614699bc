package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
)

func sortedShards(m map[string]*written) []*written {
	var out []*written
	for _, w := range m {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *written) int { return cmpString(a.shardID, b.shardID) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// showArchiveAndDLQ lists what landed, as `streamdlq ls` would.
func showArchiveAndDLQ(ctx context.Context, c clients, res resources, p *printer) error {
	p.step("What landed (streamdlq ls)")
	a := archive.New(c.s3, func(o *archive.Options) { o.Bucket = BucketName })
	for obj, err := range a.List(ctx, archive.Filter{}) {
		if err != nil {
			return err
		}
		s, err := a.Summarize(ctx, obj.Key)
		if err != nil {
			return err
		}
		name := archive.StreamName(s.StreamARN)
		if name == "" {
			name = obj.Stream // a self-managed Kafka failure has no ARN: the key names its topic
		}
		p.line("archive  %-8s %-10s %-22s %3d/%-3d %-15s %6d bytes gzip", s.Source, name, s.ShardID, s.Records, s.Expected, s.Status, s.Size)
	}
	depth, err := queueDepth(ctx, c.sqs, res.dlqURL)
	if err != nil {
		return err
	}
	p.line("DLQ      %d messages, each with its records inline (or a claim check to S3 when too big)", depth)
	return nil
}

func queueDepth(ctx context.Context, q *sqs.Client, url string) (int, error) {
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, fmt.Errorf("queue depth of %s: %w", url, err)
	}
	var visible, hidden int
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], &visible)
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)], &hidden)
	return visible + hidden, nil
}

// report is the summary a newcomer reads: what failed, what was rescued, what was
// replayed, what was lost, and how long it took.
func (p *printer) report(batches []failedBatch, rescued map[string]*archive.Document, delivered map[string]int, took time.Duration) {
	p.step("Report")
	var failed, got, missing, replayed int
	for _, b := range batches {
		doc := rescued[b.label]
		failed += len(b.seqs)
		got += len(doc.Records)
		missing += len(b.seqs) - len(doc.Records)
		replayed += delivered[b.label]
		p.line("%s  failed %3d  rescued %3d  replayed %3d  %s", b.label, len(b.seqs), len(doc.Records), delivered[b.label], gapText(doc))
	}
	p.line("")
	p.line("%d records were in failed batches; %d rescued and archived, %d replayed to their targets,", failed, got, replayed)
	p.line("%d reported as a named gap (trimmed by retention before streamdlq could read them), 0 lost silently.", missing)
	p.line("Done in %.1fs. The local AWS stops now; for a shell with it running, try", took.Seconds())
	p.line("scripts/localaws.sh run bash, then go run ./cmd/demo and go run ./cmd/streamdlq ls --archive s3://%s", BucketName)
}

func gapText(doc *archive.Document) string {
	if len(doc.Hydration.Gaps) == 0 {
		return ""
	}
	g := doc.Hydration.Gaps[0]
	return fmt.Sprintf("gap: %s..%s %s", tail(g.From), tail(g.To), g.Reason)
}
