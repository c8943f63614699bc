package awsenv

import (
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	cases := map[string]struct {
		env    map[string]string
		want   int64
		wantOK bool
	}{
		"128 MB":             {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, want: 107374182, wantOK: true},
		"1769 MB":            {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"}, want: 1483944755, wantOK: true},
		"10240 MB":           {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}, want: 8589934592, wantOK: true},
		"GOMEMLIMIT set":     {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "64MiB"}},
		"GOMEMLIMIT off":     {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "off"}},
		"GOMEMLIMIT empty":   {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": ""}, want: 107374182, wantOK: true},
		"not in Lambda":      {env: map[string]string{}},
		"not a number":       {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128MB"}},
		"zero":               {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}},
		"negative":           {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "-128"}},
		"overflowing number": {env: map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "9223372036854775807"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := MemoryLimit(lookupIn(tc.env))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %d %v, want %d %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	if got := SetMemoryLimit(lookupIn(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"})); got != 214748364 {
		t.Errorf("got %d, want %d", got, 214748364)
	}
	if got := debug.SetMemoryLimit(-1); got != 214748364 {
		t.Errorf("runtime limit: got %d, want %d", got, 214748364)
	}
	debug.SetMemoryLimit(before)
	if got := SetMemoryLimit(lookupIn(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "GOMEMLIMIT": "1GiB"})); got != 0 {
		t.Errorf("with GOMEMLIMIT: got %d, want 0", got)
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT, runtime limit: got %d, want it untouched (%d)", got, before)
	}
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}
