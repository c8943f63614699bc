package archive

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestDDBEncoderMatchesEncodingJSON(t *testing.T) {
	av := func(m map[string]events.DynamoDBAttributeValue) map[string]events.DynamoDBAttributeValue { return m }
	cases := map[string]func(r *events.DynamoDBEventRecord){
		"modify": func(r *events.DynamoDBEventRecord) {},
		"keys only": func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage, r.Change.StreamViewType = nil, "KEYS_ONLY"
		},
		"old and new": func(r *events.DynamoDBEventRecord) { r.Change.OldImage = r.Change.NewImage },
		"empty image": func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage = av(map[string]events.DynamoDBAttributeValue{})
		},
		"ttl delete": func(r *events.DynamoDBEventRecord) {
			r.EventName, r.UserIdentity = "REMOVE", &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
		},
		"nil and empty values": func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage = av(map[string]events.DynamoDBAttributeValue{
				"b": events.NewBinaryAttribute(nil), "bs": events.NewBinarySetAttribute([][]byte{nil, {}, {1}}),
				"nbs": events.NewBinarySetAttribute(nil), "l": events.NewListAttribute(nil), "el": events.NewListAttribute([]events.DynamoDBAttributeValue{}),
				"m": events.NewMapAttribute(nil), "ns": events.NewNumberSetAttribute(nil), "ss": events.NewStringSetAttribute([]string{}),
				"f": events.NewBooleanAttribute(false), "n": events.NewNumberAttribute("-1.5E+10"),
			})
		},
		"escapes and sorting": func(r *events.DynamoDBEventRecord) {
			r.Change.NewImage = av(map[string]events.DynamoDBAttributeValue{
				"<z>": events.NewStringAttribute("a&b\u2028\xff"), "Z": events.NewNullAttribute(), "é": events.NewStringAttribute("\x00"),
				"deep": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
					"y": events.NewListAttribute([]events.DynamoDBAttributeValue{
						events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"b": events.NewNumberAttribute("1"), "a": events.NewNumberAttribute("2")}),
						events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"d": events.NewNumberAttribute("3"), "c": events.NewNumberAttribute("4")}),
					}),
					"x": events.NewStringSetAttribute([]string{"q", "p"}),
				}),
			})
		},
		"zero time": func(r *events.DynamoDBEventRecord) { r.Change.ApproximateCreationDateTime = events.SecondsEpochTime{} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			rec := *dynamoDBDoc(1).Records[0].DynamoDB
			mutate(&rec)
			want, err := json.Marshal(&rec)
			if err != nil {
				t.Fatal(err)
			}
			sameAsBefore(t, &rec, want)
		})
	}
}

// sameAsBefore checks that the encoder writes rec as want (encoding/json's bytes), and
// as the encoder it replaced did.
func sameAsBefore(t *testing.T, rec *events.DynamoDBEventRecord, want []byte) {
	t.Helper()
	var e ddbEncoder
	got, err := e.record(nil, rec)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("got %s %v, want %s", got, err, want)
	}
	var old oldDDBEncoder
	if before, err := old.record(nil, rec); err != nil || !bytes.Equal(got, before) {
		t.Errorf("got %s, before the rewrite %s %v", got, before, err)
	}
}

// TestDDBEncoderRandomItems holds the encoder to encoding/json and to its predecessor
// on seeded random items: every attribute type, nested maps and lists, sets, binary,
// escaping and multi-byte text, empty and nil values, maps large enough for the
// general sort.
func TestDDBEncoderRandomItems(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	var shared ddbEncoder
	for i := range 2000 {
		rec := *dynamoDBDoc(1).Records[0].DynamoDB
		rec.Change.Keys = randomItem(r, 0)
		rec.Change.NewImage = randomItem(r, 0)
		if i%3 == 0 {
			rec.Change.OldImage = randomItem(r, 0)
		}
		want, err := json.Marshal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		sameAsBefore(t, &rec, want)
		// One encoder goes through a whole document: what it keeps between records
		// must not leak from one into the next.
		if got, err := shared.record(nil, &rec); err != nil || !bytes.Equal(got, want) {
			t.Errorf("shared encoder: got %s %v, want %s", got, err, want)
		}
		if t.Failed() {
			t.Fatalf("item %d", i)
		}
	}
}

