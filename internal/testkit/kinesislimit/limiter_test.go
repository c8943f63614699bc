package kinesislimit

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

func TestLimiterWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := map[string]struct {
		size      int
		perStep   int
		steps     int
		step      time.Duration
		wantAdmit int
	}{
		"records: 1,000 in one instant":   {size: 10, perStep: 1500, steps: 1, wantAdmit: 1000},
		"records: window slides":          {size: 10, perStep: 1000, steps: 3, step: 1001 * time.Millisecond, wantAdmit: 3000},
		"records: half a second is not":   {size: 10, perStep: 800, steps: 2, step: 500 * time.Millisecond, wantAdmit: 1000},
		"bytes: 1 MiB in one instant":     {size: 100 << 10, perStep: 20, steps: 1, wantAdmit: 10},
		"bytes: slides like records do":   {size: 100 << 10, perStep: 20, steps: 2, step: 1001 * time.Millisecond, wantAdmit: 20},
		"a record of exactly 1 MiB fits":  {size: 1 << 20, perStep: 2, steps: 1, wantAdmit: 1},
		"a record over 1 MiB never fits":  {size: 1<<20 + 1, perStep: 1, steps: 1, wantAdmit: 0},
		"steady 900 per second all admit": {size: 10, perStep: 90, steps: 50, step: 100 * time.Millisecond, wantAdmit: 4500},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			sim := testkit.NewSimClock(t0)
			l := NewLimiter(EvenShards(1), sim)
			admitted := 0
			for s := range tt.steps {
				if s > 0 {
					sim.Advance(tt.step)
				}
				for range tt.perStep {
					if _, ok := l.Admit("k", "", tt.size); ok {
						admitted++
					}
				}
			}
			if admitted != tt.wantAdmit {
				t.Errorf("got %d admitted, want %d", admitted, tt.wantAdmit)
			}
			if got := len(l.Events()); got != tt.perStep*tt.steps {
				t.Errorf("got %d events, want %d", got, tt.perStep*tt.steps)
			}
		})
	}
}

func TestShardOf(t *testing.T) {
	l := NewLimiter(EvenShards(4), nil)
	quarter := new(big.Int).Lsh(big.NewInt(1), 126)
	tests := map[string]struct {
		key, ehk string
		want     int
	}{
		"explicit hash key 0":         {key: "x", ehk: "0", want: 0},
		"explicit hash key, 2nd":      {key: "x", ehk: quarter.String(), want: 1},
		"explicit hash key, last":     {key: "x", ehk: new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)).String(), want: 3},
		"partition key md5":           {key: "a", want: md5Quarter("a")},
		"partition key md5, another":  {key: "order-17", want: md5Quarter("order-17")},
		"bad explicit hash key → md5": {key: "a", ehk: "nope", want: md5Quarter("a")},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := l.ShardOf(tt.key, tt.ehk); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// md5Quarter is the quarter of the key space the key's MD5 falls in: its top 2 bits.
func md5Quarter(key string) int {
	sum := md5.Sum([]byte(key))
	return int(sum[0] >> 6)
}

func TestEvenShards(t *testing.T) {
	for _, n := range []int{1, 3, 4} {
		shards := EvenShards(n)
		next := big.NewInt(0)
		for _, s := range shards {
			if s.Start.Cmp(next) != 0 {
				t.Fatalf("%d shards: %s starts at %s, want %s", n, s.ID, s.Start, next)
			}
			next = new(big.Int).Add(s.End, big.NewInt(1))
		}
		if want := new(big.Int).Lsh(big.NewInt(1), 128); next.Cmp(want) != 0 {
			t.Errorf("%d shards: got end %s, want %s", n, next, fmt.Sprint(want))
		}
	}
}
