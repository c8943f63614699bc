package hydrate

import (
	"fmt"
	"strings"
)

// Allowlist decides which streams may be read. Whoever can publish to the on-failure
// topic must not be able to make streamdlq copy an arbitrary stream into the DLQ, so a
// failure naming any other stream is refused before any call is made.
type Allowlist struct {
	patterns []string
}

// ParseAllowlist parses STREAMDLQ_ALLOWED_STREAMS: comma-separated stream ARN patterns
// where * matches any run of characters.
func ParseAllowlist(s string) (Allowlist, error) {
	var a Allowlist
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if p != "*" && !strings.HasPrefix(p, "arn:") {
			return Allowlist{}, fmt.Errorf("stream pattern %q: not an ARN pattern (want arn:aws:kinesis:REGION:ACCOUNT:stream/NAME, * allowed)", p)
		}
		a.patterns = append(a.patterns, p)
	}
	return a, nil
}

// SameAccount is the allowlist a Lambda function uses when none is configured: the
// Kinesis and DynamoDB streams and the MSK clusters of its own account and region.
func SameAccount(partition, region, account string) Allowlist {
	return Allowlist{patterns: []string{
		fmt.Sprintf("arn:%s:kinesis:%s:%s:stream/*", partition, region, account),
		fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/*/stream/*", partition, region, account),
		fmt.Sprintf("arn:%s:kafka:%s:%s:cluster/*", partition, region, account),
	}}
}

// Empty reports whether no pattern is configured.
func (a Allowlist) Empty() bool { return len(a.patterns) == 0 }

// Allows reports whether the stream ARN matches a pattern.
func (a Allowlist) Allows(arn string) bool {
	for _, p := range a.patterns {
		if globMatch(p, arn) {
			return true
		}
	}
	return false
}

func (a Allowlist) String() string { return strings.Join(a.patterns, ",") }

// globMatch matches s against a pattern in which * stands for any run of characters,
// including ':' and '/' (unlike path.Match), as in IAM resource patterns.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
