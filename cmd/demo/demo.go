// Package demo is `make demo`: on the local AWS it sets up what the SAM template would
// (a stream, a table with a stream, the DLQ and parking queue, the archive bucket, the
// bus) and a topic on the local Kafka broker, writes records, plays Lambda's part by
// sending on-failure records for four failed batches (one Kinesis, one DynamoDB, one
// whose start has passed retention, one of a Kafka topic whose log start has passed
// part of it), runs the real hydrate handler on them, shows what landed in the archive
// and the DLQ, redrives the Kinesis failures back to their stream, the DynamoDB one to
// a queue and the Kafka one back to its topic, and prints a report a newcomer can
// follow.
package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

const topicARN = "arn:aws:sns:us-east-1:000000000000:streamdlq-on-failure"

// failedBatch is one batch the demo makes a consumer give up on.
type failedBatch struct {
	label, source, streamARN, shardID string
	seqs                              []string // the batch's records, as the consumer saw them
	note                              string
}

// Run runs the demo against the AWS that cfg points at, printing to w.
func Run(ctx context.Context, cfg aws.Config, w io.Writer) error {
	started := time.Now()
	p := printer{w: w}
	c := clients{kinesis.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg), awsenv.S3(cfg), eventbridge.NewFromConfig(cfg)}
	p.step("Setting up what the SAM template creates in an account")
	res, err := setup(ctx, c)
	if err != nil {
		return err
	}
	if res.kafkaBrokers, err = kafkaBrokers(); err != nil {
		return err
	}
	p.line("stream %s (2 shards), table %s with a stream, queues %s and %s, bucket %s, bus %s; Kafka topic %s",
		StreamName, TableName, DLQName, ParkingName, BucketName, BusName, TopicName)

	p.step("Producers write records")
	orders, err := putOrders(ctx, c.kinesis, res.streamARN, 1000)
	if err != nil {
		return err
	}
	customers, err := putCustomers(ctx, c.dynamodb, dynamodbstreams.NewFromConfig(cfg), res.tableStreamARN, 40)
	if err != nil {
		return err
	}
	payments, err := putPayments(ctx, res.kafkaBrokers, kafkaPayments, kafkaLogStart)
	if err != nil {
		return err
	}
	shards := sortedShards(orders)
	p.line("1,000 orders to %s (%s: %d, %s: %d records); 40 customers to %s; %d payments to %s",
		StreamName, shards[0].shardID, len(shards[0].seqs), shards[1].shardID, len(shards[1].seqs), TableName, len(payments), TopicName)

	batches := []failedBatch{
		{label: "A", source: "kinesis", streamARN: res.streamARN, shardID: shards[0].shardID, seqs: shards[0].seqs[100:350]},
		{label: "B", source: "dynamodb", streamARN: res.tableStreamARN, shardID: customers.shardID, seqs: customers.seqs[5:25]},
		{label: "C", source: "kinesis", streamARN: res.streamARN, shardID: shards[1].shardID, seqs: shards[1].seqs[0:200],
			note: "its first 50 records have passed the stream's retention (simulated: the emulators never trim)"},
		{label: "D", source: "kafka", shardID: TopicName + "-0", seqs: payments[kafkaFirst : kafkaLast+1],
			note: fmt.Sprintf("the topic's log now starts at offset %d (retention; here DeleteRecords on the real broker)", kafkaLogStart)},
	}
	p.step("Consumers fail; Lambda gives up and sends on-failure records to the SNS topic")
	var records []onfailureRecord
	for _, b := range batches {
		rec := onfailure.Record(onfailure.Batch{Source: b.source, StreamARN: b.streamARN, ShardID: b.shardID,
			Start: b.seqs[0], End: b.seqs[len(b.seqs)-1], BatchSize: len(b.seqs),
			FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:" + b.source + "-consumer"})
		if b.source == "kafka" {
			rec = kafkaRecord(b, res.kafkaBrokers)
		}
		records = append(records, onfailureRecord{b, rec})
		p.line("%s  %-8s %-22s %3d records  %s..%s  %s", b.label, b.source, b.shardID, len(b.seqs), tail(b.seqs[0]), tail(b.seqs[len(b.seqs)-1]), b.note)
	}
	p.line("the on-failure records carry only this metadata: no data")

	p.step("hydrate: read the records back, archive them, queue them on the DLQ, announce them")
	hcfg := cfg.Copy()
	// The emulators never trim: the retention is simulated at the SDK edge, so
	// streamdlq's own code runs unchanged.
	trimmed := &testkit.Retention{ShardID: shards[1].shardID, First: shards[1].seqs[50]}
	hcfg.APIOptions = append(hcfg.APIOptions, trimmed.Add)
	rescued, err := hydrateAll(ctx, hcfg, res, records, &p)
	if err != nil {
		return err
	}
	if err := showArchiveAndDLQ(ctx, c, res, &p); err != nil {
		return err
	}
	replayed, err := redriveAll(ctx, cfg, res, batches, &p)
	if err != nil {
		return err
	}
	delivered := map[string]int{}
	for label := range replayed {
		delivered[label] = len(rescued[label].Records)
	}
	p.report(batches, rescued, delivered, time.Since(started))
	return nil
}

type onfailureRecord struct {
	batch failedBatch
	rec   []byte
}

// hydrateAll delivers each on-failure record to the real hydrate handler in an SNS
// event, as the topic subscription would, and returns the hydrated documents.
func hydrateAll(ctx context.Context, cfg aws.Config, res resources, recs []onfailureRecord, p *printer) (map[string]*archive.Document, error) {
	allowed, err := hydrate.ParseAllowlist(res.streamARN + "," + res.tableStreamARN)
	if err != nil {
		return nil, err
	}
	docs := map[string]*archive.Document{}
	var current string
	// A self-managed cluster is allowed by its bootstrap servers.
	kc := hydrate.KafkaConfig{Servers: res.kafkaBrokers, Client: kafkaPlaintext}
	h := hydrate.NewFromConfig(cfg, hydrate.Config{Allowed: allowed, ArchiveBucket: BucketName, DLQURL: res.dlqURL, EventBus: BusName, Kafka: kc}, false,
		func(o *hydrate.HandlerOptions) {
			o.Emit = func(doc *archive.Document, c *hydrate.Captured) {
				docs[current] = doc
				hy := doc.Hydration
				how := "inline"
				if c.ClaimCheck {
					how = "claim check"
				}
				p.line("%s  %-15s %3d of %3d records, %d API calls -> %s, DLQ (%s)", current, hy.Status, hy.Fetched, hy.Expected, hy.Calls, c.Archive.Key, how)
				for _, g := range hy.Gaps {
					p.line("   gap %s..%s: %s", tail(g.From), tail(g.To), g.Reason)
				}
			}
		})
	quiet := zerolog.New(io.Discard).WithContext(ctx) // the demo prints its own lines
	for _, r := range recs {
		current = r.batch.label
		if _, err := h.Handle(quiet, onfailure.SNSEvent(topicARN, r.rec)); err != nil {
			return nil, fmt.Errorf("hydrate %s: %w", current, err)
		}
	}
	return docs, nil
}

func tail(seq string) string {
	if len(seq) > 10 {
		return "…" + seq[len(seq)-8:]
	}
	return seq
}

type printer struct {
	w io.Writer
	n int
}

func (p *printer) step(title string) {
	p.n++
	fmt.Fprintf(p.w, "\n%d. %s\n", p.n, title)
}

func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.w, "   "+strings.TrimRight(format, "\n")+"\n", args...)
}
