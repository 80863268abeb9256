package shared

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// ProjectIDRE matches a Google Cloud project ID: 6 to 30 lowercase letters, digits and hyphens, starting
// with a letter and not ending with a hyphen (a single letter is kept for tests that name projects "p").
var ProjectIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z]$`)

// ProjectIDRule says what ProjectIDRE allows.
const ProjectIDRule = "must be a project ID: 6 to 30 lowercase letters, digits and hyphens, starting with a letter"

// imageRE is a container image reference in the grammar of the distribution reference
// (github.com/distribution/reference): an optional registry host[:port], lowercase path components
// separated by "/", then a tag (":" up to 128 word characters, dots and dashes) and/or a digest.
var imageRE = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$`)

// ImageReference validates a container image reference (registry/path:tag or @digest), at most 4096
// characters.
func ImageReference() validator.String { return imageValidator{} }

type imageValidator struct{}

func (imageValidator) Description(context.Context) string {
	return "a container image reference such as europe-docker.pkg.dev/project/repo/agent:1.2 (lowercase path, optional :tag and @digest)"
}
func (v imageValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v imageValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if len(s) > 4096 || !imageRE.MatchString(s) {
		shown := s
		if len(shown) > 80 {
			shown = shown[:80] + "..."
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid container image",
			fmt.Sprintf("%q is not a container image reference: expected %s.", shown, v.Description(ctx)))
	}
}

// TimeoutsBlock is timeouts.Block whose durations must also be positive: the package accepts "-5m" or
// "0s", which would make every call of the operation fail at once with a deadline error.
func TimeoutsBlock(ctx context.Context, opts timeouts.Opts) schema.Block {
	b := timeouts.Block(ctx, opts).(schema.SingleNestedBlock)
	b.Attributes = positive(b.Attributes)
	return b
}

// TimeoutsAttributes is timeouts.Attributes with the same positive durations as TimeoutsBlock.
func TimeoutsAttributes(ctx context.Context, opts timeouts.Opts) schema.Attribute {
	a := timeouts.Attributes(ctx, opts).(schema.SingleNestedAttribute)
	a.Attributes = positive(a.Attributes)
	return a
}

func positive(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name, a := range attrs {
		s := a.(schema.StringAttribute)
		s.Validators = append(append([]validator.String(nil), s.Validators...), positiveDuration{})
		out[name] = s
	}
	return out
}

type positiveDuration struct{}

func (positiveDuration) Description(context.Context) string {
	return "a positive duration such as 30s or 2h45m"
}
func (v positiveDuration) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (positiveDuration) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	// A value that does not parse is the timeouts package's own error.
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err == nil && d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Timeout must be positive",
			fmt.Sprintf("%q is not a positive duration: the operation would fail at once. Use e.g. \"30s\" or \"20m\", "+
				"or leave it unset for the default.", req.ConfigValue.ValueString()))
	}
}

// QdrantCollectionNameRE matches a Qdrant collection (or alias) name: 1 to 255 letters, digits, '_', '-'
// or '.'.
var QdrantCollectionNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// QdrantCollectionName validates a Qdrant collection or alias name with QdrantCollectionNameRE.
func QdrantCollectionName() validator.String {
	return stringvalidator.RegexMatches(QdrantCollectionNameRE, "must be 1 to 255 letters, digits, '_', '-' or '.'")
}

// RegionRE matches a Google Cloud region such as europe-west1 or us-central1.
var RegionRE = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)

// Region validates a region attribute with RegionRE.
func Region() validator.String {
	return stringvalidator.RegexMatches(RegionRE, "must be a region such as europe-west1 or us-central1")
}

// PostgresNoNUL refuses a NUL byte, which no PostgreSQL identifier can hold; the other characters are legal
// in a quoted identifier.
var PostgresNoNUL = stringvalidator.RegexMatches(regexp.MustCompile(`^[^\x00]*$`), "must not contain a NUL byte: PostgreSQL identifiers cannot")

// ProjectID validates a project attribute with ProjectIDRE.
func ProjectID() validator.String { return stringvalidator.RegexMatches(ProjectIDRE, ProjectIDRule) }

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
