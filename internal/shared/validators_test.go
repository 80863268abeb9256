package shared

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func validate(v validator.String, s string) bool {
	resp := &validator.StringResponse{}
	v.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("x"), ConfigValue: types.StringValue(s)}, resp)
	return !resp.Diagnostics.HasError()
}

func TestImageReference(t *testing.T) {
	for _, ok := range []string{"example.com/agent:v1", "local/alfredctl:latest", "busybox", "localhost:5000/a/b_c/d-e:1.2.3",
		"europe-west1-docker.pkg.dev/alfred-prod/agents/alfred-bot:1.4.2", "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0",
		"gcr.io/p/img@sha256:" + strings.Repeat("a", 64), "gcr.io/p/img:v1@sha256:" + strings.Repeat("0", 64)} {
		if !validate(ImageReference(), ok) {
			t.Errorf("%q must be accepted", ok)
		}
	}
	for _, bad := range []string{"", " ", "NOT_A_VALUE", "-5m", "a\x00b", "Example.com/Agent", "a b", "img:", "img:-x",
		"ünï", strings.Repeat("a", 5000), "gcr.io/p/img@sha256:xyz"} {
		if validate(ImageReference(), bad) {
			t.Errorf("%q must be refused", bad)
		}
	}
}

func TestTimeoutsMustBePositive(t *testing.T) {
	for s, ok := range map[string]bool{"30s": true, "2h45m": true, "0s": false, "-5m": false, "soon": true /* the package's own error */} {
		if validate(positiveDuration{}, s) != ok {
			t.Errorf("%q: accepted must be %v", s, ok)
		}
	}
}
