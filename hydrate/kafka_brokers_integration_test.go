package hydrate

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	msk "github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// An MSK on-failure record naming no bootstrap servers is read from the brokers
// GetBootstrapBrokers gives for the cluster (here the local broker's PLAINTEXT
// listener, as an MSK cluster's BootstrapBrokerString would list it).
func TestHydrateMSKWithoutServers(t *testing.T) {
	brokers := testkit.KafkaBrokers(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := testkit.Name(t, "msk")
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "v%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	const cluster = "arn:aws:kafka:us-east-1:000000000000:cluster/local/abcd-1"
	h := New(aws.Config{Region: "us-east-1"}, Config{Allowed: mustAllow(t, cluster),
		Kafka: KafkaConfig{Client: kafka.ClientConfig{Auth: kafka.AuthNone}}})
	asked := 0
	h.kafka.brokers.client = func(account, region string) mskBrokersAPI {
		return &fakeMSK{getBootstrapBrokers: func(in *msk.GetBootstrapBrokersInput) (*msk.GetBootstrapBrokersOutput, error) {
			asked++
			if aws.ToString(in.ClusterArn) != cluster || account != "000000000000" || region != "us-east-1" {
				t.Errorf("asked for %s in %s %s, want the failure's cluster in its account and region", aws.ToString(in.ClusterArn), account, region)
			}
			return &msk.GetBootstrapBrokersOutput{BootstrapBrokerString: aws.String(brokers[0])}, nil
		}}
	}
	f := &batch.Failure{Source: batch.SourceKafka, StreamARN: cluster, Region: "us-east-1", AccountID: "000000000000",
		StreamName: topic, ShardID: "0", Start: "1", End: "3", BatchSize: 3,
		Kafka: &batch.Kafka{ClusterARN: cluster, Topic: topic, FirstOffset: 1, LastOffset: 3}}
	for range 2 {
		doc, err := h.Hydrate(context.Background(), f, Allowlist{})
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Records) != 3 || len(doc.Hydration.Gaps) != 0 || string(doc.Records[0].Kafka.Value) != "djE=" {
			t.Fatalf("got %d records (first %+v), gaps %v; want offsets 1..3 (v1..v3)", len(doc.Records), doc.Records[0].Kafka, doc.Hydration.Gaps)
		}
	}
	if asked != 1 {
		t.Errorf("GetBootstrapBrokers asked %d times for two hydrations, want 1 (cached)", asked)
	}
}
