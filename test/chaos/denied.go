package chaos

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
)

// denial is a refusal that lasts across attempts and then clears, as when a consumer's
// KMS key grant or IAM policy is fixed after the first failures: in the first
// attempts of every hydrate invocation, Kinesis GetRecords on the source answers
// KMSAccessDeniedException after the first page. Pages are made small (limit records
// each), so the attempts it strikes have read some records and left the rest: an
// incomplete capture that a later attempt must supersede.
type denial struct {
	attempts int   // how many attempts of each invocation are denied
	limit    int32 // GetRecords Limit forced on the source
	left     int   // attempts of the current invocation still denied
	now      bool  // the current attempt is denied
	pages    int   // GetRecords pages the current attempt got
}

// Deny makes the first attempts of every hydrate invocation refused after one page of
// limit records.
func (i *Injector) Deny(attempts int, limit int32) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.deny = &denial{attempts: attempts, limit: limit}
}

// Invocation starts a new hydrate invocation (a new event, not a retry).
func (i *Injector) Invocation() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.deny != nil {
		i.deny.left = i.deny.attempts
	}
}

// Attempt starts an attempt of the current hydrate invocation.
func (i *Injector) Attempt() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if d := i.deny; d != nil {
		d.now, d.pages = d.left > 0, 0
		d.left--
	}
}

func (i *Injector) denyMiddleware(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	p, ok := in.Parameters.(*kinesis.GetRecordsInput)
	i.mu.Lock()
	d := i.deny
	if !ok || d == nil || aws.ToString(p.StreamARN) != i.source {
		i.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}
	d.pages++
	refuse := d.now && d.pages > 1
	if refuse {
		i.Injected[Denied]++
	}
	i.mu.Unlock()
	if refuse {
		return middleware.InitializeOutput{}, middleware.Metadata{}, responseError(400, &ktypes.KMSAccessDeniedException{
			Message: ptr("The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access. (chaos)")})
	}
	small := *p
	small.Limit = aws.Int32(d.limit)
	in.Parameters = &small
	return next.HandleInitialize(ctx, in)
}
