package kinesislimit

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Per-shard write limits of Kinesis.
const (
	RecordsPerSecond = 1000
	BytesPerSecond   = 1 << 20
)

// Shard is a shard's hash key range, inclusive.
type Shard struct {
	ID         string
	Start, End *big.Int
}

// EvenShards splits the 128-bit hash key space evenly into n shards, as CreateStream
// does, naming them shardId-000000000000 onwards. kinesis-local splits a little
// differently: against it, build the shards from ListShards with ParseShard.
func EvenShards(n int) []Shard {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	step := new(big.Int).Div(space, big.NewInt(int64(n)))
	out := make([]Shard, n)
	for i := range out {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		end := new(big.Int).Add(start, step)
		end.Sub(end, big.NewInt(1))
		if i == n-1 {
			end.Sub(space, big.NewInt(1))
		}
		out[i] = Shard{ID: fmt.Sprintf("shardId-%012d", i), Start: start, End: end}
	}
	return out
}

// Event is one admission decision, kept for measurements.
type Event struct {
	At       time.Time
	Shard    int
	Bytes    int
	Admitted bool
}

// Limiter holds each shard to its write limit over a sliding one-second window. It is
// safe for concurrent use.
type Limiter struct {
	clock  clock.Clock
	shards []Shard
	mu     sync.Mutex
	window []window // per shard
	events []Event
}

// window is a shard's admitted records of the last second, oldest first.
type window struct {
	admitted []Event
	bytes    int
}

// NewLimiter returns a Limiter for shards (sorted by Start, covering the key space),
// reading time from c (the wall clock when nil).
func NewLimiter(shards []Shard, c clock.Clock) *Limiter {
	if c == nil {
		c = clock.Real
	}
	sorted := append([]Shard(nil), shards...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Cmp(sorted[j].Start) < 0 })
	return &Limiter{clock: c, shards: sorted, window: make([]window, len(sorted))}
}

// ShardOf returns the index of the shard a record goes to: its explicit hash key if it
// has one, else the MD5 of its partition key as a 128-bit number.
func (l *Limiter) ShardOf(partitionKey, explicitHashKey string) int {
	h, ok := new(big.Int).SetString(explicitHashKey, 10)
	if !ok {
		sum := md5.Sum([]byte(partitionKey))
		h = new(big.Int).SetBytes(sum[:])
	}
	i := sort.Search(len(l.shards), func(i int) bool { return l.shards[i].End.Cmp(h) >= 0 })
	return min(i, len(l.shards)-1)
}

// Admit decides whether a record of size bytes (data plus partition key) fits its
// shard's window now, and counts it if so. It returns the shard's ID.
func (l *Limiter) Admit(partitionKey, explicitHashKey string, size int) (string, bool) {
	s := l.ShardOf(partitionKey, explicitHashKey)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	w := &l.window[s]
	for len(w.admitted) > 0 && !w.admitted[0].At.After(now.Add(-time.Second)) {
		w.bytes -= w.admitted[0].Bytes
		w.admitted = w.admitted[1:]
	}
	e := Event{At: now, Shard: s, Bytes: size}
	e.Admitted = len(w.admitted) < RecordsPerSecond && w.bytes+size <= BytesPerSecond
	if e.Admitted {
		w.admitted = append(w.admitted, e)
		w.bytes += size
	}
	l.events = append(l.events, e)
	return l.shards[s].ID, e.Admitted
}

// Events returns a copy of every decision so far, in order.
func (l *Limiter) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// Shards is the number of shards.
func (l *Limiter) Shards() int { return len(l.shards) }

// ParseShard builds a Shard from ListShards' decimal hash key range.
func ParseShard(id, start, end string) (Shard, error) {
	s := Shard{ID: id, Start: new(big.Int), End: new(big.Int)}
	_, ok1 := s.Start.SetString(start, 10)
	_, ok2 := s.End.SetString(end, 10)
	if !ok1 || !ok2 {
		return s, fmt.Errorf("kinesislimit: shard %s: bad hash key range %q-%q", id, start, end)
	}
	return s, nil
}
