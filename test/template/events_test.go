package template

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/streamdlq/streamdlq/internal/envelope"
)

// The samples are what `sam local invoke -e` and the demo feed the hydrator, so each
// must parse as the input it claims to be, with every unit usable, and name streams
// of the local AWS (account 000000000000, us-east-1).
func TestSampleEventsParse(t *testing.T) {
	tests := map[string]struct {
		kind    envelope.Kind
		sources []batch.Source // one per item
	}{
		"sns-kinesis.json":            {envelope.KindSNS, []batch.Source{batch.SourceKinesis}},
		"sns-dynamodb.json":           {envelope.KindSNS, []batch.Source{batch.SourceDynamoDB}},
		"sqs.json":                    {envelope.KindSQS, []batch.Source{batch.SourceKinesis, batch.SourceDynamoDB}},
		"direct-kinesis.json":         {envelope.KindDirect, []batch.Source{batch.SourceKinesis}},
		"pipes-dlq.json":              {envelope.KindSQS, []batch.Source{batch.SourceKinesis}},
		"s3-object-notification.json": {envelope.KindS3, []batch.Source{""}},
		"hydrate-failure.json":        {envelope.KindSNS, []batch.Source{batch.SourceKinesis}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in, err := envelope.Parse([]byte(readRepoFile(t, filepath.Join("events", name))))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if in.Kind != tc.kind || len(in.Items) != len(tc.sources) {
				t.Fatalf("got %s with %d items, want %s with %d", in.Kind, len(in.Items), tc.kind, len(tc.sources))
			}
			for i, it := range in.Items {
				if it.Err != nil {
					t.Errorf("item %d: %v", i, it.Err)
				} else if it.Failure != nil {
					checkLocal(t, it.Failure, tc.sources[i])
				}
			}
		})
	}
}

func checkLocal(t *testing.T, f *batch.Failure, source batch.Source) {
	t.Helper()
	if f.Source != source || f.AccountID != "000000000000" || f.Region != "us-east-1" {
		t.Errorf("failure: got %s %s %s, want %s 000000000000 us-east-1", f.Source, f.AccountID, f.Region, source)
	}
}

// The notification must point at events/s3-object.json: same size, an on-failure
// destination key, and a body that parses with its payload.
func TestSampleS3ObjectMatchesNotification(t *testing.T) {
	body := readRepoFile(t, "events/s3-object.json")
	in, err := envelope.Parse([]byte(readRepoFile(t, "events/s3-object-notification.json")))
	if err != nil || len(in.Items) != 1 || in.Items[0].Object == nil {
		t.Fatalf("notification: got %+v, %v, want one object", in, err)
	}
	obj := in.Items[0].Object
	if obj.Size != int64(len(body)) || !strings.HasPrefix(obj.Key, "aws/lambda/") {
		t.Errorf("object: got size %d key %s, want size %d under aws/lambda/", obj.Size, obj.Key, len(body))
	}
	f, err := envelope.ParseRecord([]byte(body), "s3://"+obj.Bucket+"/"+obj.Key)
	if err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	checkLocal(t, f, batch.SourceKinesis)
	var payload struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(f.Payload, &payload); err != nil || len(payload.Records) != f.BatchSize {
		t.Errorf("payload: got %d records (%v), want batchSize %d", len(payload.Records), err, f.BatchSize)
	}
}

func TestEventsReadmeListsEverySample(t *testing.T) {
	readme := readRepoFile(t, "events/README.md")
	files, _ := filepath.Glob(filepath.Join(repo, "events", "*.json"))
	if len(files) < 8 {
		t.Fatalf("events/: got %d samples, want at least 8", len(files))
	}
	for _, f := range files {
		if name := filepath.Base(f); !strings.Contains(readme, name) {
			t.Errorf("events/README.md: got no line for %s", name)
		}
	}
}
