# A read replica of the project's database in Frankfurt. Create waits until it is ACTIVE_HEALTHY.
resource "alfred_supabase_read_replica" "eu" {
  project_ref = "abcdefghijklmnopqrst"
  region      = "eu-central-1"

  timeouts {
    create = "45m"
    delete = "30m"
  }
}

output "replica_host" {
  value = "${alfred_supabase_read_replica.eu.db_host}:${alfred_supabase_read_replica.eu.db_port}"
}
