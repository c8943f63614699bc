// Package lambdafn plays a consumer function behind Lambda's Invoke API, from an
// httptest server, since no local emulator runs Lambda: redrive's tests, the fault
// matrix and the benchmarks reach it through a Lambda client's BaseEndpoint (or
// AWS_ENDPOINT_URL_LAMBDA). It decodes each event into aws-lambda-go's event types, as
// a consumer would, answers as the test says (partial batch responses, function
// errors, refusals), holds a concurrency limit above which it answers 429
// TooManyRequestsException, and keeps the records it accepted.
//
// Errors: an event it cannot decode is kept for Errors, never answered as a panic.
package lambdafn
