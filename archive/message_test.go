package archive

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestParsePointer(t *testing.T) {
	cases := map[string]struct {
		body    string
		want    Pointer
		ok, bad bool
	}{
		"pointer": {body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k/1"}]`,
			want: Pointer{"b", "k/1"}, ok: true},
		"legacy class": {body: ` ["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`,
			want: Pointer{"b", "k"}, ok: true},
		"inline document": {body: `{"failure":{},"Records":[],"hydration":{}}`},
		"unknown class":   {body: `["x.Pointer",{"s3BucketName":"b","s3Key":"k"}]`, ok: true, bad: true},
		"no key":          {body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]`, ok: true, bad: true},
		"three elements":  {body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{},{}]`, ok: true, bad: true},
		"broken":          {body: `["software.amazon`, ok: true, bad: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok, err := ParsePointer(c.body)
			var fe *FormatError
			if got != c.want || ok != c.ok || c.bad != errors.As(err, &fe) {
				t.Errorf("got %+v %v %v, want %+v %v format error %v", got, ok, err, c.want, c.ok, c.bad)
			}
		})
	}
}

func TestDecodeMessageRefusesForeignPointer(t *testing.T) {
	fake := &fakeS3{getObject: func(in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		t.Errorf("GetObject(%s) called for a refused pointer", *in.Bucket)
		return nil, errUnexpected
	}}
	body := pointerBody(Pointer{Bucket: "someone-elses-bucket", Key: "secrets.json"})
	_, err := DecodeMessage(context.Background(), fake, "archive-bucket", body)
	var pe *PointerError
	if !errors.As(err, &pe) || pe.Bucket != "someone-elses-bucket" || pe.Allowed != "archive-bucket" {
		t.Errorf("got %v, want a *PointerError naming both buckets", err)
	}
}

func TestDecodeMessageInline(t *testing.T) {
	doc := dynamoDBDoc(4)
	got, err := DecodeMessage(context.Background(), &fakeS3{}, "b", mustJSON(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, got, doc)
	for name, body := range map[string]string{
		"empty":            "",
		"plain text":       "hello",
		"other json":       `{"Records":[]}`,
		"on-failure only":  string(testFailure("r", "kinesis", testKinesisARN, 1)),
		"bad record":       `{"failure":{},"hydration":{},"Records":[{"eventSource":"aws:s3"}]}`,
		"wrong field type": `{"failure":{},"hydration":{"fetched":"many"}}`,
	} {
		_, err := DecodeMessage(context.Background(), &fakeS3{}, "b", body)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a *FormatError", name, err)
		}
	}
}

func TestDecodeMessageReadsArchiveObject(t *testing.T) {
	// A claim check may also point at the gzip archive object itself.
	doc := kinesisDoc(7, 40)
	obj := objectBytes(t, doc)
	fake := &fakeS3{getObject: func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(string(obj)))}, nil
	}}
	got, err := DecodeMessage(context.Background(), fake, "b", pointerBody(Pointer{Bucket: "b", Key: "k.jsonl.gz"}))
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, got, doc)
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(`{"failure":{},"Records":[],"hydration":{}}`)
	f.Add(pointerBody(Pointer{Bucket: "b", Key: "k"}))
	f.Add(pointerBody(Pointer{Bucket: "other", Key: "k"}))
	f.Add(`["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":""}]`)
	f.Fuzz(func(t *testing.T, body string) {
		fake := &fakeS3{getObject: func(in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
			if *in.Bucket != "b" {
				t.Fatalf("fetched from bucket %q", *in.Bucket)
			}
			return nil, statusError(404)
		}}
		doc, err := DecodeMessage(context.Background(), fake, "b", body)
		if (doc == nil) == (err == nil) {
			t.Fatalf("got %v and %v, want exactly one", doc, err)
		}
	})
}
