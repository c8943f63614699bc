package envelope

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/streamdlq/streamdlq/internal/stream"
)

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		in, err := Parse(payload)
		if err != nil {
			checkParseError(t, err)
		}
		for _, it := range in.Items {
			checkItemInvariants(t, it)
		}
		if f, err := ParseRecord(payload, "fuzz"); err != nil {
			checkParseError(t, err)
		} else {
			checkFailure(t, f)
		}
	})
}

func checkParseError(t *testing.T, err error) {
	t.Helper()
	var perr *ParseError
	if !errors.As(err, &perr) || perr.Err == nil {
		t.Fatalf("got error %#v, want a *ParseError with a cause", err)
	}
}

func checkItemInvariants(t *testing.T, it Item) {
	t.Helper()
	set := 0
	for _, ok := range []bool{it.Failure != nil, it.Object != nil, it.Err != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		t.Fatalf("got item %+v, want exactly one of batch.Failure, Object, Err", it)
	}
	switch {
	case it.Err != nil:
		checkParseError(t, it.Err)
	case it.Object != nil:
		o := it.Object
		if o.Bucket == "" || o.Key == "" || o.Size < 0 || o.Size > MaxObjectSize || it.ID != "s3://"+o.Bucket+"/"+o.Key {
			t.Fatalf("got object %+v with ID %q, want a bucket, a key, a size within the cap", o, it.ID)
		}
	default:
		if it.ID == "" {
			t.Fatal("got a failure without an ID")
		}
		checkFailure(t, it.Failure)
	}
}

// checkFailure restates the validation independently of the code under test.
func checkFailure(t *testing.T, f *batch.Failure) {
	t.Helper()
	if f.Source == batch.SourceKafka {
		checkKafkaFailure(t, f)
		return
	}
	parts := strings.SplitN(f.StreamARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") ||
		parts[2] != string(f.Source) || parts[3] != f.Region || parts[3] == "" || parts[4] != f.AccountID || len(parts[4]) != 12 {
		t.Fatalf("got ARN %q for source %q region %q account %q", f.StreamARN, f.Source, f.Region, f.AccountID)
	}
	resource := "stream/" + f.StreamName
	if f.Source == batch.SourceDynamoDB {
		resource = "table/" + f.StreamName + "/stream/"
	}
	if f.StreamName == "" || strings.Contains(f.StreamName, "/") || !strings.HasPrefix(parts[5], resource) {
		t.Fatalf("got stream name %q from ARN %q", f.StreamName, f.StreamARN)
	}
	if f.ShardID == "" || strings.ContainsAny(f.ShardID, "/: \n") {
		t.Fatalf("got shard ID %q", f.ShardID)
	}
	if !stream.ValidSequence(f.Start) || !stream.ValidSequence(f.End) || stream.CompareSequence(f.Start, f.End) > 0 {
		t.Fatalf("got range %q..%q, want decimal numbers in order", f.Start, f.End)
	}
	if f.BatchSize < 0 || !json.Valid(f.Raw) || f.Payload != nil && !json.Valid(f.Payload) {
		t.Fatalf("got batch size %d, Raw valid %v, Payload %.40q", f.BatchSize, json.Valid(f.Raw), f.Payload)
	}
}
