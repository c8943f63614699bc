package redrive

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
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
