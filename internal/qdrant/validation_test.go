package qdrant_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// Bad inputs are refused at plan time, with the attribute named, and nothing reaches the API.
func TestAccQdrantCollection_badInputsRejectedAtPlan(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	body := func(attrs string) string {
		return c.provider() + fmt.Sprintf(`
resource "alfred_qdrant_collection" "c" {
  name = "bad"
  %s
}
`, attrs)
	}
	vec := `vectors = { "" = { size = 4, distance = "Cosine" } }`
	cases := []struct{ attrs, want string }{
		{`vectors = { "" = { size = 0, distance = "Cosine" } }`, `vectors\[""\]\.size[\s\S]*between 1 and 65536`},
		{`vectors = { "" = { size = 70000, distance = "Cosine" } }`, `between 1 and 65536`},
		{`vectors = { "" = { size = 4, distance = "cosine" } }`, `distance[\s\S]*value must be one of`},
		{`vectors = {}`, `vectors[\s\S]*at least 1`},
		{`vectors = { "" = { size = 4, distance = "Dot" }, text = { size = 4, distance = "Dot" } }`, `Default vector mixed with named`},
		{vec + "\nreplication_factor = 2\nwrite_consistency_factor = 3", `write_consistency_factor exceeds replication_factor`},
		{vec + "\nwrite_consistency_factor = 2", `replication_factor defaults to 1`},
		{vec + "\nreplication_factor = 0", `replication_factor[\s\S]*between 1 and 64`},
		{vec + "\nreplication_factor = 4", `replication_factor is 4 but the Qdrant cluster has 3 peers`},
		{vec + "\nshard_number = 0", `shard_number[\s\S]*between 1 and 65536`},
		{vec + "\nsharding_method = \"custom\"", `sharding_method[\s\S]*value must be one of`},
		{vec + "\npayload_indexes = { agent = \"string\" }", `payload_indexes[\s\S]*value must be one of`},
		{vec + "\nquantization = { type = \"int4\" }", `quantization\.type[\s\S]*value must be one of`},
		{vec + "\nquantization = { type = \"product\" }", `Product quantization needs compression`},
		{vec + "\nquantization = { type = \"scalar\", quantile = 0.2 }", `quantile[\s\S]*between 0\.5`},
		{vec + "\nquantization = { type = \"binary\", quantile = 0.9 }", `quantile applies to scalar quantization only`},
		{vec + "\nhnsw = { ef_construct = 2 }", `hnsw\.ef_construct[\s\S]*between 4 and 4096`},
		{vec + "\noptimizers = { deleted_threshold = 1.5 }", `optimizers\.deleted_threshold[\s\S]*between 0`},
		{vec + "\naliases = [\"bad\"]", `Alias equal to the collection name`},
		{vec + "\naliases = [\"has space\"]", `aliases[\s\S]*letters, digits`},
	}
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{Config: body(tc.attrs), PlanOnly: true, ExpectError: regexp.MustCompile(tc.want)})
	}
	steps = append(steps, resource.TestStep{
		Config:      c.provider() + `resource "alfred_qdrant_collection" "c" {` + "\n" + `name = "a/b"` + "\n" + vec + "\n}",
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`name[\s\S]*letters, digits`),
	})
	c.Kit.ResetCalls()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
		CheckDestroy: func(_ *terraform.State) error {
			for m, n := range c.Kit.Calls() {
				if n > 0 && m != "GET /cluster" && m != "/qdrant.Qdrant/HealthCheck" {
					return fmt.Errorf("a refused plan called the API: %s x%d", m, n)
				}
			}
			return nil
		},
	})
}
