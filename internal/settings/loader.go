package settings

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Loader reads settings through a lookup func (os.LookupEnv in main), collecting an
// error for each bad or missing variable.
type Loader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// NewLoader returns a Loader reading through lookup.
func NewLoader(lookup func(string) (string, bool)) *Loader { return &Loader{lookup: lookup} }

// String returns the trimmed value, or the default when it is empty.
func (l *Loader) String(s Setting) string {
	v, _ := l.lookup(s.Env)
	if v = strings.TrimSpace(v); v == "" {
		return s.Default
	}
	return v
}

// Bool returns a Bool setting's value; false when unset.
func (l *Loader) Bool(s Setting) bool {
	v := l.String(s)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.Fail(s, fmt.Errorf("%q is not true or false", v))
	}
	return b
}

// Number returns a Number setting's value; 0 when unset.
func (l *Loader) Number(s Setting) float64 {
	v := l.String(s)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < s.Min || f > s.Max {
		l.Fail(s, fmt.Errorf("%q is not a number in [%g, %g]", v, s.Min, s.Max))
		return 0
	}
	return f
}

// Required returns the value, reporting the variable when it is empty.
func (l *Loader) Required(s Setting) string {
	v := l.String(s)
	if v == "" {
		l.errs = append(l.errs, errors.New(s.Env+" is not set"))
	}
	return v
}

// Fail reports err as the setting's problem.
func (l *Loader) Fail(s Setting, err error) {
	l.errs = append(l.errs, fmt.Errorf("%s: %w", s.Env, err))
}

// Err returns every problem found so far, joined; nil if none.
func (l *Loader) Err() error { return errors.Join(l.errs...) }
