package template

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

var envName = regexp.MustCompile(`\bSTREAMDLQ_[A-Z0-9_]*[A-Z0-9]\b`)

// envNamesInCode returns the STREAMDLQ_* names in the string literals of the non-test
// Go files under dirs: what a function reads from its environment.
func envNamesInCode(t *testing.T, dirs ...string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(repo, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			ast.Inspect(parsed, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					for _, name := range envName.FindAllString(s, -1) {
						seen[name] = true
					}
				}
				return true
			})
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// What the design names, and whatever the code reads, must reach each function.
func TestEnvironmentCoversConfig(t *testing.T) {
	tests := map[string]struct {
		function string
		design   []string
		code     []string
	}{
		"hydrate": {"HydrateFunction", []string{
			"STREAMDLQ_ALLOWED_STREAMS", "STREAMDLQ_ROLE_MAP", "STREAMDLQ_ARCHIVE_BUCKET", "STREAMDLQ_ARCHIVE_PREFIX",
			"STREAMDLQ_DLQ_URL", "STREAMDLQ_EVENT_BUS", "STREAMDLQ_KMS_KEY_ID", "STREAMDLQ_DEAGGREGATE", "AWS_LAMBDA_LOG_LEVEL",
		}, []string{"hydrate", "cmd/hydrate"}},
		"redrive": {"RedriveFunction", []string{
			"STREAMDLQ_DLQ_URL", "STREAMDLQ_ARCHIVE_BUCKET", "STREAMDLQ_ARCHIVE_PREFIX", "STREAMDLQ_PARKING_QUEUE_URL",
			"STREAMDLQ_REDRIVE_TARGETS", "STREAMDLQ_REDRIVE_RATE", "STREAMDLQ_REDRIVE_MAX_RATE", "STREAMDLQ_REDRIVE_MAX_BYTES",
			"STREAMDLQ_REDRIVE_SHARE", "STREAMDLQ_MAX_RECEIVE_COUNT", "AWS_LAMBDA_LOG_LEVEL",
		}, []string{"redrive", "cmd/redrive"}},
	}
	tpl := loadTemplate(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			vars := mustGet(t, tpl, "Resources", tc.function, "Properties", "Environment", "Variables")
			for _, v := range append(tc.design, envNamesInCode(t, tc.code...)...) {
				if get(vars, v) == nil {
					t.Errorf("%s Environment: got no %s, want it set", tc.function, v)
				}
			}
		})
	}
}

func TestSamconfig(t *testing.T) {
	cfg := readRepoFile(t, "samconfig.toml")
	for _, want := range []string{"version = 0.1", "[default.build.parameters]", "build_in_source = true",
		"use_container = false", "[default.deploy.parameters]", `capabilities = "CAPABILITY_IAM"`,
		"resolve_s3 = true", "confirm_changeset = true"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("samconfig.toml: got no %q", want)
		}
	}
	params := mustGet(t, loadTemplate(t), "Parameters")
	overrides := regexp.MustCompile(`(?m)^\s*"(\w+)=`).FindAllStringSubmatch(cfg, -1)
	if len(overrides) == 0 {
		t.Fatal("samconfig.toml: got no parameter_overrides entries")
	}
	for _, m := range overrides {
		if get(params, m[1]) == nil {
			t.Errorf("samconfig.toml overrides %s, which template.yaml does not declare", m[1])
		}
	}
}

// The dashboard body is JSON written by hand inside a !Sub: it must stay valid JSON
// and show every EMF metric the functions write.
func TestDashboardBody(t *testing.T) {
	body := mustGet(t, loadTemplate(t), "Resources", "Dashboard", "Properties", "DashboardBody")
	if body.Tag != "!Sub" || len(body.Content) != 2 {
		t.Fatalf("DashboardBody: want !Sub [body, variables]")
	}
	text := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body.Content[0].Value, "x")
	var dash struct {
		Widgets []json.RawMessage `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(text), &dash); err != nil || len(dash.Widgets) == 0 {
		t.Fatalf("DashboardBody: got %v with %d widgets, want valid JSON with widgets", err, len(dash.Widgets))
	}
	for _, m := range []string{"FailuresHydrated", "RecordsHydrated", "RecordsMissing", "BytesArchived",
		"ClaimChecks", "RedriveDelivered", "RedriveThrottled", "RedriveRate",
		"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} {
		if !strings.Contains(text, m) {
			t.Errorf("DashboardBody: got no %s", m)
		}
	}
}

// The redrive receives the schedule's Input; events/redrive-schedule.json must be
// that Input as Scheduler fills it in.
func TestScheduleInputMatchesSample(t *testing.T) {
	tpl := loadTemplate(t)
	input := mustGet(t, tpl, "Resources", "RedriveSchedule", "Properties", "Target", "Input").Value
	var fromTemplate, sample map[string]string
	if err := json.Unmarshal([]byte(input), &fromTemplate); err != nil {
		t.Fatalf("schedule Input: %v", err)
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "events/redrive-schedule.json")), &sample); err != nil {
		t.Fatalf("events/redrive-schedule.json: %v", err)
	}
	for k, v := range fromTemplate {
		got, ok := sample[k]
		if !ok || !strings.HasPrefix(v, "<aws.scheduler.") && got != v {
			t.Errorf("sample %s: got %q, want %q (or its filled-in value)", k, got, v)
		}
	}
	if len(sample) != len(fromTemplate) {
		t.Errorf("sample keys: got %d, want the template Input's %d", len(sample), len(fromTemplate))
	}
}
