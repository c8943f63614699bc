package archive

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeSQS stands in for *sqs.Client at the SDK edge.
type fakeSQS struct {
	sendMessage        func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error)
	getQueueAttributes func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error)
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return f.sendMessage(in)
}

func (f *fakeSQS) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return f.getQueueAttributes(in)
}

// recorder is a fake queue and archive bucket that keep what they were sent.
type recorder struct {
	sqs     fakeSQS
	s3      fakeS3
	sent    []*sqs.SendMessageInput
	objects map[string][]byte
}

func newRecorder(maxSize string) *recorder {
	r := &recorder{objects: map[string][]byte{}}
	r.sqs.getQueueAttributes = func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
		return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"MaximumMessageSize": maxSize}}, nil
	}
	r.sqs.sendMessage = func(in *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		r.sent = append(r.sent, in)
		return &sqs.SendMessageOutput{MessageId: aws.String("m" + strconv.Itoa(len(r.sent)))}, nil
	}
	r.s3.putObject = func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		b, err := io.ReadAll(in.Body)
		if int64(len(b)) != aws.ToInt64(in.ContentLength) {
			return nil, errors.New("body length differs from ContentLength")
		}
		r.objects[aws.ToString(in.Key)] = b
		return &s3.PutObjectOutput{}, err
	}
	r.s3.getObject = func(in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		b, ok := r.objects[aws.ToString(in.Key)]
		if !ok {
			return nil, statusError(404)
		}
		return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(string(b)))}, nil
	}
	return r
}

func (r *recorder) queue(optFns ...func(*QueueOptions)) *Queue {
	a := New(&r.s3, func(o *Options) { o.Bucket, o.Prefix = "archive-bucket", "p" })
	return NewQueue(&r.sqs, append([]func(*QueueOptions){func(o *QueueOptions) { o.URL, o.Archive = "https://q", a }}, optFns...)...)
}

