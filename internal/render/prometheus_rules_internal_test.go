package render

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A map whose values are known only after apply is skipped at validation, not reported as an error.
func TestStringMapSkipsUnknownValues(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := types.MapValueMust(types.StringType, map[string]attr.Value{"owner": types.StringUnknown(), "team": types.StringValue("a")})
	if out, ok := stringMap(ctx, m, &diags); ok || out != nil || diags.HasError() {
		t.Fatalf("unknown element: %v %v %v", out, ok, diags)
	}
	m = types.MapValueMust(types.StringType, map[string]attr.Value{"team": types.StringValue("a")})
	if out, ok := stringMap(ctx, m, &diags); !ok || out["team"] != "a" || diags.HasError() {
		t.Fatalf("known map: %v %v %v", out, ok, diags)
	}
	if out, ok := stringMap(ctx, types.MapNull(types.StringType), &diags); !ok || out != nil {
		t.Fatalf("null map: %v %v", out, ok)
	}
}
