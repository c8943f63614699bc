package hydrate

import "testing"

func TestAllowlist(t *testing.T) {
	const (
		kin   = "arn:aws:kinesis:us-east-1:111122223333:stream/orders"
		ddb   = "arn:aws:dynamodb:us-east-1:111122223333:table/orders/stream/2024-01-01T00:00:00.000"
		other = "arn:aws:kinesis:us-east-1:444455556666:stream/orders"
	)
	cases := map[string]struct {
		list  Allowlist
		arn   string
		allow bool
	}{
		"exact":                   {mustAllow(t, kin), kin, true},
		"exact other stream":      {mustAllow(t, kin), kin + "2", false},
		"wildcard name":           {mustAllow(t, "arn:aws:kinesis:us-east-1:111122223333:stream/*"), kin, true},
		"wildcard other account":  {mustAllow(t, "arn:aws:kinesis:us-east-1:111122223333:stream/*"), other, false},
		"wildcard middle":         {mustAllow(t, "arn:aws:dynamodb:*:111122223333:table/*/stream/*"), ddb, true},
		"several patterns":        {mustAllow(t, "arn:aws:kinesis:*:444455556666:stream/x, "+kin), kin, true},
		"star allows all":         {mustAllow(t, "*"), other, true},
		"empty allows nothing":    {Allowlist{}, kin, false},
		"same account kinesis":    {SameAccount("aws", "us-east-1", "111122223333"), kin, true},
		"same account dynamodb":   {SameAccount("aws", "us-east-1", "111122223333"), ddb, true},
		"same account other acct": {SameAccount("aws", "us-east-1", "111122223333"), other, false},
		"same account other rgn":  {SameAccount("aws", "eu-west-1", "111122223333"), kin, false},
		"suffix must match":       {mustAllow(t, "arn:aws:kinesis:us-east-1:111122223333:stream/ord*s"), kin + "x", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.list.Allows(c.arn); got != c.allow {
				t.Errorf("Allows(%s) with %q = %v, want %v", c.arn, c.list, got, c.allow)
			}
		})
	}
}

func TestParseAllowlistRefusesNonARN(t *testing.T) {
	if _, err := ParseAllowlist("orders"); err == nil {
		t.Error("ParseAllowlist(orders) = nil error, want an error naming the pattern")
	}
}

func mustAllow(t *testing.T, s string) Allowlist {
	t.Helper()
	a, err := ParseAllowlist(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
