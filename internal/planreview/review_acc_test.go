package planreview_test

import (
	"bytes"
	"cmp"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/planreview"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// platform is testdata/platform applied against the sandbox with the provider built from this tree.
type platform struct {
	cli *acctest.CLI
	dir string
}

func applyPlatform(t *testing.T) *platform {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: applies a configuration with Terraform against the sandbox")
	}
	env := acctest.PrivateSandbox(t)
	t.Setenv("TF_VAR_project_ref", env["ALFRED_SUPABASE_PROJECT_REF"])
	// testdata/platform/backup.tf: the policy's bucket, key and DSN.
	acctest.CreateBucket(t, env, "platform-backups")
	keyset, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_VAR_backup_key", string(keyset))
	t.Setenv("TF_VAR_backup_dsn", env["ALFRED_POSTGRES_DSN"])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	// The tables belong to the application; the policies guard them.
	if _, err := db.Exec(ctx, `create table public.task_results (id int primary key, owner_id uuid);
		create table public.events (id int primary key)`); err != nil {
		t.Fatal(err)
	}
	p := &platform{cli: acctest.NewCLI(t), dir: t.TempDir()}
	if err := os.CopyFS(p.dir, os.DirFS("testdata/platform")); err != nil {
		t.Fatal(err)
	}
	p.cli.Init(t, p.dir)
	p.cli.Run(t, p.dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")
	return p
}

// write writes files (path relative to the configuration -> content; "" removes the file).
func (p *platform) write(t *testing.T, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(p.dir, name)
		if body == "" {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// restore puts the configuration back as it was applied: every .tf file goes, testdata's come back.
func (p *platform) restore(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() == ".terraform" {
			return cmp.Or(err, fs.SkipDir)
		}
		if strings.HasSuffix(path, ".tf") {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(p.dir, os.DirFS("testdata/platform")); err != nil {
		t.Fatal(err)
	}
}

// plan runs `terraform plan -out` and `terraform show -json`, and returns the JSON.
func (p *platform) plan(t *testing.T) []byte {
	t.Helper()
	p.cli.Run(t, p.dir, []int{0}, "plan", "-out=plan.out", "-input=false", "-no-color")
	return p.cli.Output(t, p.dir, "show", "-json", "plan.out")
}

func review(t *testing.T, planJSON []byte) *planreview.Report {
	t.Helper()
	plan, err := planreview.Load(bytes.NewReader(planJSON))
	if err != nil {
		t.Fatal(err)
	}
	return planreview.Review(plan)
}

// found lists findings as "severity rule address", sorted.
func found(rep *planreview.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Severity.String()+" "+f.Rule+" "+f.Address)
	}
	slices.Sort(out)
	return out
}

// The moved block that renames a collection inside a module: the plan keeps the object, and the review
// reports a rename, nothing to fear.
const renamed = `resource "alfred_qdrant_collection" "renamed" {
  name    = "archive"
  vectors = { "" = { size = 4, distance = "Euclid" } }
}

moved {
  from = alfred_qdrant_collection.old
  to   = alfred_qdrant_collection.renamed
}
`

// Every rule that can fire on the platform's resources fires on a plan Terraform 1.5.7 made from real
// changes to an applied configuration, at the address the plan gives (module path included), and nothing
// else does; a sensitive value is never printed; a rename by a moved block is not a replacement.
func TestAccPlanReview_realPlanOfThePlatform(t *testing.T) {
	p := applyPlatform(t)

	t.Run("applied configuration", func(t *testing.T) {
		rep := review(t, p.plan(t))
		if len(rep.Findings) != 0 || rep.Changes != 0 {
			t.Fatalf("the plan of the applied configuration has no change, got %d changes: %v", rep.Changes, found(rep))
		}
	})

	t.Run("moved block that only renames", func(t *testing.T) {
		defer p.restore(t)
		p.write(t, map[string]string{"data/kept.tf": "", "data/renamed.tf": renamed})
		planJSON := p.plan(t)
		rep := review(t, planJSON)
		want := []string{"info moved module.data.alfred_qdrant_collection.renamed"}
		if got := found(rep); !slices.Equal(got, want) || rep.Changes != 0 || rep.Moved != 1 {
			t.Fatalf("a rename must be reported as a move only:\n got %v (changes %d, moved %d)\nwant %v", got, rep.Changes, rep.Moved, want)
		}
		if rep.AtLeast(planreview.Medium) {
			t.Error("a rename must not fail a --fail-on medium gate")
		}
		if !strings.Contains(rep.Findings[0].Message, "moved from module.data.alfred_qdrant_collection.old") {
			t.Errorf("the finding must name the previous address: %q", rep.Findings[0].Message)
		}
	})

	t.Run("dangerous changes", func(t *testing.T) {
		defer p.restore(t)
		p.write(t, map[string]string{
			// Replacements: a vector size Qdrant cannot change, a replica moved to another region.
			"data/memory_override.tf": `resource "alfred_qdrant_collection" "memory" {
  vectors = { "" = { size = 8, distance = "Cosine" } }
}
resource "alfred_supabase_read_replica" "reads" {
  region = "us-east-1"
}
`,
			// Deletion: the collection's configuration is removed.
			"data/scratch.tf": "",
			// A rename beside the rest stays a rename.
			"data/kept.tf": "", "data/renamed.tf": renamed,
			// A table policy dropped.
			"events_policy.tf": "",
			"main_override.tf": `variable "bot_image" {
  default = "example.com/bot:s3cr3t-2"
}
resource "alfred_agent_service" "bot" {
  ingress             = "all"
  invokers            = ["serviceAccount:gw@p.iam.gserviceaccount.com", "allUsers"]
  deletion_protection = false
}
resource "alfred_rbac_role" "analyst" {
  permissions = ["task_results.read", "task_results.delete"]
  inherits    = ["viewer"]
}
resource "alfred_rbac_table_policy" "results" {
  select_permission = "task_results.write"
}
resource "alfred_alert_policy" "bot" {
  enabled               = false
  notification_channels = []
}
`,
		})
		planJSON := p.plan(t)
		if !bytes.Contains(planJSON, []byte("s3cr3t")) {
			t.Fatal("the plan JSON should hold the sensitive image (marked in after_sensitive); the test checks the review hides it")
		}
		rep := review(t, planJSON)
		want := []string{
			"high agent-ingress-widened alfred_agent_service.bot",
			"high agent-made-public alfred_agent_service.bot",
			"high rbac-inheritance-added alfred_rbac_role.analyst",
			"high rbac-permissions-widened alfred_rbac_role.analyst",
			"high rbac-table-policy-changed alfred_rbac_table_policy.results",
			"high rbac-table-policy-dropped alfred_rbac_table_policy.events",
			"high stateful-deleted module.data.alfred_qdrant_collection.scratch",
			"high stateful-replaced module.data.alfred_qdrant_collection.memory",
			"high stateful-replaced module.data.alfred_supabase_read_replica.reads",
			"info image-bump alfred_agent_service.bot",
			"info moved module.data.alfred_qdrant_collection.renamed",
			"medium alert-channels-removed alfred_alert_policy.bot",
			"medium alert-disabled alfred_alert_policy.bot",
			"medium deletion-protection-off alfred_agent_service.bot",
		}
		slices.Sort(want)
		if got := found(rep); !slices.Equal(got, want) {
			t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		var md, text bytes.Buffer
		if err := rep.Markdown(&md); err != nil {
			t.Fatal(err)
		}
		if err := rep.Text(&text); err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{md.String(), text.String()} {
			if strings.Contains(out, "s3cr3t") {
				t.Errorf("the review prints a sensitive value:\n%s", out)
			}
			for _, want := range []string{"9 high, 3 medium, 2 info", `image: (sensitive) -> (sensitive)`,
				`forced by vectors`, `region`, `invokers gain "allUsers"`, `ingress widened: "internal" -> "all"`,
				`select_permission changed: "task_results.read" -> "task_results.write"`} {
				if !strings.Contains(out, want) {
					t.Errorf("the review lacks %q:\n%s", want, out)
				}
			}
		}
		t.Logf("markdown:\n%s", md.String())
	})

	// The backup rules on plans of a policy that was applied: each change alone, at the policy's address.
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
		texts []string // in the review's text
	}{
		{"backup retention shortened", map[string]string{"backup_override.tf": `resource "alfred_backup_policy" "nightly" {
  retention {
    keep_last = 3
    max_age   = "168h"
  }
}
`}, []string{"medium backup-retention-shortened alfred_backup_policy.nightly", "medium backup-retention-shortened alfred_backup_policy.nightly"},
			[]string{`retention.keep_last shortened: 14 -> 3`, `retention.max_age shortened: "720h" -> "168h"`}},
		{"backup encryption weakened", map[string]string{"backup_override.tf": `resource "alfred_backup_policy" "nightly" {
  destination {
    bucket = "platform-backups"
    sse    = "AES256"
  }
}
`}, []string{"medium backup-sse-weakened alfred_backup_policy.nightly", "medium backup-sse-weakened alfred_backup_policy.nightly"},
			[]string{`destination.sse weakened: "aws:kms" -> "AES256"`, `destination.kms_key_id removed`}},
		{"backup policy renamed", map[string]string{"backup_override.tf": `resource "alfred_backup_policy" "nightly" {
  name = "nightly-v2"
}
`}, []string{"high stateful-replaced alfred_backup_policy.nightly"}, []string{`forced by name`}},
		{"backup policy deleted", map[string]string{"backup.tf": ""}, []string{"high stateful-deleted alfred_backup_policy.nightly"},
			[]string{`its scheduled backups stop`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer p.restore(t)
			p.write(t, c.files)
			rep := review(t, p.plan(t))
			if got := found(rep); !slices.Equal(got, c.want) {
				t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(c.want, "\n     "))
			}
			var text bytes.Buffer
			if err := rep.Text(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range c.texts {
				if !strings.Contains(text.String(), want) {
					t.Errorf("the review lacks %q:\n%s", want, text.String())
				}
			}
			if strings.Contains(text.String(), os.Getenv("TF_VAR_backup_key")) {
				t.Errorf("the review prints the encryption key:\n%s", text.String())
			}
		})
	}
}
