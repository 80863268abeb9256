package shared

import (
	"context"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// NullUnknowns replaces every unknown top-level value of a resource model (a pointer to a struct of
// framework values) with a null of its type. A Create or Update that fails after the object changed must
// still record it, and Terraform refuses a state that holds unknown values ("Provider returned invalid
// result object after apply"): null says "not read", and the next refresh reads the truth.
func NullUnknowns(ctx context.Context, model any) {
	v := reflect.ValueOf(model).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() || !f.CanInterface() {
			continue
		}
		val, ok := f.Interface().(attr.Value)
		if !ok || !val.IsUnknown() {
			continue
		}
		typ := val.Type(ctx)
		null, err := typ.ValueFromTerraform(ctx, tftypes.NewValue(typ.TerraformType(ctx), nil))
		if err != nil {
			continue
		}
		nv := reflect.ValueOf(null)
		if nv.Type().AssignableTo(f.Type()) {
			f.Set(nv)
		} else if nv.Type().ConvertibleTo(f.Type()) {
			f.Set(nv.Convert(f.Type()))
		}
	}
}
