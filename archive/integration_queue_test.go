package archive

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestIntegrationQueueRoundTrip(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	a := New(l.s3, func(o *Options) { o.Bucket, o.Prefix = l.bucket(t), "p" })
	cases := map[string]struct {
		doc     *Document
		maxSize string
		claim   bool
	}{
		"inline kinesis":            {kinesisDoc(20, 200), "", false},
		"inline dynamodb":           {dynamoDBDoc(10), "", false},
		"claim check, big document": {kinesisDoc(2500, 600), "", true},
		"claim check, small queue":  {kinesisDoc(3, 100), "1024", true},
		"claim check, dynamodb":     {dynamoDBDoc(2), "1024", true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			url := l.queue(t, c.maxSize)
			q := NewQueue(l.sqs, func(o *QueueOptions) { o.URL, o.Archive, o.Bucket = url, a, a.Bucket() })
			loc, err := a.Put(ctx, c.doc)
			if err != nil {
				t.Fatal(err)
			}
			sent, err := q.Send(ctx, c.doc, loc)
			if err != nil || sent.ClaimCheck != c.claim {
				t.Fatalf("got %+v, %v; want claim check %v", sent, err, c.claim)
			}
			msg := l.receive(t, url)
			if len(msg.MessageAttributes) > MaxAttributes || aws.ToString(msg.MessageAttributes[AttrDedupID].StringValue) != loc.Key {
				t.Errorf("got %d attributes, dedup id %v; want at most %d, %v", len(msg.MessageAttributes), aws.ToString(msg.MessageAttributes[AttrDedupID].StringValue), MaxAttributes, loc.Key)
			}
			got, err := DecodeMessage(ctx, l.s3, a.Bucket(), aws.ToString(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			sameDocument(t, got, c.doc)
			if c.claim {
				checkClaimCheckObject(t, l, a, msg.MessageAttributes[AttrExtendedPayloadSize].StringValue, loc)
			}
		})
	}
}

// checkClaimCheckObject checks that ExtendedPayloadSize is the size of the object the
// pointer names, and that the object is encrypted like the archive.
func checkClaimCheckObject(t *testing.T, l localAWS, a *Archive, size *string, loc Location) {
	t.Helper()
	key := ClaimCheckKey(loc.Key, a.Prefix())
	head, err := l.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(a.Bucket()), Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	if got := strconv.FormatInt(aws.ToInt64(head.ContentLength), 10); aws.ToString(size) != got || head.ServerSideEncryption == "" {
		t.Errorf("got ExtendedPayloadSize %v, object %v bytes (SSE %q); want equal, encrypted", aws.ToString(size), got, head.ServerSideEncryption)
	}
}

func TestIntegrationDecodeRefusesOtherBucket(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	other := l.bucket(t)
	if _, err := l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &other, Key: aws.String("k.json"), Body: strings.NewReader(mustJSON(t, kinesisDoc(1, 5)))}); err != nil {
		t.Fatal(err)
	}
	_, err := DecodeMessage(ctx, l.s3, "archive-bucket", pointerBody(Pointer{Bucket: other, Key: "k.json"}))
	var pe *PointerError
	if !errors.As(err, &pe) {
		t.Errorf("got %v, want a *PointerError", err)
	}
}

// TestIntegrationExtendedClient has the SQS Extended Client Library for Python read a
// streamdlq claim check, and streamdlq read one that library wrote.
func TestIntegrationExtendedClient(t *testing.T) {
	l := newLocalAWS(t)
	python := filepath.Join("..", ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("the extended-client check needs the repo's .venv (scripts/localaws.sh install): %v", err)
	}
	ctx := context.Background()
	a := New(l.s3, func(o *Options) { o.Bucket, o.Prefix = l.bucket(t), "p" })
	doc := kinesisDoc(30, 200)
	url := l.queue(t, "1024")
	loc, err := a.Put(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewQueue(l.sqs, func(o *QueueOptions) { o.URL, o.Archive = url, a }).Send(ctx, doc, loc); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Body       string   `json:"body"`
		Attributes []string `json:"attributes"`
	}
	out := runPython(t, python, "", "receive", url, a.Bucket())
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("extended client output %q: %v", out, err)
	}
	if want := mustJSON(t, doc); got.Body != want {
		t.Errorf("extended client read %.100s..., want the inline body %.100s...", got.Body, want)
	}
	for _, name := range got.Attributes {
		if name == AttrExtendedPayloadSize {
			t.Errorf("got %v, want the extended client to have consumed %s", got.Attributes, AttrExtendedPayloadSize)
		}
	}

	runPython(t, python, mustJSON(t, doc), "send", url, a.Bucket())
	msg := l.receive(t, url)
	back, err := DecodeMessage(ctx, l.s3, a.Bucket(), aws.ToString(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, back, doc)
}

func runPython(t *testing.T, python, stdin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{filepath.Join("testdata", "extended_client.py")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("extended_client.py %s: %v\n%s", args[0], err, stderr.String())
	}
	return out
}
