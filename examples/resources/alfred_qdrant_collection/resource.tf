# Task embeddings, sharded over the cluster and kept in three live copies of every shard.
resource "alfred_qdrant_collection" "task_embeddings" {
  name                     = "task-embeddings-v2"
  shard_number             = 3
  replication_factor       = 3 # the apply replicates shards until each has 3 Active replicas
  write_consistency_factor = 2 # a write needs 2 replicas of its shard

  vectors = {
    text  = { size = 1536, distance = "Cosine" }
    title = { size = 384, distance = "Cosine", on_disk = true }
  }

  hnsw         = { m = 32, ef_construct = 200 }
  optimizers   = { indexing_threshold = 20000 }
  quantization = { type = "scalar", quantile = 0.99, always_ram = true }

  payload_indexes = {
    agent      = "keyword"
    created_at = "datetime"
    score      = "float"
  }

  # Blue/green re-index: move "task-embeddings" from the old collection's aliases to this one in one
  # apply; the alias is re-pointed atomically.
  aliases = ["task-embeddings"]

  timeouts {
    create = "10m"
    update = "30m" # replicating large shards takes time
  }
}
