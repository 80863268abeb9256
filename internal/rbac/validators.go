package rbac

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The shapes of every constrained value. They are checked at plan time by the validators below and again
// in the store before anything reaches SQL, and the alfred_rbac tables carry the same CHECK constraints.
var (
	roleNameRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	permissionRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}\.[a-z][a-z0-9_]{0,62}$`)
	identRe      = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	uuidRe       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	numericIDRe  = regexp.MustCompile(`^[0-9]{1,64}$`)
	emailRe      = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]{0,63}@[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
)

const (
	roleNameRule = "A role name is 1 to 63 characters: a lowercase ASCII letter followed by lowercase letters, " +
		"digits or underscores (pattern [a-z][a-z0-9_]{0,62}), for example \"task_analyst\"."
	permissionRule = "A permission is <resource>.<action> in lowercase ASCII, each part a letter followed by letters, " +
		"digits or underscores, for example \"task_results.read\"."
	identRule = "Use an unquoted lowercase PostgreSQL identifier: a lowercase ASCII letter or underscore followed by up " +
		"to 62 lowercase letters, digits or underscores (pattern [a-z_][a-z0-9_]{0,62}), for example \"task_results\"."
	principalRule = "A principal is a user id, matched against the JWT `sub` claim: a lowercase UUID such as " +
		"\"6f1c2d4e-0000-4000-8000-000000000001\" or a numeric id such as \"113284958147297412345\"; or " +
		"user:EMAIL or serviceAccount:EMAIL, matched against the verified `email` claim, with the email in " +
		"lowercase, such as \"serviceAccount:social-intel@my-project.iam.gserviceaccount.com\"."
)

// problem explains, in a few words, why s fails a lowercase-identifier rule; it names the first offending
// character so a person sees at once what to remove.
func problem(s string, max int) string {
	switch {
	case s == "":
		return "it is empty"
	case !utf8.ValidString(s):
		return "it is not valid UTF-8"
	case len(s) > max:
		return fmt.Sprintf("it is %d bytes long, the limit is %d", len(s), max)
	}
	for i, r := range s {
		switch {
		case r > unicode.MaxASCII:
			return fmt.Sprintf("it contains the non-ASCII character %q at position %d", r, i+1)
		case r == '\'' || r == '"' || r == '`':
			return fmt.Sprintf("it contains a quote (%q) at position %d", r, i+1)
		case r == ';':
			return fmt.Sprintf("it contains a semicolon at position %d", i+1)
		case unicode.IsSpace(r):
			return fmt.Sprintf("it contains whitespace at position %d", i+1)
		case unicode.IsUpper(r):
			return fmt.Sprintf("it contains the uppercase letter %q (use %q)", r, strings.ToLower(s))
		}
	}
	if c := s[0]; c >= '0' && c <= '9' {
		return "it starts with a digit"
	}
	return "it contains a character other than lowercase letters, digits and underscores"
}

// RoleNameProblem returns why name is not a valid role name, or "" when it is.
func RoleNameProblem(name string) string {
	if roleNameRe.MatchString(name) {
		return ""
	}
	p := problem(name, 63)
	if name != "" && name[0] == '_' {
		p = "it starts with an underscore"
	}
	return p
}

// PermissionProblem returns why p is not a valid permission, or "" when it is.
func PermissionProblem(p string) string {
	if permissionRe.MatchString(p) {
		return ""
	}
	parts := strings.Split(p, ".")
	switch {
	case p == "":
		return "it is empty"
	case len(parts) == 1:
		return "it has no action: write <resource>.<action>"
	case len(parts) > 2:
		return "it has more than one dot"
	case parts[0] == "" || parts[1] == "":
		return "its resource or action part is empty"
	}
	for _, part := range parts {
		if part != "" && (part[0] == '_' || part[0] >= '0' && part[0] <= '9') {
			return fmt.Sprintf("part %q does not start with a letter", part)
		}
		if len(part) > 63 {
			return fmt.Sprintf("part %q is longer than 63 characters", part[:20]+"...")
		}
		if !regexp.MustCompile(`^[a-z0-9_]*$`).MatchString(part) {
			return problem(part, 63)
		}
	}
	return "it does not match <resource>.<action>"
}

