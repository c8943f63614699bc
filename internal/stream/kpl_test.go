package stream

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"google.golang.org/protobuf/encoding/protowire"
)

const testEventID = "shardId-000000000001:49590338271490256608559692538361571095921575989136588818"

func parentRecord(data []byte) batch.KinesisEventRecord {
	return batch.KinesisEventRecord{
		AwsRegion:         "eu-west-1",
		EventID:           testEventID,
		EventName:         "aws:kinesis:record",
		EventSource:       batch.EventSourceKinesis,
		EventSourceArn:    "arn:aws:kinesis:eu-west-1:123456789012:stream/orders",
		EventVersion:      "1.0",
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/consumer",
		Kinesis: batch.KinesisRecord{KinesisRecord: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Unix(1700000000, 0)},
			Data:                        data,
			PartitionKey:                "aggregate-pk",
			SequenceNumber:              "49590338271490256608559692538361571095921575989136588818",
			KinesisSchemaVersion:        "1.0",
		}},
	}
}

// rawRecord is a batch.Record message with indexes as given, valid or not; ehk < 0 leaves
// explicit_hash_key_index out.
type rawRecord struct {
	pk   uint64
	ehk  int
	data []byte
}

// aggregate builds an AggregatedRecord message from raw parts, without the checks and
// deduplication Aggregate does, so tests can write what no KPL would.
func aggregate(pks, ehks []string, records []rawRecord) []byte {
	var msg []byte
	for _, k := range pks {
		msg = protowire.AppendTag(msg, aggPartitionKeyTable, protowire.BytesType)
		msg = protowire.AppendString(msg, k)
	}
	for _, k := range ehks {
		msg = protowire.AppendTag(msg, aggHashKeyTable, protowire.BytesType)
		msg = protowire.AppendString(msg, k)
	}
	for _, r := range records {
		msg = protowire.AppendTag(msg, aggRecords, protowire.BytesType)
		msg = protowire.AppendBytes(msg, rawRecordMessage(r))
	}
	return msg
}

func rawRecordMessage(r rawRecord) []byte {
	rec := protowire.AppendTag(nil, recPartitionKeyIndex, protowire.VarintType)
	rec = protowire.AppendVarint(rec, r.pk)
	if r.ehk >= 0 {
		rec = protowire.AppendTag(rec, recHashKeyIndex, protowire.VarintType)
		rec = protowire.AppendVarint(rec, uint64(r.ehk))
	}
	rec = protowire.AppendTag(rec, recData, protowire.BytesType)
	return protowire.AppendBytes(rec, r.data)
}

// wrap frames a protobuf message as aggregated record data: magic, message, MD5.
func wrap(msg []byte) []byte {
	sum := md5.Sum(msg)
	return append(append(append([]byte{}, kplMagic...), msg...), sum[:]...)
}

func TestDeaggregateRoundTrip(t *testing.T) {
	many := make([]UserRecord, 300)
	for i := range many {
		many[i] = UserRecord{PartitionKey: fmt.Sprintf("pk-%d", i%7), Data: []byte(fmt.Sprintf("record %d", i))}
	}
	cases := map[string][]UserRecord{
		"one":              {{PartitionKey: "a", Data: []byte(`{"id":1}`)}},
		"many, shared pks": many,
		"explicit hash keys": {
			{PartitionKey: "a", ExplicitHashKey: "0", Data: []byte("x")},
			{PartitionKey: "b", Data: []byte("y")},
			{PartitionKey: "a", ExplicitHashKey: "340282366920938463463374607431768211455", Data: []byte("z")},
		},
		"empty data":          {{PartitionKey: "a", Data: nil}, {PartitionKey: "a", Data: []byte{}}},
		"empty partition key": {{PartitionKey: "", Data: []byte("x")}},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			parent := parentRecord(Aggregate(in))
			got := Deaggregate(parent)
			if len(got) != len(in) {
				t.Fatalf("got %d records, want %d", len(got), len(in))
			}
			for i, r := range got {
				checkUserRecord(t, parent, i, r, in[i])
			}
		})
	}
}

