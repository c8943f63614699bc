package hydrate

import (
	"fmt"
	"strings"

	"github.com/streamdlq/streamdlq/internal/settings"
)

// Config is the hydrator's configuration, read from STREAMDLQ_* environment variables.
type Config struct {
	// Allowed is STREAMDLQ_ALLOWED_STREAMS. When empty, the Lambda function allows its
	// own account and region's streams and the CLI refuses to run.
	Allowed Allowlist
	// Roles is STREAMDLQ_ROLE_MAP: account id, or "ACCOUNT:REGION" for one region
	// only, → role ARN assumed to read that account's streams.
	Roles map[string]string
	// Deaggregate is STREAMDLQ_DEAGGREGATE: split KPL-aggregated Kinesis records.
	Deaggregate bool
	// CheckMappings is STREAMDLQ_CHECK_MAPPINGS (LoadConfig's default: true): refuse a
	// failure unless its function has an event source mapping on its stream whose
	// OnFailure destination is one of InputARNs (any destination when InputARNs is
	// empty). A Config built in code has it off.
	CheckMappings bool
	// SpoolAbove is how many records a hydrated document holds in memory; beyond
	// that, records go page by page to a gzip spool file in the temporary directory
	// (Lambda's /tmp), and the archive object and the DLQ claim check are written from
	// it. 0 means 1000. Not an environment variable.
	SpoolAbove int
	// InputARNs is STREAMDLQ_INPUT_ARNS: this stack's inputs (the topic, the on-failure
	// queue, arn:aws:s3:::BUCKET), as event source mappings name their destinations.
	InputARNs []string

	ArchiveBucket string // STREAMDLQ_ARCHIVE_BUCKET
	ArchivePrefix string // STREAMDLQ_ARCHIVE_PREFIX
	DLQURL        string // STREAMDLQ_DLQ_URL
	EventBus      string // STREAMDLQ_EVENT_BUS; empty: no events
	KMSKeyID      string // STREAMDLQ_KMS_KEY_ID; empty: SSE-S3
	// FailureQueueURL is STREAMDLQ_FAILURE_QUEUE_URL: the hydrator's own OnFailure
	// queue, drained by the rehydration schedule; empty: no rehydration.
	FailureQueueURL string
	// ParkingQueueURL is STREAMDLQ_PARKING_QUEUE_URL: where rehydration parks what it
	// gives up on (past retention, refused); empty: such messages stay on the queue.
	ParkingQueueURL string

	// Kafka is STREAMDLQ_ALLOWED_KAFKA_SERVERS and the Kafka client settings.
	Kafka KafkaConfig
}

// LoadConfig reads the configuration through lookup (os.LookupEnv in main). With
// capture set, the archive bucket and the DLQ URL are required. Every missing or bad
// variable is reported at once.
func LoadConfig(lookup func(string) (string, bool), capture bool) (Config, error) {
	l := settings.NewLoader(lookup)
	var c Config
	var err error
	if c.Allowed, err = ParseAllowlist(l.String(settings.AllowedStreams)); err != nil {
		l.Fail(settings.AllowedStreams, err)
	}
	if c.Roles, err = parseRoleMap(l.String(settings.RoleMap)); err != nil {
		l.Fail(settings.RoleMap, err)
	}
	c.Deaggregate = l.Bool(settings.Deaggregate)
	c.CheckMappings = l.Bool(settings.CheckMappings)
	if c.InputARNs, err = parseInputARNs(l.String(settings.InputARNs)); err != nil {
		l.Fail(settings.InputARNs, err)
	}
	c.ArchivePrefix = strings.Trim(l.String(settings.ArchivePrefix), "/")
	c.EventBus = l.String(settings.EventBus)
	c.KMSKeyID = l.String(settings.KMSKeyID)
	c.FailureQueueURL = l.String(settings.FailureQueueURL)
	c.ParkingQueueURL = l.String(settings.ParkingQueueURL)
	c.Kafka = loadKafkaConfig(l)
	destination := l.String
	if capture {
		destination = l.Required
	}
	c.ArchiveBucket, c.DLQURL = destination(settings.ArchiveBucket), destination(settings.DLQURL)
	return c, l.Err()
}

// parseRoleMap parses "111122223333=arn:aws:iam::111122223333:role/reader,...";
// a key may name a region, "111122223333:eu-west-1=...", which wins there.
func parseRoleMap(s string) (map[string]string, error) {
	roles := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		key, role, ok := strings.Cut(pair, "=")
		account, region, regional := strings.Cut(key, ":")
		if !ok || !isAccountID(account) || regional && !isRegion(region) || !strings.HasPrefix(role, "arn:") || !strings.Contains(role, ":role/") {
			return nil, fmt.Errorf("%q: want ACCOUNT_ID[:REGION]=arn:aws:iam::ACCOUNT_ID:role/NAME", pair)
		}
		roles[key] = role
	}
	return roles, nil
}

// parseInputARNs parses a comma-separated ARN list; empty entries are skipped, so that
// a template can join optional inputs.
func parseInputARNs(s string) ([]string, error) {
	var arns []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !strings.HasPrefix(a, "arn:") {
			return nil, fmt.Errorf("%q: not an ARN", a)
		}
		arns = append(arns, a)
	}
	return arns, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isRegion accepts a region name such as eu-west-1 or us-gov-west-1.
func isRegion(s string) bool {
	if len(s) < 4 || len(s) > 32 || !strings.Contains(s, "-") {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) < 0
}
