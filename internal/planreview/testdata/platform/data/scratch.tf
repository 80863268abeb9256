resource "alfred_qdrant_collection" "scratch" {
  name    = "scratch"
  vectors = { "" = { size = 4, distance = "Dot" } }
}
