package archive

// KafkaHydration is what a Kafka failure's summary adds: where the range lives and
// what read-committed reading left out.
type KafkaHydration struct {
	Topic            string   `json:"topic"`
	Partition        int32    `json:"partition"`
	ClusterARN       string   `json:"clusterArn,omitempty"`
	BootstrapServers []string `json:"bootstrapServers,omitempty"`
	// Aborted counts the records of aborted transactions in the range, which are not
	// returned (the consumer, reading committed, never saw them either).
	Aborted int `json:"aborted"`
	// FunctionARN is the consumer that failed (requestContext.functionArn), where
	// redrive sends the records back by default.
	FunctionARN string `json:"functionArn,omitempty"`
}

// streamOf is the key's stream segment: the Kafka topic, or the stream or table name
// in the stream ARN.
func streamOf(h Hydration) string {
	if h.Kafka != nil {
		return h.Kafka.Topic
	}
	return StreamName(h.StreamARN)
}
