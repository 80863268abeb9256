package provider_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/provider"
)

// Cross-check of robustness_test.go through the real Terraform 1.5.7 CLI and the built provider: garbage
// that the protocol-level test finds refused is refused by `terraform validate` with the attribute's line
// quoted, and garbage accepted on purpose validates.
func TestAccSchemaRobustness_terraformAgrees(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: runs the Terraform CLI")
	}
	cli := acctest.NewCLI(t)
	validate := func(config string, ok []int) string {
		dir := t.TempDir()
		config = `terraform {
  required_providers {
    alfred = { source = "` + provider.Address + `" }
  }
}
` + config
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		_, out := cli.Run(t, dir, ok, "validate", "-no-color")
		return out
	}
	out := validate(`
resource "alfred_agent_service" "image" {
  name  = "bot"
  image = "NOT_A_VALUE"
}
resource "alfred_agent_service" "probe" {
  name  = "bot2"
  image = "example.com/bot:1"
  liveness_probe = {
    http_get       = { path = "/healthz" }
    period_seconds = 0
  }
}
resource "alfred_qdrant_collection" "timeouts" {
  name    = "c"
  vectors = { "" = { size = 4, distance = "Cosine" } }
  timeouts {
    create = "-5m"
  }
}
resource "alfred_alert_policy" "project" {
  project      = ""
  display_name = "a"
  severity     = "ERROR"
  condition {
    preset  = "cpu"
    service = "bot"
  }
}
`, []int{1})
	for _, want := range []struct{ summary, line string }{ // line: the attribute's line, or the words that name it
		{"Invalid container image", `image = "NOT_A_VALUE"`},
		// Terraform 1.5.7 quotes the resource's line for a path inside an object value; the detail names it.
		{"Invalid Attribute Value", `Attribute liveness_probe.period_seconds value must be between 1 and 3600`},
		{"Timeout must be positive", `create = "-5m"`},
		{"Invalid Attribute Value Match", `project      = ""`},
	} {
		re := regexp.MustCompile(`(?s)Error: ` + regexp.QuoteMeta(want.summary) + `\n.*?` + regexp.QuoteMeta(want.line))
		if !re.MatchString(out) {
			t.Errorf("validate must refuse %q quoting its line:\n%s", want.line, out)
		}
	}
	if n := strings.Count(out, "Error: "); n != 4 {
		t.Errorf("want exactly the 4 errors, got %d:\n%s", n, out)
	}

	// Accepted on purpose (acceptedOnPurpose): free text, zero warm instances, the unnamed default vector.
	validate(`
resource "alfred_rbac_role" "r" {
  name        = "r"
  description = "   ünïcødé ✗"
}
resource "alfred_agent_service" "a" {
  name          = "bot"
  image         = "example.com/bot:1"
  min_instances = 0
  env           = { MODE = "" }
}
resource "alfred_qdrant_collection" "c" {
  name    = "c"
  vectors = { "" = { size = 4, distance = "Cosine" } }
}
`, []int{0})
}
