package lambdafn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Function plays a consumer function behind Lambda's Invoke API. Set its fields before
// Start; read what it got with Got, Calls, Invocations and Stats.
type Function struct {
	// Respond decides an invocation's answer from its records' ids and sequence
	// numbers: an HTTP status, an X-Amz-Function-Error value and a body. Nil accepts
	// all. A 429 answers TooManyRequestsException; another 4xx answers body as the
	// error code (InvalidRequestContentException when body is empty).
	Respond func(ids, seqs []string) (status int, functionError, body string)
	// Mappings is the ListEventSourceMappings answer (JSON); empty lists none.
	Mappings string
	// Concurrency, when above zero, is the function's concurrency limit: an
	// invocation arriving while that many are running is refused with 429
	// TooManyRequestsException, as Lambda refuses one over reserved concurrency.
	Concurrency int
	// Duration is how long each invocation runs, holding its slot.
	Duration time.Duration
	// Stall, when it returns more than zero for an invocation's ids, makes that
	// invocation run that long before answering. If the caller hangs up first, the
	// invocation is lost (as when the function times out): nothing of it is
	// delivered.
	Stall func(ids []string) time.Duration

	mu        sync.Mutex
	delivered []string
	calls     []Invocation
	running   int
	stats     Stats
	errs      []error
	srv       *httptest.Server
}

// Invocation is one call that reached the function.
type Invocation struct {
	Function string // the path's FunctionName (name, name:qualifier or ARN)
	Records  int
}

// Stats count what the function did.
type Stats struct {
	Invoked   int           // invocations that ran (not throttled)
	Throttled int           // invocations refused over the concurrency limit
	Refused   int           // records in throttled invocations
	Busy      time.Duration // slot time held by invocations, live ones included
	Cut       int           // stalled invocations whose caller hung up
}

// Start serves the function on a local port; Close stops it.
func (f *Function) Start() *Function {
	if f.Mappings == "" {
		f.Mappings = `{"EventSourceMappings":[]}`
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close stops the server.
func (f *Function) Close() { f.srv.Close() }

// URL is the endpoint to give a Lambda client as BaseEndpoint.
func (f *Function) URL() string { return f.srv.URL }

// Client returns a Lambda client for cfg reaching the function.
func (f *Function) Client(cfg aws.Config, optFns ...func(*lambda.Options)) *lambda.Client {
	return lambda.NewFromConfig(cfg, append([]func(*lambda.Options){func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(f.srv.URL)
	}}, optFns...)...)
}

func (f *Function) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/2015-03-31/event-source-mappings") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, f.Mappings)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") || !strings.HasSuffix(r.URL.Path, "/invocations") {
		http.Error(w, "not the Invoke API", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	ids, seqs, err := decode(body)
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/"), "/invocations")
	if !f.enter(err, len(ids)) {
		apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
		return
	}
	if f.Duration > 0 {
		time.Sleep(f.Duration)
	}
	if f.stalled(r, ids) {
		return
	}
	status, fnErr, resp := http.StatusOK, "", ""
	if f.Respond != nil {
		status, fnErr, resp = f.Respond(ids, seqs)
	}
	f.leave(Invocation{Function: name, Records: len(ids)}, ids, seqs, status, fnErr, resp)
	switch {
	case status == http.StatusTooManyRequests:
		apiError(w, status, "TooManyRequestsException", "Rate Exceeded.")
		return
	case status >= 400:
		if resp == "" {
			resp = "InvalidRequestContentException"
		}
		apiError(w, status, resp, "refused (test function)")
		return
	case fnErr != "":
		w.Header().Set("X-Amz-Function-Error", fnErr)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, resp)
}

// enter takes a slot, or reports the invocation throttled.
func (f *Function) enter(decodeErr error, records int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if decodeErr != nil {
		f.errs = append(f.errs, decodeErr)
	}
	if f.Concurrency > 0 && f.running >= f.Concurrency {
		f.stats.Throttled++
		f.stats.Refused += records
		return false
	}
	f.running++
	return true
}

// stalled plays Stall; it reports an invocation whose caller hung up.
func (f *Function) stalled(r *http.Request, ids []string) bool {
	if f.Stall == nil {
		return false
	}
	d := f.Stall(ids)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-r.Context().Done():
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running--
	f.stats.Cut++
	return true
}

// leave frees the slot and records what the answer left delivered.
func (f *Function) leave(inv Invocation, ids, seqs []string, status int, fnErr, resp string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running--
	f.stats.Invoked++
	f.stats.Busy += f.Duration
	f.calls = append(f.calls, inv)
	if status == http.StatusOK && fnErr == "" {
		f.delivered = append(f.delivered, Delivered(ids, seqs, resp)...)
	}
}

// Hold runs an invocation that does not come through the API (the event source
// mapping's live traffic) for d, if a slot is free; it reports whether one was.
func (f *Function) Hold(d time.Duration) bool {
	f.mu.Lock()
	if f.Concurrency > 0 && f.running >= f.Concurrency {
		f.mu.Unlock()
		return false
	}
	f.running++
	f.mu.Unlock()
	time.Sleep(d)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running--
	f.stats.Busy += d
	return true
}

func apiError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"Type":"User","message":%q}`, message)
}

// decode reads the event the way a consumer does, into events.KinesisEvent or
// events.DynamoDBEvent. A Kinesis record's id is its data; a DynamoDB record's, its
// sequence number.
func decode(body []byte) (ids, seqs []string, err error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		}
	}
	if err := json.Unmarshal(body, &probe); err != nil || len(probe.Records) == 0 {
		return nil, nil, errors.Join(errors.New(`got an event that is not {"Records":[...]}`), err)
	}
	if probe.Records[0].EventSource == "aws:dynamodb" {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			return nil, nil, fmt.Errorf("decode DynamoDBEvent: %w", err)
		}
		for _, r := range ev.Records {
			ids, seqs = append(ids, r.Change.SequenceNumber), append(seqs, r.Change.SequenceNumber)
		}
		return ids, seqs, nil
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, nil, fmt.Errorf("decode KinesisEvent: %w", err)
	}
	for _, r := range ev.Records {
		ids, seqs = append(ids, string(r.Kinesis.Data)), append(seqs, r.Kinesis.SequenceNumber)
	}
	return ids, seqs, nil
}

// Delivered is what a batch response leaves delivered: the records before the first
// one it names (all of them when it names none).
func Delivered(ids, seqs []string, resp string) []string {
	first := len(ids)
	var r struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if json.Unmarshal([]byte(resp), &r) == nil {
		for _, f := range r.BatchItemFailures {
			for i, s := range seqs {
				if s == f.ItemIdentifier && i < first {
					first = i
				}
			}
		}
	}
	return ids[:first]
}

// Got lists the records the function accepted, by id, in order.
func (f *Function) Got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.delivered...)
}

// Calls counts the invocations that ran.
func (f *Function) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// Invocations lists the invocations that ran, in order.
func (f *Function) Invocations() []Invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Invocation(nil), f.calls...)
}

// Stats returns the counts so far.
func (f *Function) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Errors lists the events the function could not read.
func (f *Function) Errors() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs...)
}
