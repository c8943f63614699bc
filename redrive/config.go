package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	// KafkaBrokers is STREAMDLQ_REDRIVE_KAFKA_BROKERS: the cluster that kafka targets
	// produce to (host:port, comma-separated); KafkaClient its TLS and authentication
	// (STREAMDLQ_KAFKA_TLS, _TLS_CA, _AUTH, _SECRET_ARN).
	KafkaBrokers []string
	KafkaClient  kafka.ClientConfig
}

// LoadConfig reads the configuration through lookup (os.LookupEnv in main),
// reporting every missing or bad variable at once. The DLQ URL is required unless the
// run reads the archive.
func LoadConfig(lookup func(string) (string, bool), fromArchive bool) (Config, error) {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	c := Config{
		DLQURL: get("STREAMDLQ_DLQ_URL"), ParkingURL: get("STREAMDLQ_PARKING_QUEUE_URL"),
		ArchiveBucket: get("STREAMDLQ_ARCHIVE_BUCKET"), ArchivePrefix: get("STREAMDLQ_ARCHIVE_PREFIX"),
		KMSKeyID: get("STREAMDLQ_KMS_KEY_ID"), FromArchive: fromArchive,
	}
	var errs []error
	num := func(name string, dst *float64, lo, hi float64) {
		v := get(name)
		if v == "" {
			return
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < lo || f > hi {
			errs = append(errs, fmt.Errorf("%s: %q is not a number in [%g, %g]", name, v, lo, hi))
			return
		}
		*dst = f
	}
	num("STREAMDLQ_REDRIVE_RATE", &c.Throttle.Start.Records, 0, 1e7)
	num("STREAMDLQ_REDRIVE_MAX_RATE", &c.Throttle.Ceiling.Records, 0, 1e7)
	num("STREAMDLQ_REDRIVE_MAX_BYTES", &c.Throttle.Ceiling.Bytes, 0, 1e10)
	num("STREAMDLQ_REDRIVE_SHARE", &c.Throttle.Share, 0, 1)
	var receives float64
	num("STREAMDLQ_MAX_RECEIVE_COUNT", &receives, 0, 1000)
	c.MaxReceiveCount = int(receives)
	for _, r := range strings.Split(get("STREAMDLQ_REDRIVE_TARGETS"), ",") {
		if strings.TrimSpace(r) == "" {
			continue
		}
		route, err := ParseRoute(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("STREAMDLQ_REDRIVE_TARGETS: %w", err))
		}
		c.Routes = append(c.Routes, route)
	}
	for _, b := range strings.Split(get("STREAMDLQ_REDRIVE_KAFKA_BROKERS"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.KafkaBrokers = append(c.KafkaBrokers, b)
		}
	}
	var kafkaErrs []error
	c.KafkaClient, kafkaErrs = kafka.LoadClientConfig(get)
	errs = append(errs, kafkaErrs...)
	if c.DLQURL == "" && !fromArchive {
		errs = append(errs, errors.New("STREAMDLQ_DLQ_URL is not set"))
	}
	if c.ArchiveBucket == "" {
		errs = append(errs, errors.New("STREAMDLQ_ARCHIVE_BUCKET is not set"))
	}
	return c, errors.Join(errs...)
}

// NewFromConfig builds a Redriver from the AWS config: the DLQ or archive source, and
// a client for every kind of target. A Redriver runs once; build one per run.
func NewFromConfig(cfg aws.Config, c Config, optFns ...func(*Options)) *Redriver {
	s3c := awsenv.S3(cfg)
	arc := archive.New(s3c, func(o *archive.Options) {
		o.Bucket, o.Prefix, o.KMSKeyID = c.ArchiveBucket, c.ArchivePrefix, c.KMSKeyID
	})
	var src Source
	if c.FromArchive {
		src = NewArchiveSource(arc, c.ArchiveFilter, 0)
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
		o.Kinesis, o.Lambda = kinesis.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
		o.Events, o.SQS = eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
		o.Routes, o.Throttle = c.Routes, c.Throttle
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

// Handle runs one redrive. The event (a schedule's, or any JSON) is not used. It
// returns an error only when the source itself failed, so that a broken queue shows
// up as function errors; undelivered records stay on the queue either way.
func (h *Handler) Handle(ctx context.Context, _ json.RawMessage) (Report, error) {
	log := zerolog.Ctx(ctx)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		l := log.With().Str("requestId", lc.AwsRequestID).Logger()
		log = &l
		ctx = l.WithContext(ctx)
	}
	started := time.Now()
	rep, err := NewFromConfig(h.cfg, h.c, func(o *Options) { o.Metrics = h.metrics }).Run(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.EmbedObject(rep).Dur("took", time.Since(started)).Msg("redrive finished")
	return rep, err
}
