package redrive

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// TestFilterOperators: one case per operator of Lambda's filter rule syntax, on the
// documentation's examples, for Kinesis data (JSON), DynamoDB records and Kafka values.
func TestFilterOperators(t *testing.T) {
	kin := func(data string) batch.Record { return kinesisRecord("arn:s", "k", 1, []byte(data)) }
	kafka := func(value string) batch.Record {
		return batch.Record{Kafka: &events.KafkaRecord{Topic: "t", Value: base64.StdEncoding.EncodeToString([]byte(value))}}
	}
	ddb := batch.Record{DynamoDB: &events.DynamoDBEventRecord{EventName: "INSERT", EventSource: batch.EventSourceDynamoDB,
		Change: events.DynamoDBStreamRecord{SequenceNumber: "1", Keys: map[string]events.DynamoDBAttributeValue{"CustomerName": events.NewStringAttribute("AnyCompany Industries")}}}}
	tests := map[string]struct {
		pattern string
		rec     batch.Record
		want    bool
	}{
		"equals string":            {`{"data":{"State":["CA"]}}`, kin(`{"State":"CA"}`), true},
		"equals string, other":     {`{"data":{"State":["CA"]}}`, kin(`{"State":"NY"}`), false},
		"equals number":            {`{"data":{"Count":[5]}}`, kin(`{"Count":5.0}`), true},
		"null":                     {`{"data":{"UserID":[null]}}`, kin(`{"UserID":null}`), true},
		"empty":                    {`{"data":{"LastName":[""]}}`, kin(`{"LastName":""}`), true},
		"or of values":             {`{"data":{"Location":["New York","Day"]}}`, kin(`{"Location":"Day"}`), true},
		"and of keys":              {`{"data":{"Location":["New York"],"Day":["Monday"]}}`, kin(`{"Location":"New York","Day":"Tuesday"}`), false},
		"prefix":                   {`{"data":{"Region":[{"prefix":"us-"}]}}`, kin(`{"Region":"us-east-1"}`), true},
		"prefix, other":            {`{"data":{"Region":[{"prefix":"us-"}]}}`, kin(`{"Region":"eu-west-1"}`), false},
		"suffix":                   {`{"data":{"FileName":[{"suffix":".png"}]}}`, kin(`{"FileName":"a.png"}`), true},
		"anything-but":             {`{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, kin(`{"Weather":"Sunny"}`), true},
		"anything-but, the value":  {`{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, kin(`{"Weather":"Raining"}`), false},
		"anything-but prefix":      {`{"data":{"Region":[{"anything-but":{"prefix":"us-"}}]}}`, kin(`{"Region":"us-east-1"}`), false},
		"numeric equals":           {`{"data":{"Price":[{"numeric":["=",100]}]}}`, kin(`{"Price":100}`), true},
		"numeric range":            {`{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, kin(`{"Price":20}`), true},
		"numeric range, outside":   {`{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, kin(`{"Price":21}`), false},
		"numeric on a string":      {`{"data":{"Price":[{"numeric":[">",10]}]}}`, kin(`{"Price":"11"}`), false},
		"exists":                   {`{"data":{"ProductName":[{"exists":true}]}}`, kin(`{"ProductName":"x"}`), true},
		"does not exist":           {`{"data":{"ProductName":[{"exists":false}]}}`, kin(`{"Other":1}`), true},
		"does not exist, but does": {`{"data":{"ProductName":[{"exists":false}]}}`, kin(`{"ProductName":"x"}`), false},
		"equals-ignore-case":       {`{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`, kin(`{"Name":"ALICE"}`), true},
		"$or of patterns":          {`{"data":{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}}`, kin(`{"Location":"Paris","Day":"Monday"}`), true},
		"$or, none":                {`{"data":{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}}`, kin(`{"Location":"Paris","Day":"Friday"}`), false},
		"array in the event":       {`{"data":{"Tags":["red"]}}`, kin(`{"Tags":["blue","red"]}`), true},
		"data not JSON":            {`{"data":{"State":["CA"]}}`, kin(`not json`), false},
		"dynamodb keys":            {`{"dynamodb":{"Keys":{"CustomerName":{"S":["AnyCompany Industries"]}}}}`, ddb, true},
		"dynamodb event name":      {`{"eventName":["REMOVE"]}`, ddb, false},
		"kafka value":              {`{"value":{"device_ID":[{"prefix":"AB"}]}}`, kafka(`{"device_ID":"AB1234"}`), true},
		"kafka value, other":       {`{"value":{"device_ID":[{"prefix":"AB"}]}}`, kafka(`{"device_ID":"CD1234"}`), false},
		"kafka value, plain text":  {`{"value":[{"prefix":"Hello"}]}`, kafka(`Hello, this is a test.`), true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fc, err := parseFilterCriteria([]string{tt.pattern})
			if err != nil {
				t.Fatal(err)
			}
			if got := fc.pass(tt.rec); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFilterCriteriaOrAndRefusal: several patterns are ORed; a pattern using an
// operator this package does not implement is a *FilterError.
func TestFilterCriteriaOrAndRefusal(t *testing.T) {
	fc, err := parseFilterCriteria([]string{`{"data":{"a":[1]}}`, `{"data":{"b":[2]}}`})
	if err != nil {
		t.Fatal(err)
	}
	if !fc.pass(kinesisRecord("arn:s", "k", 1, []byte(`{"b":2}`))) {
		t.Error("got no match for the second pattern, want the patterns ORed")
	}
	for _, p := range []string{`{"data":{"a":[{"wildcard":"x*"}]}}`, `{"data":{"a":[{"cidr":"10.0.0.0/24"}]}}`, `{"data":{"a":[{"numeric":["~",1]}]}}`, `["x"]`, `{"data":"x"}`} {
		var fe *FilterError
		if _, err := parseFilterCriteria([]string{p}); !errors.As(err, &fe) {
			t.Errorf("pattern %s: got %v, want a *FilterError", p, err)
		}
	}
}

// FuzzFilterCriteria: any pattern either parses or is a *FilterError, and a parsed
// one matches any record data without panicking.
func FuzzFilterCriteria(f *testing.F) {
	f.Add(`{"data":{"a":[{"numeric":[">",1,"<=",5]}],"$or":[{"b":["x"]},{"c":[{"exists":false}]}]}}`, `{"a":3,"b":"x"}`)
	f.Add(`{"data":{"a":[{"anything-but":{"prefix":"x"}}]}}`, `{"a":["xy","z"]}`)
	f.Add(`{"data":{"a":{"b":[null,""]}}}`, `not json`)
	f.Fuzz(func(t *testing.T, pattern, data string) {
		fc, err := parseFilterCriteria([]string{pattern})
		var fe *FilterError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("got %T, want a *FilterError", err)
		}
		if err == nil {
			fc.pass(kinesisRecord("arn:s", "k", 1, []byte(data)))
		}
	})
}
