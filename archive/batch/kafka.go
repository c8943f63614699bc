package batch

// Kafka is what a Kafka on-failure record (KafkaBatchInfo) says about one failed
// topic-partition range. A Failure of SourceKafka covers exactly one topic-partition,
// and its common fields say the same in the common vocabulary: StreamName is the topic,
// ShardID the partition in decimal, Start and End the first and last offsets in decimal,
// StreamARN the MSK cluster ARN (empty for self-managed Kafka), FirstArrival and
// LastArrival the first and last record timestamps.
type Kafka struct {
	// ClusterARN is the Amazon MSK cluster (arn:aws:kafka:...); empty for a
	// self-managed cluster, which is known by its BootstrapServers alone.
	ClusterARN string
	// BootstrapServers are the host:port pairs the event source mapping lists; may be
	// empty for MSK, whose brokers the cluster ARN finds.
	BootstrapServers []string
	Topic            string
	Partition        int32
	// FirstOffset and LastOffset are the inclusive range the consumer was given.
	FirstOffset, LastOffset int64
	// PayloadSize is the failed invocation's payload size in bytes (0 when absent).
	PayloadSize int
}

// Managed reports whether the cluster is Amazon MSK rather than self-managed Kafka.
func (k *Kafka) Managed() bool { return k.ClusterARN != "" }
