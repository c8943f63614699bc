package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type sqsAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var _ sqsAPI = (*sqs.Client)(nil)

// QueueOptions configure a Queue.
type QueueOptions struct {
	URL string
	// Archive writes the claim-check bodies of messages too large for the queue, in
	// its bucket, under its prefix, with its encryption. Without it, a message that
	// does not fit is an error.
	Archive *Archive
	// Bucket, when set, must be the Archive's bucket; it exists so that wiring can
	// state where claim checks point and be checked.
	Bucket string
	// MaxMessageBytes overrides the queue's MaximumMessageSize attribute; 0 reads it
	// once from the queue.
	MaxMessageBytes int
}

// Queue sends hydrated failures to the SQS DLQ, one message per failure.
type Queue struct {
	sqs  sqsAPI
	opts QueueOptions

	mu  sync.Mutex
	max int // cached MaximumMessageSize; 0 until read
}

// NewQueue returns a Queue for the queue URL in the options.
func NewQueue(client sqsAPI, optFns ...func(*QueueOptions)) *Queue {
	q := &Queue{sqs: client}
	for _, fn := range optFns {
		fn(&q.opts)
	}
	q.max = q.opts.MaxMessageBytes
	return q
}

// Sent describes a DLQ message that was sent.
type Sent struct {
	MessageID string `json:"messageId"`
	// ClaimCheck is true when the body is a pointer to a claim-check object.
	ClaimCheck bool `json:"claimCheck"`
	// Bytes is the message's size as SQS counts it: body plus attributes.
	Bytes int `json:"bytes"`
}

// Send queues doc, archived at loc: inline when body and attributes fit the queue's
// MaximumMessageSize, otherwise as a claim check in the SQS Extended Client's format.
func (q *Queue) Send(ctx context.Context, doc *Document, loc Location) (Sent, error) {
	max, err := q.maxSize(ctx)
	if err != nil {
		return Sent{}, err
	}
	attrs := messageAttributes(doc, loc)
	size, err := encodedSize(doc, false)
	if err != nil {
		return Sent{}, fmt.Errorf("encode dlq message for %s: %w", loc.Key, err)
	}
	if size+attributesSize(attrs) <= max {
		body, err := inlineBody(doc, size)
		if err != nil {
			return Sent{}, fmt.Errorf("encode dlq message for %s: %w", loc.Key, err)
		}
		if len(body)+attributesSize(attrs) <= max {
			return q.send(ctx, body, attrs, loc, false)
		}
	}
	return q.sendClaimCheck(ctx, doc, loc, attrs, size, max)
}

func (q *Queue) sendClaimCheck(ctx context.Context, doc *Document, loc Location, attrs map[string]types.MessageAttributeValue, size, max int) (Sent, error) {
	a := q.opts.Archive
	switch {
	case a == nil:
		return Sent{}, fmt.Errorf("dlq message for %s needs a claim check (%d bytes, queue max %d): %w", loc.Key, size, max, errNoArchive)
	case q.opts.Bucket != "" && q.opts.Bucket != a.Bucket():
		return Sent{}, fmt.Errorf("claim checks go to the archive bucket %q, not %q: %w", a.Bucket(), q.opts.Bucket, errNoArchive)
	case loc.Key == "":
		return Sent{}, fmt.Errorf("dlq message needs a claim check, named after the archive key: %w", errNoArchive)
	}
	key := ClaimCheckKey(loc.Key, a.Prefix())
	if err := a.putBody(ctx, key, doc, size); err != nil {
		return Sent{}, err
	}
	attrs[AttrExtendedPayloadSize] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(size))}
	body := pointerBody(Pointer{Bucket: a.Bucket(), Key: key})
	if n := len(body) + attributesSize(attrs); n > max {
		return Sent{}, &TooLargeError{QueueURL: q.opts.URL, Bytes: n, Max: max}
	}
	return q.send(ctx, body, attrs, loc, true)
}

var errNoArchive = errors.New("queue has no archive for claim checks")

func (q *Queue) send(ctx context.Context, body string, attrs map[string]types.MessageAttributeValue, loc Location, claim bool) (Sent, error) {
	in := &sqs.SendMessageInput{QueueUrl: &q.opts.URL, MessageBody: &body, MessageAttributes: attrs}
	if strings.HasSuffix(q.opts.URL, ".fifo") {
		// One group per shard keeps a shard's failures in order; the archive key
		// makes the dedup id, so a repeated send within SQS's 5 minutes is dropped.
		sum := sha256.Sum256([]byte(loc.Key))
		group := aws.ToString(attrs[AttrShardID].StringValue)
		in.MessageGroupId, in.MessageDeduplicationId = &group, aws.String(hex.EncodeToString(sum[:]))
	}
	out, err := q.sqs.SendMessage(ctx, in)
	if err != nil {
		return Sent{}, fmt.Errorf("send dlq message for %s: %w", loc.Key, err)
	}
	return Sent{MessageID: aws.ToString(out.MessageId), ClaimCheck: claim, Bytes: len(body) + attributesSize(attrs)}, nil
}

// maxSize reads the queue's MaximumMessageSize once: 262144 on older queues, up to
// 1048576 on newer ones. A failed read is not cached.
func (q *Queue) maxSize(ctx context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.max > 0 {
		return q.max, nil
	}
	out, err := q.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &q.opts.URL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameMaximumMessageSize},
	})
	if err != nil {
		return 0, fmt.Errorf("read MaximumMessageSize of %s: %w", q.opts.URL, err)
	}
	raw := out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)]
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("MaximumMessageSize of %s is %q, not a size", q.opts.URL, raw)
	}
	q.max = n
	return n, nil
}

// inlineBody is doc's JSON, made safe for SQS.
func inlineBody(doc *Document, size int) (string, error) {
	p := newPieces(doc, false)
	b, err := p.fill(make([]byte, 0, size), size+1)
	if err != nil && err != io.EOF {
		return "", err
	}
	return sqsSafe(string(b)), nil
}

// pointerBody is the SQS Extended Client's body for an offloaded payload.
func pointerBody(p Pointer) string {
	b, _ := json.Marshal([]any{PointerClass, map[string]string{"s3BucketName": p.Bucket, "s3Key": p.Key}})
	return string(b)
}
