package archive

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// DLQ message attributes, for routing and filtering without opening the body. SQS
// allows 10 per message; streamdlq uses at most 9 of its own and leaves the tenth to
// ExtendedPayloadSize, as the SQS Extended Clients do.
const (
	AttrSource      = "source"
	AttrStreamARN   = "streamArn"
	AttrShardID     = "shardId"
	AttrStart       = "startSequenceNumber"
	AttrEnd         = "endSequenceNumber"
	AttrRecordCount = "recordCount"
	AttrCondition   = "condition"
	AttrStatus      = "status"
	// AttrDedupID is the archive key: the same for every delivery of one failure.
	AttrDedupID = "streamdlq-dedup-id"
	// AttrExtendedPayloadSize marks a claim check (the SQS Extended Client's reserved
	// attribute): the size in bytes of the body the pointer stands for.
	AttrExtendedPayloadSize = "ExtendedPayloadSize"

	// MaxAttributes is SQS's limit of message attributes per message.
	MaxAttributes = 10
)

// PointerClass is the first element of an SQS Extended Client pointer body; the
// legacy Java class name is accepted when reading.
const (
	PointerClass       = "software.amazon.payloadoffloading.PayloadS3Pointer"
	legacyPointerClass = "com.amazon.sqs.javamessaging.MessageS3Pointer"
)

func messageAttributes(doc *Document, loc Location) map[string]types.MessageAttributeValue {
	h := doc.Hydration
	attrs := make(map[string]types.MessageAttributeValue, MaxAttributes)
	for name, v := range map[string]string{
		AttrSource: h.Source, AttrStreamARN: h.StreamARN, AttrShardID: h.ShardID,
		AttrStart: h.Start, AttrEnd: h.End, AttrCondition: h.Condition, AttrStatus: h.Status,
		AttrDedupID: loc.Key,
	} {
		// SQS refuses empty values and characters outside its set.
		if v = headerSafe(v); v != "" {
			attrs[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	attrs[AttrRecordCount] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(doc.Len()))}
	return attrs
}

// attributesSize counts attributes as SQS does against MaximumMessageSize: name,
// data type and value of each.
func attributesSize(attrs map[string]types.MessageAttributeValue) int {
	n := 0
	for name, v := range attrs {
		n += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// sqsSafe makes a JSON text acceptable to SQS, which refuses invalid UTF-8 and the
// noncharacters U+FFFE and U+FFFF; JSON lets them be written as escapes instead.
func sqsSafe(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "\uFFFE") || strings.Contains(s, "\uFFFF") {
		s = strings.NewReplacer("\uFFFE", `\ufffe`, "\uFFFF", `\uffff`).Replace(s)
	}
	return s
}

// Pointer is an SQS Extended Client claim check: where the message's body is.
type Pointer struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// ParsePointer reads a claim-check body. ok is false for any other body (an inline
// document); err reports a body that is a pointer array but malformed.
func ParsePointer(body string) (p Pointer, ok bool, err error) {
	body = strings.TrimSpace(body)
	if !strings.HasPrefix(body, "[") {
		return Pointer{}, false, nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal([]byte(body), &parts); err != nil || len(parts) != 2 {
		return Pointer{}, true, &FormatError{What: "message body", Err: errors.New("not a [class, pointer] claim check")}
	}
	var class string
	if err := json.Unmarshal(parts[0], &class); err != nil || (class != PointerClass && class != legacyPointerClass) {
		return Pointer{}, true, &FormatError{What: "message body", Err: errors.New("claim check of unknown class")}
	}
	if err := json.Unmarshal(parts[1], &p); err != nil || p.Bucket == "" || p.Key == "" {
		return Pointer{}, true, &FormatError{What: "message body", Err: errors.New("claim check without s3BucketName and s3Key")}
	}
	return p, true, nil
}

// DecodeMessage returns the hydrated failure a DLQ message carries: inline, or behind
// a claim check that is fetched from S3. A claim check pointing outside bucket (the
// archive bucket) is refused with a *PointerError before any request is made; a body
// that is not streamdlq's is a *FormatError.
func DecodeMessage(ctx context.Context, client getObjectAPI, bucket, body string) (*Document, error) {
	p, ok, err := ParsePointer(body)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return decodeDocument(strings.NewReader(body), "message body")
	case p.Bucket != bucket:
		return nil, &PointerError{Bucket: p.Bucket, Key: p.Key, Allowed: bucket}
	}
	return getDocument(ctx, client, p.Bucket, p.Key)
}
