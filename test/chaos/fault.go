package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// Class is a kind of fault the matrix injects.
type Class string

// The fault classes. The first four fail single SDK call attempts, before the request
// is sent or after the service processed it; the others are described where they are
// injected.
const (
	Retryable Class = "retryable 500"
	Throttle  Class = "throttle"
	Timeout   Class = "timeout"
	Permanent Class = "access denied"
	Expired   Class = "expired iterator" // Kinesis GetRecords only, before sending
	Trimmed   Class = "trimmed"          // the run's first records are past retention
	Crash     Class = "crash"            // the process dies at its k-th SDK call
	Duplicate Class = "sns duplicate"    // SNS delivers an on-failure message twice
	// Denied: Kinesis reads refused (KMS access denied) after one small page in the
	// first one or two attempts of each invocation, then allowed: a transient refusal
	// that clears.
	Denied Class = "denied, then fixed"
	// TwoConsumers: two consumer functions fail on the same range; each failure must
	// be captured, queued and redriven on its own.
	TwoConsumers Class = "two consumers"
	// SQSBatch: the on-failure records (up to 10 failures) reach the hydrate function
	// as SQS batches of up to 10 under a short deadline; what it hands back comes
	// again, up to sqsReceives times, and then goes to its failure queue.
	SQSBatch Class = "sqs batch, short deadline"
	// DynamoDBSource: the records are writes to a DynamoDB table, read back from its
	// stream, and redriven to an SQS queue.
	DynamoDBSource Class = "dynamodb source"
	// ConsumerTarget: the failures go back to the consumer function that failed (the
	// default target), played by a fake Invoke endpoint that throttles (429), fails
	// with a function error and answers partial batch responses at random.
	ConsumerTarget Class = "consumer target"
	// DeadlineMidCall: the first redrive run has a short budget, and the consumer's
	// second invocation stalls past it: that call is cut and its records left, while
	// what earlier calls delivered must be settled, never sent again.
	DeadlineMidCall Class = "deadline mid-call"
	// OutOfOrder: two or more failures of the shard reach the DLQ newest first; each
	// key's records must still be replayed in sequence order across failures.
	OutOfOrder Class = "out-of-order receipt"
	// Poison: the target refuses, whole, every call holding one record of the run (as
	// invalid); that record must be parked with the refusal as its reason and the
	// others delivered.
	Poison Class = "poison entry"
	// Hostile: besides the real failures, a forged on-failure record (a range the
	// named function never failed on: it has no event source mapping) and a foreign S3
	// on-failure object (a real failure's record whose payload holds a record of
	// another stream, shard or range; for Kafka, of another topic, partition or offset
	// range) reach the hydrate function, which checks
	// mappings in these runs. Nothing of them may be archived, queued or redriven, and
	// each must end parked with the reason it was refused.
	Hostile Class = "forged or foreign S3 payload"
)

// Classes lists every class in table order.
var Classes = []Class{Retryable, Throttle, Timeout, Permanent, Expired, Trimmed, Crash, Duplicate, Denied, TwoConsumers, SQSBatch, DynamoDBSource,
	ConsumerTarget, DeadlineMidCall, OutOfOrder, Poison, Hostile, KafkaSource}

// callClasses fail single attempts at random.
var callClasses = []Class{Retryable, Throttle, Timeout, Permanent, Expired}

// expiredRate is the chance a GetRecords call finds its iterator expired: higher than
// the other classes' since few calls can meet it.
const expiredRate = 0.3

// ErrCrash is the cause of a process context cancelled by an injected crash.
var ErrCrash = errors.New("chaos: process crashed")

// Injector decides, from a seeded source, which SDK call attempts fail and how. It is
// added to every client of the flow under test with Middleware; the clients the
// oracle uses go without it. Decisions are made in call order, so a run whose calls
// happen in the same order injects the same faults.
type Injector struct {
	mu      sync.Mutex
	rng     *rand.Rand
	enabled map[Class]bool
	rate    float64 // chance that an attempt fails, per enabled call class

	calls   int // SDK call attempts of the current process
	crashAt int // attempt at which the current process dies; 0: it does not
	cancel  context.CancelCauseFunc
	trim    *testkit.Retention
	deny    *denial
	source  string // the source stream, whose reads a denial refuses
	poison  []byte // data of the record every PutRecords call refuses

	Injected  map[Class]int // faults injected, by class
	AfterSend int           // faults injected after the service processed the call
	// Trace, when set, is told every call attempt and its fate (replaying a seed).
	Trace func(call int, service, op, fate string)
}

// NewInjector returns an injector for the enabled classes.
func NewInjector(rng *rand.Rand, enabled map[Class]bool, rate float64) *Injector {
	return &Injector{rng: rng, enabled: enabled, rate: rate, Injected: map[Class]int{}}
}

