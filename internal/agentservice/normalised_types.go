package agentservice

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Cloud Run returns cpu, memory and timeout in its own spelling: "1" comes back as "1000m", a timeout of
// "5m" as "300s", and a service made by another tool may say "1024Mi" where the configuration says "1Gi".
// These types make two spellings of the same amount semantically equal, so that the framework keeps the
// value Terraform already knew (prior state on refresh, the planned value after create and update) instead
// of showing the API's spelling as a change.

var (
	_ basetypes.StringTypable                    = quantityType{}
	_ basetypes.StringValuableWithSemanticEquals = quantityValue{}
	_ basetypes.StringTypable                    = durationType{}
	_ basetypes.StringValuableWithSemanticEquals = durationValue{}
)

// quantityType is the type of cpu and memory: Kubernetes quantities, equal when they denote the same amount.
type quantityType struct{ basetypes.StringType }

func (t quantityType) Equal(o attr.Type) bool {
	_, ok := o.(quantityType)
	return ok
}

func (t quantityType) String() string { return "agentservice.quantityType" }

func (t quantityType) ValueType(context.Context) attr.Value { return quantityValue{} }

func (t quantityType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return quantityValue{StringValue: in}, nil
}

func (t quantityType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	return stringValueFromTerraform(ctx, t, in)
}

// quantityValue is a cpu or memory value.
type quantityValue struct{ basetypes.StringValue }

func newQuantity(s string) quantityValue {
	return quantityValue{StringValue: basetypes.NewStringValue(s)}
}

func (v quantityValue) Type(context.Context) attr.Type { return quantityType{} }

func (v quantityValue) Equal(o attr.Value) bool {
	other, ok := o.(quantityValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports whether both values denote the same amount ("1" and "1000m", "1Gi" and
// "1024Mi"). An amount that does not parse equals only its own spelling.
func (v quantityValue) StringSemanticEquals(_ context.Context, other basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	o, ok := other.(quantityValue)
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("A quantity was compared with a value of "+
			"type %T. This is a bug in the provider; please report it.", other))
		return false, diags
	}
	return sameSpelledValue(v.StringValue, o.StringValue, sameQuantity), diags
}

// durationType is the type of timeout: Go durations, equal when they are the same length of time.
// timetypes.GoDuration (terraform-plugin-framework-timetypes v0.5.0) is not used: its semantic equality
// reads a value that does not parse as 0, so any two such values (and "0s") would be equal, where this type
// keeps an unparsable value equal only to its own spelling (TestDurationSemanticEquals).
type durationType struct{ basetypes.StringType }

func (t durationType) Equal(o attr.Type) bool {
	_, ok := o.(durationType)
	return ok
}

func (t durationType) String() string { return "agentservice.durationType" }

func (t durationType) ValueType(context.Context) attr.Value { return durationValue{} }

func (t durationType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return durationValue{StringValue: in}, nil
}

func (t durationType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	return stringValueFromTerraform(ctx, t, in)
}

// durationValue is a timeout value.
type durationValue struct{ basetypes.StringValue }

func newDuration(s string) durationValue {
	return durationValue{StringValue: basetypes.NewStringValue(s)}
}

func (v durationValue) Type(context.Context) attr.Type { return durationType{} }

func (v durationValue) Equal(o attr.Value) bool {
	other, ok := o.(durationValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports whether both values are the same length of time ("5m" and "300s"). A value
// that does not parse equals only its own spelling.
func (v durationValue) StringSemanticEquals(_ context.Context, other basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	o, ok := other.(durationValue)
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("A duration was compared with a value of "+
			"type %T. This is a bug in the provider; please report it.", other))
		return false, diags
	}
	return sameSpelledValue(v.StringValue, o.StringValue, sameDuration), diags
}

// sameDuration reports whether both are Go durations of the same length.
func sameDuration(a, b string) bool {
	x, err1 := time.ParseDuration(a)
	y, err2 := time.ParseDuration(b)
	return err1 == nil && err2 == nil && x == y
}

// sameSpelledValue is the semantic equality of both types: a null or unknown value equals only the same,
// a known one its own spelling or any other that same says means the same.
func sameSpelledValue(v, o basetypes.StringValue, same func(a, b string) bool) bool {
	if !knownString(v) || !knownString(o) {
		return v.Equal(o)
	}
	return v.ValueString() == o.ValueString() || same(v.ValueString(), o.ValueString())
}

func knownString(v basetypes.StringValue) bool { return !v.IsNull() && !v.IsUnknown() }

func stringValueFromTerraform(ctx context.Context, t basetypes.StringTypable, in tftypes.Value) (attr.Value, error) {
	v, err := basetypes.StringType{}.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	out, diags := t.ValueFromString(ctx, s)
	if diags.HasError() {
		return nil, fmt.Errorf("converting %s to %s: %v", s, t, diags)
	}
	return out, nil
}

// keepEquivalentState plans the prior state's spelling when the configuration (or the default) says the
// same amount in another spelling. The framework applies semantic equality only to what Read, Create and
// Update return, never to the plan: without this modifier, a service imported as cpu = "1000m" under a
// configuration saying "1" would plan an update that changes nothing.
func keepEquivalentState(t basetypes.StringTypable) planmodifier.String {
	return keepEquivalent{typ: t}
}

type keepEquivalent struct{ typ basetypes.StringTypable }

func (m keepEquivalent) Description(context.Context) string {
	return "Keeps the value in state when the configuration spells the same value differently."
}

func (m keepEquivalent) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (m keepEquivalent) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !knownString(req.StateValue) || !knownString(req.PlanValue) || req.StateValue.Equal(req.PlanValue) {
		return
	}
	planned, diags := m.typ.ValueFromString(ctx, req.PlanValue)
	resp.Diagnostics.Append(diags...)
	prior, diags := m.typ.ValueFromString(ctx, req.StateValue)
	resp.Diagnostics.Append(diags...)
	p, ok := planned.(basetypes.StringValuableWithSemanticEquals)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	same, diags := p.StringSemanticEquals(ctx, prior)
	resp.Diagnostics.Append(diags...)
	if same {
		resp.PlanValue = req.StateValue
	}
}
