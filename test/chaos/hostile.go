package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// forgerARN is a function with no event source mapping: whatever range it names never
// failed for it.
const forgerARN = "arn:aws:lambda:us-east-1:000000000000:function:forger"

// hostile is what a Hostile run sent besides the real failures: a forged on-failure
// record (through SNS) and a foreign S3 on-failure object (through an S3 notification).
// Neither may leave anything in the archive, the DLQ or on the target; each must end
// parked with the reason it was refused.
type hostile struct {
	mappings *httptest.Server // ListEventSourceMappings: the real consumers only
	forged   json.RawMessage  // the SNS event
	object   json.RawMessage  // the S3 notification
	key      string           // the foreign object's key
	bait     [][]byte         // data of the foreign object's records
	variant  string           // how its second record is foreign
}

// newHostile builds the run's hostile inputs against the run's failures: the forged
// record names the run's whole range for forgerARN; the foreign object is the first
// real failure's on-failure record with a payload whose first record looks right
// (with bait data) and whose second does not belong to the failure.
func (e *runEnv) newHostile(ctx context.Context, rng *rand.Rand, recs []written) (*hostile, error) {
	h := &hostile{mappings: mappingServer(e.from)}
	h.forged = onfailure.SNSEvent(topicARN, e.forgedRecord(recs))
	var obj map[string]any
	if err := json.Unmarshal(e.onFailure(recs, 0, consumerARNs[0]), &obj); err != nil {
		return nil, err
	}
	var fl struct{ start, end string }
	for _, r := range recs {
		if r.failure == 0 {
			fl.end = r.seq
			if fl.start == "" {
				fl.start = r.seq
			}
		}
	}
	h.bait = [][]byte{fmt.Appendf(nil, `{"bait":0,"secret":"b41t-%x"}`, rng.Uint64()), fmt.Appendf(nil, `{"bait":1,"secret":"b41t-%x"}`, rng.Uint64())}
	var payload []byte
	if e.from.kafka != nil {
		h.variant, payload = e.from.kafka.foreignPayload(rng, fl.start, fl.end, h.bait)
	} else {
		h.variant, payload = e.foreignPayload(rng, fl.start, fl.end, h.bait)
	}
	obj["payload"] = string(payload)
	body, _ := json.Marshal(obj)
	h.key = e.prefix + "/on-failure/" + fl.start + ".json"
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &e.bucket, Key: &h.key, Body: strings.NewReader(string(body))}); err != nil {
		return nil, fmt.Errorf("put on-failure object: %w", err)
	}
	var ev events.S3Event
	ev.Records = []events.S3EventRecord{{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1", EventName: "ObjectCreated:Put",
		S3: events.S3Entity{Bucket: events.S3Bucket{Name: e.bucket, Arn: "arn:aws:s3:::" + e.bucket},
			Object: events.S3Object{Key: url.QueryEscape(h.key), Size: int64(len(body))}}}}
	h.object, _ = json.Marshal(ev)
	return h, nil
}

// forgedRecord is the on-failure record of forgerARN for the run's whole range.
func (e *runEnv) forgedRecord(recs []written) json.RawMessage {
	if e.from.kafka != nil {
		return e.from.kafka.onFailure(recs, forgerARN, e.failedAt)
	}
	return onfailure.Record(onfailure.Batch{Source: e.from.kind, StreamARN: e.from.arn, ShardID: e.from.shard, Start: recs[0].seq,
		End: recs[len(recs)-1].seq, BatchSize: len(recs), FunctionARN: forgerARN, Time: e.failedAt})
}

// foreignPayload is the invocation event of a stream failure start..end as Lambda's
// S3 destination writes it, holding a record of start with bait[0] and a foreign one
// with bait[1], and how the latter is foreign.
func (e *runEnv) foreignPayload(rng *rand.Rand, start, end string, bait [][]byte) (string, []byte) {
	arn, shard, seq := e.from.arn, e.from.shard, start
	variant := []string{"another stream", "outside the range", "another shard"}[rng.IntN(3)]
	switch variant {
	case "another stream":
		arn += "-evil"
	case "outside the range":
		n, _ := new(big.Int).SetString(end, 10)
		seq = n.Add(n, big.NewInt(1)).String()
	case "another shard":
		shard = "shardId-000000000009"
	}
	payload, _ := json.Marshal(map[string]any{"Records": []any{
		kinesisRecord(e.from.arn, e.from.shard, start, bait[0]), kinesisRecord(arn, shard, seq, bait[1])}})
	return variant, payload
}

// kinesisRecord is a record of an on-failure event's payload, as Lambda gave it.
// (A DynamoDB failure's payload holding it is foreign whatever its fields say.)
func kinesisRecord(arn, shard, seq string, data []byte) map[string]any {
	return map[string]any{"eventSource": "aws:kinesis", "eventVersion": "1.0", "eventName": "aws:kinesis:record",
		"eventID": shard + ":" + seq, "eventSourceARN": arn, "awsRegion": "us-east-1",
		"kinesis": map[string]any{"kinesisSchemaVersion": "1.0", "partitionKey": "bait", "sequenceNumber": seq,
			"data": base64.StdEncoding.EncodeToString(data)}}
}

