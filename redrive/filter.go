package redrive

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
)

type listMappingsAPI interface {
	ListEventSourceMappings(ctx context.Context, in *lambda.ListEventSourceMappingsInput, optFns ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
}

var _ listMappingsAPI = (*lambda.Client)(nil)

// consumerFilters are the filter criteria of the consumer's mapping on the failure's
// stream (for Kafka: on its topic, and for self-managed Kafka with its bootstrap
// servers), looked up once per run.
func (r *Redriver) consumerFilters(ctx context.Context, function string, h archive.Hydration) (filterCriteria, error) {
	stream := h.StreamARN
	key := function + " " + stream + kafkaFilterKey(h.Kafka)
	if fc, ok := r.filters[key]; ok {
		return fc.criteria, fc.err
	}
	var patterns []string
	in := &lambda.ListEventSourceMappingsInput{FunctionName: &function, EventSourceArn: &stream}
	if stream == "" {
		// A self-managed Kafka failure names no source ARN; nor does its mapping.
		in.EventSourceArn = nil
	}
	p := lambda.NewListEventSourceMappingsPaginator(r.opts.Mappings, in)
	var err error
	for p.HasMorePages() && err == nil {
		var page *lambda.ListEventSourceMappingsOutput
		if page, err = p.NextPage(ctx); err != nil {
			err = fmt.Errorf("list event source mappings of %s on %s: %w", function, stream, err)
			break
		}
		for _, m := range page.EventSourceMappings {
			if stream == "" && m.EventSourceArn != nil || !kafkaMappingReads(m, h.Kafka) {
				continue
			}
			if m.FilterCriteria != nil {
				for _, f := range m.FilterCriteria.Filters {
					patterns = append(patterns, aws.ToString(f.Pattern))
				}
			}
		}
	}
	var fc filterCriteria
	if err == nil {
		fc, err = parseFilterCriteria(patterns)
	}
	r.filters[key] = filtersResult{fc, err}
	return fc, err
}

type filtersResult struct {
	criteria filterCriteria
	err      error
}

// FilterError: an event source mapping's filter pattern uses what this package does
// not implement, so the records its consumer would have seen cannot be told apart;
// the failure is refused rather than guessed at.
type FilterError struct {
	Pattern string
	Reason  string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("redrive: filter pattern %.200q: %s", e.Pattern, e.Reason)
}

// filterCriteria are a mapping's patterns: a record passes when any of them matches,
// as Lambda ORs a mapping's filters. No patterns pass everything.
type filterCriteria []map[string]any

// parseFilterCriteria parses and checks a mapping's patterns (Lambda's filter rule
// syntax: equals, prefix, suffix, anything-but, numeric, exists, equals-ignore-case,
// $or); anything else is a *FilterError.
func parseFilterCriteria(patterns []string) (filterCriteria, error) {
	var fc filterCriteria
	for _, p := range patterns {
		d := json.NewDecoder(strings.NewReader(p))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			return nil, &FilterError{Pattern: p, Reason: "not a JSON object"}
		}
		if reason := checkPattern(m); reason != "" {
			return nil, &FilterError{Pattern: p, Reason: reason}
		}
		fc = append(fc, m)
	}
	return fc, nil
}

func checkPattern(m map[string]any) string {
	for k, v := range m {
		if k == "$or" {
			subs, ok := v.([]any)
			if !ok || len(subs) < 2 {
				return "$or wants a list of patterns"
			}
			for _, s := range subs {
				sm, ok := s.(map[string]any)
				if !ok {
					return "$or wants a list of patterns"
				}
				if r := checkPattern(sm); r != "" {
					return r
				}
			}
			continue
		}
		switch w := v.(type) {
		case map[string]any:
			if r := checkPattern(w); r != "" {
				return r
			}
		case []any:
			for _, rule := range w {
				if r := checkRule(rule); r != "" {
					return k + ": " + r
				}
			}
		default:
			return k + ": want an object or a list of rules"
		}
	}
	return ""
}

func checkRule(rule any) string {
	op, ok := rule.(map[string]any)
	if !ok {
		return "" // a value to equal: string, number, boolean or null
	}
	if len(op) != 1 {
		return "a rule object holds one operator"
	}
	for name, arg := range op {
		switch name {
		case "prefix", "suffix", "equals-ignore-case":
			if _, ok := arg.(string); !ok {
				return name + " wants a string"
			}
		case "exists":
			if _, ok := arg.(bool); !ok {
				return "exists wants true or false"
			}
		case "numeric":
			if _, ok := numericRule(arg); !ok {
				return "numeric wants [op, number, ...] with op one of = < <= > >="
			}
		case "anything-but":
			switch a := arg.(type) {
			case string, json.Number, []any:
			case map[string]any:
				if _, ok := a["prefix"].(string); !ok || len(a) != 1 {
					return "anything-but wants values or {\"prefix\": ...}"
				}
			default:
				return "anything-but wants values or {\"prefix\": ...}"
			}
		default:
			return "operator " + strconv.Quote(name) + " is not supported"
		}
	}
	return ""
}

