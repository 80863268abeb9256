# The collections, the read replica, network security and partitions were resources of this example
# before modules/data took them: the same objects, moved, not replaced.
moved {
  from = alfred_qdrant_collection.task_embeddings
  to   = module.platform.module.data.alfred_qdrant_collection.this["task-embeddings-v1"]
}

moved {
  from = alfred_qdrant_collection.agent_memory
  to   = module.platform.module.data.alfred_qdrant_collection.this["agent-memory"]
}

moved {
  from = alfred_supabase_read_replica.analytics
  to   = module.platform.module.data.alfred_supabase_read_replica.this["analytics"]
}

moved {
  from = alfred_supabase_network_security.db
  to   = module.platform.module.data.alfred_supabase_network_security.this[0]
}

moved {
  from = alfred_postgres_partitions.events
  to   = module.platform.module.data.alfred_postgres_partitions.this["public.events"]
}