// IdentProblem returns why s is not an identifier this provider accepts, or "" when it is.
func IdentProblem(s string) string {
	if identRe.MatchString(s) {
		return ""
	}
	return problem(s, 63)
}

// principalPrefixes are the forms of principal matched against the verified email claim.
var principalPrefixes = []string{"user:", "serviceAccount:"}

// PrincipalProblem returns why s is not a principal, or "" when it is.
func PrincipalProblem(s string) string {
	if uuidRe.MatchString(s) || numericIDRe.MatchString(s) {
		return ""
	}
	for _, prefix := range principalPrefixes {
		email, ok := strings.CutPrefix(s, prefix)
		if !ok {
			continue
		}
		switch {
		case len(email) <= 254 && emailRe.MatchString(email):
			return ""
		case email != strings.ToLower(email) && emailRe.MatchString(strings.ToLower(email)):
			return fmt.Sprintf("it has uppercase letters; emails are compared in lowercase, write %q", prefix+strings.ToLower(email))
		}
		return fmt.Sprintf("%q is not a well-formed email address", email)
	}
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return "it is empty"
	case strings.HasPrefix(lower, "user:") || strings.HasPrefix(lower, "serviceaccount:"):
		return "the prefix is spelled user: or serviceAccount: (with a capital A)"
	case lower != s && uuidRe.MatchString(lower):
		return fmt.Sprintf("it has uppercase letters; JWT subjects are compared exactly, write %q", lower)
	case strings.Contains(s, "@") && emailRe.MatchString(lower):
		return fmt.Sprintf("a bare email is ambiguous: write \"serviceAccount:%s\" for a service account or "+
			"\"user:%s\" for a user; both match the token's verified email claim", lower, lower)
	case strings.Contains(s, "@"):
		return "it is not a well-formed email address, and an email needs the prefix user: or serviceAccount:"
	}
	return "it is neither a user id (a UUID or a numeric id) nor user:EMAIL or serviceAccount:EMAIL"
}

// reservedSchemaProblem rejects schemas a table policy must never touch.
func reservedSchemaProblem(s string) string {
	switch {
	case s == "alfred_rbac":
		return "alfred_rbac is the provider's own schema"
	case s == "information_schema" || strings.HasPrefix(s, "pg_"):
		return "it is a PostgreSQL system schema"
	}
	return ""
}

// stringCheck is a validator.String built from a function that explains what is wrong with a value.
type stringCheck struct {
	what  string // e.g. "role name"
	rule  string // what is allowed, shown after the problem
	check func(string) string
}

var _ validator.String = stringCheck{}

func (v stringCheck) Description(context.Context) string         { return v.rule }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.rule }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if p := v.check(s); p != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.what,
			fmt.Sprintf("The %s %q is not valid: %s. %s", v.what, s, p, v.rule))
	}
}

func roleNameValidator() validator.String {
	return stringCheck{what: "role name", rule: roleNameRule, check: RoleNameProblem}
}

func permissionValidator() validator.String {
	return stringCheck{what: "permission", rule: permissionRule, check: PermissionProblem}
}

func principalValidator() validator.String {
	return stringCheck{what: "principal", rule: principalRule, check: PrincipalProblem}
}

func identValidator(what string) validator.String {
	return stringCheck{what: what, rule: identRule, check: IdentProblem}
}

func schemaValidator() validator.String {
	return stringCheck{what: "schema name", rule: identRule + " System schemas and alfred_rbac are not allowed.",
		check: func(s string) string {
			if p := IdentProblem(s); p != "" {
				return p
			}
			return reservedSchemaProblem(s)
		}}
}

// quoteLiteral renders s as a PostgreSQL string literal. Callers only pass values that already matched
// permissionRe; quoting is the second line of defence, for the one place where DDL cannot take parameters.
func quoteLiteral(s string) (string, error) {
	if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return "", fmt.Errorf("value %q cannot be written as a SQL literal", s)
	}
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		// As PostgreSQL's quote_literal does: an escape string, so the result means the same whatever
		// standard_conforming_strings is set to.
		q = "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q, nil
}