// pass reports whether a record passes the criteria, as its mapping would decide.
func (fc filterCriteria) pass(rec batch.Record) bool {
	if len(fc) == 0 {
		return true
	}
	ev := filterEvent(rec)
	for _, p := range fc {
		if matchPattern(p, ev) {
			return true
		}
	}
	return false
}

// filterEvent is what a mapping's patterns are matched against: for Kinesis only
// "data", for Kafka only "value" (Lambda filters Kafka records on nothing else), each
// decoded when it is JSON; for DynamoDB the record in Lambda's shape.
func filterEvent(rec batch.Record) map[string]any {
	if k := rec.Kinesis; k != nil {
		return map[string]any{"data": payloadValue(k.Kinesis.Data)}
	}
	if k := rec.Kafka; k != nil {
		v, err := base64.StdEncoding.DecodeString(k.Value)
		if err != nil {
			return map[string]any{"value": k.Value}
		}
		return map[string]any{"value": payloadValue(v)}
	}
	b, _ := json.Marshal(rec)
	var ev map[string]any
	_ = decodeNumbers(b, &ev)
	return ev
}

// payloadValue is a record's payload as patterns see it: its JSON, or else its text.
func payloadValue(b []byte) any {
	var v any
	if decodeNumbers(b, &v) != nil {
		return string(b)
	}
	return v
}

func decodeNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func matchPattern(p map[string]any, ev any) bool {
	obj, _ := ev.(map[string]any)
	for k, want := range p {
		if k == "$or" {
			if !matchAny(want.([]any), ev) {
				return false
			}
			continue
		}
		val, present := obj[k]
		switch w := want.(type) {
		case map[string]any:
			if !present || !matchPattern(w, val) {
				return false
			}
		case []any:
			if !matchRules(w, val, present) {
				return false
			}
		}
	}
	return true
}

func matchAny(subs []any, ev any) bool {
	for _, s := range subs {
		if matchPattern(s.(map[string]any), ev) {
			return true
		}
	}
	return false
}

// matchRules: one of the rules matches the value, or one element of it when it is a
// list.
func matchRules(rules []any, val any, present bool) bool {
	vals := []any{val}
	if list, ok := val.([]any); ok {
		vals = list
	}
	for _, r := range rules {
		if op, ok := r.(map[string]any); ok {
			if ex, ok := op["exists"].(bool); ok {
				if ex == present {
					return true
				}
				continue
			}
		}
		if !present {
			continue
		}
		for _, v := range vals {
			if matchRule(r, v) {
				return true
			}
		}
	}
	return false
}

func matchRule(rule, v any) bool {
	op, ok := rule.(map[string]any)
	if !ok {
		return equalValue(rule, v)
	}
	s, isString := v.(string)
	for name, arg := range op {
		switch name {
		case "prefix":
			return isString && strings.HasPrefix(s, arg.(string))
		case "suffix":
			return isString && strings.HasSuffix(s, arg.(string))
		case "equals-ignore-case":
			return isString && strings.EqualFold(s, arg.(string))
		case "numeric":
			n, ok := number(v)
			cmp, _ := numericRule(arg)
			return ok && cmp(n)
		case "anything-but":
			return anythingBut(arg, v)
		}
	}
	return false
}

func anythingBut(arg, v any) bool {
	switch a := arg.(type) {
	case map[string]any:
		s, ok := v.(string)
		return ok && !strings.HasPrefix(s, a["prefix"].(string))
	case []any:
		for _, x := range a {
			if equalValue(x, v) {
				return false
			}
		}
		return true
	}
	return !equalValue(arg, v)
}

func equalValue(want, v any) bool {
	if wn, ok := want.(json.Number); ok {
		a, ok1 := number(wn)
		b, ok2 := number(v)
		return ok1 && ok2 && a == b
	}
	return want == v
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// numericRule reads [op, number, op, number ...] into a test.
func numericRule(arg any) (func(float64) bool, bool) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 {
		return nil, false
	}
	var tests []func(float64) bool
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		bound, ok := number(list[i+1])
		if !ok {
			return nil, false
		}
		var t func(float64) bool
		switch op {
		case "=":
			t = func(x float64) bool { return x == bound }
		case "<":
			t = func(x float64) bool { return x < bound }
		case "<=":
			t = func(x float64) bool { return x <= bound }
		case ">":
			t = func(x float64) bool { return x > bound }
		case ">=":
			t = func(x float64) bool { return x >= bound }
		default:
			return nil, false
		}
		tests = append(tests, t)
	}
	return func(x float64) bool {
		for _, t := range tests {
			if !t(x) {
				return false
			}
		}
		return true
	}, true
}
