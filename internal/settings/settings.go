package settings

import "strings"

// Function is a set of the functions that read a setting.
type Function uint8

// The readers of settings. The CLI's hydrate and redrive commands read what the
// function of the same name reads.
const (
	Hydrate Function = 1 << iota
	Redrive
)

// Has reports whether f includes g.
func (f Function) Has(g Function) bool { return f&g != 0 }

// Type is how a setting's value is parsed.
type Type string

// The types of settings.
const (
	String Type = "string"
	Bool   Type = "bool"
	Number Type = "number" // a float64 in [Min, Max]
	List   Type = "list"   // comma-separated, parsed by the reader
)

// Setting is one configuration value.
type Setting struct {
	Env  string // environment variable, set by the template
	Flag string // the CLI flag, without dashes; empty: none
	Type Type
	// Default applies when the variable is unset or empty; "" means none (the reader's
	// own behaviour, which Help describes).
	Default  string
	Min, Max float64 // bounds of a Number
	Help     string
	Readers  Function
}

// The settings, in the README's order.
var (
	AllowedStreams = Setting{Env: "STREAMDLQ_ALLOWED_STREAMS", Flag: "allowed-streams", Type: List, Readers: Hydrate,
		Help: "comma-separated stream ARN patterns that may be read (* wildcard); required by the CLI"}
	RoleMap = Setting{Env: "STREAMDLQ_ROLE_MAP", Flag: "role-map", Type: List, Readers: Hydrate,
		Help: "comma-separated ACCOUNT[:REGION]=ROLE_ARN to assume for other accounts' streams (a region-qualified entry wins in its region)"}
	Deaggregate = Setting{Env: "STREAMDLQ_DEAGGREGATE", Flag: "deaggregate", Type: Bool, Default: "false", Readers: Hydrate,
		Help: "split KPL-aggregated Kinesis records (true/false)"}
	CheckMappings = Setting{Env: "STREAMDLQ_CHECK_MAPPINGS", Flag: "check-mappings", Type: Bool, Default: "true", Readers: Hydrate,
		Help: "hydrate only failures whose function has an event source mapping (or pipe) on the stream sending failures to this stack's inputs (true/false)"}
	InputARNs = Setting{Env: "STREAMDLQ_INPUT_ARNS", Flag: "input-arns", Type: List, Readers: Hydrate,
		Help: "comma-separated ARNs of this stack's inputs (topic, queue, bucket) that a mapping's OnFailure destination must name (empty: any)"}
	FailureQueueURL = Setting{Env: "STREAMDLQ_FAILURE_QUEUE_URL", Flag: "failure-queue-url", Type: String, Readers: Hydrate,
		Help: "the hydrator's own failure queue, re-hydrated on schedule until the records leave the stream (empty: none)"}
	ArchiveBucket = Setting{Env: "STREAMDLQ_ARCHIVE_BUCKET", Flag: "archive-bucket", Type: String, Readers: Hydrate | Redrive,
		Help: "S3 bucket of the archive and the claim checks"}
	ArchivePrefix = Setting{Env: "STREAMDLQ_ARCHIVE_PREFIX", Flag: "archive-prefix", Type: String, Readers: Hydrate | Redrive,
		Help: "key prefix in the archive bucket"}
	DLQURL = Setting{Env: "STREAMDLQ_DLQ_URL", Flag: "dlq-url", Type: String, Readers: Hydrate | Redrive,
		Help: "URL of the SQS dead-letter queue"}
	EventBus = Setting{Env: "STREAMDLQ_EVENT_BUS", Flag: "event-bus", Type: String, Readers: Hydrate,
		Help: "EventBridge bus to announce failures on (empty: none)"}
	KMSKeyID = Setting{Env: "STREAMDLQ_KMS_KEY_ID", Flag: "kms-key-id", Type: String, Readers: Hydrate | Redrive,
		Help: "KMS key for SSE-KMS archive objects and claim checks (empty: SSE-S3)"}
	ParkingQueueURL = Setting{Env: "STREAMDLQ_PARKING_QUEUE_URL", Flag: "parking-queue-url", Type: String, Readers: Hydrate | Redrive,
		Help: "parking queue for poison messages and for failures the re-hydration gives up on, with the reason"}
	RedriveTargets = Setting{Env: "STREAMDLQ_REDRIVE_TARGETS", Flag: "redrive-targets", Type: List, Readers: Redrive,
		Help: "comma-separated PATTERN=TARGET routes (TARGET: consumer, kinesis, kinesis:ARN, lambda:NAME, events:BUS, sqs:URL, kafka, kafka:TOPIC)"}
	AllowedKafkaServers = Setting{Env: "STREAMDLQ_ALLOWED_KAFKA_SERVERS", Flag: "allowed-kafka-servers", Type: List, Readers: Hydrate,
		Help: "comma-separated host:port patterns (* wildcard) that every bootstrap server of a Kafka failure must match (MSK clusters: by cluster ARN in the stream allowlist)"}
	KafkaTLS = Setting{Env: "STREAMDLQ_KAFKA_TLS", Flag: "kafka-tls", Type: Bool, Default: "true", Readers: Hydrate | Redrive,
		Help: "connect to Kafka with TLS (true/false)"}
	KafkaTLSCA = Setting{Env: "STREAMDLQ_KAFKA_TLS_CA", Flag: "kafka-tls-ca", Type: String, Readers: Hydrate | Redrive,
		Help: "PEM file of CA certificates trusted for Kafka besides the system roots"}
	KafkaAuth = Setting{Env: "STREAMDLQ_KAFKA_AUTH", Flag: "kafka-auth", Type: String, Default: "none", Readers: Hydrate | Redrive,
		Help: "Kafka authentication: none, scram-sha-512, scram-sha-256, iam (MSK IAM) or mtls"}
	KafkaSecretARN = Setting{Env: "STREAMDLQ_KAFKA_SECRET_ARN", Flag: "kafka-secret-arn", Type: String, Readers: Hydrate | Redrive,
		Help: "Secrets Manager secret with the Kafka SCRAM user or client certificate (scram-*, mtls)"}
	RedriveKafkaBrokers = Setting{Env: "STREAMDLQ_REDRIVE_KAFKA_BROKERS", Flag: "redrive-kafka-brokers", Type: List, Readers: Redrive,
		Help: "comma-separated bootstrap servers (host:port) of the cluster kafka and kafka:TOPIC targets produce to"}
	RedriveRate = Setting{Env: "STREAMDLQ_REDRIVE_RATE", Flag: "redrive-rate", Type: Number, Max: 1e7, Readers: Redrive,
		Help: "starting rate in records/s (default: half the ceiling)"}
	RedriveMaxRate = Setting{Env: "STREAMDLQ_REDRIVE_MAX_RATE", Flag: "redrive-max-rate", Type: Number, Max: 1e7, Readers: Redrive,
		Help: "ceiling in records/s per target (Kinesis default: its open shards' capacity x share)"}
	RedriveMaxBytes = Setting{Env: "STREAMDLQ_REDRIVE_MAX_BYTES", Flag: "redrive-max-bytes", Type: Number, Max: 1e10, Readers: Redrive,
		Help: "ceiling in bytes/s per target"}
	RedriveShare = Setting{Env: "STREAMDLQ_REDRIVE_SHARE", Flag: "redrive-share", Type: Number, Default: "0.5", Max: 1, Readers: Redrive,
		Help: "share of a Kinesis target's capacity to use, leaving the rest to live producers"}
	MaxReceiveCount = Setting{Env: "STREAMDLQ_MAX_RECEIVE_COUNT", Flag: "max-receive-count", Type: Number, Default: "5", Max: 100, Readers: Redrive,
		Help: "failed redrive attempts after which a message is parked (dry runs and waits never count)"}
	// LogLevel keeps Lambda's own name, which its advanced logging controls set too;
	// the CLI reads the same variable and has no flag for it.
	LogLevel = Setting{Env: "AWS_LAMBDA_LOG_LEVEL", Type: String, Default: "INFO", Readers: Hydrate | Redrive,
		Help: "log level: TRACE, DEBUG, INFO, WARN or ERROR"}
)

// All returns every setting, in the README's order.
func All() []Setting {
	return []Setting{AllowedStreams, RoleMap, Deaggregate, CheckMappings, InputARNs, FailureQueueURL, ArchiveBucket, ArchivePrefix, DLQURL, EventBus, KMSKeyID,
		ParkingQueueURL, RedriveTargets, AllowedKafkaServers, KafkaTLS, KafkaTLSCA, KafkaAuth, KafkaSecretARN, RedriveKafkaBrokers,
		RedriveRate, RedriveMaxRate, RedriveMaxBytes, RedriveShare, MaxReceiveCount, LogLevel}
}

// ReadBy returns the settings f reads, in the README's order.
func ReadBy(f Function) []Setting {
	var out []Setting
	for _, s := range All() {
		if s.Readers.Has(f) {
			out = append(out, s)
		}
	}
	return out
}

// Usage is the flag's help line: the help, the default, and the variable.
func (s Setting) Usage() string {
	u := s.Help
	if s.Default != "" {
		u += " (default " + s.Default + ")"
	}
	return u + " (env " + s.Env + ")"
}

// FlagName is the flag the README's rule derives from the variable:
// STREAMDLQ_DLQ_URL → dlq-url.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "STREAMDLQ_")), "_", "-")
}
