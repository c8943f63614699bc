package archive

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ddbEncoder appends DynamoDB stream records as encoding/json marshals them, byte for
// byte (the tests hold it to that, and to the encoder it replaced). Through
// encoding/json, every attribute value's MarshalJSON allocates several buffers: about
// 50 allocations for a modest item; this makes none once warm. No reflection and no
// map beyond the item's own: each map is walked once into a reusable slice of
// name/value pairs per nesting depth, sorted by name as encoding/json sorts keys, so
// no value is looked up again by its name.
type ddbEncoder struct {
	pairs [][]attrPair
}

type attrPair struct {
	name string
	v    events.DynamoDBAttributeValue
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
	if len(e.pairs) <= depth {
		e.pairs = append(e.pairs, make([][]attrPair, depth+1-len(e.pairs))...)
	}
	ps := e.pairs[depth][:0]
	for k, v := range m {
		ps = append(ps, attrPair{k, v})
	}
	sortPairs(ps)
	e.pairs[depth] = ps
	b = append(b, '{')
	for i := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.attr(append(appendString(b, ps[i].name), ':'), ps[i].v, depth+1)
	}
	return append(b, '}')
}

// sortPairs sorts by name: by insertion for the handful of attributes most maps
// have, where it beats the general sort's set-up.
func sortPairs(ps []attrPair) {
	if len(ps) > 12 {
		slices.SortFunc(ps, func(a, b attrPair) int { return strings.Compare(a.name, b.name) })
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].name < ps[j-1].name; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
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
