package batch

import (
	"encoding/json"
	"testing"
)

// A record as Lambda's Kafka event lists it (the Lambda developer guide's MSK
// example), with a header value holding a byte over 127, which Lambda writes signed.
const kafkaRecordJSON = `{"topic":"my-topic","partition":0,"offset":15,"timestamp":1545084650987,` +
	`"timestampType":"CREATE_TIME","key":"cmVjb3JkS2V5","value":"eyJrZXkiOiJ2YWx1ZSJ9",` +
	`"headers":[{"headerKey":[104,101,97,100,101,114,86,97,108,117,101]},{"bin":[-1,0]}]}`

func TestRecordKafkaRoundTrip(t *testing.T) {
	var r Record
	if err := json.Unmarshal([]byte(kafkaRecordJSON), &r); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if r.Kafka == nil || r.Kinesis != nil || r.DynamoDB != nil {
		t.Fatalf("got %+v, want a Kafka record only", r)
	}
	if got := r.SequenceNumber(); got != "15" {
		t.Errorf("got sequence number %q, want 15", got)
	}
	// "recordKey" (9 bytes) + `{"key":"value"}` (15 bytes)
	if got := r.PayloadSize(); got != 24 {
		t.Errorf("got payload size %d, want 24", got)
	}
	if got := r.Kafka.Headers[1]["bin"]; len(got) != 2 || got[0] != 0xff {
		t.Errorf("got header bytes %v, want [255 0]", got)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != kafkaRecordJSON {
		t.Errorf("got %s, want %s", out, kafkaRecordJSON)
	}
}

func TestRecordRefusesUnknown(t *testing.T) {
	for name, b := range map[string]string{
		"no source, no offset": `{"topic":"t"}`,
		"other source":         `{"eventSource":"aws:sqs","topic":"t","offset":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			var r Record
			if err := json.Unmarshal([]byte(b), &r); err == nil {
				t.Fatalf("got %+v, want an error", r)
			}
		})
	}
}

func TestBase64Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "YQ==": 1, "YWI=": 2, "YWJj": 3, "YWJjZA==": 4} {
		if got := base64Len(s); got != want {
			t.Errorf("base64Len(%q): got %d, want %d", s, got, want)
		}
	}
}
