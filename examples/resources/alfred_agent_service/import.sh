# An agent service is imported by its full Cloud Run name...
terraform import alfred_agent_service.alfred_bot projects/alfred-prod/locations/europe-west1/services/alfred-bot

# ...or by project/region/name.
terraform import alfred_agent_service.alfred_bot alfred-prod/europe-west1/alfred-bot
