# The primary's view of its standbys and replication slots (the DSN's user needs pg_monitor).
data "alfred_postgres_replication" "primary" {}

locals {
  # Replay lag per standby, in seconds (null when caught up and idle).
  replay_lag = {
    for s in data.alfred_postgres_replication.primary.standbys : s.application_name => s.replay_lag
  }
  # Inactive slots hold WAL back on the primary's disk.
  idle_slots = [
    for s in data.alfred_postgres_replication.primary.slots : s.slot_name if !s.active
  ]
}

output "idle_replication_slots" {
  value = local.idle_slots
}

# Gate a risky change on every standby streaming and less than 30 s behind.
resource "terraform_data" "migration" {
  lifecycle {
    precondition {
      condition = alltrue([
        for s in data.alfred_postgres_replication.primary.standbys :
        s.state == "streaming" && coalesce(local.replay_lag[s.application_name], 0) < 30
      ])
      error_message = "A standby is not streaming or lags by more than 30s; wait before migrating."
    }
  }
}
