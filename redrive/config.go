package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/settings"
)

// Config is the redrive's configuration, read from STREAMDLQ_* environment variables.
type Config struct {
	DLQURL        string // STREAMDLQ_DLQ_URL: the source, unless FromArchive
	ParkingURL    string // STREAMDLQ_PARKING_QUEUE_URL
	ArchiveBucket string // STREAMDLQ_ARCHIVE_BUCKET: claim checks, and the archive source
	ArchivePrefix string // STREAMDLQ_ARCHIVE_PREFIX
	KMSKeyID      string // STREAMDLQ_KMS_KEY_ID: for the claim checks of replaced messages
	// Routes is STREAMDLQ_REDRIVE_TARGETS: comma-separated PATTERN=TARGET.
	Routes []Route
	// Throttle: STREAMDLQ_REDRIVE_RATE (start, records/s), STREAMDLQ_REDRIVE_MAX_RATE
	// (records/s), STREAMDLQ_REDRIVE_MAX_BYTES (bytes/s), STREAMDLQ_REDRIVE_SHARE.
	Throttle        Throttle
	MaxReceiveCount int // STREAMDLQ_MAX_RECEIVE_COUNT
	// FromArchive reads the archive (selected by ArchiveFilter) instead of the DLQ.
	FromArchive   bool
	ArchiveFilter archive.Filter
	// Job, with FromArchive, makes the replay resumable under this name (see Job).
	Job string
	// Holder names this redrive in the source's lease (default: host and pid).
	Holder string
	// KafkaBrokers is settings.RedriveKafkaBrokers: the cluster that kafka targets
	// produce to (host:port, comma-separated); KafkaClient its TLS and authentication
	// (settings.KafkaTLS, KafkaTLSCA, KafkaAuth, KafkaSecretARN).
	KafkaBrokers []string
	KafkaClient  kafka.ClientConfig
}

// LoadConfig reads the configuration through lookup (os.LookupEnv in main),
// reporting every missing or bad variable at once. The DLQ URL is required unless the
// run reads the archive.
func LoadConfig(lookup func(string) (string, bool), fromArchive bool) (Config, error) {
	l := settings.NewLoader(lookup)
	source := l.Required
	if fromArchive {
		source = l.String
	}
	c := Config{
		DLQURL: source(settings.DLQURL), ParkingURL: l.String(settings.ParkingQueueURL),
		ArchiveBucket: l.Required(settings.ArchiveBucket), ArchivePrefix: l.String(settings.ArchivePrefix),
		KMSKeyID: l.String(settings.KMSKeyID), FromArchive: fromArchive,
	}
	c.Throttle.Start.Records = l.Number(settings.RedriveRate)
	c.Throttle.Ceiling.Records = l.Number(settings.RedriveMaxRate)
	c.Throttle.Ceiling.Bytes = l.Number(settings.RedriveMaxBytes)
	c.Throttle.Share = l.Number(settings.RedriveShare)
	c.MaxReceiveCount = int(l.Number(settings.MaxReceiveCount))
	for _, r := range strings.Split(l.String(settings.RedriveTargets), ",") {
		if strings.TrimSpace(r) == "" {
			continue
		}
		route, err := ParseRoute(r)
		if err != nil {
			l.Fail(settings.RedriveTargets, err)
		}
		c.Routes = append(c.Routes, route)
	}
	for _, b := range strings.Split(l.String(settings.RedriveKafkaBrokers), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.KafkaBrokers = append(c.KafkaBrokers, b)
		}
	}
	c.KafkaClient = kafka.LoadClientConfig(l)
	return c, l.Err()
}