func checkUserRecord(t *testing.T, parent batch.KinesisEventRecord, i int, got batch.KinesisEventRecord, want UserRecord) {
	t.Helper()
	k := got.Kinesis
	if k.SubSequenceNumber == nil || *k.SubSequenceNumber != uint64(i) {
		t.Errorf("record %d: got subSequenceNumber %v, want %d", i, k.SubSequenceNumber, i)
	}
	if k.PartitionKey != want.PartitionKey || k.ExplicitHashKey != want.ExplicitHashKey || !bytes.Equal(k.Data, want.Data) {
		t.Errorf("record %d: got %q %q %q, want %q %q %q", i, k.PartitionKey, k.ExplicitHashKey, k.Data, want.PartitionKey, want.ExplicitHashKey, want.Data)
	}
	if k.Data == nil || cap(k.Data) != len(k.Data) {
		t.Errorf("record %d: got data len %d cap %d (nil %v), want a clipped non-nil slice", i, len(k.Data), cap(k.Data), k.Data == nil)
	}
	if wantID := fmt.Sprintf("%s:%d", parent.EventID, i); got.EventID != wantID {
		t.Errorf("record %d: got eventID %q, want %q", i, got.EventID, wantID)
	}
	// Everything else is the parent's.
	got.EventID, got.Kinesis.SubSequenceNumber = parent.EventID, nil
	got.Kinesis.PartitionKey, got.Kinesis.ExplicitHashKey, got.Kinesis.Data = parent.Kinesis.PartitionKey, "", parent.Kinesis.Data
	if !reflect.DeepEqual(got, parent) {
		t.Errorf("record %d: got metadata %+v, want %+v", i, got, parent)
	}
}

func TestDeaggregateUnusualButValid(t *testing.T) {
	tablesLast := append(aggregate(nil, nil, []rawRecord{{pk: 1, ehk: 0, data: []byte("x")}}),
		aggregate([]string{"p0", "p1"}, []string{"h0"}, nil)...)
	withTag := protowire.AppendTag(rawRecordMessage(rawRecord{pk: 0, ehk: -1, data: []byte("y")}), 4, protowire.BytesType)
	withTag = protowire.AppendBytes(withTag, []byte("\x0a\x01k\x12\x01v"))
	withTagAndUnknown := protowire.AppendTag(aggregate([]string{"p"}, nil, nil), aggRecords, protowire.BytesType)
	withTagAndUnknown = protowire.AppendBytes(withTagAndUnknown, withTag)
	withTagAndUnknown = protowire.AppendTag(withTagAndUnknown, 99, protowire.Fixed64Type)
	withTagAndUnknown = protowire.AppendFixed64(withTagAndUnknown, 7)
	cases := map[string]struct {
		msg  []byte
		want []UserRecord
	}{
		"tables after records":            {msg: tablesLast, want: []UserRecord{{PartitionKey: "p1", ExplicitHashKey: "h0", Data: []byte("x")}}},
		"tags and unknown fields skipped": {msg: withTagAndUnknown, want: []UserRecord{{PartitionKey: "p", Data: []byte("y")}}},
		"indexes reused": {
			msg:  aggregate([]string{"p0", "p1"}, nil, []rawRecord{{1, -1, []byte("a")}, {0, -1, []byte("b")}, {1, -1, []byte("c")}}),
			want: []UserRecord{{PartitionKey: "p1", Data: []byte("a")}, {PartitionKey: "p0", Data: []byte("b")}, {PartitionKey: "p1", Data: []byte("c")}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			parent := parentRecord(wrap(tc.msg))
			got := Deaggregate(parent)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d records (%q), want %d", len(got), got[0].Kinesis.AggregationError, len(tc.want))
			}
			for i, r := range got {
				checkUserRecord(t, parent, i, r, tc.want[i])
			}
		})
	}
}

func TestDeaggregatePassthrough(t *testing.T) {
	cases := map[string][]byte{
		"nil":                 nil,
		"json":                []byte(`{"order":42}`),
		"magic only":          kplMagic,
		"magic and 16 bytes":  wrap(nil), // no room for a message: not an aggregate
		"magic not at start":  append([]byte("x"), wrap(aggregate([]string{"a"}, nil, []rawRecord{{0, -1, []byte("x")}}))...),
		"three magic bytes":   kplMagic[:3],
		"text that is longer": bytes.Repeat([]byte("plain record "), 10),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			in := parentRecord(data)
			got := Deaggregate(in)
			if len(got) != 1 || !reflect.DeepEqual(got[0], in) {
				t.Errorf("got %+v, want the input unchanged", got)
			}
		})
	}
}

