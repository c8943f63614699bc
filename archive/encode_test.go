package archive

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"github.com/klauspost/compress/gzip"
)

func TestAppendKinesisMatchesEncodingJSON(t *testing.T) {
	sub := uint64(7)
	cases := map[string]func(k *batch.KinesisEventRecord){
		"plain":       func(k *batch.KinesisEventRecord) {},
		"nil data":    func(k *batch.KinesisEventRecord) { k.Kinesis.Data = nil },
		"empty data":  func(k *batch.KinesisEventRecord) { k.Kinesis.Data = []byte{} },
		"binary data": func(k *batch.KinesisEventRecord) { k.Kinesis.Data = []byte{0, 0xff, 0xfe, '\n'} },
		"kpl fields": func(k *batch.KinesisEventRecord) {
			k.Kinesis.SubSequenceNumber, k.Kinesis.ExplicitHashKey = &sub, "123"
		},
		"agg error":    func(k *batch.KinesisEventRecord) { k.Kinesis.AggregationError = "bad md5" },
		"encryption":   func(k *batch.KinesisEventRecord) { k.Kinesis.EncryptionType = "KMS" },
		"html":         func(k *batch.KinesisEventRecord) { k.Kinesis.PartitionKey = `<a href="x">&amp;</a>` },
		"controls":     func(k *batch.KinesisEventRecord) { k.Kinesis.PartitionKey = "a\x00b\x1f\t\n\r\b\f\\\"\x7f" },
		"bad utf8":     func(k *batch.KinesisEventRecord) { k.Kinesis.PartitionKey = "a\xffb\xc3" },
		"separators":   func(k *batch.KinesisEventRecord) { k.Kinesis.PartitionKey = "x\u2028y\u2029z é 日本 🙂" },
		"zero time":    func(k *batch.KinesisEventRecord) { k.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{} },
		"tiny time":    func(k *batch.KinesisEventRecord) { k.Kinesis.ApproximateArrivalTimestamp.Time = time.Unix(0, 5) },
		"negative":     func(k *batch.KinesisEventRecord) { k.Kinesis.ApproximateArrivalTimestamp.Time = time.Unix(-1, 5e8) },
		"empty fields": func(k *batch.KinesisEventRecord) { *k = batch.KinesisEventRecord{} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			rec := kinesisRecord(3, []byte(`{"a":1}`))
			mutate(rec.Kinesis)
			want, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendKinesis(nil, rec.Kinesis); !bytes.Equal(got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func FuzzAppendKinesis(f *testing.F) {
	f.Add("pk", []byte("data"), int64(1573691884835000000), uint64(1), "", true)
	f.Add("<\u2028\xff>", []byte(nil), int64(-5), uint64(0), "KMS", false)
	f.Fuzz(func(t *testing.T, s string, data []byte, nanos int64, sub uint64, enc string, kpl bool) {
		rec := kinesisRecord(0, data)
		k := &rec.Kinesis.Kinesis
		k.PartitionKey, k.EncryptionType, rec.Kinesis.EventID = s, enc, s+s
		k.ApproximateArrivalTimestamp.Time = time.Unix(0, nanos)
		if kpl {
			k.SubSequenceNumber, k.ExplicitHashKey = &sub, s
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendKinesis(nil, rec.Kinesis); !bytes.Equal(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestBodyMatchesEncodingJSON(t *testing.T) {
	empty := kinesisDoc(0, 10)
	empty.Records = []batch.Record{}
	cases := map[string]*Document{
		"kinesis":     kinesisDoc(5, 100),
		"dynamodb":    dynamoDBDoc(3),
		"no records":  kinesisDoc(0, 10),
		"empty slice": empty,
		"nil failure": {Hydration: testHydration("kinesis", testKinesisARN, 0)},
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			want := mustJSON(t, doc)
			var got strings.Builder
			if err := encodeTo(&got, doc, false); err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("got %s, want %s", got.String(), want)
			}
			if n, err := encodedSize(doc, false); err != nil || n != len(want) {
				t.Errorf("encodedSize: got %d, %v, want %d", n, err, len(want))
			}
		})
	}
}

func TestObjectRoundTrip(t *testing.T) {
	partial := kinesisDoc(4, 50)
	partial.Hydration.Status = StatusPartial
	partial.Hydration.Gaps = []batch.Gap{{From: seq(4), To: seq(9), Reason: batch.GapTrimmed, Detail: "past retention"}}
	unreadable := kinesisDoc(0, 0)
	unreadable.Hydration.Status = StatusUnreadable
	unreadable.Hydration.Gaps = []batch.Gap{{From: testStart, To: seq(0), Reason: batch.GapUnreadable}}
	cases := map[string]*Document{
		"kinesis with kpl": kinesisDoc(50, 300),
		"dynamodb":         dynamoDBDoc(20),
		"partial":          partial,
		"unreadable":       unreadable,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := objectBytes(t, doc)
			got, err := decodeDocument(bytes.NewReader(obj), "test")
			if err != nil {
				t.Fatal(err)
			}
			sameDocument(t, got, doc)
			lines := objectLines(t, obj)
			if len(lines) != len(doc.Records)+1 || !strings.HasPrefix(lines[0], `{"streamdlq":1,`) {
				t.Errorf("got %d lines starting %.40s, want %d starting with the header", len(lines), lines[0], len(doc.Records)+1)
			}
		})
	}
}

// objectLines decompresses an archive object with compress/gzip (any gzip reader
// must do) and splits it into lines.
func objectLines(t *testing.T, obj []byte) []string {
	t.Helper()
	zr, err := gzipStd(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(text, []byte("\n")) {
		t.Errorf("object does not end with a newline")
	}
	return strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
}

func TestDecodeDocumentRefuses(t *testing.T) {
	good := objectBytes(t, kinesisDoc(3, 20))
	plain := func(s string) []byte { return []byte(s) }
	zipped := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	cases := map[string][]byte{
		"truncated gzip":  good[:len(good)/2],
		"not json":        plain("hello"),
		"foreign json":    plain(`{"Records":[]}`),
		"newer version":   zipped(`{"streamdlq":2,"records":0,"failure":{},"hydration":{}}` + "\n"),
		"missing records": zipped(`{"streamdlq":1,"records":2,"failure":{},"hydration":{}}` + "\n"),
		"no hydration":    zipped(`{"streamdlq":1,"records":0,"failure":{}}` + "\n"),
		"bad record":      zipped(`{"streamdlq":1,"records":1,"failure":{},"hydration":{}}` + "\n" + `{"eventSource":"aws:sqs"}` + "\n"),
	}
	for name, obj := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeDocument(bytes.NewReader(obj), "s3://b/k")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("got %v, want a *FormatError", err)
			}
		})
	}
}

func TestEncodeRefusesEmptyRecord(t *testing.T) {
	doc := kinesisDoc(2, 10)
	doc.Records = append(doc.Records, batch.Record{})
	if _, err := defaultGzip.compress(doc); !errors.Is(err, errEmptyRecord) {
		t.Errorf("got %v, want %v", err, errEmptyRecord)
	}
}

func TestInvalidUTF8FailureIsRepaired(t *testing.T) {
	doc := kinesisDoc(1, 10)
	doc.Failure = json.RawMessage("{\"requestContext\":{\"requestId\":\"a\xffb\"}}")
	var b strings.Builder
	if err := encodeTo(&b, doc, false); err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal([]byte(b.String()), &back); err != nil {
		t.Fatal(err)
	}
	if got, want := requestID(back.Failure), "a\uFFFDb"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func gzipStd(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }

// objectBytes is doc's archive object.
func objectBytes(t *testing.T, doc *Document) []byte {
	t.Helper()
	obj, err := defaultGzip.compress(doc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.size))
	if err != nil || int64(len(b)) != obj.size {
		t.Fatalf("read %d of %d bytes: %v", len(b), obj.size, err)
	}
	return b
}

func TestChunks(t *testing.T) {
	var want []byte
	var c chunks
	for i := range 300 { // writes of many sizes, across chunk boundaries
		p := bytes.Repeat([]byte{byte(i)}, i*37)
		c.Write(p)
		want = append(want, p...)
	}
	r := io.NewSectionReader(&c, 0, c.size)
	for _, off := range []int64{0, chunkCap - 1, chunkCap, int64(len(want)) - 3, int64(len(want))} {
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want[off:]) {
			t.Errorf("from %d: got %d bytes, %v; want %d", off, len(got), err, len(want)-int(off))
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	strs := map[string]string{
		"arn":     testDynamoDBARN,
		"short":   "order#1234",
		"escaped": `{"html":"<a href=\"x\">&amp;</a>","tab":"a	b"}`,
		"unicode": "Grüße aus Köln — 日本語のテキスト 🙂",
	}
	for name, s := range strs {
		for impl, f := range map[string]func([]byte, string) []byte{"new": appendString, "old": oldAppendString} {
			b.Run(name+"/"+impl, func(b *testing.B) {
				var buf []byte
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					buf = f(buf[:0], s)
				}
			})
		}
	}
}

// FuzzAppendString holds the quoting to encoding/json's on any string: the eight-byte
// fast path must miss nothing that needs escaping, at any offset.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text longer than eight", "0123456<", "01234567\x00", "é日本🙂\u2028\xff", `a"b\c&d>e<`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}
