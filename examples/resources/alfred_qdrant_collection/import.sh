# A collection is imported by its name...
terraform import alfred_qdrant_collection.task_embeddings task-embeddings-v2

# ...or by its REST path.
terraform import alfred_qdrant_collection.task_embeddings collections/task-embeddings-v2
