package template

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/internal/settings"
)

// Each function's Environment sets exactly the settings it reads.
func TestEnvironmentMatchesSettings(t *testing.T) {
	tests := map[string]struct {
		function string
		reader   settings.Function
	}{
		"hydrate": {"HydrateFunction", settings.Hydrate},
		"redrive": {"RedriveFunction", settings.Redrive},
	}
	tpl := loadTemplate(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			vars := mustGet(t, tpl, "Resources", tc.function, "Properties", "Environment", "Variables")
			var got []string
			for i := 0; i+1 < len(vars.Content); i += 2 {
				got = append(got, vars.Content[i].Value)
			}
			want := envNames(settings.ReadBy(tc.reader))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s Environment: got %v, want %v", tc.function, got, want)
			}
		})
	}
}

// A template parameter that feeds a setting defaults to the setting's own default, and
// stays within a number's bounds.
func TestParametersMatchSettingDefaults(t *testing.T) {
	tpl := loadTemplate(t)
	for _, s := range settings.All() {
		for _, fn := range []string{"HydrateFunction", "RedriveFunction"} {
			v := get(tpl, "Resources", fn, "Properties", "Environment", "Variables", s.Env)
			if v == nil || v.Tag != "!Ref" {
				continue
			}
			p := get(tpl, "Parameters", v.Value)
			if p == nil {
				continue // a resource, not a parameter
			}
			if def := get(p, "Default"); s.Default != "" && (def == nil || def.Value != s.Default) {
				t.Errorf("parameter %s (%s): got Default %s, want %s", v.Value, s.Env, short(def), s.Default)
			}
			if hi := get(p, "MaxValue"); s.Type == settings.Number && hi != nil {
				if max, err := strconv.ParseFloat(hi.Value, 64); err != nil || max > s.Max {
					t.Errorf("parameter %s (%s): got MaxValue %s, want at most %g", v.Value, s.Env, hi.Value, s.Max)
				}
			}
		}
	}
}

var (
	readmeRow  = regexp.MustCompile("(?m)^\\| (`[A-Z][A-Z0-9_]*`[^|]*)\\| (\\w+) \\|")
	readmeName = regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
)

// The README's Configuration table lists every setting once, with who reads it.
func TestReadmeTableMatchesSettings(t *testing.T) {
	usedBy := map[string]settings.Function{"hydrate": settings.Hydrate, "redrive": settings.Redrive, "both": settings.Hydrate | settings.Redrive}
	got := map[string]settings.Function{}
	for _, m := range readmeRow.FindAllStringSubmatch(readRepoFile(t, "README.md"), -1) {
		for _, n := range readmeName.FindAllStringSubmatch(m[1], -1) {
			if _, dup := got[n[1]]; dup {
				t.Errorf("README lists %s twice", n[1])
			}
			got[n[1]] = usedBy[m[2]]
		}
	}
	for _, s := range settings.All() {
		if got[s.Env] != s.Readers {
			t.Errorf("README %s used by: got %v, want %v", s.Env, got[s.Env], s.Readers)
		}
		delete(got, s.Env)
	}
	for name := range got {
		t.Errorf("README lists %s, which is not a setting", name)
	}
}

var envName = regexp.MustCompile(`\bSTREAMDLQ_[A-Z0-9_]*[A-Z0-9]\b`)

// harnessVars are read by the test harness, not by a function.
var harnessVars = []string{"STREAMDLQ_LOCALAWS", "STREAMDLQ_NETNS", "STREAMDLQ_BENCH_GOMEMLIMIT", "STREAMDLQ_BENCH_BASELINE_BOOTSTRAP",
	// The local Apache Kafka's listeners and credentials (scripts/localaws.sh). None may
	// be a setting's name: the harness exports them to every test, and a function under
	// test reading its settings from the environment would take them for configuration.
	"STREAMDLQ_KAFKA_BROKERS", "STREAMDLQ_KAFKA_SCRAM_BROKERS", "STREAMDLQ_KAFKA_SCRAM_USER", "STREAMDLQ_KAFKA_SCRAM_PASSWORD",
	"STREAMDLQ_KAFKA_TLS_BROKERS", "STREAMDLQ_KAFKA_TLS_BROKERS_CA", "STREAMDLQ_KAFKA_MTLS_BROKERS", "STREAMDLQ_KAFKA_MTLS_CERT", "STREAMDLQ_KAFKA_MTLS_KEY"}

// One name means one thing: no harness variable is also a setting.
func TestHarnessVariablesAreNoSettings(t *testing.T) {
	for _, s := range settings.All() {
		if slices.Contains(harnessVars, s.Env) {
			t.Errorf("%s is both a setting and a harness variable", s.Env)
		}
	}
}

// Every STREAMDLQ_* name in a Go string literal anywhere in the module, tests
// included, is a declared setting: a misspelt variable is read as unset, silently.
func TestNoUndeclaredVariables(t *testing.T) {
	declared := append(envNames(settings.All()), harnessVars...)
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != repo && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules"):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go"):
			return nil
		}
		for _, name := range envNamesIn(t, path) {
			if !slices.Contains(declared, name) {
				t.Errorf("%s: %s is not a declared setting (internal/settings)", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func envNamesIn(t *testing.T, file string) []string {
	parsed, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	var names []string
	ast.Inspect(parsed, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			names = append(names, envName.FindAllString(s, -1)...)
		}
		return true
	})
	return names
}

func envNames(ss []settings.Setting) []string {
	var names []string
	for _, s := range ss {
		names = append(names, s.Env)
	}
	slices.Sort(names)
	return names
}
