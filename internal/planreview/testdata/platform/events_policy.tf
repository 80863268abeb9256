resource "alfred_rbac_table_policy" "events" {
  schema            = "public"
  table             = "events"
  select_permission = "tasks.read"
}
