# Role-based access to task results, self-contained.
#
#   export ALFRED_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   terraform apply
#
# The provider installs its own schema, alfred_rbac, on first use. The table public.task_results belongs to
# the application, not to Terraform: create it before applying (`make demo` does), e.g.
#
#   create table public.task_results (
#     id       bigserial primary key,
#     owner_id uuid not null,
#     body     text not null
#   );
#   grant select, insert, update, delete on public.task_results to authenticated;
#
# Then, as a signed-in user (Supabase sets these for every request):
#
#   set role authenticated;
#   select set_config('request.jwt.claims', '{"sub":"6f1c2d4e-0000-4000-8000-000000000001"}', true);
#   select * from public.task_results;  -- only the analyst's own rows
#   select alfred_rbac.authorize('task_results.read');  -- true, inherited from viewer

terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

# The postgres block's dsn comes from ALFRED_POSTGRES_DSN.
provider "alfred" {
  postgres {}
}

resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  description = "Reads task results"
  permissions = ["tasks.read", "task_results.read"]
}

resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  description = "Viewer who also records results"
  permissions = ["task_results.write"]
  inherits    = [alfred_rbac_role.viewer.name]
}

resource "alfred_rbac_role_assignment" "analyst" {
  principal = "6f1c2d4e-0000-4000-8000-000000000001"
  role      = alfred_rbac_role.analyst.name
}

resource "alfred_rbac_table_policy" "task_results" {
  schema            = "public"
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = "task_results.write"
  update_permission = "task_results.write"
  owner_column      = "owner_id"
}

output "roles" {
  value = {
    viewer  = alfred_rbac_role.viewer.permissions
    analyst = alfred_rbac_role.analyst.permissions
  }
}
