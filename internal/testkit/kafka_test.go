package testkit

import (
	"net"
	"strings"
	"testing"
)

func TestKafkaBrokers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := closed.Addr().String()
	closed.Close()

	tests := map[string]struct {
		raw     string
		wantErr string
	}{
		"unset":        {raw: "", wantErr: "is not set"},
		"listening":    {raw: ln.Addr().String()},
		"one is down":  {raw: ln.Addr().String() + "," + down, wantErr: down},
		"not hostport": {raw: "nonsense", wantErr: "nonsense"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := kafkaBrokers(tt.raw)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one naming %q", err, tt.wantErr)
			case tt.wantErr == "" && strings.Join(got, ",") != tt.raw:
				t.Fatalf("got %v, want %v", got, tt.raw)
			}
		})
	}
}