// mappingServer answers ListEventSourceMappings as Lambda would for the run's
// consumers: each has a mapping on the run's source (from.mapping) that sends
// failures to the topic; any other function (forgerARN) has none.
func mappingServer(from source) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var esms []map[string]any
		fn := r.URL.Query().Get("FunctionName")
		for _, c := range consumerARNs {
			if fn == c || strings.HasPrefix(c, fn+":") {
				esm := map[string]any{"UUID": "chaos-" + fn, "FunctionArn": c, "State": "Enabled",
					"DestinationConfig": map[string]any{"OnFailure": map[string]any{"Destination": topicARN}}}
				from.mapping(esm)
				esms = append(esms, esm)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"EventSourceMappings": esms})
	}))
}

// mapping sets what an event source mapping on the source reads: a stream by its
// ARN; a self-managed Kafka topic by name and the cluster by its bootstrap servers
// (such a mapping has no EventSourceArn).
func (s source) mapping(esm map[string]any) {
	if k := s.kafka; k != nil {
		esm["Topics"] = []string{k.topic}
		esm["SelfManagedEventSource"] = map[string]any{"Endpoints": map[string][]string{"KAFKA_BOOTSTRAP_SERVERS": k.brokers}}
		return
	}
	esm["EventSourceArn"] = s.arn
}

// lambdaAt sends the Lambda calls of a client to u: the hydrate function's mapping
// check reaches the run's mapping server, its other clients the local AWS.
func lambdaAt(u string) func(*middleware.Stack) error {
	to, _ := url.Parse(u)
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("chaosLambdaEndpoint",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok && middleware.GetServiceID(ctx) == "Lambda" {
					req.URL.Scheme, req.URL.Host = to.Scheme, to.Host
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// hydrateCfg is the hydrate function's configuration: the flow's faulty one, with the
// mapping check's calls sent to the run's mapping server in Hostile runs.
func (e *runEnv) hydrateCfg() aws.Config {
	if e.hostile == nil {
		return e.cfg
	}
	cfg := e.cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, lambdaAt(e.hostile.mappings.URL))
	return cfg
}

// refusal is a hostile input found parked: what it was and why it was refused ("" when
// it was still on the hydrator's failure queue, parked with no reason).
type refusal struct{ what, why string }

// hostileInput tells a parked raw input the run's hostile ones sent: "forged" or
// "foreign object", else "".
func hostileInput(failures []batch.Failure, object bool) string {
	switch {
	case object:
		return "foreign object"
	case len(failures) > 0 && failures[0].FunctionARN == forgerARN:
		return "forged"
	}
	return ""
}

// noteHostile notes what of the hostile inputs a document (archived or queued) holds.
func (f *found) noteHostile(doc *archive.Document) {
	if f.hostile == nil {
		return
	}
	if doc.Hydration.FunctionARN == forgerARN {
		f.forgedDocs++
	}
	for _, r := range doc.Records {
		var data []byte
		switch {
		case r.Kinesis != nil:
			data = r.Kinesis.Kinesis.Data
		case r.Kafka != nil:
			data, _ = base64.StdEncoding.DecodeString(r.Kafka.Value)
		}
		if data != nil && slices.ContainsFunc(f.hostile.bait, func(b []byte) bool { return bytes.Equal(b, data) }) {
			f.baitSeen++
		}
	}
}

// checkHostile fails a run in which anything of a hostile input was archived, queued
// or delivered, or one was not parked with the reason it was refused.
func checkHostile(r *Run, f found) {
	h := f.hostile
	for _, b := range h.bait {
		f.baitSeen += f.delivered[string(b)]
	}
	if f.forgedDocs > 0 || f.baitSeen > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("hostile input let through: %d documents of the forged failure, %d copies of the foreign object's records (%s)",
			f.forgedDocs, f.baitSeen, h.variant))
	}
	want := map[string]string{"forged": "not vouched for by an event source mapping", "foreign object": "does not belong to the failure"}
	for what, reason := range want {
		i := slices.IndexFunc(f.refused, func(x refusal) bool { return x.what == what })
		switch {
		case i < 0:
			r.Problems = append(r.Problems, fmt.Sprintf("the %s input is neither parked nor on the failure queue", what))
		case !strings.Contains(f.refused[i].why, reason):
			r.Problems = append(r.Problems, fmt.Sprintf("the %s input is parked with reason %q, want one saying %q", what, f.refused[i].why, reason))
		}
	}
}

// deliverHostile sends the hostile inputs as asynchronous invocations, as SNS and S3
// notifications do.
func (e *runEnv) deliverHostile(ctx context.Context) error {
	for _, in := range []json.RawMessage{e.hostile.forged, e.hostile.object} {
		e.inj.count(Hostile)
		if err := e.invoke(ctx, in); err != nil {
			return err
		}
	}
	return nil
}