// NewFromConfig builds a Redriver from the AWS config: the DLQ or archive source, and
// a client for every kind of target. A Redriver runs once; build one per run.
func NewFromConfig(cfg aws.Config, c Config, optFns ...func(*Options)) *Redriver {
	s3c := awsenv.S3(cfg)
	arc := archive.New(s3c, func(o *archive.Options) {
		o.Bucket, o.Prefix, o.KMSKeyID = c.ArchiveBucket, c.ArchivePrefix, c.KMSKeyID
	})
	var src Source
	source := "sqs:" + c.DLQURL
	if c.FromArchive {
		source = "s3://" + c.ArchiveBucket + "/" + c.ArchivePrefix + "#job=" + c.Job
	}
	holder := c.Holder
	if holder == "" {
		holder = DefaultHolder("streamdlq redrive")
	}
	lease := NewLease(s3c, c.ArchiveBucket, c.ArchivePrefix, source, holder, 0)
	if c.FromArchive {
		as := NewArchiveSource(arc, c.ArchiveFilter, 0)
		if c.Job != "" {
			as.WithJob(NewJob(s3c, c.ArchiveBucket, c.ArchivePrefix, c.Job))
		}
		src = as
	} else {
		sqsc := sqs.NewFromConfig(cfg)
		queue := archive.NewQueue(sqsc, func(o *archive.QueueOptions) { o.URL, o.Archive = c.DLQURL, arc })
		src = NewSQSSource(sqsc, s3c, queue, func(o *SQSSourceOptions) {
			o.URL, o.ParkURL, o.Bucket, o.Prefix = c.DLQURL, c.ParkingURL, c.ArchiveBucket, c.ArchivePrefix
			if c.MaxReceiveCount > 0 {
				o.MaxReceiveCount = c.MaxReceiveCount
			}
		})
	}
	opts := []func(*Options){func(o *Options) {
		lc := lambda.NewFromConfig(cfg)
		o.Kinesis, o.Lambda, o.Mappings = kinesis.NewFromConfig(cfg), lc, lc
		o.Events, o.SQS = eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
		o.Routes, o.Throttle = c.Routes, c.Throttle
		// The archive is only read, so only a job (which writes progress) is leased.
		if !c.FromArchive || c.Job != "" {
			o.Lease = lease
		}
		if len(c.KafkaBrokers) > 0 {
			o.Kafka = func() ([]kgo.Opt, error) {
				opts, err := kafka.ClientOptions(c.KafkaClient, secretsmanager.NewFromConfig(cfg), cfg.Credentials, cfg.Region)
				return append(opts, kgo.SeedBrokers(c.KafkaBrokers...)), err
			}
		}
	}}
	return New(src, append(opts, optFns...)...)
}

// Handler is the scheduled redrive Lambda function: each invocation drains the DLQ
// within the function's time budget and reports what it did.
type Handler struct {
	cfg     aws.Config
	c       Config
	metrics io.Writer
}

// NewHandler returns the Lambda handler; metrics receives the EMF lines (stdout).
func NewHandler(cfg aws.Config, c Config, metrics io.Writer) *Handler {
	return &Handler{cfg: cfg, c: c, metrics: metrics}
}

// Handle runs one redrive. The event (a schedule's, or any JSON) is read only for an
// optional "job" (see JobInput): then the run carries that archive replay on where
// the last run stopped, instead of draining the DLQ. It returns an error only when
// the source itself failed (or the job is malformed), so that a broken queue shows
// up as function errors; undelivered records stay on the queue either way.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (Report, error) {
	log := zerolog.Ctx(ctx)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		l := log.With().Str("requestId", lc.AwsRequestID).Logger()
		log = &l
		ctx = l.WithContext(ctx)
	}
	started := time.Now()
	c, err := withJob(h.c, event)
	if err != nil {
		return Report{}, err
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		c.Holder = "the scheduled redrive function (request " + lc.AwsRequestID + ")"
	}
	rep, err := NewFromConfig(h.cfg, c, func(o *Options) { o.Metrics = h.metrics }).Run(ctx)
	ev := log.Info()
	var held *LeaseHeldError
	switch {
	case errors.As(err, &held):
		// Another redrive (an operator's CLI) is draining the queue: not a failure.
		ev, err = log.Warn().Err(held), nil
	case err != nil:
		ev = log.Error().Err(err)
	}
	ev.EmbedObject(rep).Dur("took", time.Since(started)).Msg("redrive finished")
	return rep, err
}

// JobInput is the "job" a schedule's input may carry, so the scheduled function
// replays a range of the archive across runs: {"job": {"name": "backfill-1",
// "source": "kinesis", "stream": "orders", "shard": "", "since": "2026-11-01",
// "until": "2026-11-03"}}. Days are YYYY-MM-DD, UTC, inclusive.
type JobInput struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Stream string `json:"stream"`
	Shard  string `json:"shard"`
	Since  string `json:"since"`
	Until  string `json:"until"`
}

// withJob is c switched to the archive job the event names, if any.
func withJob(c Config, event json.RawMessage) (Config, error) {
	var in struct {
		Job *JobInput `json:"job"`
	}
	if json.Unmarshal(event, &in) != nil || in.Job == nil {
		return c, nil
	}
	j := in.Job
	f := archive.Filter{Source: j.Source, Stream: j.Stream, Shard: j.Shard}
	var errs []error
	for _, d := range []struct {
		name, value string
		dst         *time.Time
	}{{"since", j.Since, &f.Since}, {"until", j.Until, &f.Until}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("job %s: %q is not YYYY-MM-DD", d.name, d.value))
		}
		*d.dst = t
	}
	errs = append(errs, CheckJobName(j.Name))
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	c.FromArchive, c.Job, c.ArchiveFilter = true, j.Name, f
	return c, nil
}
