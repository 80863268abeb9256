terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}

variable "project_ref" {
  type = string
}

resource "alfred_qdrant_collection" "memory" {
  name    = "memory"
  vectors = { "" = { size = 4, distance = "Cosine" } }
}

resource "alfred_supabase_read_replica" "reads" {
  project_ref = var.project_ref
  region      = "eu-central-1"
}
