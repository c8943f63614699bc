package template

import (
	"os/exec"
	"strings"
	"testing"
)

// The Lambda bootstraps are the product: nothing of the harness (internal/testkit, test/,
// the demo) may be linked into them, so a fault injector or a fake can never ship.
func TestBootstrapsLinkNoHarness(t *testing.T) {
	const module = "github.com/streamdlq/streamdlq/"
	harness := []string{module + "internal/testkit", module + "test/", module + "cmd/demo"}
	for _, cmd := range []string{"../../cmd/hydrate", "../../cmd/redrive"} {
		t.Run(cmd, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", cmd).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", cmd, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 || !strings.Contains(string(out), module+"hydrate") && !strings.Contains(string(out), module+"redrive") {
				t.Fatalf("go list -deps %s listed %d packages, none of ours: the check would see nothing", cmd, len(deps))
			}
			for _, dep := range deps {
				for _, h := range harness {
					if strings.HasPrefix(dep, h) {
						t.Errorf("%s links %s, a harness package", cmd, dep)
					}
				}
			}
		})
	}
}
