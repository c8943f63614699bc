package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// rotateEvery is how many runs share a pair of streams: kinesis-local slows down as
// a shard grows, so the streams are replaced before they do.
const rotateEvery = 40

// World is the part of the local AWS that runs share: the source and target streams,
// the archive bucket and the event bus. Each run gets its own queues and archive
// prefix, so runs cannot see each other's failures.
type World struct {
	clean  aws.Config // setup and the oracle: no faults
	k      *kinesis.Client
	s3     *s3.Client
	sqs    *sqs.Client
	name   string
	bucket string
	bus    string

	source, sourceShard string
	target              string
	cursor              map[string]string // target shard → last sequence number read
	runsOnStreams       int
	streams             int
}

// NewWorld creates the shared resources; name prefixes them.
func NewWorld(ctx context.Context, cfg aws.Config, name string) (*World, error) {
	w := &World{clean: cfg, k: kinesis.NewFromConfig(cfg), s3: awsenv.S3(cfg), sqs: sqs.NewFromConfig(cfg), name: name,
		bucket: name + "-archive", bus: name + "-bus"}
	if _, err := w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &w.bucket}); err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", w.bucket, err)
	}
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &w.bus}); err != nil {
		return nil, fmt.Errorf("create bus %s: %w", w.bus, err)
	}
	return w, w.rotate(ctx)
}

// faulty is the configuration of the flow under test: every client built from it
// goes through the injector. The retryer is the SDK's standard one with short
// backoffs, so that runs stay quick while retries still happen.
func (w *World) faulty(inj *Injector) aws.Config {
	cfg := w.clean.Copy()
	cfg.APIOptions = append(cfg.APIOptions, inj.Middleware)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 20 * time.Millisecond })
	}
	return cfg
}

// streamsForRun replaces the streams every rotateEvery runs.
func (w *World) streamsForRun(ctx context.Context) error {
	if w.runsOnStreams++; w.runsOnStreams <= rotateEvery {
		return nil
	}
	return w.rotate(ctx)
}

func (w *World) rotate(ctx context.Context) error {
	for _, arn := range []string{w.source, w.target} {
		if arn != "" {
			_, _ = w.k.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: aws.String(arn), EnforceConsumerDeletion: aws.Bool(true)})
		}
	}
	w.streams++
	w.runsOnStreams, w.cursor = 1, map[string]string{}
	var err error
	if w.source, err = testkit.CreateStream(ctx, w.k, fmt.Sprintf("%s-src-%d", w.name, w.streams), 1); err != nil {
		return err
	}
	w.sourceShard = "shardId-000000000000"
	w.target, err = testkit.CreateStream(ctx, w.k, fmt.Sprintf("%s-dst-%d", w.name, w.streams), 2)
	return err
}

// queues are one run's: the DLQ, redrive's parking queue, and the queue standing in
// for the hydrate function's own OnFailure destination.
type queues struct {
	dlq, parking, parked string
}

func (w *World) createQueues(ctx context.Context, run string, maxMessage int) (queues, error) {
	var q queues
	var err error
	attrs := map[string]string{"MaximumMessageSize": fmt.Sprint(maxMessage)}
	if q.dlq, err = testkit.CreateQueue(ctx, w.sqs, run+"-dlq", attrs); err != nil {
		return q, err
	}
	if q.parking, err = testkit.CreateQueue(ctx, w.sqs, run+"-parking", nil); err != nil {
		return q, err
	}
	q.parked, err = testkit.CreateQueue(ctx, w.sqs, run+"-parked", nil)
	return q, err
}

// deleteQueues drops a checked run's queues so moto does not keep hundreds.
func (w *World) deleteQueues(ctx context.Context, q queues) {
	for _, url := range []string{q.dlq, q.parking, q.parked} {
		_, _ = w.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	}
}