// randomText draws from pieces that each exercise one branch of the quoting, so
// that the eight-byte fast path sees them at every offset.
func randomText(r *rand.Rand) string {
	pieces := []string{"a", "order#", "0123456789", "<", ">", "&", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f",
		"é", "日本", "🙂", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x80", " ", "arn:aws:dynamodb:us-east-2:123456789012:table/t"}
	var sb strings.Builder
	for range r.IntN(12) {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func randomItem(r *rand.Rand, depth int) map[string]events.DynamoDBAttributeValue {
	n := r.IntN(6)
	if r.IntN(8) == 0 {
		n = 13 + r.IntN(20) // past sortPairs' insertion-sort cut-off
	}
	m := make(map[string]events.DynamoDBAttributeValue, n)
	for range n {
		m[randomText(r)] = randomAttr(r, depth)
	}
	return m
}

func randomAttr(r *rand.Rand, depth int) events.DynamoDBAttributeValue {
	texts := func() []string {
		if r.IntN(6) == 0 {
			return nil
		}
		l := make([]string, r.IntN(4))
		for i := range l {
			l[i] = randomText(r)
		}
		return l
	}
	blob := func() []byte {
		if r.IntN(6) == 0 {
			return nil
		}
		p := make([]byte, r.IntN(20))
		for i := range p {
			p[i] = byte(r.Uint32())
		}
		return p
	}
	kinds := 9
	if depth < 3 {
		kinds = 11
	}
	switch r.IntN(kinds) {
	case 0:
		return events.NewStringAttribute(randomText(r))
	case 1:
		return events.NewNumberAttribute(strconv.FormatFloat(r.NormFloat64()*1e6, 'g', -1, 64))
	case 2:
		return events.NewBinaryAttribute(blob())
	case 3:
		return events.NewBooleanAttribute(r.IntN(2) == 0)
	case 4:
		return events.NewNullAttribute()
	case 5:
		return events.NewStringSetAttribute(texts())
	case 6:
		return events.NewNumberSetAttribute(texts())
	case 7:
		var bs [][]byte
		if r.IntN(6) != 0 {
			bs = make([][]byte, r.IntN(4))
			for i := range bs {
				bs[i] = blob()
			}
		}
		return events.NewBinarySetAttribute(bs)
	case 8:
		return events.NewStringAttribute("")
	case 9:
		if r.IntN(6) == 0 {
			return events.NewMapAttribute(nil)
		}
		return events.NewMapAttribute(randomItem(r, depth+1))
	}
	if r.IntN(6) == 0 {
		return events.NewListAttribute(nil)
	}
	l := make([]events.DynamoDBAttributeValue, r.IntN(5))
	for i := range l {
		l[i] = randomAttr(r, depth+1)
	}
	return events.NewListAttribute(l)
}

func TestDDBEncoderRefusesZeroAttribute(t *testing.T) {
	rec := *dynamoDBDoc(1).Records[0].DynamoDB
	rec.Change.NewImage = map[string]events.DynamoDBAttributeValue{"zero": {}}
	var e ddbEncoder
	if _, err := e.record(nil, &rec); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("got %v, want a malformed attribute error", err)
	}
}

// FuzzDDBEncoder builds items from DynamoDB JSON (as streams deliver it) and checks
// the encoder against encoding/json.
func FuzzDDBEncoder(f *testing.F) {
	f.Add(`{"a":{"S":"x"},"b":{"L":[{"N":"1"},{"M":{"c":{"BOOL":true}}}]},"c":{"NULL":true}}`)
	f.Add(`{"<":{"SS":["&","\u2028"]},"bin":{"B":"AAE="},"bs":{"BS":["AA==",""]},"ns":{"NS":["1","2"]}}`)
	f.Fuzz(func(t *testing.T, image string) {
		var img map[string]events.DynamoDBAttributeValue
		if json.Unmarshal([]byte(image), &img) != nil {
			return
		}
		rec := *dynamoDBDoc(1).Records[0].DynamoDB
		rec.Change.NewImage = img
		want, err := json.Marshal(&rec)
		if err != nil {
			return
		}
		sameAsBefore(t, &rec, want)
	})
}
