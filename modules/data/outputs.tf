output "collections" {
  description = "Qdrant collections by name: status, aliases, and each shard's replicas as `peer state`."
  value = { for n, c in alfred_qdrant_collection.this : n => {
    status  = c.status
    aliases = c.aliases
    shards  = { for s in c.shards : tostring(s.id) => [for r in s.replicas : "${r.peer_id} ${r.state}"] }
  } }
}

output "read_replicas" {
  description = "Read replicas by key: identifier, status and `host:port` to connect to."
  value = { for k, r in alfred_supabase_read_replica.this : k => {
    identifier = r.identifier
    status     = r.status
    endpoint   = "${r.db_host}:${r.db_port}"
  } }
}

output "partitions" {
  description = "Partitions of each table (`schema.table`), oldest first, as `name [from, to)`, and the maintenance function to schedule between applies."
  value = { for k, p in alfred_postgres_partitions.this : k => {
    partitions           = [for x in p.partitions : "${x.name} [${x.from}, ${x.to})"]
    maintenance_function = p.maintenance_function
    cron_job             = p.cron_job
  } }
}

output "network_security" {
  description = "The project's network restrictions as applied (null when not managed)."
  value = one([for n in alfred_supabase_network_security.this : {
    ssl_enforcement  = n.ssl_enforcement
    allowed_cidrs    = n.allowed_cidrs
    allowed_cidrs_v6 = n.allowed_cidrs_v6
  }])
}
