package rbac

// Documentation shared by the schemas of the RBAC resources (rendered into docs/ by tfplugindocs).

// grantsDoc says what a plan and an apply need, and what bounds the waits of an apply.
const grantsDoc = "### Grants: a plan role and an apply role\n\n" +
	"`terraform plan` (refresh, import) only reads: it never installs or migrates `alfred_rbac` and runs no DDL, " +
	"so pull-request pipelines can plan with read-only credentials. A database without the schema plans as " +
	"empty; a schema older than the provider is read as it is, with a warning that says from which version " +
	"to which the next apply migrates it. The minimal plan role:\n\n" +
	"```sql\n" +
	"create role alfred_plan login password '...';\n" +
	"grant connect on database postgres to alfred_plan;\n" +
	"grant usage on schema alfred_rbac to alfred_plan;\n" +
	"grant select on all tables in schema alfred_rbac to alfred_plan;\n" +
	"-- tables that later migrations add:\n" +
	"alter default privileges for role postgres in schema alfred_rbac grant select on tables to alfred_plan;\n" +
	"-- optional, so that plans cannot write even by mistake:\n" +
	"alter role alfred_plan set default_transaction_read_only = on;\n" +
	"```\n\n" +
	"PostgreSQL's catalogs (`pg_class`, `pg_policies`), which the table policy reads, are readable by every " +
	"role. `terraform apply` installs and migrates `alfred_rbac` on its first write, under an advisory lock. " +
	"The apply role owns the `alfred_rbac` schema (on first install it needs `CREATE` on the database) and " +
	"owns the tables that `alfred_rbac_table_policy` governs (only a table's owner may enable row-level " +
	"security and create policies on it); on Supabase, use the `postgres` user. Membership in " +
	"`pg_read_all_stats` lets lock-timeout errors quote the blocking session's query.\n\n" +
	"### Locks and timeouts\n\n" +
	"Every statement runs with `lock_timeout` = 2s: DDL on a busy application table never queues for long " +
	"(while it waits, every other query of the table would queue behind it). A transaction whose lock was not " +
	"granted is repeated until the resource's `timeouts` (create/update/delete 5m, read 2m by default) run out; " +
	"the error then names the session that holds the lock (pid, user, application_name, how long its " +
	"transaction has been open, and its query), as `pg_blocking_pids` and `pg_stat_activity` show it."

// principalDoc says which claim each form of principal matches.
const principalDoc = "### Principals and the claims they match\n\n" +
	"| principal | example | matches |\n" +
	"|---|---|---|\n" +
	"| a user id | `6f1c2d4e-0000-4000-8000-000000000001` (a lowercase UUID, as Supabase Auth issues) or `113284958147297412345` (digits, as Google's `sub`) | the claim `sub` |\n" +
	"| `user:EMAIL` | `user:alice@example.com` | the claim `email`, only when `email_verified` is `true` |\n" +
	"| `serviceAccount:EMAIL` | `serviceAccount:social-intel@alfred-prod.iam.gserviceaccount.com` | the claim `email`, only when `email_verified` is `true` |\n\n" +
	"Google-signed ID tokens (what a service account presents) carry a numeric `sub` and the account's " +
	"`email` with `email_verified: true`, so agents are assigned by `serviceAccount:EMAIL`. Emails are " +
	"compared in lowercase; write them in lowercase. An `email` claim without `email_verified` = `true` " +
	"(boolean, or the string \"true\") matches no email principal: Supabase Auth's access tokens carry `email` " +
	"without `email_verified`, so assign Supabase users by their user id. Claims that users can edit (Supabase's " +
	"`user_metadata`) are never read. A bare email (without `user:` or " +
	"`serviceAccount:`) is refused at plan time: it would be ambiguous."
