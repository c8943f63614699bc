package archive

import (
	"bytes"
	"encoding/json"
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
			var e ddbEncoder
			got, err := e.record(nil, &rec)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("got %s %v, want %s", got, err, want)
			}
		})
	}
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
		want, werr := json.Marshal(&rec)
		var e ddbEncoder
		got, err := e.record(nil, &rec)
		if werr == nil && (err != nil || !bytes.Equal(got, want)) {
			t.Errorf("got %s %v, want %s", got, err, want)
		}
	})
}
