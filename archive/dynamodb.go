package archive

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// ddbEncoder appends DynamoDB stream records as encoding/json marshals them, byte for
// byte (the tests hold it to that). Through encoding/json, every attribute value's
// MarshalJSON allocates several buffers: about 50 allocations for a modest item.
// The only state kept is one reusable slice of sorted map keys per nesting depth.
type ddbEncoder struct {
	keys [][]string
}

func (e *ddbEncoder) record(b []byte, r *events.DynamoDBEventRecord) (out []byte, err error) {
	defer func() {
		// The attribute accessors panic on a value built without a constructor.
		if p := recover(); p != nil {
			out, err = b, fmt.Errorf("malformed DynamoDB attribute value: %v", p)
		}
	}()
	b = appendField(b, `{"awsRegion":`, r.AWSRegion)
	b = e.change(append(b, `,"dynamodb":`...), &r.Change)
	b = appendField(b, `,"eventID":`, r.EventID)
	b = appendField(b, `,"eventName":`, r.EventName)
	b = appendField(b, `,"eventSource":`, r.EventSource)
	b = appendField(b, `,"eventVersion":`, r.EventVersion)
	b = appendField(b, `,"eventSourceARN":`, r.EventSourceArn)
	if u := r.UserIdentity; u != nil {
		b = appendField(b, `,"userIdentity":{"type":`, u.Type)
		b = append(appendField(b, `,"principalId":`, u.PrincipalID), '}')
	}
	return append(b, '}'), nil
}

func (e *ddbEncoder) change(b []byte, c *events.DynamoDBStreamRecord) []byte {
	// omitempty does not apply to a struct: the time is always written.
	b = append(b, `{"ApproximateCreationDateTime":`...)
	b = appendSeconds(b, float64(c.ApproximateCreationDateTime.UnixNano())/1e9)
	for _, img := range []struct {
		name string
		m    map[string]events.DynamoDBAttributeValue
	}{{`,"Keys":`, c.Keys}, {`,"NewImage":`, c.NewImage}, {`,"OldImage":`, c.OldImage}} {
		if len(img.m) > 0 {
			b = e.attrMap(append(b, img.name...), img.m, 0)
		}
	}
	b = appendField(b, `,"SequenceNumber":`, c.SequenceNumber)
	b = strconv.AppendInt(append(b, `,"SizeBytes":`...), c.SizeBytes, 10)
	b = appendField(b, `,"StreamViewType":`, c.StreamViewType)
	return append(b, '}')
}

// attrMap writes m with its keys sorted, as encoding/json does.
func (e *ddbEncoder) attrMap(b []byte, m map[string]events.DynamoDBAttributeValue, depth int) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	for len(e.keys) <= depth {
		e.keys = append(e.keys, nil)
	}
	keys := e.keys[depth][:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.keys[depth] = keys
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.attr(append(appendString(b, k), ':'), m[k], depth+1)
	}
	return append(b, '}')
}

func (e *ddbEncoder) attr(b []byte, v events.DynamoDBAttributeValue, depth int) []byte {
	switch v.DataType() {
	case events.DataTypeBinary:
		b = appendBytes(append(b, `{"B":`...), v.Binary())
	case events.DataTypeBoolean:
		b = strconv.AppendBool(append(b, `{"BOOL":`...), v.Boolean())
	case events.DataTypeBinarySet:
		b = appendList(append(b, `{"BS":`...), v.BinarySet(), appendBytes)
	case events.DataTypeList:
		b = e.attrList(append(b, `{"L":`...), v.List(), depth)
	case events.DataTypeMap:
		b = e.attrMap(append(b, `{"M":`...), v.Map(), depth)
	case events.DataTypeNumber:
		b = appendString(append(b, `{"N":`...), v.Number())
	case events.DataTypeNumberSet:
		b = appendList(append(b, `{"NS":`...), v.NumberSet(), appendString)
	case events.DataTypeNull:
		b = append(b, `{"NULL":true`...)
	case events.DataTypeString:
		b = appendString(append(b, `{"S":`...), v.String())
	case events.DataTypeStringSet:
		b = appendList(append(b, `{"SS":`...), v.StringSet(), appendString)
	default:
		panic(fmt.Sprintf("unknown attribute type %d", v.DataType()))
	}
	return append(b, '}')
}

func (e *ddbEncoder) attrList(b []byte, list []events.DynamoDBAttributeValue, depth int) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.attr(b, v, depth+1)
	}
	return append(b, ']')
}

func appendList[T any](b []byte, list []T, each func([]byte, T) []byte) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, v)
	}
	return append(b, ']')
}

// appendBytes writes a []byte as encoding/json does: base64, or null for nil.
func appendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}
