package testkit

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// Call is one SDK operation as a test middleware sees it.
type Call struct {
	Service, Operation string
	Params             any // the operation's input, e.g. *kinesis.GetRecordsInput
}

// Next sends a call on with params (the call's own, or a changed copy) and returns the
// service's result.
type Next func(ctx context.Context, params any) (result any, err error)

// Middleware returns an APIOptions entry that runs fn around every call of the client,
// first in the Initialize step: fn may answer in the service's place, fail the call,
// change its input, or call next and look at the result. Add it to aws.Config's or a
// client's Options' APIOptions.
func Middleware(id string, fn func(ctx context.Context, c Call, next Next) (any, error)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(id,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				var md middleware.Metadata
				c := Call{Service: middleware.GetServiceID(ctx), Operation: middleware.GetOperationName(ctx), Params: in.Parameters}
				res, err := fn(ctx, c, func(ctx context.Context, params any) (any, error) {
					in.Parameters = params
					out, m, err := next.HandleInitialize(ctx, in)
					md = m
					return out.Result, err
				})
				return middleware.InitializeOutput{Result: res}, md, err
			}), middleware.Before)
	}
}

// Answer answers calls in the service's place: fn returns handled=false to let a call
// through.
func Answer(id string, fn func(params any) (result any, handled bool, err error)) func(*middleware.Stack) error {
	return Middleware(id, func(ctx context.Context, c Call, next Next) (any, error) {
		if res, ok, err := fn(c.Params); ok {
			return res, err
		}
		return next(ctx, c.Params)
	})
}

// Nth answers the listed calls (counted from 1) whose input is an In, with fn.
func Nth[In any](fn func(in In) (any, error), calls ...int) func(*middleware.Stack) error {
	var mu sync.Mutex
	n := 0
	return Answer(fmt.Sprintf("nth%T", *new(In)), func(p any) (any, bool, error) {
		in, ok := p.(In)
		if !ok {
			return nil, false, nil
		}
		mu.Lock()
		n++
		hit := slices.Contains(calls, n)
		mu.Unlock()
		if !hit {
			return nil, false, nil
		}
		res, err := fn(in)
		return res, true, err
	})
}

// Calls counts the operations made through the clients it is added to (Add, as an
// APIOptions entry) and fails the ones a test asks it to, as an outage would. It is
// safe for concurrent use.
type Calls struct {
	mu   sync.Mutex
	n    map[string]int   // operation → calls made
	fail map[string]int   // operation → how many more calls to fail
	errs map[string]error // operation → the error they fail with; a generic one if unset
}

// Add is the APIOptions entry.
func (c *Calls) Add(stack *middleware.Stack) error {
	return Middleware("testkitCalls", func(ctx context.Context, call Call, next Next) (any, error) {
		if err := c.note(call.Operation); err != nil {
			return nil, err
		}
		return next(ctx, call.Params)
	})(stack)
}

func (c *Calls) note(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
	if c.fail[op] > 0 {
		c.fail[op]--
		if err := c.errs[op]; err != nil {
			return err
		}
		return fmt.Errorf("injected fault in %s", op)
	}
	return nil
}

// FailNext fails the next n calls of op before they are sent.
func (c *Calls) FailNext(op string, n int) { c.FailNextWith(op, n, nil) }

// FailNextWith fails the next n calls of op with err (a generic error when nil), as
// the service would answer them: the SDK's retryer and our classifiers see it.
func (c *Calls) FailNextWith(op string, n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail == nil {
		c.fail, c.errs = map[string]int{}, map[string]error{}
	}
	c.fail[op], c.errs[op] = n, err
}

// Count returns how many calls of op were made.
func (c *Calls) Count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

// Counts returns a copy of the counts by operation.
func (c *Calls) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for op, n := range c.n {
		out[op] = n
	}
	return out
}

// Reset forgets the counts.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}
