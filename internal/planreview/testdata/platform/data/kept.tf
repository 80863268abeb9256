resource "alfred_qdrant_collection" "old" {
  name    = "archive"
  vectors = { "" = { size = 4, distance = "Euclid" } }
}
