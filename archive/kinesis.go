package archive

import (
	"encoding/base64"
	"math"
	"strconv"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// appendKinesis appends r as encoding/json marshals it, byte for byte (the tests hold
// it to that). Kinesis records are most of what streamdlq archives; going through
// reflection and SecondsEpochTime's MarshalJSON cost several allocations per record,
// while this writes the base64 of the data straight into b.
func appendKinesis(b []byte, r *batch.KinesisEventRecord) []byte {
	b = appendField(b, `{"awsRegion":`, r.AwsRegion)
	b = appendField(b, `,"eventID":`, r.EventID)
	b = appendField(b, `,"eventName":`, r.EventName)
	b = appendField(b, `,"eventSource":`, r.EventSource)
	b = appendField(b, `,"eventSourceARN":`, r.EventSourceArn)
	b = appendField(b, `,"eventVersion":`, r.EventVersion)
	b = appendField(b, `,"invokeIdentityArn":`, r.InvokeIdentityArn)
	k := &r.Kinesis
	b = append(b, `,"kinesis":{"approximateArrivalTimestamp":`...)
	b = appendSeconds(b, float64(k.ApproximateArrivalTimestamp.UnixNano())/1e9)
	b = append(b, `,"data":`...)
	if k.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, k.Data)
		b = append(b, '"')
	}
	if k.EncryptionType != "" {
		b = appendField(b, `,"encryptionType":`, k.EncryptionType)
	}
	b = appendField(b, `,"partitionKey":`, k.PartitionKey)
	b = appendField(b, `,"sequenceNumber":`, k.SequenceNumber)
	b = appendField(b, `,"kinesisSchemaVersion":`, k.KinesisSchemaVersion)
	if k.SubSequenceNumber != nil {
		b = append(b, `,"subSequenceNumber":`...)
		b = strconv.AppendUint(b, *k.SubSequenceNumber, 10)
	}
	if k.ExplicitHashKey != "" {
		b = appendField(b, `,"explicitHashKey":`, k.ExplicitHashKey)
	}
	if k.AggregationError != "" {
		b = appendField(b, `,"aggregationError":`, k.AggregationError)
	}
	return append(b, "}}"...)
}

func appendField(b []byte, name, value string) []byte {
	return appendString(append(b, name...), value)
}

// appendSeconds formats f as encoding/json formats a float64 (ES6 number style).
// SecondsEpochTime is never NaN or infinite: it comes from an int64.
func appendSeconds(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 -> e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
