package envelope

import (
	"encoding/json"
	"testing"
)

// BenchmarkParseSQSBatch parses a full SQS batch (10 messages, each a Kinesis
// on-failure record), the common production shape.
func BenchmarkParseSQSBatch(b *testing.B) {
	body := string(readTestdata(b, "kinesis-onfailure.json"))
	records := make([]map[string]any, 10)
	for i := range records {
		records[i] = map[string]any{"messageId": "m", "body": body, "eventSource": "aws:sqs"}
	}
	payload, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for b.Loop() {
		in, err := Parse(payload)
		if err != nil || in.Items[9].Failure == nil {
			b.Fatalf("got %+v, %v", in, err)
		}
	}
	b.ReportMetric(float64(b.N*len(records))/b.Elapsed().Seconds(), "records/s")
}
