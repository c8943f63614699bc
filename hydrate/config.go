package hydrate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Config is the hydrator's configuration, read from STREAMDLQ_* environment variables.
type Config struct {
	// Allowed is STREAMDLQ_ALLOWED_STREAMS. When empty, the Lambda function allows its
	// own account and region's streams and the CLI refuses to run.
	Allowed Allowlist
	// Roles is STREAMDLQ_ROLE_MAP: account id → role ARN assumed to read that account's
	// streams.
	Roles map[string]string
	// Deaggregate is STREAMDLQ_DEAGGREGATE: split KPL-aggregated Kinesis records.
	Deaggregate bool

	ArchiveBucket string // STREAMDLQ_ARCHIVE_BUCKET
	ArchivePrefix string // STREAMDLQ_ARCHIVE_PREFIX
	DLQURL        string // STREAMDLQ_DLQ_URL
	EventBus      string // STREAMDLQ_EVENT_BUS; empty: no events
	KMSKeyID      string // STREAMDLQ_KMS_KEY_ID; empty: SSE-S3

	Kafka KafkaConfig // STREAMDLQ_ALLOWED_KAFKA_SERVERS, STREAMDLQ_KAFKA_TLS
}

// LoadConfig reads the configuration through lookup (os.LookupEnv in main). With
// capture set, the archive bucket and the DLQ URL are required. Every missing or bad
// variable is reported at once.
func LoadConfig(lookup func(string) (string, bool), capture bool) (Config, error) {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	var c Config
	var errs []error
	var err error
	if c.Allowed, err = ParseAllowlist(get("STREAMDLQ_ALLOWED_STREAMS")); err != nil {
		errs = append(errs, fmt.Errorf("STREAMDLQ_ALLOWED_STREAMS: %w", err))
	}
	if c.Roles, err = parseRoleMap(get("STREAMDLQ_ROLE_MAP")); err != nil {
		errs = append(errs, fmt.Errorf("STREAMDLQ_ROLE_MAP: %w", err))
	}
	if v := get("STREAMDLQ_DEAGGREGATE"); v != "" {
		if c.Deaggregate, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("STREAMDLQ_DEAGGREGATE: %q is not true or false", v))
		}
	}
	var kafkaErrs []error
	c.Kafka, kafkaErrs = loadKafkaConfig(get)
	errs = append(errs, kafkaErrs...)
	c.ArchiveBucket = get("STREAMDLQ_ARCHIVE_BUCKET")
	c.ArchivePrefix = strings.Trim(get("STREAMDLQ_ARCHIVE_PREFIX"), "/")
	c.DLQURL = get("STREAMDLQ_DLQ_URL")
	c.EventBus = get("STREAMDLQ_EVENT_BUS")
	c.KMSKeyID = get("STREAMDLQ_KMS_KEY_ID")
	if capture {
		if c.ArchiveBucket == "" {
			errs = append(errs, errors.New("STREAMDLQ_ARCHIVE_BUCKET is not set"))
		}
		if c.DLQURL == "" {
			errs = append(errs, errors.New("STREAMDLQ_DLQ_URL is not set"))
		}
	}
	return c, errors.Join(errs...)
}

// parseRoleMap parses "111122223333=arn:aws:iam::111122223333:role/reader,...".
func parseRoleMap(s string) (map[string]string, error) {
	roles := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		account, role, ok := strings.Cut(pair, "=")
		if !ok || !isAccountID(account) || !strings.HasPrefix(role, "arn:") || !strings.Contains(role, ":role/") {
			return nil, fmt.Errorf("%q: want ACCOUNT_ID=arn:aws:iam::ACCOUNT_ID:role/NAME", pair)
		}
		roles[account] = role
	}
	return roles, nil
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
