package stream

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/streamdlq/streamdlq/archive/batch"

	"google.golang.org/protobuf/encoding/protowire"
)

// The KPL aggregated-record format (amazon-kinesis-producer aggregation-format.md):
// the magic bytes, a protobuf AggregatedRecord, then the MD5 of the protobuf bytes.
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated batch.Record records                 = 3;
//	}
//	message batch.Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4;
//	}
var kplMagic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// Field numbers of AggregatedRecord and batch.Record.
const (
	aggPartitionKeyTable protowire.Number = 1
	aggHashKeyTable      protowire.Number = 2
	aggRecords           protowire.Number = 3
	recPartitionKeyIndex protowire.Number = 1
	recHashKeyIndex      protowire.Number = 2
	recData              protowire.Number = 3
)

// UserRecord is one record as a KPL producer was given it, before aggregation.
type UserRecord struct {
	PartitionKey string
	// ExplicitHashKey is empty when the producer did not set one.
	ExplicitHashKey string
	Data            []byte
}

// Deaggregate splits a KPL aggregated record into its user records, in order. Each
// keeps the parent's sequence number and metadata and gets its SubSequenceNumber (the
// 0-based index, as the KCL numbers them), partition key, explicit hash key and data;
// Data is a capacity-clipped sub-slice of the parent's Data, not a copy.
//
// A record that is not aggregated (no magic, or too short to hold a digest after it)
// comes back unchanged, alone. A record that carries the magic but cannot be split
// (MD5 mismatch, bad protobuf, index out of range, no user records) comes back whole
// with AggregationError saying why: streamdlq rescues records, so it never drops or
// half-splits one. Deaggregate never panics and always returns at least one record.
func Deaggregate(r batch.KinesisEventRecord) []batch.KinesisEventRecord {
	msg, aggregated, err := kplMessage(r.Kinesis.Data)
	if !aggregated {
		return []batch.KinesisEventRecord{r}
	}
	var out []batch.KinesisEventRecord
	if err == nil {
		out, err = expand(r, msg)
	}
	if err != nil {
		r.Kinesis.AggregationError = err.Error()
		return []batch.KinesisEventRecord{r}
	}
	return out
}

// kplMessage returns the protobuf message inside data. aggregated is false for data
// that does not claim to be an aggregate; err is set when it claims to but the digest
// does not match. The length rule (more than a digest after the magic) is the one the
// awslabs kinesis-aggregation deaggregators use.
func kplMessage(data []byte) (msg []byte, aggregated bool, err error) {
	if len(data) <= len(kplMagic)+md5.Size || !bytes.HasPrefix(data, kplMagic) {
		return nil, false, nil
	}
	body := data[len(kplMagic):]
	msg, digest := body[:len(body)-md5.Size], body[len(body)-md5.Size:]
	if sum := md5.Sum(msg); !bytes.Equal(sum[:], digest) {
		return nil, true, errors.New("md5 mismatch")
	}
	return msg, true, nil
}

// expand builds the user records of msg, the protobuf message inside parent's data.
func expand(parent batch.KinesisEventRecord, msg []byte) ([]batch.KinesisEventRecord, error) {
	c, err := countAggregate(msg)
	if err != nil {
		return nil, fmt.Errorf("bad protobuf: %w", err)
	}
	if c.records == 0 {
		return nil, errors.New("no user records")
	}
	var a kplStrings
	a.grow(c, parent.EventID)
	pks, ehks := a.tables(msg, c)
	return userRecords(parent, msg, c.records, pks, ehks, &a)
}

// kplCounts sizes the allocations for one aggregate.
type kplCounts struct {
	pks, ehks, records int
	keyBytes           int // total length of both key tables
}

// countAggregate checks the top-level structure of msg and counts its parts, so the
// output, the key tables and their strings can each be allocated once. Tables may in
// principle follow the records, so they are read in a pass of their own.
func countAggregate(msg []byte) (kplCounts, error) {
	var c kplCounts
	for len(msg) > 0 {
		f, rest, err := nextField(msg)
		if err != nil {
			return c, err
		}
		msg = rest
		switch f.num {
		case aggPartitionKeyTable, aggHashKeyTable, aggRecords:
			if err := f.want(protowire.BytesType); err != nil {
				return c, err
			}
		}
		switch f.num {
		case aggPartitionKeyTable:
			c.pks++
			c.keyBytes += len(f.bytes)
		case aggHashKeyTable:
			c.ehks++
			c.keyBytes += len(f.bytes)
		case aggRecords:
			c.records++
		}
	}
	return c, nil
}

