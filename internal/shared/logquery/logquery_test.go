package logquery

import (
	"strings"
	"testing"
)

func TestCheckFilterAcceptsTheDocumentedForms(t *testing.T) {
	for _, f := range []string{
		`resource.type=gae_app AND severity>=ERROR`,
		`resource.type = "cloud_run_revision" AND jsonPayload.event = "login_failed"`,
		`severity>=WARNING OR (textPayload:"denied" AND NOT labels."k8s-pod/app"="x")`,
		`-severity=DEBUG`,
		`timestamp >= "2024-01-01T00:00:00Z" AND timestamp<2024-01-02T00:00:00Z`,
		`jsonPayload.msg =~ "^login (failed|refused)"`,
		`unicorn`,
		`sample(insertId, 0.25) AND log_id("run.googleapis.com/requests")`,
		"severity=(ERROR OR CRITICAL) -- errors only\nAND resource.labels.service_name=alfred-bot",
		`httpRequest.status >= 500 AND httpRequest.latency > "1s" AND jsonPayload.delta > -5`,
		`protoPayload.@type = "type.googleapis.com/google.cloud.audit.AuditLog"`,
	} {
		if err := CheckFilter(f); err != nil {
			t.Errorf("%q refused: %v", f, err)
		}
	}
}

func TestCheckFilterRefusesBrokenSyntaxWithPosition(t *testing.T) {
	for _, c := range []struct{ filter, want string }{
		{``, "empty"},
		{"  -- just a comment", "only comments"},
		{`severity>=ERROR AND (resource.type="x"`, "column 21: unbalanced parentheses: this '(' is never closed"},
		{`severity>=ERROR)`, "column 16: unbalanced parentheses: ')' without"},
		{`jsonPayload.event="login_failed`, "column 19: unterminated string"},
		{`severity>=`, "column 9: comparison operator '>=' has no value"},
		{`severity>= AND x`, "comparison operator '>=' has no value"},
		{`=ERROR`, "has no field before it"},
		{`severity=ERROR AND`, "AND has nothing after it"},
		{`OR severity=ERROR`, "OR has nothing before it"},
		{`()`, "empty parentheses"},
		{`a ! b`, "unexpected '!'"},
		{"a=1 AND\n(b=2", "line 2, column 1"},
		{strings.Repeat("a", MaxFilterLength+1), "at most 20000"},
	} {
		err := CheckFilter(c.filter)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.filter, err, c.want)
		}
	}
}

func TestCheckExtractor(t *testing.T) {
	for _, e := range []string{
		`EXTRACT(jsonPayload.request)`,
		`EXTRACT(labels."k8s-pod/app")`,
		`REGEXP_EXTRACT(jsonPayload.request, ".*quantity=(\d+).*")`,
		`REGEXP_EXTRACT(textPayload, "user=\"([a-z]+)\"")`,
		` EXTRACT( resource.labels.service_name ) `,
	} {
		if err := CheckExtractor(e); err != nil {
			t.Errorf("%q refused: %v", e, err)
		}
	}
	for _, c := range []struct{ expr, want string }{
		{`jsonPayload.user`, "is not an extractor"},
		{`EXTRACT()`, "field is empty"},
		{`extract(jsonPayload.user)`, "not an extractor function"},
		{`SUBSTR(jsonPayload.user)`, "not an extractor function"},
		{`EXTRACT(jsonPayload..user)`, "not a log entry field path"},
		{`EXTRACT(json Payload)`, "not a log entry field path"},
		{`REGEXP_EXTRACT(textPayload)`, "two arguments"},
		{`REGEXP_EXTRACT(textPayload, user=(\w+))`, "double-quoted"},
		{`REGEXP_EXTRACT(textPayload, "user=\w+")`, "0 capture groups"},
		{`REGEXP_EXTRACT(textPayload, "(a)(b)")`, "2 capture groups"},
		{`REGEXP_EXTRACT(textPayload, "(a")`, "does not compile"},
	} {
		err := CheckExtractor(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.expr, err, c.want)
		}
	}
}
