package hydrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// endpointBootstrapServers is the key of a self-managed Kafka mapping's endpoints
// (SelfManagedEventSource.Endpoints) that lists its bootstrap servers.
const endpointBootstrapServers = string(types.EndPointTypeKafkaBootstrapServers)

// mappingReads reports whether esm reads f's range: its source is f's stream (or an
// enhanced fan-out consumer of it); for Kafka also its topics hold f's topic and, for
// a self-managed cluster (which has no source ARN), its bootstrap servers hold every
// one f names. Without the servers, any mapping of the function on any self-managed
// cluster would vouch for a range of any other cluster the allowlist admits.
func mappingReads(esm types.EventSourceMappingConfiguration, f *batch.Failure) bool {
	src := aws.ToString(esm.EventSourceArn)
	if src != f.StreamARN && !strings.HasPrefix(src, f.StreamARN+"/consumer/") {
		return false
	}
	kf := f.Kafka
	if kf == nil {
		return true
	}
	if !slices.Contains(esm.Topics, kf.Topic) {
		return false
	}
	if kf.Managed() {
		return true
	}
	return esm.SelfManagedEventSource != nil && serversListed(kf.BootstrapServers, esm.SelfManagedEventSource.Endpoints[endpointBootstrapServers])
}

// serversListed reports whether every one of servers is in listed (host names compared
// without case; an entry of listed may itself be comma-separated).
func serversListed(servers, listed []string) bool {
	known := map[string]bool{}
	for _, l := range listed {
		for _, s := range strings.Split(l, ",") {
			known[strings.ToLower(strings.TrimSpace(s))] = true
		}
	}
	for _, s := range servers {
		if !known[strings.ToLower(s)] {
			return false
		}
	}
	return len(servers) > 0
}

// kafkaMappingKey is what, besides the function and the stream, tells apart the
// Kafka failures one mapping check answers for: the topic, and for self-managed
// Kafka the servers.
func kafkaMappingKey(f *batch.Failure) string {
	if f.Kafka == nil {
		return ""
	}
	return " " + f.Kafka.Topic + " " + strings.Join(f.Kafka.BootstrapServers, ",")
}

// kafkaMappingWant says, in a refusal, what a Kafka failure's mapping must read.
func kafkaMappingWant(f *batch.Failure) string {
	switch kf := f.Kafka; {
	case kf == nil:
		return ""
	case kf.Managed():
		return fmt.Sprintf(" with topic %.256s", kf.Topic)
	}
	return fmt.Sprintf(" with topic %.256s and bootstrap servers %.512s", f.Kafka.Topic, strings.Join(f.Kafka.BootstrapServers, ","))
}
