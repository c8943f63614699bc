package archive

import (
	"strings"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	ddb := testHydration("dynamodb", testDynamoDBARN, 1)
	ddb.ShardID = "shardId-00000001573689847184-864758bb"
	ddb.Start, ddb.End = "800000000003126276362", "800000000003126276362"
	hostile := testHydration("kinesis", "arn:aws:kinesis:us-east-2:123456789012:stream/../../etc", 1)
	hostile.ShardID, hostile.Start, hostile.End = "a/b", "..", ""
	local := testHydration("kinesis", testKinesisARN, 1)
	local.FirstArrival = time.Date(2019, 11, 14, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600))
	cases := map[string]struct {
		h      Hydration
		prefix string
		want   string
	}{
		"kinesis": {testHydration("kinesis", testKinesisARN, 3), "archive",
			"archive/source=kinesis/stream=mystream/dt=2019-11-14/shardId-000000000001/" + testStart + "-" + seq(3) + ".jsonl.gz"},
		"no prefix": {testHydration("kinesis", testKinesisARN, 3), "",
			"source=kinesis/stream=mystream/dt=2019-11-14/shardId-000000000001/" + testStart + "-" + seq(3) + ".jsonl.gz"},
		"slashes around prefix": {testHydration("kinesis", testKinesisARN, 3), "/a/b/",
			"a/b/source=kinesis/stream=mystream/dt=2019-11-14/shardId-000000000001/" + testStart + "-" + seq(3) + ".jsonl.gz"},
		"dynamodb uses the table name": {ddb, "p",
			"p/source=dynamodb/stream=mytable/dt=2019-11-14/shardId-00000001573689847184-864758bb/800000000003126276362-800000000003126276362.jsonl.gz"},
		"hostile values stay in their segment": {hostile, "p",
			"p/source=kinesis/stream=.._.._etc/dt=2019-11-14/a_b/__-_.jsonl.gz"},
		"date is UTC": {local, "p",
			"p/source=kinesis/stream=mystream/dt=2019-11-15/shardId-000000000001/" + testStart + "-" + seq(1) + ".jsonl.gz"},
	}
	consumer := testHydration("kinesis", testKinesisARN, 3)
	consumer.FunctionARN = "arn:aws:lambda:us-east-2:123456789012:function:my-function"
	cases["consumer"] = struct {
		h      Hydration
		prefix string
		want   string
	}{consumer, "p", "p/source=kinesis/stream=mystream/dt=2019-11-14/shardId-000000000001/" + testStart + "-" + seq(3) + "." + ConsumerID(consumer.FunctionARN) + ".jsonl.gz"}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Key(c.h, c.prefix); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestKeyDependsOnlyOnTheFailure(t *testing.T) {
	a := testHydration("kinesis", testKinesisARN, 3)
	b := a
	b.Status, b.Fetched, b.Calls, b.HydratedAt, b.From = StatusPartial, 1, 9, time.Now(), "s3-payload"
	if ka, kb := Key(a, "p"), Key(b, "p"); ka != kb {
		t.Errorf("got %v, want %v", kb, ka)
	}
}

// TestKeyConsumer: a failure is identified by its consumer too. Two functions failing
// on one range get two keys; every version and alias of one function, one key.
func TestKeyConsumer(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-2:123456789012:function:my-function"
	key := func(arn string) string {
		h := testHydration("kinesis", testKinesisARN, 3)
		h.FunctionARN = arn
		return Key(h, "p")
	}
	same := map[string]string{
		"version": fn + ":7",
		"alias":   fn + ":live",
		"latest":  fn + ":$LATEST",
	}
	for name, arn := range same {
		if got, want := key(arn), key(fn); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	other := map[string]string{
		"other function": "arn:aws:lambda:us-east-2:123456789012:function:other-function",
		"other account":  "arn:aws:lambda:us-east-2:210987654321:function:my-function",
		"other region":   "arn:aws:lambda:eu-west-1:123456789012:function:my-function",
		"pipe":           "arn:aws:pipes:us-east-2:123456789012:pipe/my-function",
		"none":           "",
	}
	seen := map[string]string{key(fn): "function"}
	for name, arn := range other {
		k := key(arn)
		if prev, dup := seen[k]; dup {
			t.Errorf("%s: key %v is also %s's", name, k, prev)
		}
		seen[k] = name
	}
	if got, want := ConsumerID(fn), "my-function-"; !strings.HasPrefix(got, want) || len(got) != len(want)+8 {
		t.Errorf("ConsumerID: got %v, want %v and 8 hex digits", got, want)
	}
	if got := ConsumerID("arn:aws:lambda:us-east-2:1:function:" + strings.Repeat("x/", 100)); strings.Contains(got, "/") || len(got) > maxConsumerName+9 {
		t.Errorf("hostile ConsumerID: got %v, want one short key segment", got)
	}
}

func TestParseKey(t *testing.T) {
	withConsumer := testHydration("kinesis", testKinesisARN, 3)
	withConsumer.FunctionARN = "arn:aws:pipes:us-east-2:123456789012:pipe/my.pipe"
	if got, ok := ParseKey(Key(withConsumer, "p"), "p"); !ok || got.Consumer != ConsumerID(withConsumer.FunctionARN) || got.Start != testStart || got.End != seq(3) {
		t.Errorf("with consumer: got %+v %v, want consumer %v, range %v-%v", got, ok, ConsumerID(withConsumer.FunctionARN), testStart, seq(3))
	}
	h := testHydration("kinesis", testKinesisARN, 3)
	key := Key(h, "arch/ive")
	got, ok := ParseKey(key, "arch/ive")
	want := KeyInfo{Source: "kinesis", Stream: "mystream", Date: time.Date(2019, 11, 14, 0, 0, 0, 0, time.UTC),
		ShardID: h.ShardID, Start: h.Start, End: h.End}
	if !ok || got != want {
		t.Errorf("got %+v %v, want %+v true", got, ok, want)
	}
	for name, k := range map[string]string{
		"other prefix": Key(h, "other"),
		"claim check":  ClaimCheckKey(key, "arch/ive"),
		"foreign":      "arch/ive/readme.txt",
		"bad date":     "arch/ive/source=kinesis/stream=s/dt=yesterday/shard/1-2.jsonl.gz",
	} {
		if _, ok := ParseKey(k, "arch/ive"); ok {
			t.Errorf("%s: ParseKey(%q) ok, want not ok", name, k)
		}
	}
}

func TestClaimCheckKey(t *testing.T) {
	h := testHydration("kinesis", testKinesisARN, 3)
	cases := map[string]struct{ prefix, want string }{
		"prefix":    {"p/q", "p/q/claim-check/source=kinesis/stream=mystream/dt=2019-11-14/shardId-000000000001/" + testStart + "-" + seq(3) + ".json"},
		"no prefix": {"", "claim-check/source=kinesis/stream=mystream/dt=2019-11-14/shardId-000000000001/" + testStart + "-" + seq(3) + ".json"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ClaimCheckKey(Key(h, c.prefix), c.prefix); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestStreamName(t *testing.T) {
	for arn, want := range map[string]string{
		testKinesisARN:  "mystream",
		testDynamoDBARN: "mytable",
		"arn:aws:dynamodb:us-east-1:123456789012:table/t.x-1/stream/2024-01-01T00:00:00.000": "t.x-1",
		"garbage": "",
	} {
		if got := StreamName(arn); got != want {
			t.Errorf("StreamName(%q): got %v, want %v", arn, got, want)
		}
	}
}
