package hydrate

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	pipestypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

type fakePipes struct {
	describe func(in *pipes.DescribePipeInput) (*pipes.DescribePipeOutput, error)
}

func (f *fakePipes) DescribePipe(_ context.Context, in *pipes.DescribePipeInput, _ ...func(*pipes.Options)) (*pipes.DescribePipeOutput, error) {
	return f.describe(in)
}

type fakeLambda struct {
	list func(in *lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error)
}

func (f *fakeLambda) ListEventSourceMappings(_ context.Context, in *lambda.ListEventSourceMappingsInput, _ ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	return f.list(in)
}

const (
	mapFunction = "arn:aws:lambda:eu-west-1:111122223333:function:orders-consumer"
	mapStream   = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
	mapTopic    = "arn:aws:sns:eu-west-1:999999999999:streamdlq-OnFailureTopic"
)

func esm(source, dest string) types.EventSourceMappingConfiguration {
	c := types.EventSourceMappingConfiguration{EventSourceArn: aws.String(source)}
	if dest != "" {
		c.DestinationConfig = &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(dest)}}
	}
	return c
}

func mappingFailure(function string) *batch.Failure {
	return &batch.Failure{Source: batch.SourceKinesis, FunctionARN: function, StreamARN: mapStream, ShardID: "shardId-000000000000", Start: "1", End: "2"}
}

func TestMappingCheck(t *testing.T) {
	cases := map[string]struct {
		function string
		mappings []types.EventSourceMappingConfiguration
		inputs   []string
		wantOK   bool
	}{
		"mapping sends to our topic":                {mapFunction, []types.EventSourceMappingConfiguration{esm(mapStream, mapTopic)}, []string{mapTopic}, true},
		"through an enhanced fan-out":               {mapFunction, []types.EventSourceMappingConfiguration{esm(mapStream+"/consumer/efo:1700000000", mapTopic)}, []string{mapTopic}, true},
		"any destination when none are set":         {mapFunction, []types.EventSourceMappingConfiguration{esm(mapStream, "arn:aws:sqs:eu-west-1:111122223333:other")}, nil, true},
		"qualified record, mapping on the function": {mapFunction + ":live", []types.EventSourceMappingConfiguration{esm(mapStream, mapTopic)}, []string{mapTopic}, true},
		"no mapping at all":                         {mapFunction, nil, []string{mapTopic}, false},
		"mapping on another stream":                 {mapFunction, []types.EventSourceMappingConfiguration{esm(mapStream+"-2", mapTopic)}, []string{mapTopic}, false},
		"mapping sends elsewhere":                   {mapFunction, []types.EventSourceMappingConfiguration{esm(mapStream, "arn:aws:sqs:eu-west-1:111122223333:other")}, []string{mapTopic}, false},
		"mapping without destination":               {mapFunction, []types.EventSourceMappingConfiguration{esm(mapStream, "")}, nil, false},
		"no function":                               {"", nil, nil, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var gotAccount, gotRegion string
			api := &fakeLambda{list: func(in *lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
				if aws.ToString(in.FunctionName) == mapFunction+":live" {
					return &lambda.ListEventSourceMappingsOutput{}, nil
				}
				return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: tc.mappings}, nil
			}}
			m := newMappingCheck(tc.inputs, func(account, region string) listMappingsAPI { gotAccount, gotRegion = account, region; return api }, nil)
			err := m.check(context.Background(), mappingFailure(tc.function))
			var merr *MappingError
			switch {
			case tc.wantOK && err != nil:
				t.Fatalf("got %v, want the failure vouched for", err)
			case !tc.wantOK && !errors.As(err, &merr):
				t.Fatalf("got %v, want a *MappingError", err)
			}
			if gotAccount != "" && (gotAccount != "111122223333" || gotRegion != "eu-west-1") {
				t.Errorf("listed with the client of %s %s, want the function's account and region", gotAccount, gotRegion)
			}
		})
	}
}

// One List per function and stream while the cache is fresh, another once it is stale;
// a List error is not cached and is not a *MappingError (it is retried).
func TestMappingCheckCaches(t *testing.T) {
	calls := 0
	var fail error
	api := &fakeLambda{list: func(*lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
		calls++
		if fail != nil {
			return nil, fail
		}
		return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: []types.EventSourceMappingConfiguration{esm(mapStream, mapTopic)}}, nil
	}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newMappingCheck([]string{mapTopic}, func(string, string) listMappingsAPI { return api }, nil)
	clk := testkit.NewSimClock(now)
	m.clock = clk
	ctx := context.Background()

	fail = errors.New("throttled")
	var merr *MappingError
	if err := m.check(ctx, mappingFailure(mapFunction)); err == nil || errors.As(err, &merr) {
		t.Fatalf("got %v, want the List error, not a refusal", err)
	}
	fail = nil
	for range 3 {
		if err := m.check(ctx, mappingFailure(mapFunction)); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("got %d List calls, want 2 (the failed one, then one cached)", calls)
	}
	clk.Advance(mappingTTL)
	if err := m.check(ctx, mappingFailure(mapFunction)); err != nil || calls != 3 {
		t.Errorf("after the TTL: got %v and %d calls, want a fresh List (3)", err, calls)
	}
}

