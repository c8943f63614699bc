package stream

import "strings"

// ValidSequence reports whether s is a sequence number: 1 to 128 decimal digits.
// Kinesis sequence numbers are up to 128 bits (at most 39 digits); the looser bound
// keeps room for DynamoDB's and for the emulators' formats while refusing absurd input.
func ValidSequence(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CompareSequence compares two sequence numbers as numbers, returning -1, 0 or +1.
// Both must satisfy ValidSequence. Comparing the strings directly is wrong as soon as
// their lengths differ ("9" > "10"), which happens across shards and after resharding.
func CompareSequence(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return strings.Compare(a, b)
}
