package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// lambdaMaxPayload is Lambda's synchronous invocation payload limit (6 MB).
const lambdaMaxPayload = 6 << 20

// lambdaMaxDuration is the longest a function runs: an invocation is never cut
// before it (only by the run's own cut-off).
const lambdaMaxDuration = 15 * time.Minute

// eventOverhead bounds what an event adds around its records: {"Records":[]}, or a
// Kafka event's head (source, cluster ARN, bootstrap servers, "<topic>-<partition>"),
// which kafkaHeadMax caps.
const eventOverhead = kafkaHeadMax

type invokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ invokeAPI = (*lambda.Client)(nil)

// LambdaTarget invokes a function synchronously with the records in the event shape
// its event source mapping uses ({"Records":[...]}, Kinesis or DynamoDB). It is the
// default target (the consumer that failed). Like the mapping, it sends each shard's
// records in order, never more in one invocation than the failed batch held nor more
// than 6 MB, and reads a partial batch response: records from the first reported
// failure on are not delivered.
type LambdaTarget struct {
	api        invokeAPI
	function   string
	maxRecords int
	// kafkaHeads maps an entry key of Kafka records to its event's head.
	kafkaHeads sync.Map
}

// NewLambdaTarget returns a target for function (a name, name:alias or ARN), sending at
// most maxRecords records per invocation (default 100, the mapping's default batch).
func NewLambdaTarget(api invokeAPI, function string, maxRecords int) *LambdaTarget {
	if maxRecords <= 0 {
		maxRecords = 100
	}
	return &LambdaTarget{api: api, function: function, maxRecords: maxRecords}
}

// Name implements Target.
func (t *LambdaTarget) Name() string { return "lambda:" + t.function }

// Limits implements Target. Each record costs its JSON plus a comma. The capacity is
// only a default ceiling: one invocation is in flight at a time, so the function's
// duration is what really sets the pace.
func (t *LambdaTarget) Limits() Limits {
	return Limits{
		MaxEntries: t.maxRecords, MaxBytes: lambdaMaxPayload - eventOverhead, Ordering: PrefixOfKey,
		Capacity: Rate{Records: 500, Bytes: 5 << 20}, CallTimeout: lambdaMaxDuration,
	}
}

// Prepare implements Target.
func (t *LambdaTarget) Prepare(rec batch.Record, from Origin) (*Entry, error) {
	body, err := eventRecord(rec)
	if err != nil {
		return nil, &RejectedError{Target: t.Name(), Reason: err.Error()}
	}
	size := len(body) + 1
	if size > lambdaMaxPayload-eventOverhead {
		return nil, &RejectedError{Target: t.Name(), Reason: fmt.Sprintf("record of %d bytes exceeds the 6 MB payload", len(body))}
	}
	key := from.StreamARN + "/" + from.ShardID
	if rec.Kafka != nil {
		key = t.rememberKafka(from, rec.Kafka)
	}
	return &Entry{Record: rec, Key: key, Size: size, Body: body}, nil
}

// Send implements Target.
func (t *LambdaTarget) Send(ctx context.Context, entries []*Entry) ([]Outcome, error) {
	payload := eventPayload(entries)
	if len(entries) > 0 && entries[0].Record.Kafka != nil {
		payload = t.kafkaPayload(entries)
	}
	out, err := t.api.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   &t.function,
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return nil, fmt.Errorf("invoke %s with %d records: %w", t.function, len(entries), err)
	}
	if out.FunctionError != nil {
		err := &FunctionError{Function: t.function, Kind: *out.FunctionError, Type: errorType(out.Payload)}
		return allOutcomes(len(entries), Outcome{Status: Failed, Err: err}), nil
	}
	first, err := firstFailure(out.Payload, entries)
	if err != nil {
		err = &FunctionError{Function: t.function, Kind: "BatchItemFailures", Type: err.Error()}
	}
	outcomes := allOutcomes(len(entries), Outcome{Status: Delivered})
	for i := first; i < len(entries); i++ {
		outcomes[i] = Outcome{Status: Failed, Err: err}
	}
	return outcomes, nil
}

// eventRecord encodes a record exactly as an event source mapping delivers it: a
// Kinesis record without the fields KPL de-aggregation adds (a consumer reads the
// de-aggregated user record as a plain record), a DynamoDB record as it is.
func eventRecord(rec batch.Record) ([]byte, error) {
	if k := rec.Kinesis; k != nil {
		return json.Marshal(events.KinesisEventRecord{
			AwsRegion: k.AwsRegion, EventID: k.EventID, EventName: k.EventName, EventSource: k.EventSource,
			EventSourceArn: k.EventSourceArn, EventVersion: k.EventVersion, InvokeIdentityArn: k.InvokeIdentityArn,
			Kinesis: k.Kinesis.KinesisRecord,
		})
	}
	return json.Marshal(rec)
}

func eventPayload(entries []*Entry) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e.Body)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func allOutcomes(n int, o Outcome) []Outcome {
	out := make([]Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// FunctionError is a consumer function's failure: an error it returned (Kind
// "Unhandled" or "Handled"), or a partial batch response naming records.
type FunctionError struct {
	Function string
	Kind     string
	// Type is the function's errorType, or what the batch response said; never the
	// error message, which may quote record data.
	Type string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("redrive: function %s failed (%s): %s", e.Function, e.Kind, e.Type)
}

func errorType(payload []byte) string {
	var p struct {
		ErrorType string `json:"errorType"`
	}
	_ = json.Unmarshal(payload, &p)
	return p.ErrorType
}

// firstFailure reads a partial batch response and returns the index of the first
// record not delivered (len(entries) when all were). As Lambda does, it takes an empty
// or unknown itemIdentifier as a failure of the whole batch, and anything that is not
// a batch response as success.
func firstFailure(payload []byte, entries []*Entry) (int, error) {
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if json.Unmarshal(payload, &resp) != nil || len(resp.BatchItemFailures) == 0 {
		return len(entries), nil
	}
	first := len(entries)
	for _, f := range resp.BatchItemFailures {
		i := indexOfSequence(entries, f.ItemIdentifier)
		if i < 0 {
			return 0, fmt.Errorf("batchItemFailures names no record of the batch")
		}
		first = min(first, i)
	}
	return first, fmt.Errorf("batchItemFailures from record %d of %d", first+1, len(entries))
}

func indexOfSequence(entries []*Entry, seq *string) int {
	if seq == nil || *seq == "" {
		return -1
	}
	for i, e := range entries {
		if e.Record.SequenceNumber() == *seq {
			return i
		}
	}
	return -1
}
