package qdrant_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/provider"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// A replacement is planned only for what Qdrant cannot change in place, and the plan says why: the
// attribute is marked "forces replacement" and a warning names it and what is lost. Run through the real
// Terraform CLI, as a reviewer reads the plan.
func TestAccQdrantCollection_replacementPlanSaysWhy(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	cli := acctest.NewCLI(t)
	dir := t.TempDir()
	write := func(size, m string) {
		cfg := c.provider() + `
terraform {
  required_providers {
    alfred = { source = "` + provider.Address + `" }
  }
}
resource "alfred_qdrant_collection" "c" {
  name    = "reviewed"
  vectors = { text = { size = ` + size + `, distance = "Cosine" } }
  hnsw    = { m = ` + m + ` }
}
`
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("4", "16")
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")

	write("4", "32")
	_, out := cli.Run(t, dir, []int{2}, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if !strings.Contains(out, "update in-place") || strings.Contains(out, "forces replacement") || strings.Contains(out, "will be replaced") {
		t.Fatalf("an HNSW change must be an in-place update:\n%s", out)
	}

	write("8", "16")
	_, out = cli.Run(t, dir, []int{2}, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	for _, want := range []string{`# forces replacement`, `Warning: Qdrant collection reviewed will be replaced`, `vectors`,
		`points are lost`, `vectors["text"].size 4 -> 8`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`(?i)api[_-]?key\s*=\s*"` + regexp.QuoteMeta(testKey)).MatchString(out) {
		t.Errorf("the plan shows the API key:\n%s", out)
	}

	// The API key never reaches a log, even at TRACE (provider and Terraform logs together).
	cmd := exec.Command(cli.Terraform, "plan", "-input=false", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli.ConfigFile, "CHECKPOINT_DISABLE=1", "TF_LOG=TRACE")
	logs, _ := cmd.CombinedOutput()
	if !strings.Contains(string(logs), "alfred_qdrant_collection") || !strings.Contains(string(logs), "[TRACE]") {
		t.Fatalf("no TRACE log captured:\n%.2000s", logs)
	}
	if strings.Contains(string(logs), testKey) {
		t.Errorf("the API key appears in the TRACE log")
	}
	cli.Run(t, dir, []int{0}, "destroy", "-auto-approve", "-input=false", "-no-color")
}
