// Package modules_test applies the bundled Terraform modules with the real Terraform CLI and provider
// binary against the sandbox: its PostgreSQL and its Cloud Run emulator.
package modules_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// sandboxEnv starts the sandbox in-process and exports its environment to Terraform's.
func sandboxEnv(t testing.TB) map[string]string {
	t.Helper()
	return acctest.PrivateSandbox(t)
}

func workDir(t *testing.T, main string) string {
	t.Helper()
	dir := t.TempDir()
	writeMain(t, dir, main)
	return dir
}

// writeMain writes main.tf into dir, MODULES replaced by the path of this directory relative to dir.
func writeMain(t *testing.T, dir, main string) {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// A relative source: an absolute path would be fetched as a separate package, and the platform
	// module's ../agent would then escape it.
	rel, err := filepath.Rel(dir, root)
	if err != nil {
		t.Fatal(err)
	}
	main = strings.ReplaceAll(main, "MODULES", rel)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
}

const header = `
terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
provider "alfred" {}
`

func TestPlatformModuleAppliesAgentsAndFourLevelsOfRolesAndPlansEmpty(t *testing.T) {
	env := sandboxEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `create table public.task_results (id int primary key, owner_id uuid not null)`); err != nil {
		t.Fatal(err)
	}

	cli := acctest.NewCLI(t)
	dir := workDir(t, header+`
module "platform" {
  source = "MODULES/platform"
  deletion_protection = false # the test destroys the agents
  agents = {
    "alfred-bot"   = { image = "example.com/alfred-bot:1", invokers = ["serviceAccount:gw@p.iam.gserviceaccount.com"] }
    "social-intel" = { image = "example.com/social-intel:1", metrics_path = "/internal/metrics", metrics_config_secret = "gmp-config" }
  }
  roles = {
    reader  = { permissions = ["tasks.read"] }
    analyst = { permissions = ["task_results.read"], inherits = ["reader"] }
    editor  = { permissions = ["task_results.write"], inherits = ["analyst"] }
    admin   = { permissions = ["task_results.delete"], inherits = ["editor", "reader"] }
  }
  assignments = {
    alice = { principal = "6f1c2d4e-0000-4000-8000-00000000000a", roles = ["admin"] }
    bot   = { principal = "serviceAccount:alfred-bot@p.iam.gserviceaccount.com", roles = ["editor", "reader"] }
  }
  table_policies = {
    "public.task_results" = { select_permission = "task_results.read", delete_permission = "task_results.delete" }
  }
}
output "scrape" { value = module.platform.prometheus_scrape_configs }
output "rbac"   { value = module.platform.rbac }
`)
	cli.Init(t, dir)
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")
	if code, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the second plan must be empty:\n%s", out)
	}

	// alice is assigned admin only; tasks.read reaches her through admin -> editor -> analyst -> reader.
	// claims are those of a Supabase user (a UUID sub) or of a Google-signed ID token (a numeric sub and the
	// service account's verified email), which serviceAccount:EMAIL matches.
	claims := func(who string) string {
		if strings.Contains(who, "@") {
			return fmt.Sprintf(`{"sub":"113284958147297412345","email":%q,"email_verified":true}`, who)
		}
		return fmt.Sprintf(`{"sub":%q}`, who)
	}
	authorize := func(sub, perm string) bool {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `select set_config('request.jwt.claims', $1, true)`, claims(sub)); err != nil {
			t.Fatal(err)
		}
		var ok bool
		if err := tx.QueryRow(ctx, `select alfred_rbac.authorize($1)`, perm).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !authorize("6f1c2d4e-0000-4000-8000-00000000000a", "tasks.read") || !authorize("6f1c2d4e-0000-4000-8000-00000000000a", "task_results.delete") {
		t.Error("admin must hold its own permission and, four levels down, reader's")
	}
	if authorize("alfred-bot@p.iam.gserviceaccount.com", "task_results.delete") || !authorize("alfred-bot@p.iam.gserviceaccount.com", "task_results.read") {
		t.Error("the bot (editor, reader) must read results but not delete them")
	}

	_, scrape := cli.Run(t, dir, []int{0}, "output", "-raw", "scrape")
	for _, want := range []string{"job_name: alfred-agents", "service: alfred-bot", "service: social-intel", "__metrics_path__: /internal/metrics"} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape config lacks %q:\n%s", want, scrape)
		}
	}

	services := listServices(ctx, t, env)
	if len(services) != 2 || services[0].GetLabels()["agent"] != "alfred-bot" {
		t.Errorf("the sandbox's Cloud Run must hold the two agents with their agent label, got %v", services)
	}
	for _, svc := range services {
		var sidecar bool
		for _, c := range svc.GetTemplate().GetContainers() {
			sidecar = sidecar || c.GetName() == "gmp-collector"
		}
		if !sidecar {
			t.Errorf("agent %s runs without the Managed Service for Prometheus sidecar: %v", svc.GetName(), svc.GetTemplate().GetContainers())
		}
	}

	cli.Run(t, dir, []int{0}, "destroy", "-auto-approve", "-input=false", "-no-color")
	var left int
	if err := db.QueryRow(ctx, `select (select count(*) from alfred_rbac.roles) + (select count(*) from alfred_rbac.assignments)
		+ (select count(*) from pg_policies where tablename = 'task_results')`).Scan(&left); err != nil || left != 0 {
		t.Errorf("destroy must leave no role, assignment or policy: %d (%v)", left, err)
	}
	if s := listServices(ctx, t, env); len(s) != 0 {
		t.Errorf("destroy must delete the agents, %d left", len(s))
	}
}

