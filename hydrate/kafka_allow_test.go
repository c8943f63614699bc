package hydrate

import (
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/settings"
)

func TestKafkaAllows(t *testing.T) {
	const msk = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/751d2973-a626-431c-9d4e-d7975eb44dd7-2"
	same := SameAccount("aws", "us-east-1", "123456789012")
	tests := map[string]struct {
		servers []string
		kf      batch.Kafka
		want    bool
	}{
		"MSK of the account, its brokers": {kf: batch.Kafka{ClusterARN: msk,
			BootstrapServers: []string{"b-1.orders.a1bcde.c1.kafka.us-east-1.amazonaws.com:9098"}}, want: true},
		"MSK serverless": {kf: batch.Kafka{ClusterARN: msk,
			BootstrapServers: []string{"boot-abcd.c2.kafka-serverless.us-east-1.amazonaws.com:9098"}}, want: true},
		"MSK ARN, foreign brokers": {kf: batch.Kafka{ClusterARN: msk, BootstrapServers: []string{"evil.example.com:9092"}}},
		"MSK ARN, brokers of another region": {kf: batch.Kafka{ClusterARN: msk,
			BootstrapServers: []string{"b-1.orders.a1bcde.c1.kafka.eu-west-1.amazonaws.com:9098"}}},
		"MSK of another account": {kf: batch.Kafka{ClusterARN: strings.Replace(msk, "123456789012", "210987654321", 1),
			BootstrapServers: []string{"b-1.orders.a1bcde.c1.kafka.us-east-1.amazonaws.com:9098"}}},
		"MSK without brokers (AWS names them)":    {kf: batch.Kafka{ClusterARN: msk}, want: true},
		"MSK of another account, without brokers": {kf: batch.Kafka{ClusterARN: strings.Replace(msk, "123456789012", "210987654321", 1)}},
		"self-managed, all servers allowed": {servers: []string{"kafka-*.internal:9092"},
			kf: batch.Kafka{BootstrapServers: []string{"kafka-1.internal:9092", "kafka-2.internal:9092"}}, want: true},
		"self-managed, one server not allowed": {servers: []string{"kafka-*.internal:9092"},
			kf: batch.Kafka{BootstrapServers: []string{"kafka-1.internal:9092", "kafka-1.internal:9093"}}},
		"self-managed, no patterns": {kf: batch.Kafka{BootstrapServers: []string{"kafka-1.internal:9092"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			k := newKafkaReaders(KafkaConfig{Servers: tt.servers}, nil, nil, nil)
			if got := k.allows(&tt.kf, same); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadKafkaConfig(t *testing.T) {
	env := map[string]string{settings.AllowedKafkaServers.Env: "a:9092, b*:*", settings.KafkaTLS.Env: "false"}
	c, err := LoadConfig(lookupFrom(env), false)
	if err != nil || c.Kafka.Client.TLS || strings.Join(c.Kafka.Servers, ",") != "a:9092,b*:*" {
		t.Fatalf("got %+v, %v", c.Kafka, err)
	}
	bad := map[string]string{settings.AllowedKafkaServers.Env: "no-port,x/y:1", settings.KafkaTLS.Env: "maybe"}
	_, err = LoadConfig(lookupFrom(bad), false)
	if err == nil || len(strings.Split(err.Error(), "\n")) != 3 {
		t.Fatalf("got errors %v, want 3", err)
	}
	for _, s := range []settings.Setting{settings.AllowedKafkaServers, settings.KafkaTLS} {
		if !strings.Contains(err.Error(), s.Env) {
			t.Errorf("got %v, want %s named", err, s.Env)
		}
	}
}