// The check runs before anything is read: a refused failure gets the *MappingError
// from Hydrate, which the handler returns (SNS, direct: Lambda parks the event in the
// hydrator's OnFailure destination) or reports as a batch item failure (SQS: the
// queue's redrive policy parks it).
func TestHydrateRefusesUnvouchedFailure(t *testing.T) {
	h := New(aws.Config{Region: "eu-west-1"}, Config{CheckMappings: true, InputARNs: []string{mapTopic}, Allowed: mustAllow(t, "arn:aws:kinesis:*")})
	h.mappings.client = func(string, string) listMappingsAPI {
		return &fakeLambda{list: func(*lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
			return &lambda.ListEventSourceMappingsOutput{}, nil
		}}
	}
	doc, err := h.Hydrate(context.Background(), mappingFailure(mapFunction), Allowlist{})
	var merr *MappingError
	if !errors.As(err, &merr) || doc != nil {
		t.Fatalf("got %v, %v; want no document and a *MappingError", doc, err)
	}
	if errorType(err) != "hydrate.MappingError" {
		t.Errorf("got errorType %s, want hydrate.MappingError", errorType(err))
	}
}

// A Pipes record is vouched for by its pipe: the stream as source, and one of this
// stack's inputs as dead-letter target.
func TestMappingCheckPipes(t *testing.T) {
	const pipe, queue = "arn:aws:pipes:eu-west-1:111122223333:pipe/orders", "arn:aws:sqs:eu-west-1:999999999999:streamdlq-input"
	described := func(source, dlq string) func(*pipes.DescribePipeInput) (*pipes.DescribePipeOutput, error) {
		return func(in *pipes.DescribePipeInput) (*pipes.DescribePipeOutput, error) {
			if aws.ToString(in.Name) != "orders" {
				return nil, &pipestypes.NotFoundException{}
			}
			return &pipes.DescribePipeOutput{Source: aws.String(source), SourceParameters: &pipestypes.PipeSourceParameters{
				KinesisStreamParameters: &pipestypes.PipeSourceKinesisStreamParameters{DeadLetterConfig: &pipestypes.DeadLetterConfig{Arn: aws.String(dlq)}}}}, nil
		}
	}
	cases := map[string]struct {
		function string
		describe func(*pipes.DescribePipeInput) (*pipes.DescribePipeOutput, error)
		wantOK   bool
	}{
		"pipe dead-letters here":      {pipe, described(mapStream, queue), true},
		"pipe dead-letters elsewhere": {pipe, described(mapStream, "arn:aws:sqs:eu-west-1:111122223333:other"), false},
		"pipe reads another stream":   {pipe, described(mapStream+"-2", queue), false},
		"no such pipe":                {"arn:aws:pipes:eu-west-1:111122223333:pipe/gone", described(mapStream, queue), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := newMappingCheck([]string{queue}, nil, func(account, region string) describePipeAPI {
				if account != "111122223333" || region != "eu-west-1" {
					t.Errorf("described with the client of %s %s, want the pipe's", account, region)
				}
				return &fakePipes{describe: tc.describe}
			})
			err := m.check(context.Background(), mappingFailure(tc.function))
			var merr *MappingError
			if tc.wantOK && err != nil || !tc.wantOK && !errors.As(err, &merr) {
				t.Errorf("got %v, want vouched for: %t", err, tc.wantOK)
			}
		})
	}
	m := newMappingCheck(nil, nil, func(string, string) describePipeAPI {
		return &fakePipes{describe: func(*pipes.DescribePipeInput) (*pipes.DescribePipeOutput, error) { return nil, errors.New("throttled") }}
	})
	var merr *MappingError
	if err := m.check(context.Background(), mappingFailure(pipe)); err == nil || errors.As(err, &merr) {
		t.Errorf("DescribePipe failing: got %v, want a transient error, not a refusal", err)
	}
}

// A refused failure is parked where AWS parks the hydrator's failed inputs: an SQS
// input reports it in batchItemFailures (the queue's redrive policy moves it after
// maxReceiveCount), an SNS input fails the invocation (Lambda's retries, then the
// hydrator's OnFailure destination).
func TestRefusedFailureIsParkedNotHydrated(t *testing.T) {
	h := New(aws.Config{Region: "us-east-2"}, Config{CheckMappings: true, InputARNs: []string{mapTopic}, Allowed: mustAllow(t, "arn:aws:kinesis:*")})
	h.mappings.client = func(string, string) listMappingsAPI {
		return &fakeLambda{list: func(*lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
			return &lambda.ListEventSourceMappingsOutput{}, nil
		}}
	}
	handler := NewHandler(h, nil, nil)
	for fixture, wantSQS := range map[string]bool{"kinesis-onfailure-sqs.json": true, "kinesis-onfailure-sns-captured.json": false} {
		payload, err := os.ReadFile("testdata/" + fixture)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := handler.Handle(context.Background(), payload)
		var merr *MappingError
		if !wantSQS {
			if !errors.As(err, &merr) {
				t.Errorf("%s: got %v, want the invocation to fail with a *MappingError", fixture, err)
			}
			continue
		}
		if r, ok := resp.(events.SQSEventResponse); err != nil || !ok || len(r.BatchItemFailures) != 1 {
			t.Errorf("%s: got %+v, %v; want the message in batchItemFailures", fixture, resp, err)
		}
	}
}
