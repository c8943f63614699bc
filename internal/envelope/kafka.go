package envelope

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// keyKafka is the batch-info key of Amazon MSK and self-managed Kafka event source
// mappings.
const keyKafka = "KafkaBatchInfo"

var (
	// mskARN is an Amazon MSK cluster ARN (provisioned or serverless):
	// arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID-N.
	mskARN = regexp.MustCompile(
		`^arn:aws(?:-[a-z]+)*:kafka:([a-z]{2,}(?:-[a-z0-9]+)*):([0-9]{12}):cluster/([A-Za-z0-9-]{1,64})/([A-Za-z0-9-]{1,128})$`)
	// functionARN gives a self-managed cluster's failure a region and account: those
	// of the consumer function, the only AWS resource its record names.
	functionARN = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:lambda:([a-z]{2,}(?:-[a-z0-9]+)*):([0-9]{12}):function:`)
	// topicName is Kafka's own rule for topic names (at most 249 of [a-zA-Z0-9._-]).
	topicName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
)

// wireKafkaRecord is an on-failure record whose batch info is KafkaBatchInfo. Payload
// shadows wireRecord's: an S3 destination writes the failed event as a JSON string,
// a Kafka destination as an object.
type wireKafkaRecord struct {
	wireRecord
	Kafka   *wireKafka      `json:"KafkaBatchInfo"`
	Payload json.RawMessage `json:"payload"`
}

// wireKafka is KafkaBatchInfo in both of its documented shapes: recordsInfo (one range
// per "<topic>-<partition>", SNS, SQS and S3 destinations) and recordInfo (one offset,
// written with the failed event as payload, which names the topic-partition).
type wireKafka struct {
	BatchSize        int                       `json:"batchSize"`
	EventSourceARN   string                    `json:"eventSourceArn"`
	BootstrapServers string                    `json:"bootstrapServers"`
	PayloadSize      int                       `json:"payloadSize"`
	RecordsInfo      map[string]wireKafkaRange `json:"recordsInfo"`
	RecordInfo       *wireKafkaOne             `json:"recordInfo"`
}

type wireKafkaRange struct {
	First     wireOffset `json:"firstRecordOffset"`
	Last      wireOffset `json:"lastRecordOffset"`
	FirstTime string     `json:"firstRecordTimestamp"`
	LastTime  string     `json:"lastRecordTimestamp"`
}

type wireKafkaOne struct {
	Offset    wireOffset `json:"offset"`
	Timestamp string     `json:"timestamp"`
}

// wireOffset is an offset as AWS writes it, a decimal string, or as a JSON number.
type wireOffset string

func (o *wireOffset) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*o = wireOffset(s)
		return nil
	}
	*o = wireOffset(b) // a number, or anything else for parseOffset to refuse
	return nil
}

// kafkaRange is one topic-partition range, validated.
type kafkaRange struct {
	key                 string // "<topic>-<partition>", as in recordsInfo and event records
	topic               string
	partition           int32
	first, last         int64
	firstTime, lastTime time.Time
}

// ParseRecords is ParseRecord for a record that may name several ranges: a Kafka
// on-failure record (KafkaBatchInfo) gives one Failure per topic-partition, ordered
// by topic and partition; every other record gives the one Failure ParseRecord gives.
// Every error is a *ParseError.
func ParseRecords(b []byte, id string) ([]*batch.Failure, error) {
	if !hasKafkaBatchInfo(b) {
		f, err := ParseRecord(b, id)
		if err != nil {
			return nil, err
		}
		return []*batch.Failure{f}, nil
	}
	fs, perr := parseKafkaRecord(b)
	if perr != nil {
		perr.MessageID = id
		return nil, perr
	}
	return fs, nil
}

func hasKafkaBatchInfo(b []byte) bool {
	var top map[string]json.RawMessage
	if len(b) > MaxObjectSize || json.Unmarshal(b, &top) != nil {
		return false // ParseRecord names the fault
	}
	_, ok := top[keyKafka]
	return ok
}

func parseKafkaRecord(b []byte) ([]*batch.Failure, *ParseError) {
	var w wireKafkaRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, decodeError(err, "an on-failure record")
	}
	if w.Kafka == nil {
		return nil, bad(keyKafka, "null: not an on-failure record")
	}
	if w.Kinesis != nil || w.DynamoDB != nil {
		return nil, bad(keyKafka, "present together with %s or %s; a record names one source", keyKinesis, keyDynamoDB)
	}
	base, perr := w.base(b)
	if perr != nil {
		return nil, perr
	}
	event, perr := kafkaEvent(w.Payload)
	if perr != nil {
		return nil, perr
	}
	ranges, perr := w.Kafka.ranges(event)
	if perr != nil {
		return nil, prefixed(perr, keyKafka)
	}
	fs := make([]*batch.Failure, 0, len(ranges))
	for _, r := range ranges {
		fs = append(fs, r.failure(base, event))
	}
	return fs, nil
}

// base builds what every topic-partition's Failure shares.
func (w *wireKafkaRecord) base(b []byte) (*batch.Failure, *ParseError) {
	k := w.Kafka
	f := &batch.Failure{Source: batch.SourceKafka, BatchSize: k.BatchSize, Kafka: &batch.Kafka{PayloadSize: k.PayloadSize}}
	w.fillContext(f)
	var err error
	if f.Timestamp, err = parseTime(w.Timestamp); err != nil {
		return nil, bad("timestamp", "%w", err)
	}
	if perr := k.fillCluster(f); perr != nil {
		return nil, prefixed(perr, keyKafka)
	}
	if k.BatchSize < 0 {
		return nil, bad(keyKafka+".batchSize", "negative: %d", k.BatchSize)
	}
	if k.PayloadSize < 0 {
		return nil, bad(keyKafka+".payloadSize", "negative: %d", k.PayloadSize)
	}
	f.Raw = bytes.Clone(b)
	if len(w.Payload) > 0 && string(w.Payload) != "null" {
		f.Raw = withoutPayload(b)
	}
	return f, nil
}

// fillCluster tells MSK (a cluster ARN) from self-managed Kafka (bootstrap servers
// only). One of the two must be there, or there is nothing to read from.
func (k *wireKafka) fillCluster(f *batch.Failure) *ParseError {
	servers, perr := parseServers(k.BootstrapServers)
	if perr != nil {
		return perr
	}
	f.Kafka.BootstrapServers = servers
	if k.EventSourceARN != "" {
		m := mskARN.FindStringSubmatch(k.EventSourceARN)
		if len(k.EventSourceARN) > maxARN || m == nil {
			return bad("eventSourceArn", "not an Amazon MSK cluster ARN: %.200q", k.EventSourceARN)
		}
		f.StreamARN, f.Region, f.AccountID = k.EventSourceARN, m[1], m[2]
		f.Kafka.ClusterARN = k.EventSourceARN
		return nil
	}
	if len(servers) == 0 {
		return bad("bootstrapServers", "missing, and so is eventSourceArn: the cluster cannot be found")
	}
	if m := functionARN.FindStringSubmatch(f.FunctionARN); m != nil {
		f.Region, f.AccountID = m[1], m[2]
	}
	return nil
}

// parseServers splits "host:port,host:port" and checks each pair's shape.
func parseServers(s string) ([]string, *ParseError) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, hp := range strings.Split(s, ",") {
		hp = strings.TrimSpace(hp)
		i := strings.LastIndexByte(hp, ':')
		port, err := strconv.ParseUint(hp[i+1:], 10, 16)
		host := hp[:max(i, 0)]
		if i <= 0 || err != nil || port == 0 || len(host) > 253 || strings.ContainsAny(host, " /\t\n") {
			return nil, bad("bootstrapServers", "not a comma-separated list of host:port: %.200q", s)
		}
		out = append(out, hp)
	}
	return out, nil
}

// ranges returns the topic-partition ranges in topic, then partition order: from
// recordsInfo when present, else the one offset of recordInfo placed by the event.
func (k *wireKafka) ranges(event map[string]json.RawMessage) ([]kafkaRange, *ParseError) {
	if k.RecordsInfo != nil {
		return k.rangesInfo()
	}
	if k.RecordInfo != nil {
		r, perr := k.RecordInfo.locate(event)
		if perr != nil {
			return nil, prefixed(perr, "recordInfo")
		}
		return []kafkaRange{r}, nil
	}
	return nil, bad("recordsInfo", "missing, and so is recordInfo: no offsets to read")
}

func (k *wireKafka) rangesInfo() ([]kafkaRange, *ParseError) {
	if len(k.RecordsInfo) == 0 {
		return nil, bad("recordsInfo", "empty: no topic-partition named")
	}
	out := make([]kafkaRange, 0, len(k.RecordsInfo))
	// In key order, so that of several bad keys the same one is named every time.
	for _, key := range slices.Sorted(maps.Keys(k.RecordsInfo)) {
		w := k.RecordsInfo[key]
		field := fmt.Sprintf("recordsInfo[%.64q]", key)
		r, perr := newKafkaRange(key, w.First, w.Last)
		if perr == nil {
			perr = r.times(w.FirstTime, "firstRecordTimestamp", w.LastTime, "lastRecordTimestamp")
		}
		if perr != nil {
			return nil, prefixed(perr, field)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b kafkaRange) int {
		return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return out, nil
}

func newKafkaRange(key string, first, last wireOffset) (kafkaRange, *ParseError) {
	r := kafkaRange{key: key}
	var ok bool
	if r.topic, r.partition, ok = splitTopicPartition(key); !ok {
		return r, bad("", "key is not <topic>-<partition>")
	}
	var perr *ParseError
	if r.first, perr = parseOffset("firstRecordOffset", first); perr != nil {
		return r, perr
	}
	if r.last, perr = parseOffset("lastRecordOffset", last); perr != nil {
		return r, perr
	}
	if r.first > r.last {
		return r, bad("firstRecordOffset", "%d is after lastRecordOffset %d", r.first, r.last)
	}
	return r, nil
}

func (r *kafkaRange) times(first, firstField, last, lastField string) *ParseError {
	var err error
	if r.firstTime, err = parseTime(first); err != nil {
		return bad(firstField, "%w", err)
	}
	if r.lastTime, err = parseTime(last); err != nil {
		return bad(lastField, "%w", err)
	}
	return nil
}

// splitTopicPartition splits "<topic>-<partition>" at the last hyphen: topics may
// contain hyphens, partitions cannot.
func splitTopicPartition(key string) (string, int32, bool) {
	i := strings.LastIndexByte(key, '-')
	if i <= 0 || !topicName.MatchString(key[:i]) || !decimal(key[i+1:]) {
		return "", 0, false
	}
	p, err := strconv.ParseInt(key[i+1:], 10, 32)
	return key[:i], int32(p), err == nil
}

// parseOffset accepts 0 to MaxInt64 in plain decimal. AWS's own examples show
// Kinesis sequence numbers here, which overflow a Kafka offset and are refused.
func parseOffset(field string, o wireOffset) (int64, *ParseError) {
	if !decimal(string(o)) {
		return 0, bad(field, "not a decimal offset: %.64q", string(o))
	}
	n, err := strconv.ParseInt(string(o), 10, 64)
	if err != nil {
		return 0, bad(field, "offset %.64s is out of a Kafka offset's range", string(o))
	}
	return n, nil
}

func decimal(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// locate places recordInfo's offset: the event's records name its topic-partition.
func (o *wireKafkaOne) locate(event map[string]json.RawMessage) (kafkaRange, *ParseError) {
	off, perr := parseOffset("offset", o.Offset)
	if perr != nil {
		return kafkaRange{}, perr
	}
	records, perr := eventRecords(event)
	if perr != nil || records == nil {
		return kafkaRange{}, bad("", "names no topic-partition, and no payload does")
	}
	for _, key := range slices.Sorted(maps.Keys(records)) {
		var rs []struct {
			Offset int64 `json:"offset"`
		}
		if json.Unmarshal(records[key], &rs) != nil {
			continue
		}
		for _, r := range rs {
			if r.Offset == off {
				kr, perr := newKafkaRange(key, o.Offset, o.Offset)
				if perr != nil {
					return kr, bad("", "the payload's records key %.64q is not <topic>-<partition>", key)
				}
				return kr, kr.times(o.Timestamp, "timestamp", o.Timestamp, "timestamp")
			}
		}
	}
	return kafkaRange{}, bad("offset", "%d is in none of the payload's records", off)
}

// kafkaEvent decodes the failed invocation event that an S3 destination (as a JSON
// string) or a Kafka destination (as an object) writes as payload; nil when absent.
func kafkaEvent(p json.RawMessage) (map[string]json.RawMessage, *ParseError) {
	if len(p) == 0 || string(p) == "null" {
		return nil, nil
	}
	if p[0] == '"' {
		var s string
		if err := json.Unmarshal(p, &s); err != nil {
			return nil, prefixed(decodeError(err, "a JSON string"), "payload")
		}
		p = json.RawMessage(s)
	}
	var event map[string]json.RawMessage
	if err := json.Unmarshal(p, &event); err != nil {
		return nil, prefixed(decodeError(err, "a Kafka invocation event"), "payload")
	}
	if _, perr := eventRecords(event); perr != nil {
		return nil, perr
	}
	return event, nil
}

func eventRecords(event map[string]json.RawMessage) (map[string]json.RawMessage, *ParseError) {
	if event == nil {
		return nil, nil
	}
	var records map[string]json.RawMessage
	if err := json.Unmarshal(event["records"], &records); err != nil || records == nil {
		return nil, bad("payload.records", "missing or not an object of <topic>-<partition> keys")
	}
	return records, nil
}

// failure is base narrowed to the range r, with the event's records of r's
// topic-partition only as Payload.
func (r kafkaRange) failure(base *batch.Failure, event map[string]json.RawMessage) *batch.Failure {
	f := *base
	k := *base.Kafka
	k.Topic, k.Partition, k.FirstOffset, k.LastOffset = r.topic, r.partition, r.first, r.last
	f.Kafka = &k
	f.StreamName, f.ShardID = r.topic, strconv.Itoa(int(r.partition))
	f.Start, f.End = strconv.FormatInt(r.first, 10), strconv.FormatInt(r.last, 10)
	f.FirstArrival, f.LastArrival = r.firstTime, r.lastTime
	f.Payload = partitionEvent(event, r.key)
	return &f
}

// partitionEvent returns event with only key's records, or nil when it has none.
func partitionEvent(event map[string]json.RawMessage, key string) json.RawMessage {
	records, _ := eventRecords(event)
	rs, ok := records[key]
	if !ok {
		return nil
	}
	one := make(map[string]json.RawMessage, len(event))
	for k, v := range event {
		one[k] = v
	}
	one["records"], _ = json.Marshal(map[string]json.RawMessage{key: rs})
	out, err := json.Marshal(one)
	if err != nil {
		return nil
	}
	return out
}
