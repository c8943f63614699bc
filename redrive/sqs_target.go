package redrive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	sqsMaxEntries = 10
	// sqsDefaultMaxBytes is the classic message and batch size limit; queues created
	// with a larger MaximumMessageSize (up to 1 MiB) can say so in SQSTarget options.
	sqsDefaultMaxBytes = 256 << 10
	sqsMaxGroupID      = 128
)

type sendMessageBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ sendMessageBatchAPI = (*sqs.Client)(nil)

// SQSTarget sends one message per record, the record's JSON as the body. On a FIFO
// queue the message group is the record's partition key (the source shard for
// DynamoDB records) and a call holds one record per group, so each key's order holds.
type SQSTarget struct {
	api      sendMessageBatchAPI
	url      string
	maxBytes int
	fifo     bool
}

// NewSQSTarget returns a target for the queue URL; maxBytes is the queue's maximum
// message size (0: 256 KiB), which also bounds a whole batch.
func NewSQSTarget(api sendMessageBatchAPI, url string, maxBytes int) *SQSTarget {
	if maxBytes <= 0 {
		maxBytes = sqsDefaultMaxBytes
	}
	return &SQSTarget{api: api, url: url, maxBytes: maxBytes, fifo: strings.HasSuffix(url, ".fifo")}
}

// Name implements Target.
func (t *SQSTarget) Name() string { return "sqs:" + t.url }

// Limits implements Target.
func (t *SQSTarget) Limits() Limits {
	l := Limits{MaxEntries: sqsMaxEntries, MaxBytes: t.maxBytes, Capacity: Rate{Records: 3000, Bytes: 30 << 20}}
	if t.fifo {
		l.Ordering = OnePerKey
	}
	return l
}

// Prepare implements Target.
func (t *SQSTarget) Prepare(rec batch.Record, from Origin) (*Entry, error) {
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, &RejectedError{Target: t.Name(), Reason: err.Error()}
	}
	body := sqsSafe(raw)
	if len(body) > t.maxBytes {
		return nil, &RejectedError{Target: t.Name(), Reason: fmt.Sprintf("message of %d bytes exceeds %d", len(body), t.maxBytes)}
	}
	key := from.StreamARN + "/" + from.ShardID
	if rec.Kinesis != nil {
		key = rec.Kinesis.Kinesis.PartitionKey
	}
	return &Entry{Record: rec, Key: key, Size: len(body), Body: body}, nil
}

// Send implements Target.
func (t *SQSTarget) Send(ctx context.Context, entries []*Entry) ([]Outcome, error) {
	in := &sqs.SendMessageBatchInput{QueueUrl: &t.url, Entries: make([]types.SendMessageBatchRequestEntry, len(entries))}
	for i, e := range entries {
		in.Entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(e.Body))}
		if t.fifo {
			in.Entries[i].MessageGroupId = aws.String(groupID(e.Key))
			in.Entries[i].MessageDeduplicationId = aws.String(dedupID(e.Record))
		}
	}
	out, err := t.api.SendMessageBatch(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("send %d messages to %s: %w", len(entries), t.url, err)
	}
	return t.outcomes(out, len(entries)), nil
}

// outcomes matches a batch's results to its entries by Id; an entry SQS says
// nothing about failed.
func (t *SQSTarget) outcomes(out *sqs.SendMessageBatchOutput, n int) []Outcome {
	outcomes := make([]Outcome, n)
	seen := make([]bool, n)
	for _, f := range out.Failed {
		if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < n {
			outcomes[i], seen[i] = entryOutcome(aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault), true
		}
	}
	for _, s := range out.Successful {
		if i, err := strconv.Atoi(aws.ToString(s.Id)); err == nil && i >= 0 && i < n {
			outcomes[i], seen[i] = Outcome{Status: Delivered}, true
		}
	}
	for i := range seen {
		if !seen[i] {
			outcomes[i] = Outcome{Status: Failed, Err: fmt.Errorf("send to %s: no result for entry %d", t.url, i)}
		}
	}
	return outcomes
}

// sqsNoncharacters are what SQS refuses in a body that encoding/json writes as they
// are; the other characters SQS refuses (controls, invalid UTF-8) it escapes or
// replaces already.
var sqsNoncharacters = strings.NewReplacer("\uFFFE", `\ufffe`, "\uFFFF", `\uffff`)

// sqsSafe makes a record's JSON acceptable to SQS as the DLQ's messages are (see
// archive's sqsSafe): the noncharacters become JSON escapes, which decode to the
// same string.
func sqsSafe(b []byte) []byte {
	if !bytes.Contains(b, []byte("\uFFFE")) && !bytes.Contains(b, []byte("\uFFFF")) {
		return b
	}
	return []byte(sqsNoncharacters.Replace(string(b)))
}

// groupID fits a key into a FIFO message group id (at most 128 characters of
// printable ASCII) by hashing the keys that do not.
func groupID(key string) string {
	if len(key) <= sqsMaxGroupID && isPrintableASCII(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}

// dedupID names a record uniquely within its stream, so a record redriven twice
// within SQS's five-minute window is queued once.
func dedupID(rec batch.Record) string {
	id := rec.SequenceNumber()
	if rec.Kinesis != nil {
		id = rec.Kinesis.EventID
		if s := rec.Kinesis.Kinesis.SubSequenceNumber; s != nil {
			id += "/" + strconv.FormatUint(*s, 10)
		}
	} else if rec.DynamoDB != nil {
		id = rec.DynamoDB.EventSourceArn + "/" + id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
