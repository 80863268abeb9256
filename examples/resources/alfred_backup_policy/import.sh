# A backup policy is imported by its Cloud Run job.
terraform import alfred_backup_policy.nightly projects/alfred-prod/locations/europe-west1/jobs/alfred-nightly
