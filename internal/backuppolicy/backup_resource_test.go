package backuppolicy_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// backups renders a pre-migration backup with triggers, a throwaway one with retain_on_destroy = false,
// and the "migration": RBAC roles (which install the alfred_rbac schema in the database) that depend on
// the backup.
func (e *env) backups(migration string, roles ...string) string {
	s := e.providerWith(fmt.Sprintf("postgres {\n    dsn = %q\n  }", e.dbDSN(e.db))) + e.policy("0 3 * * *", 7, "") + fmt.Sprintf(`
resource "alfred_backup" "pre" {
  policy   = alfred_backup_policy.p.id
  triggers = { migration = %q }
}

resource "alfred_backup" "scratch" {
  policy            = alfred_backup_policy.p.id
  retain_on_destroy = false
}
`, migration)
	for _, r := range roles {
		s += fmt.Sprintf(`
resource "alfred_rbac_role" %q {
  name        = %q
  permissions = ["items.read"]
  depends_on  = [alfred_backup.pre]
}
`, r, r)
	}
	return s
}

// set finds the good set the state's backup names, under its prefix.
func (e *env) set(s *terraform.State, addr string) (backup.SetInfo, error) {
	a := s.RootModule().Resources[addr].Primary.Attributes
	for _, x := range e.sets(a["prefix"]) {
		if x.ID == a["backup_id"] {
			return x, nil
		}
	}
	return backup.SetInfo{}, fmt.Errorf("%s: no set %s under %s", addr, a["backup_id"], a["prefix"])
}

func tableRows(m *backup.Manifest, table string) (int64, bool) {
	for _, o := range m.Objects {
		for _, t := range o.Tables {
			if t.Table == table {
				return t.Rows, true
			}
		}
	}
	return 0, false
}

// A changed trigger takes a new backup before the resources that depend on it apply; destroy keeps the
// objects unless retain_on_destroy = false.
func TestAccBackup_triggersBackUpBeforeDependentsAndDestroyKeepsObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var first, firstPrefix, scratchPrefix, scratchID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if len(e.sets(firstPrefix)) != 1 {
				return fmt.Errorf("destroy deleted the retained backup %s", first)
			}
			for _, x := range e.sets(scratchPrefix) {
				if x.ID == scratchID {
					return fmt.Errorf("destroy kept %s although retain_on_destroy = false", scratchID)
				}
			}
			return e.checkDestroyed(s)
		},
		Steps: []resource.TestStep{
			{
				Config: e.backups("0001", "reader"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr("alfred_backup.pre", "sha256", regexp.MustCompile(`^[0-9a-f]{64}$`)),
					resource.TestMatchResourceAttr("alfred_backup.pre", "created_at", regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
					resource.TestCheckResourceAttr("alfred_backup.pre", "retain_on_destroy", "true"),
					func(s *terraform.State) error {
						set, err := e.set(s, "alfred_backup.pre")
						if err != nil {
							return err
						}
						a := s.RootModule().Resources["alfred_backup.pre"].Primary.Attributes
						first, firstPrefix = a["backup_id"], a["prefix"]
						sc := s.RootModule().Resources["alfred_backup.scratch"].Primary.Attributes
						scratchID, scratchPrefix = sc["backup_id"], sc["prefix"]
						var size int64
						for _, o := range set.Manifest.Objects {
							size += o.Size
						}
						if fmt.Sprint(size) != a["size_bytes"] || size == 0 {
							return fmt.Errorf("size_bytes %s, the manifest says %d", a["size_bytes"], size)
						}
						if n, ok := tableRows(set.Manifest, "public.items"); !ok || n != 3 {
							return fmt.Errorf("public.items in the backup: %d rows (present %v)", n, ok)
						}
						// Taken before the dependent role: the rbac schema did not exist yet.
						if _, ok := tableRows(set.Manifest, "alfred_rbac.roles"); ok {
							return fmt.Errorf("the backup already holds alfred_rbac.roles: it was taken after the resource that depends on it")
						}
						// Outside the policy's prefix: its retention never sees it.
						if len(e.sets("alfred/")) != 0 {
							return fmt.Errorf("the pinned backup landed under the policy's prefix")
						}
						return nil
					},
				),
			},
			{
				Config: e.backups("0002", "reader", "writer"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup.pre", plancheck.ResourceActionReplace),
					plancheck.ExpectResourceAction("alfred_backup.scratch", plancheck.ResourceActionNoop),
				}},
				Check: func(s *terraform.State) error {
					set, err := e.set(s, "alfred_backup.pre")
					if err != nil {
						return err
					}
					if set.ID == first {
						return fmt.Errorf("a changed trigger kept backup %s", first)
					}
					// The new backup holds role "reader" (applied before) and not "writer" (depends on it).
					if n, _ := tableRows(set.Manifest, "alfred_rbac.roles"); n != 1 {
						return fmt.Errorf("alfred_rbac.roles in the new backup: %d rows, want 1 (taken before the dependent role)", n)
					}
					if len(e.sets(firstPrefix)) != 1 {
						return fmt.Errorf("the replaced backup %s was deleted although retain_on_destroy = true", first)
					}
					return nil
				},
			},
		},
	})
}
