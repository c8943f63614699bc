package redrive

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// fakeFunction serves Lambda's Invoke API from an httptest server, since no emulator
// runs Lambda. It decodes each event into aws-lambda-go's event types, as a consumer
// function would, and answers with respond's result.
type fakeFunction struct {
	t  *testing.T
	mu sync.Mutex
	// delivered lists the records the function accepted, by recordID, in order.
	delivered []string
	// calls counts invocations; functions lists the function each one named (the
	// path's FunctionName) and sizes its record count.
	calls     int
	functions []string
	sizes     []int
	// respond decides an invocation's answer from its records' ids and sequence
	// numbers: a status, an X-Amz-Function-Error value and a body. Nil accepts all.
	respond func(ids, seqs []string) (status int, functionError string, body string)
	// mappings is the ListEventSourceMappings answer (JSON); empty lists none.
	mappings string
}

func (f *fakeFunction) client(t *testing.T, cfg aws.Config) *lambda.Client {
	f.t = t
	if f.mappings == "" {
		f.mappings = `{"EventSourceMappings":[]}`
	}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
}

func (f *fakeFunction) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/2015-03-31/event-source-mappings") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, f.mappings)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") || !strings.HasSuffix(r.URL.Path, "/invocations") {
		http.Error(w, "not the Invoke API", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	ids, seqs := f.decode(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.functions = append(f.functions, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/"), "/invocations"))
	f.sizes = append(f.sizes, len(ids))
	status, fnErr, resp := http.StatusOK, "", ""
	if f.respond != nil {
		status, fnErr, resp = f.respond(ids, seqs)
	}
	switch {
	case status == http.StatusTooManyRequests:
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"Type":"User","message":"Rate Exceeded."}`)
		return
	case fnErr != "":
		w.Header().Set("X-Amz-Function-Error", fnErr)
	default:
		f.delivered = append(f.delivered, delivered(ids, seqs, resp)...)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, resp)
}

// decode reads the event the way a consumer does, into events.KinesisEvent or
// events.DynamoDBEvent.
func (f *fakeFunction) decode(body []byte) (ids, seqs []string) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		}
	}
	if err := json.Unmarshal(body, &probe); err != nil || len(probe.Records) == 0 {
		f.t.Errorf("got an event that is not {\"Records\":[...]}: %v", err)
		return nil, nil
	}
	if probe.Records[0].EventSource == "aws:dynamodb" {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			f.t.Errorf("decode DynamoDBEvent: %v", err)
		}
		for _, r := range ev.Records {
			ids, seqs = append(ids, r.Change.SequenceNumber), append(seqs, r.Change.SequenceNumber)
		}
		return ids, seqs
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		f.t.Errorf("decode KinesisEvent: %v", err)
	}
	for _, r := range ev.Records {
		ids, seqs = append(ids, string(r.Kinesis.Data)), append(seqs, r.Kinesis.SequenceNumber)
	}
	return ids, seqs
}

// delivered is what a batch response leaves delivered: the records before the first
// one it names (all of them when it names none).
func delivered(ids, seqs []string, resp string) []string {
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

func (f *fakeFunction) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.delivered...)
}
