package redrive

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
)

type fakeMappings struct {
	list func(in *lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error)
}

func (f *fakeMappings) ListEventSourceMappings(_ context.Context, in *lambda.ListEventSourceMappingsInput, _ ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error) {
	return f.list(in)
}

// kafkaMapping is a mapping on topic whose filter keeps records with value {"keep": kind}.
func kafkaMapping(source string, servers []string, topic, kind string) types.EventSourceMappingConfiguration {
	m := types.EventSourceMappingConfiguration{Topics: []string{topic},
		FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{{Pattern: aws.String(`{"value":{"keep":["` + kind + `"]}}`)}}}}
	if source != "" {
		m.EventSourceArn = aws.String(source)
	} else {
		m.SelfManagedEventSource = &types.SelfManagedEventSource{Endpoints: map[string][]string{"KAFKA_BOOTSTRAP_SERVERS": servers}}
	}
	return m
}

// A function with mappings on several topics or clusters gets, for a Kafka failure,
// the filters of the mapping on its topic (and, self-managed, its servers) only.
func TestConsumerFiltersKafkaPickTheMapping(t *testing.T) {
	const cluster = "arn:aws:kafka:us-east-1:123456789012:cluster/c/abcd-1"
	servers := []string{"k-1.internal:9092"}
	mappings := map[string][]types.EventSourceMappingConfiguration{
		cluster: {kafkaMapping(cluster, nil, "audit", "audit"), kafkaMapping(cluster, nil, "orders", "orders")},
		"": {kafkaMapping("", []string{"other-1.internal:9092"}, "orders", "other-cluster"), kafkaMapping("", servers, "audit", "audit"),
			kafkaMapping("", servers, "orders", "orders")},
	}
	tests := map[string]archive.Hydration{
		"MSK":          {StreamARN: cluster, Kafka: &archive.KafkaHydration{ClusterARN: cluster, Topic: "orders"}},
		"self-managed": {Kafka: &archive.KafkaHydration{BootstrapServers: servers, Topic: "orders"}},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			api := &fakeMappings{list: func(in *lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
				// Without a source ARN, Lambda lists every mapping of the function.
				all := append(append([]types.EventSourceMappingConfiguration{}, mappings[cluster]...), mappings[""]...)
				if in.EventSourceArn != nil {
					all = mappings[aws.ToString(in.EventSourceArn)]
				}
				return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: all}, nil
			}}
			r := &Redriver{opts: Options{Mappings: api}, filters: map[string]filtersResult{}}
			fc, err := r.consumerFilters(context.Background(), "arn:aws:lambda:us-east-1:123456789012:function:consumer", h)
			if err != nil {
				t.Fatal(err)
			}
			for kind, want := range map[string]bool{"orders": true, "audit": false, "other-cluster": false} {
				value := base64.StdEncoding.EncodeToString([]byte(`{"keep":"` + kind + `"}`))
				rec := batch.Record{Kafka: &events.KafkaRecord{Topic: "orders", Value: value}}
				if got := fc.pass(rec); got != want {
					t.Errorf("record kept by the %s mapping: got pass %v, want %v", kind, got, want)
				}
			}
		})
	}
}
