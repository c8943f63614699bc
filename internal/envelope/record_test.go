package envelope

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"
)

const sqsID = "059f36b4-87a3-44ab-83d2-661975830a7d"

// mutate decodes a fixture, applies edit to it, and encodes it again.
func mutate(t *testing.T, name string, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, name), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

func kinesisInfo(edit func(b map[string]any)) func(map[string]any) {
	return func(m map[string]any) { edit(obj(m, "KinesisBatchInfo")) }
}

func TestParseRecordRefuses(t *testing.T) {
	const k, d = "kinesis-onfailure.json", "ddb-onfailure.json"
	cases := map[string]struct {
		fixture   string
		edit      func(m map[string]any)
		raw       string // used instead of fixture+edit when set
		wantField string
		wantText  string
	}{
		"not JSON":                       {raw: `{"KinesisBatchInfo":`, wantText: "not JSON"},
		"JSON array":                     {raw: `[{"KinesisBatchInfo":{}}]`, wantText: "not an on-failure record: JSON array"},
		"JSON number":                    {raw: `42`, wantText: "not an on-failure record: JSON number"},
		"no batch info":                  {raw: `{"requestContext":{"requestId":"x"}}`, wantField: "KinesisBatchInfo", wantText: "not an on-failure record"},
		"Kafka batch info, no cluster":   {raw: `{"requestContext":{"requestId":"x"},"KafkaBatchInfo":{"batchSize":1}}`, wantField: "KafkaBatchInfo.bootstrapServers", wantText: "cannot be found"},
		"unknown batch info, no context": {raw: `{"SomethingNewBatchInfo":{}}`, wantField: "SomethingNewBatchInfo", wantText: "source not supported: SomethingNewBatchInfo"},
		"null batch info":                {fixture: k, edit: func(m map[string]any) { m["KinesisBatchInfo"] = nil }, wantField: "KinesisBatchInfo"},
		"both batch infos":               {fixture: k, edit: func(m map[string]any) { m["DDBStreamBatchInfo"] = m["KinesisBatchInfo"] }, wantField: "DDBStreamBatchInfo"},
		"batch info string":              {fixture: k, edit: func(m map[string]any) { m["KinesisBatchInfo"] = "x" }, wantField: "KinesisBatchInfo", wantText: "wrong JSON type string"},
		"missing streamArn":              {fixture: k, edit: kinesisInfo(func(b map[string]any) { delete(b, "streamArn") }), wantField: "KinesisBatchInfo.streamArn", wantText: "missing"},
		"DynamoDB ARN in KinesisBatchInfo": {fixture: k, edit: kinesisInfo(func(b map[string]any) {
			b["streamArn"] = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
		}), wantField: "KinesisBatchInfo.streamArn", wantText: "names a dynamodb stream"},
		"Kinesis ARN in DDBStreamBatchInfo": {fixture: d, edit: func(m map[string]any) {
			obj(m, "DDBStreamBatchInfo")["streamArn"] = "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
		}, wantField: "DDBStreamBatchInfo.streamArn", wantText: "names a kinesis stream"},
		"DynamoDB table ARN, no stream": {fixture: d, edit: func(m map[string]any) {
			obj(m, "DDBStreamBatchInfo")["streamArn"] = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable"
		}, wantField: "DDBStreamBatchInfo.streamArn"},
		"SQS ARN":            {fixture: k, edit: arn("arn:aws:sqs:us-east-2:123456789012:stream/mystream"), wantField: "KinesisBatchInfo.streamArn"},
		"bad partition":      {fixture: k, edit: arn("arn:azure:kinesis:us-east-2:123456789012:stream/mystream"), wantField: "KinesisBatchInfo.streamArn"},
		"empty partition":    {fixture: k, edit: arn("arn::kinesis:us-east-2:123456789012:stream/mystream"), wantField: "KinesisBatchInfo.streamArn"},
		"no region":          {fixture: k, edit: arn("arn:aws:kinesis::123456789012:stream/mystream"), wantField: "KinesisBatchInfo.streamArn"},
		"11-digit account":   {fixture: k, edit: arn("arn:aws:kinesis:us-east-2:12345678901:stream/mystream"), wantField: "KinesisBatchInfo.streamArn"},
		"no stream name":     {fixture: k, edit: arn("arn:aws:kinesis:us-east-2:123456789012:stream/"), wantField: "KinesisBatchInfo.streamArn"},
		"slash in name":      {fixture: k, edit: arn("arn:aws:kinesis:us-east-2:123456789012:stream/a/b"), wantField: "KinesisBatchInfo.streamArn"},
		"not stream/":        {fixture: k, edit: arn("arn:aws:kinesis:us-east-2:123456789012:mystream"), wantField: "KinesisBatchInfo.streamArn"},
		"trailing newline":   {fixture: k, edit: arn("arn:aws:kinesis:us-east-2:123456789012:stream/mystream\n"), wantField: "KinesisBatchInfo.streamArn"},
		"streamArn a number": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["streamArn"] = 7 }), wantField: "KinesisBatchInfo.streamArn", wantText: "wrong JSON type number"},
		"missing shardId":    {fixture: k, edit: kinesisInfo(func(b map[string]any) { delete(b, "shardId") }), wantField: "KinesisBatchInfo.shardId"},
		"shardId with slash": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["shardId"] = "../shardId-1" }), wantField: "KinesisBatchInfo.shardId"},
		"missing start":      {fixture: k, edit: kinesisInfo(func(b map[string]any) { delete(b, "startSequenceNumber") }), wantField: "KinesisBatchInfo.startSequenceNumber"},
		"missing end":        {fixture: d, edit: func(m map[string]any) { delete(obj(m, "DDBStreamBatchInfo"), "endSequenceNumber") }, wantField: "DDBStreamBatchInfo.endSequenceNumber"},
		"start not decimal": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["startSequenceNumber"] = "12a" }),
			wantField: "KinesisBatchInfo.startSequenceNumber", wantText: `not a decimal sequence number "12a"`},
		"start negative": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["startSequenceNumber"] = "-1" }), wantField: "KinesisBatchInfo.startSequenceNumber"},
		"end 200 digits": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["endSequenceNumber"] = strings.Repeat("9", 200) }), wantField: "KinesisBatchInfo.endSequenceNumber"},
		"start a number": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["startSequenceNumber"] = 12 }), wantField: "KinesisBatchInfo.startSequenceNumber", wantText: "wrong JSON type number"},
		"start after end": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["startSequenceNumber"], b["endSequenceNumber"] = "10", "9" }),
			wantField: "KinesisBatchInfo.startSequenceNumber", wantText: "after endSequenceNumber 9"},
		"negative batchSize":   {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["batchSize"] = -1 }), wantField: "KinesisBatchInfo.batchSize"},
		"batchSize a string":   {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["batchSize"] = "500" }), wantField: "KinesisBatchInfo.batchSize", wantText: "wrong JSON type string"},
		"fractional batchSize": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["batchSize"] = 1.5 }), wantField: "KinesisBatchInfo.batchSize"},
		"bad arrival time": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["approximateArrivalOfFirstRecord"] = "14/11/2019" }),
			wantField: "KinesisBatchInfo.approximateArrivalOfFirstRecord"},
		"epoch arrival time": {fixture: k, edit: kinesisInfo(func(b map[string]any) { b["approximateArrivalOfLastRecord"] = 1573692005.58 }),
			wantField: "KinesisBatchInfo.approximateArrivalOfLastRecord"},
		"bad timestamp":          {fixture: k, edit: func(m map[string]any) { m["timestamp"] = "2019-11-14 00:38:06" }, wantField: "timestamp"},
		"requestContext string":  {fixture: k, edit: func(m map[string]any) { m["requestContext"] = "x" }, wantField: "requestContext"},
		"requestId a number":     {fixture: k, edit: func(m map[string]any) { obj(m, "requestContext")["requestId"] = 1 }, wantField: "requestContext.requestId"},
		"payload not a string":   {fixture: "kinesis-onfailure-s3-object.json", edit: func(m map[string]any) { m["payload"] = map[string]any{"Records": []any{}} }, wantField: "payload"},
		"payload not JSON":       {fixture: "kinesis-onfailure-s3-object.json", edit: func(m map[string]any) { m["payload"] = "{not json" }, wantField: "payload", wantText: "not JSON"},
		"payload without Record": {fixture: "kinesis-onfailure-s3-object.json", edit: func(m map[string]any) { m["payload"] = `{"records":null}` }, wantField: "payload.Records"},
		"payload Records object": {fixture: "kinesis-onfailure-s3-object.json", edit: func(m map[string]any) { m["payload"] = `{"Records":{}}` }, wantField: "payload.Records"},
		"over the size cap":      {raw: `{"x":"` + strings.Repeat("a", MaxObjectSize) + `"}`, wantText: "cap"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := []byte(tc.raw)
			if tc.raw == "" {
				b = mutate(t, tc.fixture, tc.edit)
			}
			f, err := ParseRecord(b, sqsID)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("got %+v, %v, want a *ParseError", f, err)
			}
			if perr.Field != tc.wantField || perr.MessageID != sqsID {
				t.Errorf("got field %q message %q, want %q %q", perr.Field, perr.MessageID, tc.wantField, sqsID)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got %q, want it to mention %q", err, tc.wantText)
			}
		})
	}
}