// userRecords walks the records of msg, already checked by countAggregate, building
// one output record each.
func userRecords(parent batch.KinesisEventRecord, msg []byte, n int, pks, ehks []string, a *kplStrings) ([]batch.KinesisEventRecord, error) {
	out := make([]batch.KinesisEventRecord, 0, n)
	subs := make([]uint64, n) // one allocation behind every SubSequenceNumber pointer
	for len(msg) > 0 {
		f, rest, _ := nextField(msg)
		msg = rest
		if f.num != aggRecords {
			continue
		}
		i := len(out)
		u, err := parseUserRecord(f.bytes, pks, ehks)
		if err != nil {
			return nil, fmt.Errorf("user record %d: %w", i, err)
		}
		rec := parent
		rec.EventID = a.eventID(parent.EventID, i)
		rec.Kinesis.PartitionKey = u.PartitionKey
		rec.Kinesis.ExplicitHashKey = u.ExplicitHashKey
		rec.Kinesis.Data = u.Data
		rec.Kinesis.AggregationError = ""
		subs[i] = uint64(i)
		rec.Kinesis.SubSequenceNumber = &subs[i]
		out = append(out, rec)
	}
	return out, nil
}

// parseUserRecord decodes one batch.Record message, resolving its key indexes.
func parseUserRecord(b []byte, pks, ehks []string) (UserRecord, error) {
	var u UserRecord
	var pk, ehk uint64
	var hasPK, hasEHK, hasData bool
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return u, fmt.Errorf("bad protobuf: %w", err)
		}
		b = rest
		switch f.num {
		case recPartitionKeyIndex:
			pk, hasPK, err = f.varintValue()
		case recHashKeyIndex:
			ehk, hasEHK, err = f.varintValue()
		case recData:
			err = f.want(protowire.BytesType)
			u.Data, hasData = slices.Clip(f.bytes), true
		}
		if err != nil {
			return u, fmt.Errorf("bad protobuf: %w", err)
		}
	}
	switch {
	case !hasPK:
		return u, errors.New("bad protobuf: missing partition_key_index")
	case !hasData:
		return u, errors.New("bad protobuf: missing data")
	case pk >= uint64(len(pks)):
		return u, fmt.Errorf("partition key index %d out of range (%d keys)", pk, len(pks))
	case hasEHK && ehk >= uint64(len(ehks)):
		return u, fmt.Errorf("explicit hash key index %d out of range (%d keys)", ehk, len(ehks))
	}
	u.PartitionKey = pks[pk]
	if hasEHK {
		u.ExplicitHashKey = ehks[ehk]
	}
	return u, nil
}

// kplField is one decoded protobuf field: bytes for length-delimited fields, varint
// for varints, neither for the types the format does not use (skipped).
type kplField struct {
	num    protowire.Number
	typ    protowire.Type
	bytes  []byte
	varint uint64
}

func nextField(b []byte) (kplField, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return kplField{}, nil, wireError(n)
	}
	b = b[n:]
	f := kplField{num: num, typ: typ}
	switch typ {
	case protowire.BytesType:
		f.bytes, n = protowire.ConsumeBytes(b)
	case protowire.VarintType:
		f.varint, n = protowire.ConsumeVarint(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return f, nil, fmt.Errorf("field %d: %w", num, wireError(n))
	}
	return f, b[n:], nil
}

// wireError describes a protowire error code. protobuf-go prefixes its messages with
// "proto:" and a space it randomly makes non-breaking, to stop callers matching them;
// AggregationError is read by people and compared in tests, so the prefix goes.
func wireError(n int) error {
	err := protowire.ParseError(n)
	msg, ok := strings.CutPrefix(err.Error(), "proto:")
	if !ok {
		return err
	}
	return errors.New(strings.TrimLeftFunc(msg, unicode.IsSpace))
}

// want rejects a known field with the wrong wire type. Generic protobuf decoders
// would treat it as an unknown field; no KPL writes one, so the aggregate is suspect
// and is better kept whole.
func (f kplField) want(typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("field %d has wire type %d, want %d", f.num, f.typ, typ)
	}
	return nil
}

func (f kplField) varintValue() (uint64, bool, error) {
	return f.varint, true, f.want(protowire.VarintType)
}

