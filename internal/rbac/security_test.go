package rbac_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// securityHCL: alice is an analyst (who reads task results only through inheriting viewer), bob a viewer,
// carol a writer and a viewer, dave has no role at all.
func securityHCL(dsn string, analystInheritsViewer, bobAssigned bool, policyExtra string) string {
	inherits := "[]"
	if analystInheritsViewer {
		inherits = "[alfred_rbac_role.viewer.name]"
	}
	bobHCL := ""
	if bobAssigned {
		bobHCL = fmt.Sprintf(`
resource "alfred_rbac_role_assignment" "bob" {
  principal = %q
  role      = alfred_rbac_role.viewer.name
}`, bob)
	}
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["task_results.read"]
}
resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  permissions = ["tasks.read"]
  inherits    = %s
}
resource "alfred_rbac_role" "writer" {
  name        = "writer"
  permissions = ["task_results.write", "task_results.delete"]
}
resource "alfred_rbac_role_assignment" "alice" {
  principal = %q
  role      = alfred_rbac_role.analyst.name
}
resource "alfred_rbac_role_assignment" "carol_writer" {
  principal = %q
  role      = alfred_rbac_role.writer.name
}
resource "alfred_rbac_role_assignment" "carol_viewer" {
  principal = %q
  role      = alfred_rbac_role.viewer.name
}
%s
resource "alfred_rbac_table_policy" "task_results" {
  schema            = "public"
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = "task_results.write"
  update_permission = "task_results.write"
  delete_permission = "task_results.delete"
%s
}
`, inherits, alice, carol, carol, bobHCL, policyExtra)
}

// visibleRows returns the bodies of the task_results rows a caller with these claims can read.
func visibleRows(d *testDB, claims string) ([]string, error) {
	var out []string
	err := d.As("authenticated", claims, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select body from public.task_results order by body`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}

func expectVisible(d *testDB, sub string, want ...string) func(*terraform.State) error {
	return check(func() error {
		got, err := visibleRows(d, claimsOf(sub))
		if err != nil {
			return fmt.Errorf("select as %s: %w", sub, err)
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			return fmt.Errorf("user %s reads %q, want %q", sub, got, want)
		}
		return nil
	})
}

func expectAuthorize(d *testDB, claims, permission string, want bool) func(*terraform.State) error {
	return check(func() error {
		got, err := d.Authorize(claims, permission)
		if err != nil {
			return fmt.Errorf("authorize(%q) with claims %q raised an error: %w", permission, claims, err)
		}
		if got != want {
			return fmt.Errorf("authorize(%q) with claims %q = %v, want %v", permission, claims, got, want)
		}
		return nil
	})
}

// expectCannotWrite asserts that sub can neither insert, update nor delete, and that the table is intact.
func expectCannotWrite(d *testDB, sub string) func(*terraform.State) error {
	return check(func() error {
		err := d.As("authenticated", claimsOf(sub), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into public.task_results (owner_id, body) values ($1, 'intruder')`, sub)
			return err
		})
		if sqlState(err) != "42501" {
			return fmt.Errorf("insert as %s: want a row-level security violation (42501), got %v", sub, err)
		}
		for _, stmt := range []string{`update public.task_results set body = 'defaced'`, `delete from public.task_results`} {
			var affected int64
			err := d.As("authenticated", claimsOf(sub), func(ctx context.Context, tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, stmt)
				affected = tag.RowsAffected()
				return err
			})
			if err != nil || affected != 0 {
				return fmt.Errorf("%q as %s: affected %d rows (err %v), want 0", stmt, sub, affected, err)
			}
		}
		return nil
	})
}

// expectWrites asserts what carol, who holds task_results.write and .delete, can do (rolled back after).
func expectWrites(d *testDB, sub, owner string, wantInsert bool, wantUpdated, wantDeleted int64) func(*terraform.State) error {
	return check(func() error {
		err := d.As("authenticated", claimsOf(sub), func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into public.task_results (owner_id, body) values ($1, 'new')`, owner)
			return err
		})
		if wantInsert && err != nil {
			return fmt.Errorf("insert as %s owned by %s: %v", sub, owner, err)
		}
		if !wantInsert && sqlState(err) != "42501" {
			return fmt.Errorf("insert as %s owned by %s: want 42501, got %v", sub, owner, err)
		}
		for stmt, want := range map[string]int64{
			`update public.task_results set body = body || '!'`: wantUpdated,
			`delete from public.task_results`:                   wantDeleted,
		} {
			var affected int64
			err := d.As("authenticated", claimsOf(sub), func(ctx context.Context, tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, stmt)
				affected = tag.RowsAffected()
				return err
			})
			if err != nil || affected != want {
				return fmt.Errorf("%q as %s: affected %d (err %v), want %d", stmt, sub, affected, err, want)
			}
		}
		return nil
	})
}

