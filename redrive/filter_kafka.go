package redrive

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/streamdlq/streamdlq/archive"
)

// kafkaMappingReads reports whether m is the consumer's mapping a Kafka failure k came
// from: one reading k's topic and, for self-managed Kafka (no cluster ARN), whose
// bootstrap servers include every one k names. A function may have mappings on other
// topics of the cluster, or on other clusters, each with filters of its own. Any
// mapping fits a failure that is no Kafka one (k nil).
func kafkaMappingReads(m types.EventSourceMappingConfiguration, k *archive.KafkaHydration) bool {
	if k == nil {
		return true
	}
	if !slices.Contains(m.Topics, k.Topic) {
		return false
	}
	if k.ClusterARN != "" {
		return true
	}
	if m.SelfManagedEventSource == nil {
		return false
	}
	listed := map[string]bool{}
	for _, l := range m.SelfManagedEventSource.Endpoints[string(types.EndPointTypeKafkaBootstrapServers)] {
		for _, s := range strings.Split(l, ",") {
			listed[strings.ToLower(strings.TrimSpace(s))] = true
		}
	}
	for _, s := range k.BootstrapServers {
		if !listed[strings.ToLower(s)] {
			return false
		}
	}
	return len(k.BootstrapServers) > 0
}

// kafkaFilterKey tells apart, in the filters cache, Kafka failures of one function
// and cluster that different mappings may have read.
func kafkaFilterKey(k *archive.KafkaHydration) string {
	if k == nil {
		return ""
	}
	return " " + k.Topic + " " + strings.Join(k.BootstrapServers, ",")
}
