package rbac_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// examples/rbac/main.tf is what `make demo` applies: it must work as written, configured from
// ALFRED_POSTGRES_DSN, and leave an empty plan.
func TestAccRBAC_exampleConfigurationAppliesFromEnvironment(t *testing.T) {
	d := newTestDB(t)
	hcl, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "rbac", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALFRED_POSTGRES_DSN", d.DSN)
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "alfred-platform")
	const analyst = "6f1c2d4e-0000-4000-8000-000000000001"
	d.test(t, []resource.TestStep{{
		PreConfig: func() {
			d.Exec(`create table public.task_results (id bigserial primary key, owner_id uuid not null, body text not null)`)
			d.Exec(`grant select, insert, update, delete on public.task_results to authenticated`)
			d.Exec(`insert into public.task_results (owner_id, body) values ($1, 'mine'), ($2, 'not mine')`, analyst, bob)
		},
		Config: string(hcl),
		Check: resource.ComposeTestCheckFunc(
			expectVisible(d, analyst, "mine"),
			expectAuthorize(d, claimsOf(analyst), "task_results.read", true),
			expectVisible(d, bob),
		),
	}})
}
