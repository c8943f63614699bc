package settings

import (
	"strconv"
	"strings"
	"testing"
)

func TestDeclarations(t *testing.T) {
	envs, flags := map[string]bool{}, map[string]bool{}
	for _, s := range All() {
		if envs[s.Env] || s.Flag != "" && flags[s.Flag] {
			t.Errorf("%s: variable or flag %q declared twice", s.Env, s.Flag)
		}
		envs[s.Env], flags[s.Flag] = true, true
		if want := FlagName(s.Env); s.Flag != "" && s.Flag != want {
			t.Errorf("%s flag: got --%s, want --%s (the README's rule)", s.Env, s.Flag, want)
		}
		if s.Help == "" || s.Readers == 0 {
			t.Errorf("%s: got no help or no reader", s.Env)
		}
		if s.Default == "" {
			continue
		}
		l := NewLoader(func(string) (string, bool) { return "", false })
		switch s.Type {
		case Bool:
			l.Bool(s)
		case Number:
			l.Number(s)
		}
		if err := l.Err(); err != nil {
			t.Errorf("%s default %q: %v", s.Env, s.Default, err)
		}
	}
}

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoader(t *testing.T) {
	l := NewLoader(lookupFrom(map[string]string{
		DLQURL.Env: "  http://q  ", Deaggregate.Env: "true", RedriveRate.Env: "12.5",
	}))
	if got := l.String(DLQURL); got != "http://q" {
		t.Errorf("String: got %q, want %q", got, "http://q")
	}
	if got := l.Bool(Deaggregate); !got {
		t.Errorf("Bool: got %v, want true", got)
	}
	if got := l.Number(RedriveRate); got != 12.5 {
		t.Errorf("Number: got %v, want 12.5", got)
	}
	if got, want := l.Number(RedriveShare), RedriveShare.Default; strconv.FormatFloat(got, 'g', -1, 64) != want {
		t.Errorf("Number unset: got %v, want the default %s", got, want)
	}
	if err := l.Err(); err != nil {
		t.Errorf("Err: got %v, want nil", err)
	}
}

func TestLoaderReportsEveryProblem(t *testing.T) {
	l := NewLoader(lookupFrom(map[string]string{Deaggregate.Env: "maybe", RedriveShare.Env: "2"}))
	l.Bool(Deaggregate)
	l.Number(RedriveShare)
	l.Required(DLQURL)
	err := l.Err()
	if err == nil {
		t.Fatal("got nil error, want one naming every bad variable")
	}
	for _, s := range []Setting{Deaggregate, RedriveShare, DLQURL} {
		if !strings.Contains(err.Error(), s.Env) {
			t.Errorf("error %q does not name %s", err, s.Env)
		}
	}
}
