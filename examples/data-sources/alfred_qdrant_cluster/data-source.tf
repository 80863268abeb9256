data "alfred_qdrant_cluster" "this" {}

# Refuse to go on with a cluster that would accept calls without an API key.
check "qdrant_is_protected" {
  assert {
    condition     = data.alfred_qdrant_cluster.this.api_key_required
    error_message = "The Qdrant cluster accepts calls without an API key."
  }
}

output "qdrant_peers" {
  value = [for p in data.alfred_qdrant_cluster.this.peers : "${p.id} ${p.up ? "up" : "DOWN"}"]
}
