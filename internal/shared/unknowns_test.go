package shared

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestNullUnknownsTurnsUnknownValuesIntoNullsOfTheirType(t *testing.T) {
	ctx := context.Background()
	obj := map[string]attr.Type{"a": types.StringType}
	m := struct {
		Kept   types.String
		Status types.String
		Count  types.Int64
		Opts   types.Object
		Shards types.List
	}{
		Kept:   types.StringValue("x"),
		Status: types.StringUnknown(),
		Count:  types.Int64Unknown(),
		Opts:   types.ObjectUnknown(obj),
		Shards: types.ListUnknown(types.StringType),
	}
	NullUnknowns(ctx, &m)
	if m.Kept.ValueString() != "x" {
		t.Errorf("a known value changed: %v", m.Kept)
	}
	for name, v := range map[string]attr.Value{"Status": m.Status, "Count": m.Count, "Opts": m.Opts, "Shards": m.Shards} {
		if !v.IsNull() || v.IsUnknown() {
			t.Errorf("%s: want null, got %v", name, v)
		}
	}
	if !m.Opts.Type(ctx).Equal(types.ObjectType{AttrTypes: obj}) || !m.Shards.ElementType(ctx).Equal(types.StringType) {
		t.Errorf("types changed: %v, %v", m.Opts.Type(ctx), m.Shards.ElementType(ctx))
	}
}
