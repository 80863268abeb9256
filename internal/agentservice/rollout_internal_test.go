package agentservice

import (
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func set(members ...string) types.Set {
	el := []attr.Value{}
	for _, m := range members {
		el = append(el, types.StringValue(m))
	}
	return types.SetValueMust(types.StringType, el)
}

// IAM compares the email of a member case-insensitively, its type and principal:// identifiers exactly.
func TestMemberKey_emailsFoldTypesAndPrincipalsDoNot(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"user:Alice@Example.com":                            "user:alice@example.com",
		"serviceAccount:Bot@P.iam.gserviceaccount.com":      "serviceAccount:bot@p.iam.gserviceaccount.com",
		"group:Ops@Example.COM":                             "group:ops@example.com",
		"domain:Example.com":                                "domain:example.com",
		"allUsers":                                          "allUsers",
		"principal://iam.googleapis.com/Pool/subject/Alice": "principal://iam.googleapis.com/Pool/subject/Alice",
		"User:Alice@Example.com":                            "User:Alice@Example.com",
	} {
		if got := memberKey(in); got != want {
			t.Errorf("memberKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// The policy's lower-cased members are reported in the spelling Terraform already knew; members it did not
// know keep the API's spelling; other roles are not invokers.
func TestInvokersFromPolicy_keepsKnownSpelling(t *testing.T) {
	t.Parallel()
	p := &iampb.Policy{Bindings: []*iampb.Binding{
		{Role: invokerRole, Members: []string{"user:alice@example.com", "group:ops@example.com"}},
		{Role: "roles/run.viewer", Members: []string{"user:dave@example.com"}},
	}}
	got := invokersFromPolicy(p, set("user:Alice@Example.com", "user:Bob@Example.com"))
	if want := set("user:Alice@Example.com", "group:ops@example.com"); !got.Equal(want) {
		t.Fatalf("invokers %v, want %v", got, want)
	}
	if !sameMembers(set("user:Alice@Example.com"), set("user:alice@example.com")) || sameMembers(set("user:alice@example.com"), set("group:alice@example.com")) {
		t.Fatal("sameMembers")
	}
}

// A service that served is protected; one whose creation failed (never ready) is not; false is false.
func TestDeletionBlocked(t *testing.T) {
	t.Parallel()
	m := agentServiceModel{ID: types.StringValue("projects/p/locations/europe-west1/services/s"),
		DeletionProtection: types.BoolValue(true), LatestReadyRevision: types.StringValue("projects/p/locations/europe-west1/services/s/revisions/s-00001-abc")}
	if deletionBlocked(&m) == "" {
		t.Fatal("a serving service with deletion_protection = true may be deleted")
	}
	m.LatestReadyRevision = types.StringNull()
	if deletionBlocked(&m) != "" {
		t.Fatal("a service that never served is protected")
	}
	m.LatestReadyRevision, m.DeletionProtection = types.StringValue("x"), types.BoolValue(false)
	if deletionBlocked(&m) != "" {
		t.Fatal("deletion_protection = false still blocks")
	}
}
