package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Object metadata keys (x-amz-meta-*). S3 returns them lowercased.
const (
	MetaFormat    = "streamdlq-format"
	MetaSource    = "source"
	MetaStreamARN = "stream-arn"
	MetaShardID   = "shard-id"
	MetaStart     = "start-sequence-number"
	MetaEnd       = "end-sequence-number"
	MetaRequestID = "request-id"
	// MetaFailure is the SHA-256 of the on-failure record in canonical JSON: the
	// identity that tells a duplicate delivery from a different failure.
	MetaFailure      = "failure-sha256"
	MetaBatchSize    = "batch-size"
	MetaRecords      = "records"
	MetaGaps         = "gaps"
	MetaStatus       = "status"
	MetaCondition    = "condition"
	MetaFirstArrival = "first-arrival"
	// MetaFunctionARN is the consumer: the function ARN without qualifier.
	MetaFunctionARN = "function-arn"
)

// identity lists the metadata that name the failure (not how it was hydrated): when
// they match, an existing object is the same failure delivered again.
var identity = []string{MetaFormat, MetaFailure, MetaRequestID, MetaStreamARN, MetaShardID, MetaStart, MetaEnd, MetaBatchSize}

func objectMetadata(doc *Document) map[string]string {
	h := doc.Hydration
	m := map[string]string{
		MetaFormat:       strconv.Itoa(FormatVersion),
		MetaSource:       h.Source,
		MetaStreamARN:    h.StreamARN,
		MetaShardID:      h.ShardID,
		MetaStart:        h.Start,
		MetaEnd:          h.End,
		MetaRequestID:    requestID(doc.Failure),
		MetaFailure:      fingerprint(doc.Failure),
		MetaBatchSize:    strconv.Itoa(h.Expected),
		MetaRecords:      strconv.Itoa(doc.Len()),
		MetaGaps:         strconv.Itoa(len(h.Gaps)),
		MetaStatus:       h.Status,
		MetaCondition:    h.Condition,
		MetaFirstArrival: h.FirstArrival.UTC().Format(time.RFC3339Nano),
		MetaFunctionARN:  h.FunctionARN,
	}
	for k, v := range m {
		if v = headerSafe(v); v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// metadataDiffers lists the identity metadata that differ between an existing object
// and a new one.
func metadataDiffers(existing, want map[string]string) []string {
	var out []string
	for _, k := range identity {
		if existing[k] != want[k] {
			out = append(out, fmt.Sprintf("%s: %q != %q", k, existing[k], want[k]))
		}
	}
	return out
}

// requestID is the on-failure record's requestContext.requestId; EventBridge Pipes
// records have none.
func requestID(failure json.RawMessage) string {
	var f struct {
		RequestContext struct {
			RequestID string `json:"requestId"`
		} `json:"requestContext"`
	}
	_ = json.Unmarshal(failure, &f) // best effort: the fingerprint is the identity
	return f.RequestContext.RequestID
}

// fingerprint hashes the failure in canonical JSON (sorted keys, no spaces, numbers
// as written), so the same record delivered through another path hashes the same.
func fingerprint(failure json.RawMessage) string {
	canon := []byte(failure)
	dec := json.NewDecoder(bytes.NewReader(failure))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// maxMetaValue bounds one value: S3 allows 2 KB of user metadata in all.
const maxMetaValue = 256

// headerSafe keeps printable ASCII, which HTTP headers and SQS attributes carry
// unchanged; anything else (from an odd on-failure record) becomes '?'.
func headerSafe(s string) string {
	if len(s) > maxMetaValue {
		s = s[:maxMetaValue]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
