package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestKinesisRecordShape(t *testing.T) {
	s := newFakeShard(3)
	res, err := NewKinesisReader(s.client()).Read(context.Background(), rangeOf(1, 1))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(res.Records) != 1 {
		t.Fatalf("got %v records, want 1", len(res.Records))
	}
	b, err := json.Marshal(res.Records[0])
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := map[string]any{
		"awsRegion": "us-east-2", "eventID": "shardId-000000000001:" + seqAt(1), "eventName": "aws:kinesis:record",
		"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
		"eventVersion": "1.0", "invokeIdentityArn": "",
		"kinesis": map[string]any{
			"kinesisSchemaVersion": "1.0", "partitionKey": "pk-1", "sequenceNumber": seqAt(1),
			"data": "cGF5bG9hZC0x", "approximateArrivalTimestamp": 1573691884.0, "encryptionType": "NONE",
		},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestKinesisDeaggregate(t *testing.T) {
	users := []UserRecord{{PartitionKey: "a", Data: []byte("one")}, {PartitionKey: "b", ExplicitHashKey: "42", Data: []byte("two")}}
	cases := map[string]struct {
		deaggregate bool
		want        []string // partitionKey/data
	}{
		"split":    {deaggregate: true, want: []string{"plain/payload-0", "a/one", "b/two", "plain/payload-2"}},
		"kept off": {deaggregate: false, want: []string{"plain/payload-0", "agg/" + string(Aggregate(users)), "plain/payload-2"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newFakeShard(3)
			for i := range s.records {
				s.records[i].PartitionKey = aws.String("plain")
			}
			s.records[1].PartitionKey, s.records[1].Data = aws.String("agg"), Aggregate(users)
			res, err := NewKinesisReader(s.client(), func(o *KinesisOptions) { o.Deaggregate = c.deaggregate }).Read(context.Background(), rangeOf(0, 2))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var got []string
			for _, r := range res.Records {
				got = append(got, r.Kinesis.Kinesis.PartitionKey+"/"+string(r.Kinesis.Kinesis.Data))
				if r.Kinesis.Kinesis.SequenceNumber == "" || r.SequenceNumber() != r.Kinesis.Kinesis.SequenceNumber {
					t.Errorf("record %s: sequence number lost", r.Kinesis.EventID)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTrimmedSequence(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"past retention": {&types.InvalidArgumentException{Message: aws.String("StartingSequenceNumber 4960 used in GetShardIterator on shard shardId-000000000000 in stream s under account 1 is invalid.")}, true},
		"spelled out":    {&types.InvalidArgumentException{Message: aws.String("The starting sequence number is no longer available")}, true},
		"wrapped":        {fmt.Errorf("op: %w", &types.InvalidArgumentException{Message: aws.String("StartingSequenceNumber 1 is invalid")}), true},
		"other shard":    {&types.InvalidArgumentException{Message: aws.String("Invalid StartingSequenceNumber. It encodes shardId-000000000007, while it was used in a call to shardId-000000000000")}, false},
		"other stream":   {&types.InvalidArgumentException{Message: aws.String("StartingSequenceNumber 1 used in GetShardIterator on shard s in stream x under account 1 is invalid because it did not come from this stream.")}, false},
		"other argument": {&types.InvalidArgumentException{Message: aws.String("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")}, false},
		"not found":      {&types.ResourceNotFoundException{Message: aws.String("StartingSequenceNumber")}, false},
		"plain":          {errors.New("StartingSequenceNumber"), false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := trimmedSequence(c.err); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
