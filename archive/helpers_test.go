package archive

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
)

const (
	testKinesisARN  = "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
	testDynamoDBARN = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
	testStart       = "49601189658422359378836298521827638475320189012309704722"
)

var testArrival = time.Date(2019, 11, 14, 0, 38, 4, 835e6, time.UTC)

func testFailure(requestID, source, arn string, batch int) json.RawMessage {
	info := "KinesisBatchInfo"
	if source == "dynamodb" {
		info = "DDBStreamBatchInfo"
	}
	return json.RawMessage(fmt.Sprintf(`{"requestContext":{"requestId":%q,"functionArn":"arn:aws:lambda:us-east-2:123456789012:function:myfunction","condition":"RetryAttemptsExhausted","approximateInvokeCount":1},
 "version":"1.0","timestamp":"2019-11-14T00:38:06.021Z",%q:{"shardId":"shardId-000000000001","startSequenceNumber":%q,"batchSize":%d,"streamArn":%q}}`,
		requestID, info, testStart, batch, arn))
}

// seq returns the i-th sequence number after testStart (same length, so it sorts).
func seq(i int) string {
	s := testStart[:len(testStart)-8]
	return s + fmt.Sprintf("%08d", 9704722+i)
}

// payload is a JSON-ish event of about n bytes, with the repetition real events have.
func payload(r *rand.Rand, n int) []byte {
	b := fmt.Appendf(nil, `{"orderId":"%08x-%04x","customer":"customer-%d","status":"PAID","items":[`, r.Uint32(), r.Uint32()&0xffff, r.IntN(5000))
	for len(b) < n-40 {
		b = fmt.Appendf(b, `{"sku":"SKU-%05d","qty":%d,"price":%d.%02d},`, r.IntN(20000), 1+r.IntN(5), r.IntN(500), r.IntN(100))
	}
	return append(b[:len(b)-1], `],"currency":"EUR"}`...)
}

func kinesisRecord(i int, data []byte) batch.Record {
	k := &batch.KinesisEventRecord{
		AwsRegion: "us-east-2", EventID: "shardId-000000000001:" + seq(i), EventName: "aws:kinesis:record",
		EventSource: batch.EventSourceKinesis, EventSourceArn: testKinesisARN, EventVersion: "1.0",
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
	}
	k.Kinesis.Data, k.Kinesis.PartitionKey, k.Kinesis.SequenceNumber = data, "pk-"+strconv.Itoa(i%7), seq(i)
	k.Kinesis.KinesisSchemaVersion = "1.0"
	k.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: testArrival.Add(time.Duration(i) * time.Millisecond)}
	return batch.Record{Kinesis: k}
}

// kinesisDoc is a hydrated Kinesis failure of n records of about size bytes each;
// every third record is a KPL sub-record.
func kinesisDoc(n, size int) *Document {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	doc := &Document{Failure: testFailure("c9b8fa9f-5a7f-4e8c-8bb0-2f9c5e4f0e21", "kinesis", testKinesisARN, n)}
	for i := range n {
		rec := kinesisRecord(i, payload(r, size))
		if i%3 == 1 {
			sub := uint64(i % 5)
			rec.Kinesis.Kinesis.SubSequenceNumber, rec.Kinesis.Kinesis.ExplicitHashKey = &sub, "340282366920938463463374607431768211455"
		}
		doc.Records = append(doc.Records, rec)
	}
	doc.Hydration = testHydration("kinesis", testKinesisARN, n)
	return doc
}

func testHydration(source, arn string, n int) Hydration {
	return Hydration{
		Status: StatusComplete, Source: source, StreamARN: arn, ShardID: "shardId-000000000001",
		Start: testStart, End: seq(n), Condition: "RetryAttemptsExhausted", FirstArrival: testArrival,
		Expected: n, Fetched: n, Calls: 2, HydratedAt: testArrival.Add(time.Hour), From: "stream",
	}
}

func dynamoDBDoc(n int) *Document {
	doc := &Document{Failure: testFailure("316aa6d0-8154-xmpl-9af7-85d5f4a6bc81", "dynamodb", testDynamoDBARN, n)}
	for i := range n {
		img := map[string]events.DynamoDBAttributeValue{
			"pk":    events.NewStringAttribute("order#" + strconv.Itoa(i)),
			"total": events.NewNumberAttribute(strconv.Itoa(i*7) + ".5"),
			"tags":  events.NewStringSetAttribute([]string{"a", "<b>"}),
			"blob":  events.NewBinaryAttribute([]byte{0, 1, 2, byte(i)}),
			"lines": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"qty": events.NewNumberAttribute("2"), "ok": events.NewBooleanAttribute(true), "none": events.NewNullAttribute()})}),
		}
		doc.Records = append(doc.Records, batch.Record{DynamoDB: &events.DynamoDBEventRecord{
			AWSRegion: "us-east-2", EventID: fmt.Sprintf("%032x", i), EventName: "MODIFY", EventSource: batch.EventSourceDynamoDB,
			EventVersion: "1.1", EventSourceArn: testDynamoDBARN,
			Change: events.DynamoDBStreamRecord{
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: testArrival}, Keys: map[string]events.DynamoDBAttributeValue{"pk": img["pk"]},
				NewImage: img, SequenceNumber: seq(i), SizeBytes: 120, StreamViewType: "NEW_AND_OLD_IMAGES",
			},
		}})
	}
	doc.Hydration = testHydration("dynamodb", testDynamoDBARN, n)
	doc.Hydration.ShardID = "shardId-00000001573689847184-864758bb"
	return doc
}

// mustJSON is the comparison the tests use for documents: records decode to "exactly
// the records written" when they marshal to the same bytes (times go through float
// seconds in Lambda's shape, so struct equality would be too strict).
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func sameDocument(t testing.TB, got, want *Document) {
	t.Helper()
	if len(got.Records) != len(want.Records) {
		t.Fatalf("got %d records, want %d", len(got.Records), len(want.Records))
	}
	for i := range want.Records {
		if g, w := mustJSON(t, got.Records[i]), mustJSON(t, want.Records[i]); g != w {
			t.Fatalf("record %d: got %s, want %s", i, g, w)
		}
	}
	if g, w := mustJSON(t, got.Hydration), mustJSON(t, want.Hydration); g != w {
		t.Errorf("hydration: got %s, want %s", g, w)
	}
	if g, w := mustJSON(t, got.Failure), mustJSON(t, want.Failure); g != w {
		t.Errorf("failure: got %s, want %s", g, w)
	}
}
