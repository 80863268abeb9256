package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A plan in the shape `terraform show -json` writes: a collection replaced inside a module, an alert
// disabled, an image bump.
const reviewedPlan = `{"format_version":"1.2","terraform_version":"1.5.7","planned_values":{"root_module":{}},
"resource_changes":[
 {"address":"module.data.alfred_qdrant_collection.memory","module_address":"module.data","mode":"managed",
  "type":"alfred_qdrant_collection","name":"memory","action_reason":"replace_because_cannot_update",
  "change":{"actions":["delete","create"],"before":{"name":"memory"},"after":{"name":"memory"},
  "after_unknown":{},"before_sensitive":{},"after_sensitive":{},"replace_paths":[["vectors"]]}},
 {"address":"alfred_alert_policy.bot","mode":"managed","type":"alfred_alert_policy","name":"bot",
  "change":{"actions":["update"],"before":{"enabled":true},"after":{"enabled":false},
  "after_unknown":{},"before_sensitive":{},"after_sensitive":{}}},
 {"address":"alfred_agent_service.bot","mode":"managed","type":"alfred_agent_service","name":"bot",
  "change":{"actions":["update"],"before":{"image":"a:1"},"after":{"image":"a:2"},
  "after_unknown":{},"before_sensitive":{},"after_sensitive":{}}}]}`

func TestPlanReview_exitCodesAndFormats(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(plan, []byte(reviewedPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	quiet := filepath.Join(dir, "quiet.json")
	if err := os.WriteFile(quiet, []byte(strings.Replace(strings.Replace(reviewedPlan, `"delete","create"`, `"no-op"`, 1),
		`"after":{"enabled":false}`, `"after":{"enabled":true}`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(state, []byte(`{"format_version":"1.0","values":{"root_module":{}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		out  []string
	}{
		{[]string{"plan", "review", plan}, 0, []string{"plan review: 1 high, 1 medium, 1 info in 3 resource changes",
			"HIGH    module.data.alfred_qdrant_collection.memory", "[stateful-replaced]"}},
		{[]string{"plan", "review", plan, "--fail-on", "high", "--format", "markdown"}, 2, []string{
			"### alfredctl plan review: 1 high", "| 🔴 high | `module.data.alfred_qdrant_collection.memory` |", "<details>"}},
		{[]string{"plan", "review", plan, "--fail-on", "medium"}, 2, nil},
		{[]string{"plan", "review", quiet, "--fail-on", "medium"}, 0, []string{"0 high, 0 medium, 1 info"}},
		{[]string{"plan", "review", state}, 1, nil},
		{[]string{"plan", "review", filepath.Join(dir, "missing.json")}, 1, nil},
		{[]string{"plan", "review", plan, "--fail-on", "info"}, 1, nil},
		{[]string{"plan", "review", plan, "--format", "html"}, 1, nil},
	}
	for _, tc := range cases {
		out, _, err := runCLI(t, tc.args...)
		code := 0
		if err != nil {
			code = exitCode(err)
		}
		if code != tc.code {
			t.Errorf("alfredctl %v: exit code %d (%v), want %d\n%s", tc.args, code, err, tc.code, out)
		}
		for _, want := range tc.out {
			if !strings.Contains(out, want) {
				t.Errorf("alfredctl %v: output lacks %q:\n%s", tc.args, want, out)
			}
		}
	}
}
