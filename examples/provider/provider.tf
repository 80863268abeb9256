# Every block is optional: configure the ones whose resources you use. Environment variables fill any
# attribute left unset (see the table below), so CI systems can keep secrets out of the configuration.
provider "alfred" {
  gcp {
    project = "alfred-prod"
    region  = "europe-west1"
  }

  supabase {
    organization_slug = "alfred"
    # access_token from SUPABASE_ACCESS_TOKEN
  }

  qdrant {
    url      = "qdrant.internal:6334"
    rest_url = "https://qdrant.internal:6333"
    # api_key from QDRANT_API_KEY
  }

  postgres {
    # dsn from ALFRED_POSTGRES_DSN, e.g. postgres://postgres:...@db.<ref>.supabase.co:5432/postgres
  }

  s3 {
    region = "eu-west-1"
    # access_key_id / secret_access_key from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
  }
}
