package qdrant_test

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// Without the provider's qdrant block (nor its environment variables) the plan fails, naming the block
// and the variables that can stand in for it.
func TestAccQdrantCollection_missingProviderBlockFailsAtPlan(t *testing.T) {
	for _, v := range []string{"ALFRED_QDRANT_URL", "ALFRED_QDRANT_REST_URL", "QDRANT_API_KEY", "ALFRED_QDRANT_TLS", "ALFRED_QDRANT_CA_CERT"} {
		t.Setenv(v, "")
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `
provider "alfred" {}
resource "alfred_qdrant_collection" "c" {
  name    = "x"
  vectors = { "" = { size = 4, distance = "Cosine" } }
}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Provider block "qdrant" is not configured.*ALFRED_QDRANT_URL`),
		}},
	})
}
