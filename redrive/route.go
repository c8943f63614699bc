package redrive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/streamdlq/streamdlq/archive"
)

// Target specs, as routes name them.
const (
	// SpecSource is the default for Kinesis sources: back to the stream the records
	// came from.
	SpecSource = "kinesis"
	// Prefixes of the other specs: kinesis:<stream ARN>, lambda:<function>,
	// events:<bus>, sqs:<queue URL>.
	PrefixKinesis = "kinesis:"
	PrefixLambda  = "lambda:"
	PrefixEvents  = "events:"
	PrefixSQS     = "sqs:"
	// SpecKafkaSource is back to the topic a Kafka failure's records came from, on
	// the cluster Options.Kafka reaches; PrefixKafka names a topic there: kafka:<topic>.
	SpecKafkaSource = "kafka"
	PrefixKafka     = "kafka:"
)

// Route sends the failures of the streams matching Pattern to Target.
type Route struct {
	// Pattern is a path.Match glob over the source stream ARN or its stream (table)
	// name, e.g. "orders-*" or "arn:aws:kinesis:*:*:stream/orders".
	Pattern string
	// Target is a spec: "kinesis" (the source stream), "kinesis:<stream ARN>",
	// "lambda:<function>", "events:<bus>" or "sqs:<queue URL>".
	Target string
}

// ParseRoute reads "PATTERN=TARGET".
func ParseRoute(s string) (Route, error) {
	pattern, target, ok := strings.Cut(strings.TrimSpace(s), "=")
	r := Route{Pattern: strings.TrimSpace(pattern), Target: strings.TrimSpace(target)}
	if !ok || r.Pattern == "" {
		return r, fmt.Errorf("route %q is not PATTERN=TARGET", s)
	}
	if _, err := path.Match(r.Pattern, ""); err != nil {
		return r, fmt.Errorf("route %q: bad pattern: %w", s, err)
	}
	return r, validSpec(r.Target)
}

func validSpec(spec string) error {
	if spec == SpecSource || spec == SpecKafkaSource {
		return nil
	}
	for _, p := range []string{PrefixKinesis, PrefixLambda, PrefixEvents, PrefixSQS, PrefixKafka} {
		if strings.HasPrefix(spec, p) && len(spec) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("target %q is not kinesis, kinesis:ARN, lambda:NAME, events:BUS, sqs:URL, kafka or kafka:TOPIC", spec)
}

// ErrNoRoute: a DynamoDB stream (or a Kafka failure that names no consumer) has no
// route; the only replays are to a function, a bus or a queue, which must be chosen.
var ErrNoRoute = errors.New("redrive: no route for this stream (DynamoDB sources need one, e.g. lambda:NAME)")

// streamName is what routes and filters match besides the ARN: the stream or table
// name, or a Kafka failure's topic.
func streamName(h archive.Hydration) string {
	if h.Kafka != nil {
		return h.Kafka.Topic
	}
	return archive.StreamName(h.StreamARN)
}

// route returns the target spec for a failure: the first matching route, else the
// source stream for Kinesis, else ErrNoRoute.
func route(routes []Route, h archive.Hydration) (string, error) {
	name := streamName(h)
	for _, r := range routes {
		if globMatch(r.Pattern, h.StreamARN) || globMatch(r.Pattern, name) {
			return resolveSpec(r.Target, h), nil
		}
	}
	switch {
	case h.Source == "kinesis":
		return resolveSpec(SpecSource, h), nil
	case h.Kafka != nil && h.Kafka.FunctionARN != "":
		// The failed consumer, in the Kafka event shape its mapping sends.
		return PrefixLambda + h.Kafka.FunctionARN, nil
	}
	return "", ErrNoRoute
}

// resolveSpec turns "kinesis" into the source stream's spec so that every failure of
// one stream shares one target.
func resolveSpec(spec string, h archive.Hydration) string {
	switch {
	case spec == SpecSource:
		return PrefixKinesis + h.StreamARN
	case spec == SpecKafkaSource && h.Kafka != nil:
		return PrefixKafka + h.Kafka.Topic
	}
	return spec
}

func globMatch(pattern, s string) bool {
	ok, _ := path.Match(pattern, s)
	return ok
}

// Filter selects the failures to redrive; empty fields select all.
type Filter struct {
	// Streams are globs over the stream ARN or name, as in Route.
	Streams []string
	Shards  []string
	// Conditions are on-failure conditions, e.g. RetryAttemptsExhausted.
	Conditions []string
	// Since and Until bound the failure's first arrival, inclusive.
	Since, Until time.Time
}

// matches reports whether the failure is selected.
func (f Filter) matches(h archive.Hydration) bool {
	name := streamName(h)
	return anyOf(f.Streams, func(p string) bool { return globMatch(p, h.StreamARN) || globMatch(p, name) }) &&
		anyOf(f.Shards, func(s string) bool { return s == h.ShardID }) &&
		anyOf(f.Conditions, func(c string) bool { return c == h.Condition }) &&
		(f.Since.IsZero() || !h.FirstArrival.Before(f.Since)) &&
		(f.Until.IsZero() || !h.FirstArrival.After(f.Until))
}

func anyOf(list []string, match func(string) bool) bool {
	if len(list) == 0 {
		return true
	}
	for _, v := range list {
		if match(v) {
			return true
		}
	}
	return false
}

// targetFor returns the deliverer of a spec, building the target on first use.
func (r *Redriver) targetFor(ctx context.Context, spec string) (*deliverer, error) {
	if d, ok := r.targets[spec]; ok {
		return d, r.targetErrs[spec]
	}
	t, err := r.newTarget(ctx, spec)
	if err != nil {
		err = &TargetError{Target: spec, Err: err}
		r.targets[spec], r.targetErrs[spec] = nil, err
		return nil, err
	}
	th, ok := r.opts.Throttles[spec]
	if !ok {
		th = r.opts.Throttle
	}
	d := newDeliverer(t, th, r.clock, deliveryOptions{maxAttempts: r.opts.MaxAttempts})
	r.targets[spec] = d
	return d, nil
}

var errNoClient = errors.New("no client configured for this kind of target")

func (r *Redriver) newTarget(ctx context.Context, spec string) (Target, error) {
	o := r.opts
	switch {
	case strings.HasPrefix(spec, PrefixKinesis) && o.Kinesis != nil:
		return NewKinesisTarget(ctx, o.Kinesis, strings.TrimPrefix(spec, PrefixKinesis))
	case strings.HasPrefix(spec, PrefixLambda) && o.Lambda != nil:
		return NewLambdaTarget(o.Lambda, strings.TrimPrefix(spec, PrefixLambda), o.LambdaBatchSize), nil
	case strings.HasPrefix(spec, PrefixEvents) && o.Events != nil:
		return NewEventBridgeTarget(o.Events, strings.TrimPrefix(spec, PrefixEvents)), nil
	case strings.HasPrefix(spec, PrefixSQS) && o.SQS != nil:
		return NewSQSTarget(o.SQS, strings.TrimPrefix(spec, PrefixSQS), o.SQSMaxBytes), nil
	case strings.HasPrefix(spec, PrefixKafka) && o.Kafka != nil:
		opts, err := o.Kafka()
		if err != nil {
			return nil, err
		}
		return NewKafkaTarget(ctx, opts, strings.TrimPrefix(spec, PrefixKafka))
	}
	if err := validSpec(spec); err != nil {
		return nil, err
	}
	return nil, errNoClient
}
