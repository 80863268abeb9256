# Time partitions of the application's events table (the demo creates the table, as the application's
# migration would): daily partitions from 30 days back to 7 days ahead, older ones detached, and a default
# partition for stray rows. Without pg_cron in the database, apply warns how to maintain them between applies.
resource "alfred_postgres_partitions" "events" {
  table             = "events"
  interval          = "day"
  premake           = 7
  retention         = "30d"
  default_partition = true
}

output "events_partitions" {
  value = [for p in alfred_postgres_partitions.events.partitions : "${p.name} [${p.from}, ${p.to})"]
}
