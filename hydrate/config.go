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
	c.ArchivePrefix = strings.Trim(l.String(settings.ArchivePrefix), "/")
	c.EventBus = l.String(settings.EventBus)
	c.KMSKeyID = l.String(settings.KMSKeyID)
	destination := l.String
	if capture {
		destination = l.Required
	}
	c.ArchiveBucket, c.DLQURL = destination(settings.ArchiveBucket), destination(settings.DLQURL)
	return c, l.Err()
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