// kplStrings holds every string of one aggregate (key tables and event IDs) in a
// single allocation: each string is a slice of the builder's buffer, which never
// moves because it is sized up front and is only ever appended to.
type kplStrings struct{ b strings.Builder }

// grow sizes the buffer for the key tables and one event ID per user record.
func (a *kplStrings) grow(c kplCounts, parentID string) {
	ids := 0
	if parentID != "" {
		ids = c.records*(len(parentID)+1) + digitsBelow(c.records)
	}
	a.b.Grow(c.keyBytes + ids)
}

func (a *kplStrings) add(p []byte) string {
	start := a.b.Len()
	a.b.Write(p)
	return a.b.String()[start:]
}

// tables reads both key tables of msg, already checked by countAggregate.
func (a *kplStrings) tables(msg []byte, c kplCounts) (pks, ehks []string) {
	keys := make([]string, 0, c.pks+c.ehks)
	pks, ehks = keys[:0:c.pks], keys[c.pks:c.pks]
	for len(msg) > 0 {
		f, rest, _ := nextField(msg)
		msg = rest
		switch f.num {
		case aggPartitionKeyTable:
			pks = append(pks, a.add(f.bytes))
		case aggHashKeyTable:
			ehks = append(ehks, a.add(f.bytes))
		}
	}
	return pks, ehks
}

// eventID makes each user record's eventID unique. Lambda's eventID is
// "<shardId>:<sequenceNumber>"; Lambda never de-aggregates, and the KCL identifies a
// user record by (sequence number, subsequence number) with no eventID at all, while
// the awslabs deaggregators copy the parent's eventID, so user records of one
// aggregate collide. Appending ":<subSequenceNumber>" keeps them apart and leaves the
// first two colon-separated parts reading as shard and sequence number. A parent
// without an eventID gives user records without one.
func (a *kplStrings) eventID(parentID string, i int) string {
	if parentID == "" {
		return ""
	}
	var digits [20]byte
	start := a.b.Len()
	a.b.WriteString(parentID)
	a.b.WriteByte(':')
	a.b.Write(strconv.AppendUint(digits[:0], uint64(i), 10))
	return a.b.String()[start:]
}

// digitsBelow is the number of decimal digits needed to write 0 … n-1.
func digitsBelow(n int) int {
	total := 0
	for lo, hi, d := 0, 10, 1; lo < n; lo, hi, d = hi, hi*10, d+1 {
		total += (min(n, hi) - lo) * d
	}
	return total
}

// Aggregate encodes records as one KPL aggregated record's data, with deduplicated
// key tables as the KPL writes them. streamdlq never aggregates: this is the wire
// format encoder the tests and the demo use to put aggregated records on a stream.
func Aggregate(records []UserRecord) []byte {
	pks := keyTable{field: aggPartitionKeyTable, index: map[string]uint64{}}
	ehks := keyTable{field: aggHashKeyTable, index: map[string]uint64{}}
	var recs, rec []byte
	for _, u := range records {
		rec = protowire.AppendTag(rec[:0], recPartitionKeyIndex, protowire.VarintType)
		rec = protowire.AppendVarint(rec, pks.indexOf(u.PartitionKey))
		if u.ExplicitHashKey != "" {
			rec = protowire.AppendTag(rec, recHashKeyIndex, protowire.VarintType)
			rec = protowire.AppendVarint(rec, ehks.indexOf(u.ExplicitHashKey))
		}
		rec = protowire.AppendTag(rec, recData, protowire.BytesType)
		rec = protowire.AppendBytes(rec, u.Data)
		recs = protowire.AppendTag(recs, aggRecords, protowire.BytesType)
		recs = protowire.AppendBytes(recs, rec)
	}
	msg := slices.Concat(pks.wire, ehks.wire, recs)
	sum := md5.Sum(msg)
	return slices.Concat(kplMagic, msg, sum[:])
}

// keyTable is one of the aggregate's key tables being written.
type keyTable struct {
	field protowire.Number
	index map[string]uint64
	wire  []byte
}

func (t *keyTable) indexOf(key string) uint64 {
	if i, ok := t.index[key]; ok {
		return i
	}
	i := uint64(len(t.index))
	t.index[key] = i
	t.wire = protowire.AppendTag(t.wire, t.field, protowire.BytesType)
	t.wire = protowire.AppendString(t.wire, key)
	return i
}
