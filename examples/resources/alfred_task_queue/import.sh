# A task queue is imported by its subscription's full name...
terraform import alfred_task_queue.alfred_bot projects/alfred-prod/subscriptions/alfred-bot-tasks

# ...or by project/name.
terraform import alfred_task_queue.alfred_bot alfred-prod/alfred-bot-tasks
