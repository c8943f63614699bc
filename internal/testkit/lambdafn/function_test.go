package lambdafn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func event(data ...string) []byte {
	b := []byte(`{"Records":[`)
	for i, d := range data {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"eventSource":"aws:kinesis","kinesis":{"data":%q,"sequenceNumber":"%d"}}`, base64.StdEncoding.EncodeToString([]byte(d)), i+1)
	}
	return append(b, "]}"...)
}

func client(f *Function) *lambda.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return f.Client(cfg, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
}

// An invocation over the concurrency limit is refused with TooManyRequestsException;
// one whose caller hangs up while it stalls delivers nothing.
func TestConcurrencyLimitAndStall(t *testing.T) {
	started := make(chan struct{})
	f := (&Function{Concurrency: 1, Stall: func(ids []string) time.Duration {
		if len(ids) == 0 || ids[0] != "stall" {
			return 0
		}
		close(started)
		return time.Hour
	}}).Start()
	defer f.Close()
	c := client(f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("consumer"), Payload: event("stall")})
		done <- err
	}()
	<-started
	_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("consumer"), Payload: event("a")})
	var tooMany *types.TooManyRequestsException
	if !errors.As(err, &tooMany) {
		t.Errorf("got %v, want TooManyRequestsException while the slot is held", err)
	}
	cancel()
	<-done
	for i := 0; f.Stats().Cut == 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond) // the server sees the hang-up after the client
	}
	if s := f.Stats(); s.Throttled != 1 || s.Refused != 1 || s.Cut != 1 || len(f.Got()) != 0 {
		t.Errorf("got %+v and %q delivered, want 1 throttled, 1 refused, 1 cut, nothing delivered", s, f.Got())
	}
}

// A partial batch response leaves the records before the first one it names.
func TestPartialBatchResponse(t *testing.T) {
	f := (&Function{Respond: func(ids, seqs []string) (int, string, string) {
		return 200, "", `{"batchItemFailures":[{"itemIdentifier":"` + seqs[1] + `"}]}`
	}}).Start()
	defer f.Close()
	if _, err := client(f).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("consumer"), Payload: event("a", "b", "c")}); err != nil {
		t.Fatal(err)
	}
	if got := f.Got(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("got %q, want [a]", got)
	}
	if inv := f.Invocations(); len(inv) != 1 || inv[0] != (Invocation{Function: "consumer", Records: 3}) {
		t.Errorf("got invocations %+v, want one of consumer with 3 records", inv)
	}
}
