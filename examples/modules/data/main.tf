# modules/data: a replicated Qdrant collection behind an alias, a Supabase read replica, SSL-only access
# from the agents' network, and daily partitions of the application's events table.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

module "data" {
  source = "../../../modules/data"

  collections = {
    "task-embeddings-v1" = {
      shard_number       = 3
      replication_factor = 2
      vectors            = { "" = { size = 384, distance = "Cosine" } }
      payload_indexes    = { agent = "keyword" }
      aliases            = ["task-embeddings"]
    }
  }

  project_ref      = "abcdefghijklmnopqrst"
  read_replicas    = { analytics = { region = "eu-west-1" } }
  network_security = { allowed_cidrs = ["10.8.0.0/28"], allowed_cidrs_v6 = [] }

  partitions = {
    "public.events" = { interval = "day", retention = "90d" }
  }
}

output "data" {
  value = {
    collections   = module.data.collections
    read_replicas = module.data.read_replicas
  }
}
