package backuppolicy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// noDrift fails when the plan reports any resource as changed outside Terraform.
type noDrift struct{}

func (noDrift) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, d := range req.Plan.ResourceDrift {
		resp.Error = fmt.Errorf("the plan shows %s as changed outside Terraform", d.Address) // not its values: they hold secrets
		return
	}
}

// jobEnv reads one variable of the job's environment.
func (e *env) jobEnv(name string) string {
	for _, v := range e.job().GetTemplate().GetTemplate().GetContainers()[0].GetEnv() {
		if v.GetName() == name {
			return v.GetValue()
		}
	}
	return ""
}

// A rotated Qdrant API key in the provider: the plan updates the job in place (last_success unknown), with
// nothing shown as changed outside Terraform; the apply writes the new key, and the next plan is empty.
func TestAccBackupPolicy_rotatedQdrantKeyIsAnUpdateNotDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	coll := fmt.Sprintf("bp_rotate_%s", strings.TrimPrefix(e.name, "nightly-"))
	policy := withCollections(e.policy("0 3 * * *", 7, ""), coll)
	rotated := "rotated-" + e.name
	rotatedProvider := e.providerWith(fmt.Sprintf("qdrant {\n    url     = %q\n    rest_url = %q\n    api_key = %q\n  }",
		e.sb["ALFRED_QDRANT_URL"], e.sb["ALFRED_QDRANT_REST_URL"], rotated))
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.qdrantProvider() + policy, Check: e.checkQdrantEnv},
			{
				Config: rotatedProvider + policy,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("alfred_backup_policy.p", tfjsonpath.New("last_success")),
					noDrift{},
				}},
				Check: func(*terraform.State) error {
					if got := e.jobEnv("QDRANT_API_KEY"); got != rotated {
						return fmt.Errorf("the job's QDRANT_API_KEY after the rotation is not the provider's new key (%d characters)", len(got))
					}
					return nil
				},
			},
		},
	})
}

// The provider's Qdrant url and rest_url come from another resource, unknown at plan: the plan of a
// policy with collections neither fails nor writes an empty address; the apply writes the known ones.
// When they are unknown again, the job's update is planned (last_success unknown), and nothing drifts.
func TestAccBackupPolicy_qdrantURLUnknownAtPlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	coll := fmt.Sprintf("bp_unknown_%s", strings.TrimPrefix(e.name, "nightly-"))
	cfg := func(trigger string) string {
		return e.providerWith(fmt.Sprintf("qdrant {\n    url     = terraform_data.q.id == \"\" ? \"\" : %q\n    rest_url = terraform_data.q.id == \"\" ? \"\" : %q\n    api_key = %q\n  }",
			e.sb["ALFRED_QDRANT_URL"], e.sb["ALFRED_QDRANT_REST_URL"], e.sb["QDRANT_API_KEY"])) +
			fmt.Sprintf("resource \"terraform_data\" \"q\" {\n  triggers_replace = %q\n}\n", trigger) +
			withCollections(e.policy("0 3 * * *", 7, ""), coll)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg("1"), Check: e.checkQdrantEnv},
			{
				Config: cfg("2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("alfred_backup_policy.p", tfjsonpath.New("last_success")),
					noDrift{},
				}},
				Check: e.checkQdrantEnv,
			},
		},
	})
}
