package archive

import "unicode/utf8"

// The quoting below is the one hot loop both encoders share: every string field and
// every DynamoDB attribute name and value passes through it. It checks eight bytes at
// a time for anything encoding/json would escape, and copies runs that need none.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipPlain steps from i through s eight bytes at a time and returns the first
// position whose eight bytes are not all written as they are, or the first from
// which fewer than eight remain. A byte needs a look when it is a control
// character, part of a multi-byte UTF-8 sequence, or one of " \ < > &. Each "is
// there such a byte" test is exact, though not where: a borrow only runs past a
// byte that is itself a hit.
func skipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8]
		x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		m := (x - ones*0x20) &^ x // bytes < 0x20
		m |= x                    // bytes >= 0x80
		v := x ^ (ones * '"')
		m |= (v - ones) &^ v
		v = x ^ (ones * '\\')
		m |= (v - ones) &^ v
		v = x ^ (ones * '<')
		m |= (v - ones) &^ v
		v = x ^ (ones * '>')
		m |= (v - ones) &^ v
		v = x ^ (ones * '&')
		m |= (v - ones) &^ v
		if m&highs != 0 {
			return i
		}
	}
	return i
}

// plainASCII holds the ASCII bytes written as they are.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping on: <, > and & and
// control characters as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
// Runs of plain bytes are found eight at a time and copied whole; the eight bytes
// where that finds something are then gone through one character at a time.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		i = skipPlain(s, i)
		for end := min(i+8, len(s)); i < end; {
			c := s[i]
			if c < utf8.RuneSelf {
				i++
				if !plainASCII[c] {
					b = appendEscape(append(b, s[start:i-1]...), c)
					start = i
				}
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(append(b, s[start:i]...), `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			default:
				i += size
				continue
			}
			i += size
			start = i
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
