package hydrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	pipestypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/clock"
)

type listMappingsAPI interface {
	ListEventSourceMappings(ctx context.Context, in *lambda.ListEventSourceMappingsInput, optFns ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
}

type describePipeAPI interface {
	DescribePipe(ctx context.Context, in *pipes.DescribePipeInput, optFns ...func(*pipes.Options)) (*pipes.DescribePipeOutput, error)
}

var (
	_ listMappingsAPI = (*lambda.Client)(nil)
	_ describePipeAPI = (*pipes.Client)(nil)
)

// MappingError refuses a failure whose function has no event source mapping on the
// stream that sends its failures to one of this stack's inputs: anyone allowed to
// publish to the topic could otherwise name any range of an allowlisted stream, even
// one that never failed, and have it archived and redriven. It is permanent; the input
// is parked where AWS parks it (the SQS input's DLQ, the hydrator's OnFailure
// destination), not hydrated.
type MappingError struct {
	FunctionARN string
	StreamARN   string
	Reason      string
}

func (e *MappingError) Error() string {
	return fmt.Sprintf("hydrate: on-failure record not vouched for by an event source mapping: function %.256s, stream %s: %s (STREAMDLQ_CHECK_MAPPINGS=false turns the check off)",
		e.FunctionARN, e.StreamARN, e.Reason)
}

// mappingTTL bounds how long a warm function trusts what it learned about a function's
// mappings: long enough that a burst of failures costs one List call, short enough that
// a mapping removed or re-pointed stops vouching soon after.
const mappingTTL = 5 * time.Minute

// mappingCheck verifies, with lambda:ListEventSourceMappings, that the failure's
// function has a mapping on the failure's stream whose OnFailure destination is one of
// inputs (any destination when inputs is empty); for an EventBridge Pipes record, with
// pipes:DescribePipe, that the pipe's source is the stream and its dead-letter target
// one of inputs. Results, good or bad, are cached per function and stream for
// mappingTTL.
type mappingCheck struct {
	inputs map[string]bool
	client func(account, region string) listMappingsAPI
	pipes  func(account, region string) describePipeAPI
	clock  clock.Clock

	mu    sync.Mutex
	cache map[string]mappingResult
}

type mappingResult struct {
	err *MappingError // nil: vouched for
	at  time.Time
}

func newMappingCheck(inputs []string, client func(account, region string) listMappingsAPI, pipes func(account, region string) describePipeAPI) *mappingCheck {
	m := &mappingCheck{inputs: map[string]bool{}, client: client, pipes: pipes, clock: clock.Real, cache: map[string]mappingResult{}}
	for _, in := range inputs {
		m.inputs[in] = true
	}
	return m
}

// check returns a *MappingError when no mapping vouches for f, or a transient error
// when the mappings could not be listed.
func (m *mappingCheck) check(ctx context.Context, f *batch.Failure) error {
	key := f.FunctionARN + " " + f.StreamARN + kafkaMappingKey(f)
	m.mu.Lock()
	r, ok := m.cache[key]
	m.mu.Unlock()
	if ok && m.clock.Now().Sub(r.at) < mappingTTL {
		return asError(r.err)
	}
	merr, err := m.lookup(ctx, f)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.cache[key] = mappingResult{err: merr, at: m.clock.Now()}
	m.mu.Unlock()
	return asError(merr)
}

// asError keeps a nil *MappingError from becoming a non-nil error.
func asError(e *MappingError) error {
	if e == nil {
		return nil
	}
	return e
}

func (m *mappingCheck) lookup(ctx context.Context, f *batch.Failure) (*MappingError, error) {
	refuse := func(format string, args ...any) (*MappingError, error) {
		return &MappingError{FunctionARN: f.FunctionARN, StreamARN: f.StreamARN, Reason: fmt.Sprintf(format, args...)}, nil
	}
	if p, ok := parsePipeARN(f.FunctionARN); ok {
		return m.lookupPipe(ctx, f, p, refuse)
	}
	fn, ok := parseFunctionARN(f.FunctionARN)
	if !ok {
		return refuse("neither a Lambda function nor an EventBridge pipe ARN")
	}
	names := []string{f.FunctionARN}
	if fn.unqualified != f.FunctionARN {
		names = append(names, fn.unqualified) // the mapping may be on the function, the record on a version
	}
	var seen []string
	for _, name := range names {
		dests, err := m.mappingDestinations(ctx, m.client(fn.account, fn.region), name, f)
		if err != nil {
			return nil, err
		}
		if m.anyInput(dests) {
			return nil, nil
		}
		seen = append(seen, dests...)
	}
	if len(seen) == 0 {
		return refuse("the function has no event source mapping on the stream%s", kafkaMappingWant(f))
	}
	return refuse("its mappings on the stream send failures to %s, none of this stack's inputs", strings.Join(seen, ", "))
}

// anyInput reports whether one of dests is one of this stack's inputs.
func (m *mappingCheck) anyInput(dests []string) bool {
	for _, d := range dests {
		if d != "" && (len(m.inputs) == 0 || m.inputs[d]) {
			return true
		}
	}
	return false
}

// lookupPipe checks a Pipes record: the pipe reads the stream and dead-letters here.
func (m *mappingCheck) lookupPipe(ctx context.Context, f *batch.Failure, p pipeARN, refuse func(string, ...any) (*MappingError, error)) (*MappingError, error) {
	out, err := m.pipes(p.account, p.region).DescribePipe(ctx, &pipes.DescribePipeInput{Name: &p.name})
	var nf *pipestypes.NotFoundException
	switch {
	case errors.As(err, &nf):
		return refuse("no such pipe")
	case err != nil:
		return nil, fmt.Errorf("describe pipe %s: %w", f.FunctionARN, err)
	case aws.ToString(out.Source) != f.StreamARN:
		return refuse("the pipe reads %.256s, not the stream", aws.ToString(out.Source))
	}
	var dlq string
	if sp := out.SourceParameters; sp != nil {
		switch {
		case sp.KinesisStreamParameters != nil && sp.KinesisStreamParameters.DeadLetterConfig != nil:
			dlq = aws.ToString(sp.KinesisStreamParameters.DeadLetterConfig.Arn)
		case sp.DynamoDBStreamParameters != nil && sp.DynamoDBStreamParameters.DeadLetterConfig != nil:
			dlq = aws.ToString(sp.DynamoDBStreamParameters.DeadLetterConfig.Arn)
		}
	}
	if m.anyInput([]string{dlq}) {
		return nil, nil
	}
	return refuse("the pipe's dead-letter target %q is none of this stack's inputs", dlq)
}

// mappingDestinations lists the OnFailure destinations of function's mappings that
// read f's range (mappingReads). The function is the filter, not the stream: a mapping
// through an enhanced fan-out consumer names the consumer's ARN
// (STREAM/consumer/NAME:ID) as its source, and a self-managed Kafka mapping none.
func (m *mappingCheck) mappingDestinations(ctx context.Context, api listMappingsAPI, function string, f *batch.Failure) ([]string, error) {
	var dests []string
	p := lambda.NewListEventSourceMappingsPaginator(api, &lambda.ListEventSourceMappingsInput{FunctionName: &function})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list event source mappings of %s: %w", function, err)
		}
		for _, esm := range page.EventSourceMappings {
			if !mappingReads(esm, f) {
				continue
			}
			if dc := esm.DestinationConfig; dc != nil && dc.OnFailure != nil {
				dests = append(dests, aws.ToString(dc.OnFailure.Destination))
			}
		}
	}
	return dests, nil
}

type functionARN struct {
	region, account, unqualified string
}

// parseFunctionARN splits arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
func parseFunctionARN(s string) (functionARN, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" ||
		!isRegion(parts[3]) || !isAccountID(parts[4]) || parts[6] == "" {
		return functionARN{}, false
	}
	return functionARN{region: parts[3], account: parts[4], unqualified: strings.Join(parts[:7], ":")}, true
}

type pipeARN struct {
	region, account, name string
}

// parsePipeARN splits arn:PARTITION:pipes:REGION:ACCOUNT:pipe/NAME.
func parsePipeARN(s string) (pipeARN, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "pipes" || !isRegion(parts[3]) || !isAccountID(parts[4]) {
		return pipeARN{}, false
	}
	name, ok := strings.CutPrefix(parts[5], "pipe/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return pipeARN{}, false
	}
	return pipeARN{region: parts[3], account: parts[4], name: name}, true
}
