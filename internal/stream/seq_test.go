package stream

import "testing"

func TestCompareSequence(t *testing.T) {
	cases := map[string]struct {
		a, b string
		want int
	}{
		"equal":                {"49601189658422359378836298521827638475320189012309704722", "49601189658422359378836298521827638475320189012309704722", 0},
		"shorter is smaller":   {"9", "10", -1},
		"longer is larger":     {"100000000000000000000", "99999999999999999999", 1},
		"leading zeros ignore": {"000000000000000000001", "1", 0},
		"same length":          {"49601189658422359378836298522902373528957594348623495186", "49601189658422359378836298521827638475320189012309704722", 1},
		"zero":                 {"0", "000", 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CompareSequence(c.a, c.b); got != c.want {
				t.Errorf("CompareSequence(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
			}
			if got := CompareSequence(c.b, c.a); got != -c.want {
				t.Errorf("CompareSequence(%s, %s) = %d, want %d", c.b, c.a, got, -c.want)
			}
		})
	}
}

func TestValidSequence(t *testing.T) {
	cases := map[string]bool{
		"1": true, "49601189658422359378836298521827638475320189012309704722": true,
		"": false, "-1": false, "1e5": false, " 1": false, "１": false,
	}
	for in, want := range cases {
		if got := ValidSequence(in); got != want {
			t.Errorf("ValidSequence(%q) = %v, want %v", in, got, want)
		}
	}
}
