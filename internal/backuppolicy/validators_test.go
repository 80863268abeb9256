package backuppolicy

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The DSN check refuses what is not a connection string without quoting it (it may hold a password), and
// takes both forms pgx reads on the runner.
func TestDSNValidator_takesURLAndKeywordValueFormsAndNeverQuotesTheValue(t *testing.T) {
	for _, c := range []struct {
		dsn string
		ok  bool
	}{
		{"postgres://backup:s3cret-pw@db.internal:5432/postgres?sslmode=require", true},
		{"postgresql://backup@db.internal/postgres", true},
		{"host=db.internal user=backup password=s3cret-pw dbname=postgres", true},
		{"  sslmode = disable host=/var/run/postgresql", true},
		{"", false},
		{"   ", false},
		{"s3cret-pw", false},
		{"postgres://backup:s3cret-pw@db.internal:bad-port\x7f/postgres", false},
		{"host=db\x00 password=s3cret-pw", false},
	} {
		resp := &validator.StringResponse{}
		dsnValidator.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("postgres").AtName("dsn"),
			ConfigValue: types.StringValue(c.dsn)}, resp)
		if got := !resp.Diagnostics.HasError(); got != c.ok {
			t.Errorf("%q: accepted=%v, want %v (%v)", c.dsn, got, c.ok, resp.Diagnostics)
		}
		for _, d := range resp.Diagnostics {
			if strings.Contains(d.Detail(), "s3cret-pw") {
				t.Errorf("%q: the error quotes the password: %s", c.dsn, d.Detail())
			}
		}
	}
}
