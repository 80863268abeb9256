package rbac_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/jackc/pgx/v5"
)

// googleSub is the numeric subject of a Google-signed ID token.
const googleSub = "113284958147297412345"

// googleToken is the claims of a Google-signed ID token of the account email: a numeric sub, the email,
// and email_verified (a boolean in Google's tokens; verified is written as JSON).
func googleToken(email, verified string) string {
	c := fmt.Sprintf(`{"iss":"https://accounts.google.com","aud":"https://alfred.example.com","sub":%q,"email":%q`, googleSub, email)
	if verified != "" {
		c += `,"email_verified":` + verified
	}
	return c + `}`
}

// A service account presents a Google-signed ID token, whose sub is numeric: serviceAccount:EMAIL and
// user:EMAIL match its verified email claim; a user id matches sub; nothing matches an unverified email.
func TestAccRBACRoleAssignment_principalsMatchSubOrVerifiedEmail(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	const (
		sa    = "social-intel@alfred-prod.iam.gserviceaccount.com"
		human = "alice@example.com"
	)
	all := []string{"alice 1", "alice 2", "bob 1", "bob 2", "carol 1"}
	cfg := providerHCL(d.DSN) + fmt.Sprintf(`
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["task_results.read"]
}
resource "alfred_rbac_role" "writer" {
  name        = "writer"
  permissions = ["task_results.write"]
}
resource "alfred_rbac_role" "numeric" {
  name        = "numeric"
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role_assignment" "agent" {
  principal = "serviceAccount:%s"
  role      = alfred_rbac_role.viewer.name
}
resource "alfred_rbac_role_assignment" "human" {
  principal = "user:%s"
  role      = alfred_rbac_role.writer.name
}
resource "alfred_rbac_role_assignment" "by_sub" {
  principal = %q
  role      = alfred_rbac_role.numeric.name
}
resource "alfred_rbac_role_assignment" "bob" {
  principal = %q
  role      = alfred_rbac_role.viewer.name
}
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = "task_results.write"
}
`, sa, human, googleSub, bob)
	d.test(t, []resource.TestStep{{
		Config: cfg,
		Check: resource.ComposeTestCheckFunc(
			// serviceAccount:EMAIL: the Google token's verified email, not its numeric sub.
			expectAuthorize(d, googleToken(sa, "true"), "task_results.read", true),
			check(func() error {
				rows, err := visibleRows(d, googleToken(sa, "true"))
				if err != nil || len(rows) != len(all) {
					return fmt.Errorf("the agent's token reads %q (%v), want every row", rows, err)
				}
				return nil
			}),
			expectAuthorize(d, googleToken("Social-Intel@Alfred-Prod.iam.gserviceaccount.com", "true"), "task_results.read", true),
			expectAuthorize(d, googleToken(sa, `"true"`), "task_results.read", true),
			// Unverified or unstated verification: the email is not trusted.
			expectAuthorize(d, googleToken(sa, "false"), "task_results.read", false),
			expectAuthorize(d, googleToken(sa, `"false"`), "task_results.read", false),
			expectAuthorize(d, googleToken(sa, ""), "task_results.read", false),
			expectAuthorize(d, googleToken(sa, "null"), "task_results.read", false),
			check(func() error {
				rows, err := visibleRows(d, googleToken(sa, "false"))
				if err != nil || len(rows) != 0 {
					return fmt.Errorf("an unverified email reads %q (%v), want nothing", rows, err)
				}
				return nil
			}),
			// The email must be the claim email: a sub spelled like a principal matches nothing.
			expectAuthorize(d, fmt.Sprintf(`{"sub":"serviceAccount:%s"}`, sa), "task_results.read", false),
			expectAuthorize(d, fmt.Sprintf(`{"sub":"x","email":["%s"],"email_verified":true}`, sa), "task_results.read", false),
			// user:EMAIL likewise, and only what that role grants.
			expectAuthorize(d, fmt.Sprintf(`{"sub":%q,"email":%q,"email_verified":true}`, dave, human), "task_results.write", true),
			expectAuthorize(d, fmt.Sprintf(`{"sub":%q,"email":%q,"email_verified":true}`, dave, human), "task_results.read", false),
			expectAuthorize(d, fmt.Sprintf(`{"sub":%q,"email":%q}`, dave, human), "task_results.write", false),
			// A user id matches sub: the numeric one of a Google token, and Supabase's UUIDs.
			expectAuthorize(d, googleToken("someone@example.com", "true"), "tasks.read", true),
			expectAuthorize(d, googleToken(sa, "true"), "tasks.read", true),
			expectAuthorize(d, claimsOf(bob), "task_results.read", true),
			expectVisible(d, bob, all...),
			expectVisible(d, dave),
			// The token hook adds the roles of the user id and of the verified email of the claims.
			check(func() error {
				for _, c := range []struct {
					claims string
					want   string
				}{
					{fmt.Sprintf(`{"email":%q,"email_verified":true}`, human), `["writer"]`},
					{fmt.Sprintf(`{"email":%q}`, human), `[]`},
					{fmt.Sprintf(`{"email":%q,"email_verified":false}`, human), `[]`},
				} {
					var got string
					event := fmt.Sprintf(`{"user_id":%q,"claims":%s}`, dave, c.claims)
					err := d.As("supabase_auth_admin", "", func(ctx context.Context, tx pgx.Tx) error {
						return tx.QueryRow(ctx, `select (alfred_rbac.custom_access_token_hook($1::jsonb) -> 'claims' -> 'alfred_roles')::text`, event).Scan(&got)
					})
					if err != nil || got != c.want {
						return fmt.Errorf("hook with claims %s: alfred_roles %s (%v), want %s", c.claims, got, err, c.want)
					}
				}
				return nil
			}),
			expectHook(d, bob, []string{"viewer"}),
		),
	}})
}
