package kinesislimit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

const putRecordsTarget = "Kinesis_20131202.PutRecords"

// Transport puts Limiter (when set) and Refuse (when set) in front of next for
// PutRecords calls.
type Transport struct {
	Next    http.RoundTripper // http.DefaultTransport when nil
	Limiter *Limiter
	// Refuse, when set, is asked first about each record: a non-empty error code
	// (InternalFailure, ProvisionedThroughputExceededException) fails the record
	// without writing it, to inject per-record failures. It may be called
	// concurrently.
	Refuse func(partitionKey string, data []byte) (errorCode string)
}

type putRecordsEntry struct {
	Data            []byte `json:"Data"` // base64 in JSON, as on the wire
	PartitionKey    string `json:"PartitionKey"`
	ExplicitHashKey string `json:"ExplicitHashKey,omitempty"`
}

type resultEntry struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardID        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int           `json:"FailedRecordCount"`
	Records           []resultEntry `json:"Records"`
	EncryptionType    string        `json:"EncryptionType,omitempty"`
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if req.Header.Get("X-Amz-Target") != putRecordsTarget || req.Body == nil {
		return next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("kinesislimit: read PutRecords body: %w", err)
	}
	var in map[string]json.RawMessage
	var records []putRecordsEntry
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("kinesislimit: PutRecords body: %w", err)
	}
	if err := json.Unmarshal(in["Records"], &records); err != nil {
		return nil, fmt.Errorf("kinesislimit: PutRecords records: %w", err)
	}
	admitted, results := t.admit(records)
	if len(admitted) == 0 {
		return respond(req, results)
	}
	forwarded, err := t.forward(next, req, in, admitted)
	if err != nil || forwarded.StatusCode != http.StatusOK {
		return forwarded, err
	}
	return merge(req, forwarded, results)
}

// admit decides each record; results holds the refusals, nil where admitted.
func (t *Transport) admit(records []putRecordsEntry) ([]putRecordsEntry, []*resultEntry) {
	var admitted []putRecordsEntry
	results := make([]*resultEntry, len(records))
	for i, r := range records {
		if t.Refuse != nil {
			if code := t.Refuse(r.PartitionKey, r.Data); code != "" {
				results[i] = &resultEntry{ErrorCode: code, ErrorMessage: "injected by kinesislimit"}
				continue
			}
		}
		if t.Limiter == nil {
			admitted = append(admitted, r)
			continue
		}
		shard, ok := t.Limiter.Admit(r.PartitionKey, r.ExplicitHashKey, len(r.Data)+len(r.PartitionKey))
		if ok {
			admitted = append(admitted, r)
			continue
		}
		results[i] = &resultEntry{
			ErrorCode:    "ProvisionedThroughputExceededException",
			ErrorMessage: "Rate exceeded for shard " + shard + " (kinesislimit).",
		}
	}
	return admitted, results
}

func (t *Transport) forward(next http.RoundTripper, req *http.Request, in map[string]json.RawMessage, admitted []putRecordsEntry) (*http.Response, error) {
	recs, err := json.Marshal(admitted)
	if err != nil {
		return nil, err
	}
	in["Records"] = recs
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return next.RoundTrip(out)
}

// merge slots the forwarded call's results between the refusals.
func merge(req *http.Request, resp *http.Response, results []*resultEntry) (*http.Response, error) {
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("kinesislimit: read PutRecords response: %w", err)
	}
	var out putRecordsOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("kinesislimit: PutRecords response: %w", err)
	}
	j := 0
	for i := range results {
		if results[i] == nil && j < len(out.Records) {
			results[i] = &out.Records[j]
			j++
		}
	}
	return respond(req, results)
}

func respond(req *http.Request, results []*resultEntry) (*http.Response, error) {
	out := putRecordsOutput{Records: make([]resultEntry, len(results)), EncryptionType: "NONE"}
	for i, r := range results {
		if r == nil {
			r = &resultEntry{ErrorCode: "InternalFailure", ErrorMessage: "kinesislimit: no result"}
		}
		out.Records[i] = *r
		if r.ErrorCode != "" {
			out.FailedRecordCount++
		}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":     {"application/x-amz-json-1.1"},
			"Content-Length":   {strconv.Itoa(len(body))},
			"X-Amzn-Requestid": {"kinesislimit"},
		},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}