// expectHook calls the custom access token hook as supabase_auth_admin, as Supabase Auth does.
func expectHook(d *testDB, user string, want []string) func(*terraform.State) error {
	return check(func() error {
		event := fmt.Sprintf(`{"user_id":%q,"claims":{"sub":%q,"role":"authenticated","alfred_roles":["forged"]}}`, user, user)
		var raw []byte
		err := d.As("supabase_auth_admin", "", func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select alfred_rbac.custom_access_token_hook($1::jsonb)`, event).Scan(&raw)
		})
		if err != nil {
			return fmt.Errorf("hook for %s: %w", user, err)
		}
		var out struct {
			UserID string `json:"user_id"`
			Claims struct {
				Sub         string   `json:"sub"`
				Role        string   `json:"role"`
				AlfredRoles []string `json:"alfred_roles"`
			} `json:"claims"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		if !slices.Equal(out.Claims.AlfredRoles, want) || out.Claims.AlfredRoles == nil || out.Claims.Sub != user ||
			out.Claims.Role != "authenticated" || out.UserID != user {
			return fmt.Errorf("hook for %s returned %s, want alfred_roles %q and the other claims kept", user, raw, want)
		}
		return nil
	})
}

func TestAccRBACSecurity_authenticatedSessionsSeeExactlyWhatTheirRolesAllow(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	all := []string{"alice 1", "alice 2", "bob 1", "bob 2", "carol 1"}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(
			rbacEmpty(d),
			expectInt(d, 5, `select count(*) from public.task_results`),
		),
		Steps: []resource.TestStep{
			{
				// Without owner_column: read permission means every row.
				Config: securityHCL(d.DSN, true, true, ""),
				Check: resource.ComposeTestCheckFunc(
					expectVisible(d, alice, all...), // through analyst -> viewer
					expectVisible(d, bob, all...),
					expectVisible(d, dave), // no role: nothing
					expectCannotWrite(d, dave),
					expectCannotWrite(d, alice), // read only
					expectWrites(d, carol, dave, true, 5, 5),
					expectAuthorize(d, claimsOf(alice), "task_results.read", true),
					expectAuthorize(d, claimsOf(alice), "tasks.read", true),
					expectAuthorize(d, claimsOf(alice), "task_results.write", false),
					expectAuthorize(d, claimsOf(dave), "task_results.read", false),
					// Role names in the token are never trusted.
					expectAuthorize(d, fmt.Sprintf(`{"sub":%q,"alfred_roles":["viewer","writer"],"user_role":"admin"}`, dave), "task_results.read", false),
					// Malformed or missing claims mean false, never an error.
					expectAuthorize(d, ``, "task_results.read", false),
					expectAuthorize(d, `not json`, "task_results.read", false),
					expectAuthorize(d, `{"sub":`, "task_results.read", false),
					expectAuthorize(d, `[]`, "task_results.read", false),
					expectAuthorize(d, `"`+alice+`"`, "task_results.read", false),
					expectAuthorize(d, `{}`, "task_results.read", false),
					expectAuthorize(d, `{"sub":null}`, "task_results.read", false),
					expectAuthorize(d, `{"sub":42}`, "task_results.read", false),
					expectAuthorize(d, fmt.Sprintf(`{"sub":[%q]}`, alice), "task_results.read", false),
					check(func() error {
						rows, err := visibleRows(d, `{broken`)
						if err != nil || len(rows) != 0 {
							return fmt.Errorf("select with malformed claims: rows %q, err %v; want none and no error", rows, err)
						}
						return nil
					}),
					// The hook writes exactly the assigned roles (not inherited ones), sorted; none is [].
					expectHook(d, alice, []string{"analyst"}),
					expectHook(d, carol, []string{"viewer", "writer"}),
					expectHook(d, dave, []string{}),
					check(func() error {
						err := d.As("authenticated", claimsOf(alice), func(ctx context.Context, tx pgx.Tx) error {
							_, err := tx.Exec(ctx, `select alfred_rbac.custom_access_token_hook('{}'::jsonb)`)
							return err
						})
						if sqlState(err) != "42501" {
							return fmt.Errorf("authenticated calling the token hook: want permission denied, got %v", err)
						}
						return nil
					}),
					check(func() error {
						err := d.As("authenticated", claimsOf(alice), func(ctx context.Context, tx pgx.Tx) error {
							_, err := tx.Exec(ctx, `select * from alfred_rbac.assignments`)
							return err
						})
						if sqlState(err) != "42501" {
							return fmt.Errorf("authenticated reading alfred_rbac.assignments: want permission denied, got %v", err)
						}
						return nil
					}),
				),
			},
			{
				// With owner_column: read permission means one's own rows only, and writes must stay one's own.
				Config: securityHCL(d.DSN, true, true, `  owner_column      = "owner_id"`),
				Check: resource.ComposeTestCheckFunc(
					expectVisible(d, alice, "alice 1", "alice 2"),
					expectVisible(d, bob, "bob 1", "bob 2"),
					expectVisible(d, dave),
					expectCannotWrite(d, dave),
					expectWrites(d, carol, carol, true, 1, 1),  // her own row only
					expectWrites(d, carol, alice, false, 1, 1), // cannot plant rows owned by someone else
				),
			},
			{
				// The inherited permission stops working once the inheritance is removed.
				Config: securityHCL(d.DSN, false, true, `  owner_column      = "owner_id"`),
				Check: resource.ComposeTestCheckFunc(
					expectVisible(d, alice),
					expectAuthorize(d, claimsOf(alice), "task_results.read", false),
					expectAuthorize(d, claimsOf(alice), "tasks.read", true),
					expectVisible(d, bob, "bob 1", "bob 2"),
				),
			},
			{
				// A removed assignment takes effect on the next statement, whatever the token says.
				Config: securityHCL(d.DSN, false, false, `  owner_column      = "owner_id"`),
				Check: resource.ComposeTestCheckFunc(
					expectVisible(d, bob),
					expectHook(d, bob, []string{}),
				),
			},
		},
	})
}