func arn(s string) func(map[string]any) {
	return kinesisInfo(func(b map[string]any) { b["streamArn"] = s })
}

func TestParseErrorMessage(t *testing.T) {
	b := mutate(t, "kinesis-onfailure.json", kinesisInfo(func(b map[string]any) { b["startSequenceNumber"] = "12a" }))
	_, err := ParseRecord(b, sqsID)
	want := "envelope: message " + sqsID + ": field KinesisBatchInfo.startSequenceNumber: not a decimal sequence number \"12a\""
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %v", err, want)
	}
	if got := errors.Unwrap(err); got == nil || !strings.HasPrefix(got.Error(), "not a decimal") {
		t.Errorf("got Unwrap %v, want the cause", got)
	}
}

// Where AWS varies, so do we: these all parse.
func TestParseRecordLenient(t *testing.T) {
	const k, d = "kinesis-onfailure.json", "ddb-onfailure.json"
	cases := map[string]struct {
		fixture string
		edit    func(m map[string]any)
		check   func(f *batch.Failure) bool
	}{
		"any condition": {k, func(m map[string]any) { obj(m, "requestContext")["condition"] = "SomethingNew" },
			func(f *batch.Failure) bool { return f.Condition == "SomethingNew" }},
		"responseContext null":  {k, func(m map[string]any) { m["responseContext"] = nil }, nil},
		"responseContext gone":  {k, func(m map[string]any) { delete(m, "responseContext") }, nil},
		"functionError missing": {k, func(m map[string]any) { delete(obj(m, "responseContext"), "functionError") }, nil},
		"version-qualified functionArn": {k, func(m map[string]any) {
			obj(m, "requestContext")["functionArn"] = "arn:aws:lambda:us-east-2:123456789012:function:myfunction:1"
		},
			func(f *batch.Failure) bool { return strings.HasSuffix(f.FunctionARN, ":1") }},
		"timestamps without ms": {k, func(m map[string]any) {
			m["timestamp"] = "2019-11-14T00:38:06Z"
			obj(m, "KinesisBatchInfo")["approximateArrivalOfFirstRecord"] = "2019-11-14T00:38:04Z"
		}, func(f *batch.Failure) bool {
			return f.Timestamp.Equal(mustTime("2019-11-14T00:38:06Z")) && f.FirstArrival.Second() == 4
		}},
		"timestamp with offset": {k, func(m map[string]any) { m["timestamp"] = "2019-11-14T01:38:06.021+01:00" },
			func(f *batch.Failure) bool { return f.Timestamp.Equal(kinesisFailure.Timestamp) }},
		"no arrival times": {d, func(m map[string]any) {
			delete(obj(m, "DDBStreamBatchInfo"), "approximateArrivalOfFirstRecord")
			delete(obj(m, "DDBStreamBatchInfo"), "approximateArrivalOfLastRecord")
		}, func(f *batch.Failure) bool { return f.FirstArrival.IsZero() && f.LastArrival.IsZero() }},
		"batchSize absent": {k, func(m map[string]any) { delete(obj(m, "KinesisBatchInfo"), "batchSize") },
			func(f *batch.Failure) bool { return f.BatchSize == 0 }},
		"unknown fields": {k, func(m map[string]any) {
			m["newTopLevel"] = []any{1, "x"}
			obj(m, "KinesisBatchInfo")["consumerArn"] = "arn:aws:kinesis:us-east-2:123456789012:stream/mystream/consumer/c:1"
		}, nil},
		"equal start and end": {k, func(m map[string]any) { obj(m, "KinesisBatchInfo")["endSequenceNumber"] = kinesisFailure.Start },
			func(f *batch.Failure) bool { return f.Start == f.End }},
		"shorter start, numerically smaller": {k, func(m map[string]any) { obj(m, "KinesisBatchInfo")["startSequenceNumber"] = "9" },
			func(f *batch.Failure) bool { return f.Start == "9" }},
		"China partition": {k, arn("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s"),
			func(f *batch.Failure) bool { return f.Region == "cn-north-1" && f.StreamName == "s" }},
		"GovCloud": {k, arn("arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/s.1_x-y"),
			func(f *batch.Failure) bool { return f.Region == "us-gov-west-1" && f.StreamName == "s.1_x-y" }},
		"DynamoDB Local stream ARN": {d, func(m map[string]any) {
			obj(m, "DDBStreamBatchInfo")["streamArn"] = "arn:aws:dynamodb:ddblocal:000000000000:table/orders/stream/2024-05-01T10:11:12.345"
		}, func(f *batch.Failure) bool {
			return f.Region == "ddblocal" && f.AccountID == "000000000000" && f.StreamName == "orders"
		}},
		"no requestContext": {k, func(m map[string]any) { delete(m, "requestContext") },
			func(f *batch.Failure) bool { return f.RequestID == "" && f.FunctionARN == "" }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := ParseRecord(mutate(t, tc.fixture, tc.edit), "direct")
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tc.check != nil && !tc.check(f) {
				t.Errorf("got %+v, want the edit reflected", f)
			}
		})
	}
}
