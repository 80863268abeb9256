package pgdata_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// TestAccPostgresPartitions_badInputsRefusedAtPlan: each bad value is refused by terraform plan, naming the
// attribute. No server is needed: the DSN points at a port where nothing listens.
func TestAccPostgresPartitions_badInputsRefusedAtPlan(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	port, err := localproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("postgres://app:s3cr3t-pw@127.0.0.1:%d/app?sslmode=disable&connect_timeout=2", port)
	cases := []struct{ attrs, want string }{
		{`interval = "hour"`, `(?s)Attribute interval value must be one of:.*"day".*"week".*"month".*got: "hour"`},
		{`interval = "day"` + "\n  premake = -1", `(?s)Attribute premake value must be between 0 and 1000, got: -1`},
		{`interval = "day"` + "\n  premake = 5000", `(?s)Attribute premake value must be between 0 and 1000, got: 5000`},
		{`interval = "day"` + "\n  retention = \"forever\"", `(?s)Invalid retention.*retention: "forever" is not a duration`},
		{`interval = "day"` + "\n  retention = \"-5d\"", `(?s)Invalid retention.*retention: "-5d" is not a duration`},
		{`interval = "day"` + "\n  retention = \"0d\"", `(?s)Invalid retention.*retention: "0d" is zero`},
		{`interval = "day"` + "\n  retention = \"-2h\"", `(?s)Invalid retention.*retention: "-2h" is not positive`},
		{`interval = "day"` + "\n  retention_action = \"archive\"", `(?s)Attribute retention_action value must be one of:.*"detach".*"drop".*got: "archive"`},
		{`interval = "day"` + "\n  column = \"\"", `(?s)Attribute column string length must be between 1 and 63`},
		{`interval = "day"` + "\n  schema = \"\"", `(?s)Attribute schema string length must be between 1 and 63`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config: providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_postgres_partitions" "bad" {
  table = "events"
  %s
}
`, c.attrs),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(strings.ReplaceAll(c.want, " ", `\s+`)),
		})
	}
	long := strings.Repeat("t", 54)
	steps = append(steps, resource.TestStep{
		Config: providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_postgres_partitions" "bad" {
  table    = %q
  interval = "day"
}
`, long),
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Attribute\s+table\s+string\s+length\s+must\s+be\s+between\s+1\s+and\s+53,\s+got:\s+54`),
	})
	steps = append(steps, resource.TestStep{
		Config: `
resource "alfred_postgres_partitions" "bad" {
  table    = "events"
  interval = "day"
}
`,
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Provider\s+block\s+"postgres"\s+is\s+not\s+configured.*ALFRED_POSTGRES_DSN`),
	})
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories, Steps: steps})
}
