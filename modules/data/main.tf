# The platform's data: vectors in Qdrant, Supabase read replicas and network restrictions, and time
# partitions of the application's tables. Tables and their rows belong to the application; the module only
# partitions and guards them.

resource "alfred_qdrant_collection" "this" {
  for_each = var.collections

  name                     = each.key
  vectors                  = each.value.vectors
  shard_number             = each.value.shard_number
  replication_factor       = each.value.replication_factor
  write_consistency_factor = each.value.write_consistency_factor
  on_disk_payload          = each.value.on_disk_payload
  payload_indexes          = length(each.value.payload_indexes) > 0 ? each.value.payload_indexes : null
  aliases                  = length(each.value.aliases) > 0 ? each.value.aliases : null
  quantization             = each.value.quantization
}

resource "alfred_supabase_read_replica" "this" {
  for_each = var.read_replicas

  project_ref = var.project_ref
  region      = each.value.region

  lifecycle {
    precondition {
      condition     = var.project_ref != null
      error_message = "read_replicas needs project_ref: the ref of the Supabase project the replicas follow."
    }
  }
}

resource "alfred_supabase_network_security" "this" {
  count = var.network_security == null ? 0 : 1

  project_ref      = var.project_ref
  ssl_enforcement  = var.network_security.ssl_enforcement
  allowed_cidrs    = var.network_security.allowed_cidrs
  allowed_cidrs_v6 = var.network_security.allowed_cidrs_v6

  lifecycle {
    precondition {
      condition     = var.project_ref != null
      error_message = "network_security needs project_ref: the ref of the Supabase project whose database it restricts."
    }
  }
}

resource "alfred_postgres_partitions" "this" {
  for_each = var.partitions

  schema            = split(".", each.key)[0]
  table             = split(".", each.key)[1]
  interval          = each.value.interval
  premake           = each.value.premake
  retention         = each.value.retention
  retention_action  = each.value.retention_action
  default_partition = each.value.default_partition
}
