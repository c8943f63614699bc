package redrive

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// startFunction serves f (the consumer function the tests invoke) for the test and
// returns a client reaching it that does not retry on its own, so the tests see every
// answer. An event the function could not read fails the test.
func startFunction(t *testing.T, f *lambdafn.Function, cfg aws.Config) *lambda.Client {
	t.Helper()
	f.Start()
	t.Cleanup(func() {
		f.Close()
		for _, err := range f.Errors() {
			t.Errorf("consumer function: %v", err)
		}
	})
	return f.Client(cfg, func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
}
