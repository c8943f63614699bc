package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/settings"
)

// KafkaConfig is how the hydrator reaches Kafka clusters (Amazon MSK and
// self-managed). MSK clusters are allowed by cluster ARN in STREAMDLQ_ALLOWED_STREAMS
// (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/*); their bootstrap servers must be MSK
// broker names of that region or match Servers. A self-managed cluster is known only
// by its bootstrap servers, and every one of them must match Servers.
type KafkaConfig struct {
	// Servers is settings.AllowedKafkaServers: comma-separated host:port patterns,
	// * matching any run of characters.
	Servers []string
	// Client is TLS (on by default) and authentication: settings.KafkaTLS,
	// KafkaTLSCA, KafkaAuth, KafkaSecretARN.
	Client kafka.ClientConfig
}

func loadKafkaConfig(l *settings.Loader) KafkaConfig {
	var c KafkaConfig
	for _, p := range strings.Split(l.String(settings.AllowedKafkaServers), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, ":") || strings.ContainsAny(p, "/ ") {
			l.Fail(settings.AllowedKafkaServers, fmt.Errorf("%q is not a host:port pattern", p))
			continue
		}
		c.Servers = append(c.Servers, p)
	}
	c.Client = kafka.LoadClientConfig(l)
	return c
}

// kafkaReaders keeps one franz-go client per cluster (its bootstrap servers) for the
// life of the process, so a warm function reuses its connections. brokers finds the
// servers of MSK failures whose records name none (or another listener's).
type kafkaReaders struct {
	cfg     KafkaConfig
	secrets kafka.SecretsAPI
	creds   aws.CredentialsProvider
	brokers *mskBrokers

	mu        sync.Mutex
	byServers map[string]*kafka.Reader
}

func newKafkaReaders(cfg KafkaConfig, secrets kafka.SecretsAPI, creds aws.CredentialsProvider, brokers func(account, region string) mskBrokersAPI) *kafkaReaders {
	return &kafkaReaders{cfg: cfg, secrets: secrets, creds: creds, brokers: newMSKBrokers(cfg.Client, brokers),
		byServers: map[string]*kafka.Reader{}}
}

// allow refuses a Kafka failure outside the allowlist with a *NotAllowedError naming
// the cluster (its ARN, or its bootstrap servers), before any call is made.
func (k *kafkaReaders) allow(kf *batch.Kafka, allowed Allowlist) error {
	if k.allows(kf, allowed) {
		return nil
	}
	name := kf.ClusterARN
	if name == "" {
		name = strings.Join(kf.BootstrapServers, ",")
	}
	return &NotAllowedError{StreamARN: name, Allowed: allowed.String() + " servers " + strings.Join(k.cfg.Servers, ",")}
}

// allows applies the allowlist: the cluster ARN for MSK, the bootstrap servers for
// every cluster, since they are where the records will be read from. An MSK record
// naming no servers is read from the brokers AWS gives for its cluster.
func (k *kafkaReaders) allows(kf *batch.Kafka, allowed Allowlist) bool {
	if kf.ClusterARN != "" && !allowed.Allows(kf.ClusterARN) {
		return false
	}
	if len(kf.BootstrapServers) == 0 {
		return kf.Managed()
	}
	for _, s := range kf.BootstrapServers {
		if !k.serverAllowed(s, kf) {
			return false
		}
	}
	return true
}

func (k *kafkaReaders) serverAllowed(server string, kf *batch.Kafka) bool {
	for _, p := range k.cfg.Servers {
		if globMatch(p, server) {
			return true
		}
	}
	if kf.ClusterARN == "" {
		return false
	}
	region := strings.Split(kf.ClusterARN, ":")[3]
	host, _, _ := strings.Cut(server, ":")
	return strings.HasSuffix(host, ".kafka."+region+".amazonaws.com") ||
		strings.HasSuffix(host, ".kafka-serverless."+region+".amazonaws.com")
}

// reader returns the reader of the cluster at servers; region is the cluster's (MSK
// IAM tokens are signed for it).
func (k *kafkaReaders) reader(servers []string, region string) (*kafka.Reader, error) {
	key := strings.Join(servers, ",")
	k.mu.Lock()
	defer k.mu.Unlock()
	if rd := k.byServers[key]; rd != nil {
		return rd, nil
	}
	opts, err := kafka.ClientOptions(k.cfg.Client, k.secrets, k.creds, region)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(servers...), kgo.ClientID("streamdlq-hydrate"))...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", key, err)
	}
	rd := kafka.NewReader(cl)
	k.byServers[key] = rd
	return rd, nil
}

// hydrateKafka is Resume for one topic-partition of a Kafka failure, once allowed
// and vouched for.
func (h *Hydrator) hydrateKafka(ctx context.Context, f *batch.Failure) (*archive.Document, error) {
	doc := &archive.Document{Failure: f.Raw, Hydration: h.summary(f)}
	if f.Payload != nil {
		return doc, h.kafkaFromPayload(doc, f)
	}
	res, err := h.readKafka(ctx, f)
	var unreadable *kafka.UnreadableError
	switch {
	case errors.As(err, &unreadable):
		doc.Hydration.Gaps = []batch.Gap{{From: f.Start, To: f.End, Reason: batch.GapUnreadable, Detail: unreadable.Error()}}
	case err != nil:
		return nil, err
	default:
		doc.Records, doc.Hydration.Gaps, doc.Hydration.Calls = res.Records, res.Gaps, res.Calls
		doc.Hydration.Kafka.Aborted = res.Aborted
	}
	doc.Hydration.Expected = kafkaExpected(f, res)
	h.finish(doc, f)
	return doc, nil
}

func (h *Hydrator) readKafka(ctx context.Context, f *batch.Failure) (kafka.Result, error) {
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(captureReserve, time.Until(deadline)/4)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	kf := f.Kafka
	servers, err := h.kafka.brokers.servers(ctx, kf, f.AccountID, f.Region)
	if err != nil {
		return kafka.Result{}, err
	}
	rd, err := h.kafka.reader(servers, f.Region)
	if err != nil {
		return kafka.Result{}, err
	}
	return rd.Read(ctx, kafka.Range{Topic: kf.Topic, Partition: kf.Partition, First: kf.FirstOffset, Last: kf.LastOffset})
}

// kafkaExpected is f's BatchSize cut to what this topic-partition can hold: a
// record's batchSize counts the whole batch, which may span partitions, and a range's
// offsets include transaction markers and aborted records, which are no records.
func kafkaExpected(f *batch.Failure, res kafka.Result) int {
	offsets := int(f.Kafka.LastOffset-f.Kafka.FirstOffset+1) - res.Aborted - res.Markers
	return max(min(f.BatchSize, offsets), 0)
}

// kafkaFromPayload takes the topic-partition's records from the failed event an S3
// destination object carries (the envelope left only this partition's in Payload),
// once each is shown to belong to it.
func (h *Hydrator) kafkaFromPayload(doc *archive.Document, f *batch.Failure) error {
	var event events.KafkaEvent
	if err := json.Unmarshal(f.Payload, &event); err != nil {
		return &envelope.ParseError{Field: "payload.records", Err: err}
	}
	recs := event.Records[f.StreamName+"-"+f.ShardID]
	var out []batch.Record
	for i := range recs {
		out = append(out, batch.Record{Kafka: &recs[i]})
	}
	if err := checkPayload(f, out); err != nil {
		return err
	}
	doc.Records = out
	doc.Hydration.From = "s3-payload"
	doc.Hydration.Expected = kafkaExpected(f, kafka.Result{})
	h.finish(doc, f)
	return nil
}
