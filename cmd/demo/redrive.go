package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/redrive"
)

// ReplayQueueName receives the DynamoDB failure's records: a DynamoDB stream cannot be
// written to, so its failures go to a function, a bus or a queue.
const ReplayQueueName = "customers-replay"

// redriveAll runs the redrive as the scheduled function would, routed: Kinesis
// failures back to their stream, the DynamoDB one to a queue, the Kafka one back to
// its topic (same key, headers and partition). It returns the batches whose records
// were all delivered, by label.
func redriveAll(ctx context.Context, cfg aws.Config, res resources, batches []failedBatch, p *printer) (map[string]bool, error) {
	p.step("redrive: replay from the DLQ — back to the stream and the topic, per-key order kept, at a pace the shards take")
	replayURL, err := testkit.CreateQueue(ctx, sqs.NewFromConfig(cfg), ReplayQueueName, nil)
	if err != nil {
		return nil, err
	}
	route, err := redrive.ParseRoute(TableName + "=" + redrive.PrefixSQS + replayURL)
	if err != nil {
		return nil, err
	}
	// The demo has no consumer function to re-invoke (the default target), so its
	// Kinesis failures go back to their stream and its Kafka one to its topic.
	topic := redrive.Route{Pattern: TopicName, Target: redrive.SpecKafkaSource}
	back := redrive.Route{Pattern: "*", Target: redrive.SpecSource}
	c := redrive.Config{DLQURL: res.dlqURL, ParkingURL: res.parkingURL, ArchiveBucket: BucketName, Routes: []redrive.Route{route, topic, back},
		KafkaBrokers: res.kafkaBrokers, KafkaClient: kafkaPlaintext}
	endBefore, err := topicEnd(ctx, res.kafkaBrokers)
	if err != nil {
		return nil, err
	}
	quiet := zerolog.New(io.Discard).WithContext(ctx)
	rep, err := redrive.NewFromConfig(cfg, c).Run(quiet)
	if err != nil {
		return nil, fmt.Errorf("redrive: %w", err)
	}
	targetOf := func(b failedBatch) string {
		switch b.source {
		case "dynamodb":
			return redrive.PrefixSQS + replayURL
		case "kafka":
			return redrive.PrefixKafka + TopicName
		}
		return redrive.PrefixKinesis + b.streamARN
	}
	// A batch is replayed when its target delivered everything routed to it.
	replayed := map[string]bool{}
	for _, t := range rep.Targets {
		p.line("%-60s %4d records delivered in %3d calls, %d throttled, %d left", shorten(t.Target), t.Delivered, t.Calls, t.Throttled, t.Left)
		for _, b := range batches {
			if targetOf(b) == t.Target && t.Left == 0 && t.Delivered > 0 {
				replayed[b.label] = true
			}
		}
	}
	endAfter, err := topicEnd(ctx, res.kafkaBrokers)
	if err != nil {
		return nil, err
	}
	p.line("%s partition 0 ended at offset %d and now at %d: the rescued payments appended with their keys and headers", TopicName, endBefore, endAfter)
	depth, err := queueDepth(ctx, sqs.NewFromConfig(cfg), res.dlqURL)
	if err != nil {
		return nil, err
	}
	p.line("DLQ now holds %d messages: each was deleted only after all its records arrived (%d removed)", depth, rep.Removed)
	return replayed, nil
}

func shorten(target string) string {
	if len(target) > 60 {
		return target[:57] + "..."
	}
	return target
}
