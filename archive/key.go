package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Key layout. The partition segments are Hive-style (name=value) so Athena and Glue
// can partition on them without a crawler; see docs/FORMAT.md.
const (
	objectExt     = ".jsonl.gz"
	claimCheckExt = ".json"
	// claimCheckDir holds the DLQ claim-check bodies under the archive prefix, outside
	// the partitions, so that Athena never reads them as records and a lifecycle rule
	// can expire them on their own.
	claimCheckDir = "claim-check"
	dateLayout    = "2006-01-02"
)

// Key returns the archive object key of a hydrated failure:
//
//	<prefix>/source=<source>/stream=<name>/dt=<YYYY-MM-DD>/<shardId>/<start>-<end>.<consumer>.jsonl.gz
//
// For Kafka: source=kafka/stream=<topic>/dt=.../<partition>/<first>-<last>.<consumer>.jsonl.gz,
// the consumer being the function of requestContext.functionArn as for the streams.
//
// It depends only on the failure (never on when or how it was hydrated), so a
// duplicate delivery of the same on-failure record maps to the same object. The name
// is the Kinesis stream name or the DynamoDB table name; the date is FirstArrival in
// UTC; consumer is ConsumerID(h.FunctionARN), so that two consumers failing on the
// same range get two objects. A failure without a function ARN (a range given by
// hand) has no ".<consumer>" part.
func Key(h Hydration, prefix string) string {
	var b strings.Builder
	if p := cleanPrefix(prefix); p != "" {
		b.WriteString(p)
		b.WriteByte('/')
	}
	b.WriteString(partitionPath(h.Source, streamOf(h), h.FirstArrival.UTC().Format(dateLayout)))
	b.WriteString(safeSegment(h.ShardID))
	b.WriteByte('/')
	b.WriteString(safeSegment(h.Start))
	b.WriteByte('-')
	b.WriteString(safeSegment(h.End))
	if c := ConsumerID(h.FunctionARN); c != "" {
		b.WriteByte('.')
		b.WriteString(c)
	}
	b.WriteString(objectExt)
	return b.String()
}

// UnqualifiedARN returns a Lambda function ARN without its version or alias
// (arn:aws:lambda:region:account:function:name[:qualifier]); any other ARN (an
// EventBridge pipe) is returned unchanged. Every version of a function is one
// consumer: its event source mapping is the same.
func UnqualifiedARN(arn string) string {
	parts := strings.SplitN(arn, ":", 8)
	if len(parts) == 8 && parts[2] == "lambda" && parts[5] == "function" {
		return strings.Join(parts[:7], ":")
	}
	return arn
}

// ConsumerID is the short, stable name of a consumer in archive keys:
// "<name>-<hash>", the function (or pipe) name and the first 8 hex digits of the
// SHA-256 of the unqualified ARN, which tells apart functions of one name in other
// accounts or regions. It is "" for an empty ARN.
func ConsumerID(functionARN string) string {
	if functionARN == "" {
		return ""
	}
	arn := UnqualifiedARN(functionARN)
	name := arn[strings.LastIndexAny(arn, ":/")+1:]
	if len(name) > maxConsumerName {
		name = name[:maxConsumerName]
	}
	sum := sha256.Sum256([]byte(arn))
	return safeSegment(name) + "-" + hex.EncodeToString(sum[:4])
}

// maxConsumerName bounds the name part of a ConsumerID (Lambda allows 64 characters,
// pipes 64), keeping keys well under S3's 1,024 bytes whatever a record says.
const maxConsumerName = 64

// ClaimCheckKey returns the key of the object that carries a DLQ message's body when
// the body is too large for the queue: the archive key moved under
// <prefix>/claim-check/, ending in .json instead of .jsonl.gz.
func ClaimCheckKey(archiveKey, prefix string) string {
	p := cleanPrefix(prefix)
	rest := strings.TrimSuffix(archiveKey, objectExt)
	if p != "" {
		rest = strings.TrimPrefix(rest, p+"/")
		return p + "/" + claimCheckDir + "/" + rest + claimCheckExt
	}
	return claimCheckDir + "/" + rest + claimCheckExt
}

func partitionPath(source, stream, date string) string {
	return "source=" + safeSegment(source) + "/stream=" + safeSegment(stream) + "/dt=" + date + "/"
}

// StreamName returns the Kinesis stream name or the DynamoDB table name in a stream
// ARN, or "" when the ARN has neither. The DynamoDB stream label is left out: a
// table's shard IDs embed their creation time, so they stay unique when its stream is
// disabled and enabled again, and the full ARN is in the object's metadata.
func StreamName(arn string) string {
	if _, rest, ok := strings.Cut(arn, ":table/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return name
	}
	_, rest, _ := strings.Cut(arn, ":stream/")
	return rest
}

// safeSegment makes s usable as one key segment: the characters AWS allows in stream,
// table and shard names and in sequence numbers pass; anything else (from a hostile or
// malformed on-failure record) becomes '_', so a value can never add a segment or
// climb out of its partition.
func safeSegment(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	dots := true
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			dots = false
		case c == '.':
		default:
			b[i], dots = '_', false
		}
	}
	if dots { // "." and ".." confuse tools that map keys to paths
		return strings.Repeat("_", len(b))
	}
	return string(b)
}

func cleanPrefix(p string) string { return strings.Trim(p, "/") }

// KeyInfo is what an archive key says about its object.
type KeyInfo struct {
	Source, Stream string
	Date           time.Time // the dt partition (UTC midnight)
	ShardID        string
	Start, End     string
	// Consumer is the key's ConsumerID; "" for a key without one.
	Consumer string
}

// ParseKey reads an archive key written under prefix; ok is false for anything else
// (claim-check bodies, foreign objects).
func ParseKey(key, prefix string) (KeyInfo, bool) {
	if p := cleanPrefix(prefix); p != "" {
		var found bool
		if key, found = strings.CutPrefix(key, p+"/"); !found {
			return KeyInfo{}, false
		}
	}
	parts := strings.Split(key, "/")
	if len(parts) != 5 || !strings.HasSuffix(parts[4], objectExt) {
		return KeyInfo{}, false
	}
	var k KeyInfo
	var ok1, ok2 bool
	k.Source, ok1 = strings.CutPrefix(parts[0], "source=")
	k.Stream, ok2 = strings.CutPrefix(parts[1], "stream=")
	dt, ok3 := strings.CutPrefix(parts[2], "dt=")
	date, err := time.Parse(dateLayout, dt)
	rng, consumer, _ := strings.Cut(strings.TrimSuffix(parts[4], objectExt), ".")
	k.Start, k.End, _ = strings.Cut(rng, "-")
	k.Consumer = consumer
	if !ok1 || !ok2 || !ok3 || err != nil || k.End == "" {
		return KeyInfo{}, false
	}
	k.Date, k.ShardID = date, parts[3]
	return k, true
}
