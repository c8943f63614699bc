package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
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
