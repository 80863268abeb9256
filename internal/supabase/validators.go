package supabase

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Regions a read replica can be set up in: the enum of SetUpReadReplicaBody.read_replica_region in the
// Management API's OpenAPI document.
var Regions = []string{
	"ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

var refRE = regexp.MustCompile(`^[a-z]{20}$`)

func projectRefValidator() validator.String {
	return stringvalidator.RegexMatches(refRE,
		"must be a Supabase project ref: 20 lowercase letters, as in https://<ref>.supabase.co (Project Settings > General)")
}

// cidrValidator refuses anything but a CIDR of the family, written as the API stores it (address bits
// past the prefix zero, canonical spelling), so that what is read back equals what was written.
type cidrValidator struct{ v6 bool }

func (v cidrValidator) family() string {
	if v.v6 {
		return "IPv6"
	}
	return "IPv4"
}

func (v cidrValidator) Description(context.Context) string {
	return "each value must be an " + v.family() + " CIDR such as " + map[bool]string{false: "203.0.113.0/24", true: "2001:db8::/32"}[v.v6]
}

func (v cidrValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v cidrValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if msg := checkCIDR(s, v.v6); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.family()+" CIDR", msg)
	}
}

// checkCIDR returns what is wrong with s as a CIDR of the family, or "".
func checkCIDR(s string, v6 bool) string {
	family, other, attr := "IPv4", "IPv6", "allowed_cidrs_v6"
	if v6 {
		family, other, attr = "IPv6", "IPv4", "allowed_cidrs"
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		if _, aerr := netip.ParseAddr(s); aerr == nil {
			bits := 32
			if strings.Contains(s, ":") {
				bits = 128
			}
			return fmt.Sprintf("%q is an address, not a CIDR; for this one address write %s/%d.", s, s, bits)
		}
		return fmt.Sprintf("%q is not a CIDR: write an %s network as address/prefix length, e.g. %s.", s, family,
			map[bool]string{false: "203.0.113.0/24", true: "2001:db8::/32"}[v6])
	}
	if pfx.Addr().Is4In6() || pfx.Addr().Is4() == v6 {
		return fmt.Sprintf("%q is an %s CIDR; put it in %s.", s, other, attr)
	}
	if m := pfx.Masked().String(); m != s {
		return fmt.Sprintf("%q is not written as the network it names: write %s (the address bits past the prefix length must be zero, in canonical form).", s, m)
	}
	return ""
}
