package agentservice

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestQuantitySemanticEquals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"1", "1000m", true},
		{"2", "2000m", true},
		{"0.5", "500m", true},
		{"1Gi", "1024Mi", true},
		{"512Mi", "0.5Gi", true},
		{"1Gi", "1048576Ki", true},
		{"4Gi", "4Gi", true},
		{"1Gi", "1G", false}, // 2^30 and 10^9 bytes
		{"1", "2", false},
		{"1000m", "1001m", false},
		{"512Mi", "1Gi", false},
		{"lots", "lots", true}, // does not parse: equal only to itself
		{"lots", "1", false},
	} {
		for _, pair := range [][2]string{{c.a, c.b}, {c.b, c.a}} {
			got, diags := newQuantity(pair[0]).StringSemanticEquals(context.Background(), newQuantity(pair[1]))
			if diags.HasError() {
				t.Fatalf("%q vs %q: %v", pair[0], pair[1], diags)
			}
			if got != c.same {
				t.Errorf("quantity %q vs %q: semantically equal = %v, want %v", pair[0], pair[1], got, c.same)
			}
		}
	}
}

func TestDurationSemanticEquals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"5m", "300s", true},
		{"1h", "3600s", true},
		{"1m30s", "90s", true},
		{"300s", "300s", true},
		{"5m", "301s", false},
		{"1h", "3599s", false},
		{"soon", "soon", true},
		{"soon", "300s", false},
	} {
		for _, pair := range [][2]string{{c.a, c.b}, {c.b, c.a}} {
			got, diags := newDuration(pair[0]).StringSemanticEquals(context.Background(), newDuration(pair[1]))
			if diags.HasError() {
				t.Fatalf("%q vs %q: %v", pair[0], pair[1], diags)
			}
			if got != c.same {
				t.Errorf("duration %q vs %q: semantically equal = %v, want %v", pair[0], pair[1], got, c.same)
			}
		}
	}
}

// Null and unknown values are equal only to themselves, and a value of another type is a provider bug,
// reported as an error rather than a silent "not equal".
func TestSemanticEqualsNullUnknownAndForeignTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	null, unknown := quantityValue{types.StringNull()}, quantityValue{types.StringUnknown()}
	for _, c := range []struct {
		name string
		a, b quantityValue
		same bool
	}{
		{"null vs value", null, newQuantity("1000m"), false},
		{"unknown vs value", unknown, newQuantity("1000m"), false},
		{"null vs unknown", null, unknown, false},
		{"null vs null", null, null, true},
	} {
		if got, _ := c.a.StringSemanticEquals(ctx, c.b); got != c.same {
			t.Errorf("%s: %v, want %v", c.name, got, c.same)
		}
	}
	if got, _ := (durationValue{types.StringNull()}).StringSemanticEquals(ctx, newDuration("300s")); got {
		t.Error("a null duration equals 300s")
	}
	if _, diags := newQuantity("1").StringSemanticEquals(ctx, newDuration("1s")); !diags.HasError() {
		t.Error("comparing a quantity with a duration gave no error")
	}
	if _, diags := newDuration("1s").StringSemanticEquals(ctx, types.StringValue("1s")); !diags.HasError() {
		t.Error("comparing a duration with a plain string gave no error")
	}
}

// The types read Terraform values into their own value types (which the framework's semantic equality
// needs: it only calls StringSemanticEquals on values that implement it) and keep null and unknown.
func TestNormalisedTypesFromTerraform(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, typ := range []basetypes.StringTypable{quantityType{}, durationType{}} {
		for _, in := range []tftypes.Value{
			tftypes.NewValue(tftypes.String, "1"),
			tftypes.NewValue(tftypes.String, nil),
			tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		} {
			v, err := typ.ValueFromTerraform(ctx, in)
			if err != nil {
				t.Fatalf("%s from %s: %v", typ, in, err)
			}
			if _, ok := v.(basetypes.StringValuableWithSemanticEquals); !ok {
				t.Fatalf("%s from %s gave %T, which has no semantic equality", typ, in, v)
			}
			if !v.Type(ctx).Equal(typ) {
				t.Errorf("%s from %s: value type %s", typ, in, v.Type(ctx))
			}
			back, err := v.ToTerraformValue(ctx)
			if err != nil || !back.Equal(in) {
				t.Errorf("%s: %s round-trips to %s (%v)", typ, in, back, err)
			}
		}
	}
	if (quantityType{}).Equal(durationType{}) || (durationType{}).Equal(types.StringType) {
		t.Error("the two types, or a type and StringType, compare equal")
	}
	if newQuantity("1").Equal(newDuration("1")) || newQuantity("1").Equal(types.StringValue("1")) {
		t.Error("values of different types compare equal")
	}
	if !newQuantity("1").Equal(newQuantity("1")) || newQuantity("1").Equal(newQuantity("1000m")) {
		t.Error("Equal must compare the spelling (semantic equality is separate)")
	}
}

// The plan keeps the state's spelling when the configuration or the default means the same, and plans the
// configuration's value when it means something else or there is nothing to compare with.
func TestKeepEquivalentStatePlansPriorSpelling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name       string
		typ        basetypes.StringTypable
		state, cfg types.String
		want       types.String
	}{
		{"imported 1000m, config 1", quantityType{}, types.StringValue("1000m"), types.StringValue("1"), types.StringValue("1000m")},
		{"imported 1024Mi, config 1Gi", quantityType{}, types.StringValue("1024Mi"), types.StringValue("1Gi"), types.StringValue("1024Mi")},
		{"imported 300s, config 5m", durationType{}, types.StringValue("300s"), types.StringValue("5m"), types.StringValue("300s")},
		{"real cpu change", quantityType{}, types.StringValue("1000m"), types.StringValue("2"), types.StringValue("2")},
		{"real memory change", quantityType{}, types.StringValue("1024Mi"), types.StringValue("1G"), types.StringValue("1G")},
		{"real timeout change", durationType{}, types.StringValue("300s"), types.StringValue("6m"), types.StringValue("6m")},
		{"create", quantityType{}, types.StringNull(), types.StringValue("1"), types.StringValue("1")},
		{"unknown in config", durationType{}, types.StringValue("300s"), types.StringUnknown(), types.StringUnknown()},
	} {
		req := planmodifier.StringRequest{Path: path.Root("x"), StateValue: c.state, ConfigValue: c.cfg, PlanValue: c.cfg}
		resp := &planmodifier.StringResponse{PlanValue: req.PlanValue}
		keepEquivalentState(c.typ).PlanModifyString(ctx, req, resp)
		if resp.Diagnostics.HasError() {
			t.Fatalf("%s: %v", c.name, resp.Diagnostics)
		}
		if !resp.PlanValue.Equal(c.want) {
			t.Errorf("%s: planned %s, want %s", c.name, resp.PlanValue, c.want)
		}
	}
}

// The schema's attributes carry the custom types (so the framework applies their semantic equality on
// refresh and after apply), and their static defaults are plain strings that the framework converts.
func TestSchemaUsesNormalisedTypes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := agentServiceSchema(ctx)
	for attrName, want := range map[string]basetypes.StringTypable{"cpu": quantityType{}, "memory": quantityType{}, "timeout": durationType{}} {
		a := s.Attributes[attrName]
		if !a.GetType().Equal(want) {
			t.Errorf("%s has type %s, want %s", attrName, a.GetType(), want)
		}
	}
	if diags := s.ValidateImplementation(ctx); diags.HasError() {
		t.Fatalf("schema: %v", diags)
	}
}
