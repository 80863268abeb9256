package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// urlProblem says why s is not an absolute http(s) URL, or "" when it is.
func urlProblem(s string) string {
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\n") {
		return "it contains whitespace"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "it does not parse as a URL (" + err.Error() + ")"
	case u.Scheme == "" || u.Host == "" && u.Opaque != "":
		return "it has no scheme: write it with http:// or https://"
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("its scheme is %q; only http and https are supported", u.Scheme)
	case u.Host == "":
		return "it has no host"
	case u.RawQuery != "" || u.Fragment != "":
		return "it has a query or fragment; give the base URL only"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("its port %q is not a number from 1 to 65535", p)
		}
	}
	return ""
}

// hostPortProblem says why s is not a gRPC address (host or host:port, no scheme), or "" when it is.
func hostPortProblem(s string) string {
	if strings.ContainsAny(s, " \t\n") {
		return "it contains whitespace"
	}
	if strings.Contains(s, "://") {
		return "it has a scheme; a gRPC endpoint is host:port without http:// or https://"
	}
	if strings.Contains(s, "/") {
		return "it has a path; a gRPC endpoint is host:port only"
	}
	host, port := s, ""
	if strings.Contains(s, ":") {
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "it is not host:port (" + err.Error() + ")"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("its port %q is not a number from 1 to 65535", port)
		}
	}
	if host == "" {
		return "it has no host"
	}
	return ""
}

const (
	urlRule      = "An absolute http:// or https:// URL, e.g. https://api.supabase.com or http://127.0.0.1:7070."
	hostPortRule = "host:port without a scheme, e.g. run.googleapis.com:443 or 127.0.0.1:50051."
)

// checkString is a validator.String built from a problem function.
type checkString struct {
	rule  string
	check func(string) string
}

var _ validator.String = checkString{}

func (v checkString) Description(context.Context) string         { return v.rule }
func (v checkString) MarkdownDescription(context.Context) string { return v.rule }

func (v checkString) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == "" {
		return
	}
	s := req.ConfigValue.ValueString()
	if p := v.check(s); p != "" {
		if u, err := url.Parse(s); err == nil && u.User != nil {
			s = u.Redacted() // never echo a password written into a URL
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid provider configuration value",
			fmt.Sprintf("%q is not valid here: %s. Expected: %s", s, p, v.rule))
	}
}

func urlValidator() validator.String { return checkString{rule: urlRule, check: urlProblem} }
func hostPortValidator() validator.String {
	return checkString{rule: hostPortRule, check: hostPortProblem}
}