func TestSendInlineOrClaimCheck(t *testing.T) {
	doc := kinesisDoc(5, 100)
	loc := Location{Bucket: "archive-bucket", Key: Key(doc.Hydration, "p")}
	size, _ := encodedSize(doc, false)
	fits := size + attributesSize(messageAttributes(doc, loc))
	cases := map[string]struct {
		max   int
		claim bool
	}{
		"fits exactly":   {fits, false},
		"one byte over":  {fits - 1, true},
		"roomy queue":    {1 << 20, false},
		"smallest queue": {1024, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRecorder(strconv.Itoa(c.max))
			sent, err := r.queue().Send(context.Background(), doc, loc)
			if err != nil {
				t.Fatal(err)
			}
			in := r.sent[0]
			if sent.ClaimCheck != c.claim || sent.Bytes > c.max || sent.Bytes != len(aws.ToString(in.MessageBody))+attributesSize(in.MessageAttributes) {
				t.Errorf("got %+v, want claim check %v within %d bytes", sent, c.claim, c.max)
			}
			if _, ok := in.MessageAttributes[AttrExtendedPayloadSize]; ok != c.claim || len(in.MessageAttributes) > MaxAttributes {
				t.Errorf("got attributes %v, want ExtendedPayloadSize %v and at most %d", keys(in.MessageAttributes), c.claim, MaxAttributes)
			}
			got, err := DecodeMessage(context.Background(), &r.s3, "archive-bucket", aws.ToString(in.MessageBody))
			if err != nil {
				t.Fatal(err)
			}
			sameDocument(t, got, doc)
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestClaimCheckFormat(t *testing.T) {
	doc := kinesisDoc(5, 100)
	loc := Location{Bucket: "archive-bucket", Key: Key(doc.Hydration, "p")}
	r := newRecorder("1024")
	if _, err := r.queue().Send(context.Background(), doc, loc); err != nil {
		t.Fatal(err)
	}
	in := r.sent[0]
	key := ClaimCheckKey(loc.Key, "p")
	want := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"archive-bucket","s3Key":"` + key + `"}]`
	if got := aws.ToString(in.MessageBody); got != want {
		t.Errorf("got body %v, want %v", got, want)
	}
	// The claim-check object is the exact body an inline message would have had,
	// and ExtendedPayloadSize is its size, as the extended clients expect.
	if got, want := string(r.objects[key]), mustJSON(t, doc); got != want {
		t.Errorf("got claim-check object %.80s..., want the document JSON %.80s...", got, want)
	}
	size := aws.ToString(in.MessageAttributes[AttrExtendedPayloadSize].StringValue)
	if size != strconv.Itoa(len(r.objects[key])) || aws.ToString(in.MessageAttributes[AttrExtendedPayloadSize].DataType) != "Number" {
		t.Errorf("got ExtendedPayloadSize %v, want Number %d", size, len(r.objects[key]))
	}
}

func TestSendAttributes(t *testing.T) {
	doc := dynamoDBDoc(2)
	doc.Hydration.Condition = ""
	loc := Location{Key: Key(doc.Hydration, "p")}
	r := newRecorder("262144")
	if _, err := r.queue().Send(context.Background(), doc, loc); err != nil {
		t.Fatal(err)
	}
	got := r.sent[0].MessageAttributes
	want := map[string]string{
		AttrSource: "dynamodb", AttrStreamARN: testDynamoDBARN, AttrShardID: doc.Hydration.ShardID,
		AttrStart: testStart, AttrEnd: seq(2), AttrRecordCount: "2", AttrStatus: StatusComplete, AttrDedupID: loc.Key,
	}
	if len(got) != len(want) {
		t.Errorf("got attributes %v, want %v (empty condition left out)", keys(got), keys(want))
	}
	for name, v := range want {
		if g := aws.ToString(got[name].StringValue); g != v {
			t.Errorf("attribute %s: got %v, want %v", name, g, v)
		}
	}
}

func TestMaxSizeReadOnce(t *testing.T) {
	r := newRecorder("262144")
	calls, fail := 0, true
	r.sqs.getQueueAttributes = func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
		calls++
		if fail {
			return nil, errors.New("throttled")
		}
		return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"MaximumMessageSize": "262144"}}, nil
	}
	q := r.queue()
	doc := kinesisDoc(1, 10)
	if _, err := q.Send(context.Background(), doc, Location{Key: "k"}); err == nil {
		t.Fatal("got nil error, want the attribute read's")
	}
	fail = false
	for range 3 {
		if _, err := q.Send(context.Background(), doc, Location{Key: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("got %d GetQueueAttributes calls, want 2 (a failure is not cached)", calls)
	}
}

func TestSendFIFO(t *testing.T) {
	r := newRecorder("262144")
	q := r.queue(func(o *QueueOptions) { o.URL = "https://sqs/123/dlq.fifo" })
	doc := kinesisDoc(1, 10)
	loc := Location{Key: Key(doc.Hydration, "p")}
	for range 2 {
		if _, err := q.Send(context.Background(), doc, loc); err != nil {
			t.Fatal(err)
		}
	}
	a, b := r.sent[0], r.sent[1]
	if aws.ToString(a.MessageGroupId) != doc.Hydration.ShardID || len(aws.ToString(a.MessageDeduplicationId)) != 64 ||
		aws.ToString(a.MessageDeduplicationId) != aws.ToString(b.MessageDeduplicationId) {
		t.Errorf("got group %v dedup %v / %v, want the shard and one 64-char id", aws.ToString(a.MessageGroupId), aws.ToString(a.MessageDeduplicationId), aws.ToString(b.MessageDeduplicationId))
	}
}

func TestSendNeedsArchiveForClaimCheck(t *testing.T) {
	r := newRecorder("1024")
	cases := map[string]func(*QueueOptions){
		"no archive":   func(o *QueueOptions) { o.Archive = nil },
		"other bucket": func(o *QueueOptions) { o.Bucket = "elsewhere" },
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := r.queue(fn).Send(context.Background(), kinesisDoc(5, 100), Location{Key: "k"})
			if !errors.Is(err, errNoArchive) {
				t.Errorf("got %v, want %v", err, errNoArchive)
			}
		})
	}
	t.Run("no archive key", func(t *testing.T) {
		_, err := r.queue().Send(context.Background(), kinesisDoc(5, 100), Location{})
		if !errors.Is(err, errNoArchive) {
			t.Errorf("got %v, want %v", err, errNoArchive)
		}
	})
}

func TestSQSSafe(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"b"}`:            `{"a":"b"}`,
		"{\"a\":\"\uFFFE\"}":   `{"a":"\ufffe"}`,
		"{\"a\":\"x\uFFFFy\"}": `{"a":"x\uffffy"}`,
		"{\"a\":\"\xff\"}":     "{\"a\":\"\uFFFD\"}",
		"{\"a\":\"日本 🙂\"}":     "{\"a\":\"日本 🙂\"}",
	} {
		if got := sqsSafe(in); got != want {
			t.Errorf("sqsSafe(%q): got %q, want %q", in, got, want)
		}
	}
}
