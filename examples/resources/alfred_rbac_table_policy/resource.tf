# Row-level security on an application table. The table belongs to the application (its migrations create
# it); the provider only enables RLS and manages the policies alfred_rbac_select/insert/update/delete.
resource "alfred_rbac_table_policy" "task_results" {
  schema            = "public"
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = "task_results.write"
  update_permission = "task_results.write"
  delete_permission = "task_results.delete"

  # Optional: callers also see and write only the rows they own (owner_id = their JWT sub).
  owner_column = "owner_id"
}