func TestDeaggregateKeepsWhole(t *testing.T) {
	valid := wrap(aggregate([]string{"a"}, nil, []rawRecord{{0, -1, []byte("x")}}))
	badSum := bytes.Clone(valid)
	badSum[len(badSum)-1] ^= 1
	wrongType := protowire.AppendTag(nil, aggRecords, protowire.VarintType)
	wrongType = protowire.AppendVarint(wrongType, 1)
	noData := protowire.AppendTag(aggregate([]string{"a"}, nil, nil), aggRecords, protowire.BytesType)
	noData = protowire.AppendBytes(noData, protowire.AppendVarint(protowire.AppendTag(nil, recPartitionKeyIndex, protowire.VarintType), 0))
	full := aggregate([]string{"a", "b"}, nil, []rawRecord{{0, -1, []byte("first")}, {1, -1, []byte("second")}})
	cases := map[string]struct {
		data []byte
		want string
	}{
		"md5 mismatch":           {data: badSum, want: "md5 mismatch"},
		"truncated blob":         {data: valid[:len(valid)-1], want: "md5 mismatch"},
		"truncated protobuf":     {data: wrap(full[:len(full)-3]), want: "bad protobuf: field 3: unexpected EOF"},
		"pk index out of range":  {data: wrap(aggregate([]string{"a", "b", "c"}, nil, []rawRecord{{0, -1, nil}, {7, -1, nil}})), want: "user record 1: partition key index 7 out of range (3 keys)"},
		"no key tables":          {data: wrap(aggregate(nil, nil, []rawRecord{{0, -1, nil}})), want: "user record 0: partition key index 0 out of range (0 keys)"},
		"ehk index out of range": {data: wrap(aggregate([]string{"a"}, []string{"h"}, []rawRecord{{0, 1, nil}})), want: "user record 0: explicit hash key index 1 out of range (1 keys)"},
		"missing data":           {data: wrap(noData), want: "user record 0: bad protobuf: missing data"},
		"missing pk index":       {data: wrap(append(aggregate([]string{"a"}, nil, nil), 0x1a, 0x02, 0x1a, 0x00)), want: "user record 0: bad protobuf: missing partition_key_index"},
		"records not bytes":      {data: wrap(wrongType), want: "bad protobuf: field 3 has wire type 0, want 2"},
		"no user records":        {data: wrap(aggregate([]string{"a"}, []string{"h"}, nil)), want: "no user records"},
		"garbage with md5":       {data: wrap([]byte{0xff, 0xff, 0xff}), want: "bad protobuf: unexpected EOF"},
		"field number zero":      {data: wrap([]byte{0x00, 0x01}), want: "bad protobuf: invalid field number"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := parentRecord(tc.data)
			got := Deaggregate(in)
			if len(got) != 1 {
				t.Fatalf("got %d records, want the input whole", len(got))
			}
			if got[0].Kinesis.AggregationError != tc.want {
				t.Errorf("got aggregationError %q, want %q", got[0].Kinesis.AggregationError, tc.want)
			}
			got[0].Kinesis.AggregationError = ""
			if !reflect.DeepEqual(got[0], in) {
				t.Errorf("got %+v, want the input unchanged but for aggregationError", got[0])
			}
		})
	}
}

// The expected user records are those the awslabs/kinesis-aggregation Python tests
// (python/test/test_deagg.py) assert for the same KPL-generated blobs.
func TestDeaggregateKPLGenerated(t *testing.T) {
	cases := map[string][]UserRecord{
		"kpl-generated-ehks.json": {
			{"fc03dd88-3e79-448a-b01a-7cf1bd47b784", "38486495867508399078159723846051807020", []byte("RECORD 22 peeobhczbzdmskboupgyq\n")},
			{"cae41b1c-ea61-43f2-90be-b8755ebf88e2", "193787600037681706952143357071916352604", []byte("RECORD 23 uswkxftxroeusscxsjhno\n")},
			{"d490690c-e74d-4db2-a3c8-d8f2f184fd23", "266880436964932424265466916734068684439", []byte("RECORD 24 casehdgivfaxeustlyszy\n")},
			{"c924bc09-b85e-47f1-b32e-336522ee53c8", "339606600942967391854603552402021847292", []byte("RECORD 25 nvffvpmuogdopjhamevrk\n")},
		},
		"kpl-generated-no-ehks.json": {
			{"78feb12a-dba0-45ca-a91e-bb1f2f1819b4", "", []byte("RECORD 18 iklrpsvyhxnerodfeheru\n")},
			{"c2a75787-469b-4310-840d-d486dca7eb5e", "", []byte("RECORD 19 lnmnudyhvpvcgrokfmzdh\n")},
			{"650e9362-572b-4427-b3fc-13549d7e5ae5", "", []byte("RECORD 20 pjqrcfbxafzdndzmbgane\n")},
			{"1d8d9600-00b7-46f3-a983-de83477540c0", "", []byte("RECORD 21 aafreyrntwuwxliygkbhk\n")},
			{"f2e718a0-389b-494a-b796-3355b07569cc", "", []byte("RECORD 22 qsaadhbsgmvqgdifguyou\n")},
			{"965b8da4-a6bd-4755-81c9-e7181ab7dc9a", "", []byte("RECORD 23 wjokoiwvzzhlftlzhqfjk\n")},
			{"d693c5f0-5772-46c9-8d86-08c7055bdb75", "", []byte("RECORD 24 zopcascrthbbpnjiwuhjb\n")},
			{"8d92476b-eb89-4e81-99fb-c2ba63ad6d90", "", []byte("RECORD 25 txbbvnozrwsboxuomqboq\n")},
		},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "kpl", file))
			if err != nil {
				t.Fatal(err)
			}
			var parent batch.KinesisEventRecord
			if err := json.Unmarshal(b, &parent); err != nil {
				t.Fatal(err)
			}
			got := Deaggregate(parent)
			if len(got) != len(want) {
				t.Fatalf("got %d records (%q), want %d", len(got), got[0].Kinesis.AggregationError, len(want))
			}
			for i, r := range got {
				checkUserRecord(t, parent, i, r, want[i])
			}
		})
	}
}

