package redrive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
)

// Target specs, as routes name them.
const (
	// SpecConsumer is the default for every failure: the consumer function that
	// failed, as named by the on-failure record's requestContext.functionArn, invoked
	// with the qualifier that ARN carries (the alias or version the event source
	// mapping invokes; none means $LATEST, as for an unqualified mapping).
	SpecConsumer = "consumer"
	// SpecSource puts Kinesis records back on the stream they came from, where every
	// consumer of the stream sees them again.
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
	// name, or a Kafka failure's cluster ARN or topic, e.g. "orders-*" or
	// "arn:aws:kinesis:*:*:stream/orders".
	Pattern string
	// Target is a spec: "consumer" (the function that failed), "kinesis" (the source
	// stream), "kinesis:<stream ARN>", "lambda:<function>", "events:<bus>",
	// "sqs:<queue URL>", "kafka" (the source topic), "kafka:<topic>", or a key of
	// Options.Targets.
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
	if err := validSpec(r.Target); err != nil {
		return r, err
	}
	return r, checkRoute(r)
}

// checkRoute refuses a route that can only send DynamoDB or Kafka records to Kinesis:
// they have no partition key, so no such target can exist.
func checkRoute(r Route) error {
	switch {
	case isKinesisSpec(r.Target) && strings.Contains(r.Pattern, ":dynamodb:"):
		return fmt.Errorf("route %s=%s: %w", r.Pattern, r.Target, ErrDynamoDBToKinesis)
	case isKinesisSpec(r.Target) && strings.Contains(r.Pattern, ":kafka:"):
		return fmt.Errorf("route %s=%s: %w", r.Pattern, r.Target, ErrKafkaToKinesis)
	}
	return nil
}

func isKinesisSpec(spec string) bool {
	return spec == SpecSource || strings.HasPrefix(spec, PrefixKinesis)
}

func validSpec(spec string) error {
	if spec == SpecSource || spec == SpecConsumer || spec == SpecKafkaSource {
		return nil
	}
	for _, p := range []string{PrefixKinesis, PrefixLambda, PrefixEvents, PrefixSQS, PrefixKafka} {
		if strings.HasPrefix(spec, p) && len(spec) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("target %q is not consumer, kinesis, kinesis:ARN, lambda:NAME, events:BUS, sqs:URL, kafka or kafka:TOPIC", spec)
}

// ErrNoRoute: a failure has no target this run can use. Errors wrapping it say why;
// such failures stay queued and the run counts them as unroutable.
var ErrNoRoute = errors.New("redrive: no route for this failure")

var (
	// ErrNoConsumer: the failure names no Lambda function (an EventBridge Pipes
	// failure, or an on-failure record without functionArn), so the default target
	// does not exist; route its stream explicitly.
	ErrNoConsumer = fmt.Errorf("%w: the failure names no consumer function (route its stream, e.g. lambda:NAME)", ErrNoRoute)
	// ErrDynamoDBToKinesis: DynamoDB records have no partition key and cannot be put
	// on a Kinesis stream.
	ErrDynamoDBToKinesis = fmt.Errorf("%w: a DynamoDB failure cannot go to Kinesis", ErrNoRoute)
	// ErrKafkaToKinesis: a Kafka record goes back to Kafka (kafka, kafka:TOPIC) or to
	// a function, a bus or a queue, never to a Kinesis stream.
	ErrKafkaToKinesis = fmt.Errorf("%w: a Kafka failure cannot go to Kinesis (route it to kafka or kafka:TOPIC)", ErrNoRoute)
	// ErrNotKafka: only a Kafka failure has a source topic for the kafka target.
	ErrNotKafka = fmt.Errorf("%w: only a Kafka failure can go to kafka (its source topic)", ErrNoRoute)
)

// streamName is what routes and filters match besides the ARN: the stream or table
// name, or a Kafka failure's topic.
func streamName(h archive.Hydration) string {
	if h.Kafka != nil {
		return h.Kafka.Topic
	}
	return archive.StreamName(h.StreamARN)
}

// route returns the target spec for a failure: the first matching route, else its
// consumer function. consumer is the failure's function ARN, empty when it names none.
func route(routes []Route, h archive.Hydration, consumer string) (string, error) {
	name := streamName(h)
	for _, r := range routes {
		if globMatch(r.Pattern, h.StreamARN) || globMatch(r.Pattern, name) {
			return resolveSpec(r.Target, h, consumer)
		}
	}
	return resolveSpec(SpecConsumer, h, consumer)
}

// resolveSpec turns "kinesis" into the source stream's spec, "kafka" into the source
// topic's and "consumer" into the function's, so that every failure of one stream (one
// topic, one function) shares one target.
func resolveSpec(spec string, h archive.Hydration, consumer string) (string, error) {
	switch {
	case isKinesisSpec(spec) && h.Source == string(batch.SourceKafka):
		return "", ErrKafkaToKinesis
	case isKinesisSpec(spec) && h.Source != string(batch.SourceKinesis):
		return "", ErrDynamoDBToKinesis
	case spec == SpecSource:
		return PrefixKinesis + h.StreamARN, nil
	case spec == SpecKafkaSource && h.Kafka == nil:
		return "", ErrNotKafka
	case spec == SpecKafkaSource:
		return PrefixKafka + h.Kafka.Topic, nil
	case spec == SpecConsumer && consumer == "":
		return "", ErrNoConsumer
	case spec == SpecConsumer:
		return PrefixLambda + consumer, nil
	}
	return spec, nil
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
	d.cutAt, d.callTimeout = r.cutAt, r.opts.CallTimeout
	if l := t.Limits(); l.CallTimeout > 0 {
		d.callTimeout = l.CallTimeout
	}
	r.targets[spec] = d
	return d, nil
}

var errNoClient = errors.New("no client configured for this kind of target")

func (r *Redriver) newTarget(ctx context.Context, spec string) (Target, error) {
	o := r.opts
	if t, ok := o.Targets[spec]; ok {
		return t, nil
	}
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
