package redrive

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive"
)

// kafkaHeadMax caps a Kafka event's head; a longer one (thousands of bootstrap
// servers) is cut to the cluster ARN alone.
const kafkaHeadMax = 8 << 10

// Event sources of Lambda's Kafka events.
const (
	eventSourceMSK         = "aws:kafka"
	eventSourceSelfManaged = "SelfManagedKafka"
)

// kafkaHead is what a Kafka event carries besides its records: Lambda invokes a
// Kafka consumer with {"eventSource", "eventSourceArn", "bootstrapServers",
// "records": {"<topic>-<partition>": [...]}}, not with {"Records": [...]}.
type kafkaHead struct {
	EventSource      string `json:"eventSource"`
	EventSourceARN   string `json:"eventSourceArn,omitempty"`
	BootstrapServers string `json:"bootstrapServers,omitempty"`
	key              string // "<topic>-<partition>"
}

// rememberKafka records the event head of rec's topic-partition and returns the
// ordering key: one call carries one key (PrefixOfKey), so one topic-partition.
func (t *LambdaTarget) rememberKafka(from Origin, rec *events.KafkaRecord) string {
	head := kafkaHead{EventSource: eventSourceSelfManaged, key: rec.Topic + "-" + strconv.FormatInt(rec.Partition, 10)}
	if k := from.Kafka; k != nil {
		head.EventSourceARN = k.ClusterARN
		head.BootstrapServers = joinServers(k)
	}
	if head.EventSourceARN != "" {
		head.EventSource = eventSourceMSK
	}
	if len(head.EventSourceARN)+len(head.BootstrapServers)+len(head.key) > kafkaHeadMax-256 {
		head.BootstrapServers = ""
	}
	key := head.EventSourceARN + "|" + head.BootstrapServers + "|" + head.key
	t.kafkaHeads.Store(key, head)
	return key
}

func joinServers(k *archive.KafkaHydration) string {
	var b bytes.Buffer
	for i, s := range k.BootstrapServers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	return b.String()
}

// kafkaPayload is the Kafka event of entries, which share one key.
func (t *LambdaTarget) kafkaPayload(entries []*Entry) []byte {
	v, _ := t.kafkaHeads.Load(entries[0].Key)
	head, _ := v.(kafkaHead)
	b, _ := json.Marshal(head) // strings only: cannot fail
	var out bytes.Buffer
	out.Write(b[:len(b)-1])
	key, _ := json.Marshal(head.key)
	out.WriteString(`,"records":{`)
	out.Write(key)
	out.WriteString(`:[`)
	for i, e := range entries {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(e.Body)
	}
	out.WriteString(`]}}`)
	return out.Bytes()
}
