package provider_test

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// A data source that needs no API, so that the plan configures the provider and nothing else can fail.
const renderOnly = `
data "alfred_prometheus_scrape_config" "agents" {
  job_name = "alfred-agents"
  services = [{ name = "alfred-bot", target = "127.0.0.1:9090" }]
}
`

// Malformed provider values fail the plan with a message naming the attribute, whether written in HCL
// (validated before configuration) or taken from the environment (checked when configuring).
func TestAccProvider_malformedValuesFailThePlan(t *testing.T) {
	for _, v := range []string{"ALFRED_GCP_INSECURE", "ALFRED_S3_FORCE_PATH_STYLE", "ALFRED_SUPABASE_API_URL",
		"ALFRED_S3_ENDPOINT", "ALFRED_QDRANT_URL", "ALFRED_QDRANT_REST_URL"} {
		t.Setenv(v, "")
	}
	steps := []resource.TestStep{
		{
			Config:      "provider \"alfred\" {\n  supabase {\n    api_url = \"api.supabase.com\"\n  }\n}\n" + renderOnly,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)api_url.*no scheme`),
		},
		{
			Config:      "provider \"alfred\" {\n  s3 {\n    endpoint = \"127.0.0.1:7070\"\n  }\n}\n" + renderOnly,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)endpoint.*http`),
		},
		{
			Config:      "provider \"alfred\" {\n  gcp {\n    run_endpoint = \"https://run.googleapis.com\"\n  }\n}\n" + renderOnly,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)run_endpoint.*without http`),
		},
		{
			Config:      "provider \"alfred\" {\n  gcp {\n    logging_endpoint = \"127.0.0.1:port\"\n  }\n}\n" + renderOnly,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)logging_endpoint.*port`),
		},
		{
			PreConfig:   func() { t.Setenv("ALFRED_GCP_INSECURE", "garbage") },
			Config:      "provider \"alfred\" {}\n" + renderOnly,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)ALFRED_GCP_INSECURE="garbage" is not a\s+boolean`),
		},
		{
			PreConfig:   func() { t.Setenv("ALFRED_GCP_INSECURE", ""); t.Setenv("ALFRED_S3_ENDPOINT", "minio:9000") },
			Config:      "provider \"alfred\" {}\n" + renderOnly,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)ALFRED_S3_ENDPOINT.*no scheme`),
		},
	}
	for _, step := range steps {
		resource.Test(t, resource.TestCase{
			PreCheck:                 func() { acctest.PreCheck(t) },
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			Steps:                    []resource.TestStep{step},
		})
	}
	// The same configuration with good values plans and applies.
	t.Setenv("ALFRED_S3_ENDPOINT", "http://127.0.0.1:7070")
	t.Setenv("ALFRED_GCP_INSECURE", "true")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: "provider \"alfred\" {\n  supabase {\n    api_url = \"https://api.supabase.com\"\n  }\n}\n" + renderOnly,
		}},
	})
}