func FuzzDeaggregate(f *testing.F) {
	f.Add(Aggregate([]UserRecord{{PartitionKey: "a", ExplicitHashKey: "1", Data: []byte("x")}, {PartitionKey: "b"}}), false)
	f.Add(aggregate([]string{"a", "b"}, []string{"h"}, []rawRecord{{1, 0, []byte("x")}, {0, -1, nil}}), true)
	f.Add(aggregate([]string{"a"}, nil, []rawRecord{{3, -1, []byte("x")}}), true)
	f.Add([]byte(`{"plain":"json"}`), false)
	f.Add([]byte{0xff, 0x01, 0x1a, 0x80}, true)
	f.Add(append(bytes.Clone(kplMagic), 0x0a, 0x01), false)
	// wrap lets the fuzzer reach the protobuf parser: random bytes almost never carry a
	// matching MD5.
	f.Fuzz(func(t *testing.T, data []byte, wrapIt bool) {
		if wrapIt {
			data = wrap(data)
		}
		in := parentRecord(data)
		got := Deaggregate(in)
		switch {
		case len(got) == 0:
			t.Fatal("got no records, want at least one")
		case got[0].Kinesis.AggregationError != "":
			got[0].Kinesis.AggregationError = ""
			if len(got) != 1 || !reflect.DeepEqual(got[0], in) {
				t.Fatalf("got %d records %+v, want the input whole", len(got), got[0])
			}
		case got[0].Kinesis.SubSequenceNumber == nil:
			if len(got) != 1 || !reflect.DeepEqual(got[0], in) {
				t.Fatalf("got %+v, want the input unchanged", got)
			}
		default:
			checkReaggregates(t, in, got)
		}
	})
}

// checkReaggregates checks a successful split: user records in order, and the same
// user records again after Aggregate and a second Deaggregate.
func checkReaggregates(t *testing.T, parent batch.KinesisEventRecord, got []batch.KinesisEventRecord) {
	t.Helper()
	users := make([]UserRecord, len(got))
	for i, r := range got {
		users[i] = UserRecord{r.Kinesis.PartitionKey, r.Kinesis.ExplicitHashKey, r.Kinesis.Data}
	}
	for i, r := range got {
		checkUserRecord(t, parent, i, r, users[i])
	}
	reaggregated := parentRecord(Aggregate(users))
	again := Deaggregate(reaggregated)
	if len(again) != len(users) {
		t.Fatalf("got %d records after re-aggregating, want %d", len(again), len(users))
	}
	for i, r := range again {
		checkUserRecord(t, reaggregated, i, r, users[i])
	}
}

// BenchmarkDeaggregate splits aggregates shaped like the KPL's defaults: a distinct
// partition key per user record, payloads of 100 bytes.
func BenchmarkDeaggregate(b *testing.B) {
	for _, n := range []int{1, 10, 100, 500} {
		users := make([]UserRecord, n)
		for i := range users {
			users[i] = UserRecord{PartitionKey: fmt.Sprintf("%08d-3e79-448a-b01a-7cf1bd47b784", i), Data: bytes.Repeat([]byte{'x'}, 100)}
		}
		parent := parentRecord(Aggregate(users))
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(parent.Kinesis.Data)))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				if got := Deaggregate(parent); len(got) != n {
					b.Fatalf("got %d records, want %d", len(got), n)
				}
			}
			runtime.ReadMemStats(&after)
			subRecords := float64(b.N) * float64(n)
			b.ReportMetric(subRecords/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/subRecords, "allocs/record")
		})
	}
}