// Process starts a new process (a Lambda invocation in a fresh sandbox): its context
// is cancelled with ErrCrash at a random SDK call when crashes are enabled. The
// returned func releases it.
func (i *Injector) Process(ctx context.Context, maxCalls int) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls, i.crashAt, i.cancel = 0, 0, cancel
	if i.enabled[Crash] && i.rng.Float64() < 0.5 {
		i.crashAt = 1 + i.rng.IntN(maxCalls)
	}
	return ctx, func() { cancel(nil) }
}

// Crashed reports whether ctx is a process that died of an injected crash.
func Crashed(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrCrash) }

// fault is one decision: what to return, and whether the request is sent first.
type fault struct {
	class Class
	err   error
	after bool
	crash bool
}

// decide draws the fate of one call attempt.
func (i *Injector) decide(service, op string) *fault {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls++
	if i.crashAt > 0 && i.calls == i.crashAt {
		i.Injected[Crash]++
		after := i.rng.IntN(2) == 0
		if after {
			i.AfterSend++
		}
		return &fault{class: Crash, after: after, crash: true}
	}
	for _, c := range callClasses {
		if !i.enabled[c] || (c == Expired && !(service == "Kinesis" && op == "GetRecords")) {
			continue
		}
		rate := i.rate
		if c == Expired {
			rate = expiredRate
		}
		if i.rng.Float64() >= rate {
			continue
		}
		f := &fault{class: c, err: faultError(c, service, op), after: c != Expired && i.rng.IntN(2) == 0}
		i.Injected[c]++
		if f.after {
			i.AfterSend++
		}
		return f
	}
	return nil
}

// Middleware adds the injector to a client's stack, innermost in the deserialize step
// so that each attempt of the SDK retryer is decided on its own, as a real transient
// fault would be, and an after-send fault discards a response the service already
// acted on.
func (i *Injector) Middleware(stack *middleware.Stack) error {
	if err := testkit.Middleware("chaosTrim", i.trimMiddleware)(stack); err != nil {
		return err
	}
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("chaosDeny", i.denyMiddleware), middleware.Before); err != nil {
		return err
	}
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("chaosPoison", i.poisonMiddleware), middleware.Before); err != nil {
		return err
	}
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("chaosFaults",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			f := i.decide(middleware.GetServiceID(ctx), middleware.GetOperationName(ctx))
			i.trace(ctx, f)
			if f == nil {
				return next.HandleDeserialize(ctx, in)
			}
			if f.after {
				out, md, err := next.HandleDeserialize(ctx, in)
				if err != nil {
					return out, md, err
				}
			}
			if f.crash {
				i.cancel(ErrCrash)
				return middleware.DeserializeOutput{}, middleware.Metadata{}, &smithy.CanceledError{Err: context.Canceled}
			}
			return middleware.DeserializeOutput{}, middleware.Metadata{}, f.err
		}), middleware.After)
}

func (i *Injector) trace(ctx context.Context, f *fault) {
	if i.Trace == nil {
		return
	}
	fate := "ok"
	if f != nil {
		fate = string(f.class) + map[bool]string{true: " after send", false: " before send"}[f.after]
	}
	i.mu.Lock()
	n := i.calls
	i.mu.Unlock()
	i.Trace(n, middleware.GetServiceID(ctx), middleware.GetOperationName(ctx), fate)
}

// faultError builds the error a service gives for a fault of class c, wrapped as the
// SDK wraps what comes over the wire, so that the retryer and our code classify it
// exactly as they would the real one.
func faultError(c Class, service, op string) error {
	switch c {
	case Timeout:
		return &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://127.0.0.1/" + op,
			Err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}}
	case Expired:
		return responseError(400, &ktypes.ExpiredIteratorException{Message: ptr("Iterator expired. (chaos)")})
	case Throttle:
		return responseError(throttleOf(service))
	case Permanent:
		code := "AccessDeniedException"
		if service == "S3" || service == "SQS" {
			code = "AccessDenied"
		}
		return responseError(403, &smithy.GenericAPIError{Code: code, Message: "User is not authorized to perform " + op + " (chaos)", Fault: smithy.FaultClient})
	}
	code := "InternalFailure"
	if service == "S3" {
		code = "InternalError"
	}
	return responseError(500, &smithy.GenericAPIError{Code: code, Message: "We encountered an internal error. (chaos)", Fault: smithy.FaultServer})
}

func throttleOf(service string) (int, error) {
	switch service {
	case "Kinesis":
		return 400, &ktypes.ProvisionedThroughputExceededException{Message: ptr("Rate exceeded for shard (chaos)")}
	case "S3":
		return 503, &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate. (chaos)", Fault: smithy.FaultServer}
	case "DynamoDB Streams":
		return 400, &smithy.GenericAPIError{Code: "LimitExceededException", Message: "Rate exceeded (chaos)", Fault: smithy.FaultClient}
	}
	return 400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded (chaos)", Fault: smithy.FaultClient}
}

func responseError(status int, err error) error {
	return &awshttp.ResponseError{RequestID: "chaos", ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}}, Err: err}}
}

func ptr[T any](v T) *T { return &v }

func (c Class) String() string { return string(c) }

var _ fmt.Stringer = Class("")
