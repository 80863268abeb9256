# The application's migration owns the table:
#   create table events (id bigserial, created_at timestamptz not null, kind text, payload jsonb)
#     partition by range (created_at);
# The provider keeps it covered by daily partitions from 30 days back to 7 days ahead, detaches older ones
# (they stay as tables of their own, with their rows), and catches stray rows in events_default.
resource "alfred_postgres_partitions" "events" {
  schema            = "public"
  table             = "events"
  column            = "created_at" # optional: checked against the table's partition key
  interval          = "day"
  premake           = 7
  retention         = "30d"
  retention_action  = "detach"
  default_partition = true
}

# Monthly partitions of an audit log, older than a year dropped.
resource "alfred_postgres_partitions" "audit" {
  schema           = "app"
  table            = "audit_log"
  interval         = "month"
  premake          = 2
  retention        = "365d"
  retention_action = "drop"
}
