package archive

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// oldDDBEncoder is the DynamoDB encoder (and its string quoting) as it was before the
// rewrite for speed, kept so that tests hold the new one to its output byte for byte
// and BenchmarkEncode measures the two side by side. It appends DynamoDB stream
// records as encoding/json marshals them. Through encoding/json, every attribute value's
// MarshalJSON allocates several buffers: about 50 allocations for a modest item.
// The only state kept is one reusable slice of sorted map keys per nesting depth.
type oldDDBEncoder struct {
	keys [][]string
}

func (e *oldDDBEncoder) record(b []byte, r *events.DynamoDBEventRecord) (out []byte, err error) {
	defer func() {
		// The attribute accessors panic on a value built without a constructor.
		if p := recover(); p != nil {
			out, err = b, fmt.Errorf("malformed DynamoDB attribute value: %v", p)
		}
	}()
	b = oldAppendField(b, `{"awsRegion":`, r.AWSRegion)
	b = e.change(append(b, `,"dynamodb":`...), &r.Change)
	b = oldAppendField(b, `,"eventID":`, r.EventID)
	b = oldAppendField(b, `,"eventName":`, r.EventName)
	b = oldAppendField(b, `,"eventSource":`, r.EventSource)
	b = oldAppendField(b, `,"eventVersion":`, r.EventVersion)
	b = oldAppendField(b, `,"eventSourceARN":`, r.EventSourceArn)
	if u := r.UserIdentity; u != nil {
		b = oldAppendField(b, `,"userIdentity":{"type":`, u.Type)
		b = append(oldAppendField(b, `,"principalId":`, u.PrincipalID), '}')
	}
	return append(b, '}'), nil
}

func (e *oldDDBEncoder) change(b []byte, c *events.DynamoDBStreamRecord) []byte {
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
	b = oldAppendField(b, `,"SequenceNumber":`, c.SequenceNumber)
	b = strconv.AppendInt(append(b, `,"SizeBytes":`...), c.SizeBytes, 10)
	b = oldAppendField(b, `,"StreamViewType":`, c.StreamViewType)
	return append(b, '}')
}

// attrMap writes m with its keys sorted, as encoding/json does.
func (e *oldDDBEncoder) attrMap(b []byte, m map[string]events.DynamoDBAttributeValue, depth int) []byte {
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
		b = e.attr(append(oldAppendString(b, k), ':'), m[k], depth+1)
	}
	return append(b, '}')
}

func (e *oldDDBEncoder) attr(b []byte, v events.DynamoDBAttributeValue, depth int) []byte {
	switch v.DataType() {
	case events.DataTypeBinary:
		b = oldAppendBytes(append(b, `{"B":`...), v.Binary())
	case events.DataTypeBoolean:
		b = strconv.AppendBool(append(b, `{"BOOL":`...), v.Boolean())
	case events.DataTypeBinarySet:
		b = oldAppendList(append(b, `{"BS":`...), v.BinarySet(), oldAppendBytes)
	case events.DataTypeList:
		b = e.attrList(append(b, `{"L":`...), v.List(), depth)
	case events.DataTypeMap:
		b = e.attrMap(append(b, `{"M":`...), v.Map(), depth)
	case events.DataTypeNumber:
		b = oldAppendString(append(b, `{"N":`...), v.Number())
	case events.DataTypeNumberSet:
		b = oldAppendList(append(b, `{"NS":`...), v.NumberSet(), oldAppendString)
	case events.DataTypeNull:
		b = append(b, `{"NULL":true`...)
	case events.DataTypeString:
		b = oldAppendString(append(b, `{"S":`...), v.String())
	case events.DataTypeStringSet:
		b = oldAppendList(append(b, `{"SS":`...), v.StringSet(), oldAppendString)
	default:
		panic(fmt.Sprintf("unknown attribute type %d", v.DataType()))
	}
	return append(b, '}')
}

func (e *oldDDBEncoder) attrList(b []byte, list []events.DynamoDBAttributeValue, depth int) []byte {
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

func oldAppendList[T any](b []byte, list []T, each func([]byte, T) []byte) []byte {
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
func oldAppendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

func oldAppendField(b []byte, name, value string) []byte {
	return oldAppendString(append(b, name...), value)
}

const oldHexDigits = "0123456789abcdef"

// oldAppendString quotes s as encoding/json does with HTML escaping on: <, > and & and
// control characters as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func oldAppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = oldAppendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', oldHexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func oldAppendEscape(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', oldHexDigits[c>>4], oldHexDigits[c&0xF])
}