func listServices(ctx context.Context, t *testing.T, env map[string]string) []*runpb.Service {
	t.Helper()
	c, err := run.NewServicesClient(ctx, option.WithEndpoint(env["ALFRED_GCP_RUN_ENDPOINT"]), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*runpb.Service
	it := c.ListServices(ctx, &runpb.ListServicesRequest{Parent: "projects/" + env["ALFRED_GCP_PROJECT"] + "/locations/" + env["ALFRED_GCP_REGION"]})
	for {
		s, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].GetName() < out[i].GetName() {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// The security module refuses, at plan time, what it cannot place or resolve, with a message that says why.
func TestSecurityModuleRejectsBadRolesAtPlanTime(t *testing.T) {
	sandboxEnv(t)
	cli := acctest.NewCLI(t)
	cases := []struct{ name, roles, assignments, want string }{
		{"five levels", `{ a = {}, b = { inherits = ["a"] }, c = { inherits = ["b"] }, d = { inherits = ["c"] }, e = { inherits = ["d"] } }`, `{}`,
			"inherit more than four levels deep or in a cycle: e"},
		{"cycle", `{ a = { inherits = ["b"] }, b = { inherits = ["a"] } }`, `{}`, "in a cycle: a, b"},
		{"self", `{ a = { inherits = ["a"] } }`, `{}`, "a role cannot inherit itself"},
		{"unknown parent", `{ a = { inherits = ["ghost"] } }`, `{}`, "must be another role of `roles`"},
		{"unknown assigned role", `{ a = {} }`, `{ x = { principal = "6f1c2d4e-0000-4000-8000-00000000000a", roles = ["ghost"] } }`, "unknown: ghost"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := workDir(t, header+fmt.Sprintf(`
module "security" {
  source      = "MODULES/security"
  roles       = %s
  assignments = %s
}
`, tc.roles, tc.assignments))
			cli.Init(t, dir)
			_, out := cli.Run(t, dir, []int{1}, "plan", "-input=false", "-no-color")
			if !strings.Contains(strings.Join(strings.Fields(out), " "), tc.want) {
				t.Errorf("plan must fail saying %q:\n%s", tc.want, out)
			}
		})
	}
}
