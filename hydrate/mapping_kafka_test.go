package hydrate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/streamdlq/streamdlq/archive/batch"
)

const mapCluster = "arn:aws:kafka:eu-west-1:111122223333:cluster/orders/abcd-1"

// kafkaESM is a Kafka mapping sending failures to mapTopic: on an MSK cluster
// (source set) or a self-managed one (servers set), reading topics.
func kafkaESM(source string, servers []string, topics ...string) types.EventSourceMappingConfiguration {
	c := esm(source, mapTopic)
	if source == "" {
		c.EventSourceArn = nil
		c.SelfManagedEventSource = &types.SelfManagedEventSource{Endpoints: map[string][]string{"KAFKA_BOOTSTRAP_SERVERS": servers}}
	}
	c.Topics = topics
	return c
}

func kafkaFailure(cluster string, servers ...string) *batch.Failure {
	return &batch.Failure{Source: batch.SourceKafka, FunctionARN: mapFunction, StreamARN: cluster, ShardID: "0", Start: "1", End: "2",
		Kafka: &batch.Kafka{ClusterARN: cluster, BootstrapServers: servers, Topic: "orders", FirstOffset: 1, LastOffset: 2}}
}

// A Kafka failure is vouched for by the function's mapping on its topic: on its MSK
// cluster, or, for a self-managed cluster (no ARN on either side), a mapping whose
// bootstrap servers include every one the failure names.
func TestMappingCheckKafka(t *testing.T) {
	selfServers := []string{"kafka-1.internal:9092", "kafka-2.internal:9092"}
	cases := map[string]struct {
		failure  *batch.Failure
		mappings []types.EventSourceMappingConfiguration
		wantOK   bool
	}{
		"MSK mapping":                   {kafkaFailure(mapCluster, "b-1:9092"), []types.EventSourceMappingConfiguration{kafkaESM(mapCluster, nil, "orders")}, true},
		"MSK, mapping on another topic": {kafkaFailure(mapCluster, "b-1:9092"), []types.EventSourceMappingConfiguration{kafkaESM(mapCluster, nil, "audit")}, false},
		"MSK, mapping on a stream only": {kafkaFailure(mapCluster, "b-1:9092"), []types.EventSourceMappingConfiguration{esm(mapStream, mapTopic)}, false},
		"MSK, no servers in the record": {kafkaFailure(mapCluster), []types.EventSourceMappingConfiguration{kafkaESM(mapCluster, nil, "orders")}, true},
		"self-managed, same servers": {kafkaFailure("", selfServers...),
			[]types.EventSourceMappingConfiguration{kafkaESM("", selfServers, "orders")}, true},
		"self-managed, servers in another order and case": {kafkaFailure("", "KAFKA-2.internal:9092", "kafka-1.internal:9092"),
			[]types.EventSourceMappingConfiguration{kafkaESM("", selfServers, "orders")}, true},
		"self-managed, servers as one comma-separated entry": {kafkaFailure("", selfServers...),
			[]types.EventSourceMappingConfiguration{kafkaESM("", []string{strings.Join(selfServers, ",")}, "orders")}, true},
		"self-managed, one server of another cluster": {kafkaFailure("", "kafka-1.internal:9092", "evil.example:9092"),
			[]types.EventSourceMappingConfiguration{kafkaESM("", selfServers, "orders")}, false},
		"self-managed, mapping on another cluster": {kafkaFailure("", "other-1.internal:9092"),
			[]types.EventSourceMappingConfiguration{kafkaESM("", selfServers, "orders")}, false},
		"self-managed, mapping on another topic": {kafkaFailure("", selfServers...),
			[]types.EventSourceMappingConfiguration{kafkaESM("", selfServers, "audit")}, false},
		"self-managed, mapping without endpoints": {kafkaFailure("", selfServers...),
			[]types.EventSourceMappingConfiguration{{Topics: []string{"orders"},
				DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(mapTopic)}}}}, false},
		"self-managed, MSK mapping only": {kafkaFailure("", selfServers...),
			[]types.EventSourceMappingConfiguration{kafkaESM(mapCluster, nil, "orders")}, false},
		"self-managed, the right one among others": {kafkaFailure("", selfServers...), []types.EventSourceMappingConfiguration{
			kafkaESM("", []string{"other-1.internal:9092"}, "orders"), kafkaESM("", selfServers, "audit"), kafkaESM("", selfServers, "orders", "audit")}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			api := &fakeLambda{list: func(*lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
				return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: tc.mappings}, nil
			}}
			m := newMappingCheck([]string{mapTopic}, func(string, string) listMappingsAPI { return api }, nil)
			err := m.check(context.Background(), tc.failure)
			var merr *MappingError
			switch {
			case tc.wantOK && err != nil:
				t.Fatalf("got %v, want the failure vouched for", err)
			case !tc.wantOK && !errors.As(err, &merr):
				t.Fatalf("got %v, want a *MappingError", err)
			}
		})
	}
}

// The cache answers per topic and servers too: a refusal for one self-managed cluster
// is not the answer for another with the same function.
func TestMappingCheckKafkaCachesPerCluster(t *testing.T) {
	calls := 0
	api := &fakeLambda{list: func(*lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
		calls++
		return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: []types.EventSourceMappingConfiguration{
			kafkaESM("", []string{"kafka-1.internal:9092"}, "orders")}}, nil
	}}
	m := newMappingCheck([]string{mapTopic}, func(string, string) listMappingsAPI { return api }, nil)
	ctx := context.Background()
	var merr *MappingError
	if err := m.check(ctx, kafkaFailure("", "evil.example:9092")); !errors.As(err, &merr) || !strings.Contains(err.Error(), "evil.example:9092") {
		t.Fatalf("got %v, want a *MappingError naming the servers", err)
	}
	if err := m.check(ctx, kafkaFailure("", "kafka-1.internal:9092")); err != nil {
		t.Fatalf("got %v, want the mapped cluster vouched for", err)
	}
	if calls != 2 {
		t.Errorf("got %d List calls, want 2 (one per cluster)", calls)
	}
}
