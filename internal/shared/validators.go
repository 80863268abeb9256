package shared

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// StringCheck is a string validator made of a check: Fn returns what is wrong with a configured value
// (a sentence that says what is allowed), or "" when it is valid. Null and unknown values are not checked.
// The error names the attribute; Summary defaults to "Invalid <attribute>".
type StringCheck struct {
	Desc    string
	Summary string
	Fn      func(string) string
}

// Description is the validator's plain description.
func (v StringCheck) Description(context.Context) string { return v.Desc }

// MarkdownDescription is the validator's markdown description.
func (v StringCheck) MarkdownDescription(context.Context) string { return v.Desc }

// ValidateString runs the check.
func (v StringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := v.Fn(req.ConfigValue.ValueString()); msg != "" {
		summary := v.Summary
		if summary == "" {
			summary = "Invalid " + req.Path.String()
		}
		resp.Diagnostics.AddAttributeError(req.Path, summary, msg)
	}
}
