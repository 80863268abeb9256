package pgredact

import (
	"errors"
	"strings"
	"testing"
)

// Every spelling of a password in a DSN is masked wherever it reappears, including the forms pgx's own
// masking misses (spaces around =, quoted values with escaped quotes, sslpassword, a password in the URL
// query) and a password that a message quotes URL-escaped.
func TestEverySpellingOfAPasswordIsMasked(t *testing.T) {
	for _, c := range []struct{ dsn, pw string }{
		{"host=h user=u password = 'it\\'s-s3cret' dbname=d", "it's-s3cret"},
		{"host=h user=u sslpassword=keyp4ss dbname=d", "keyp4ss"},
		{"postgres://u@h/d?password=qu%3Dery-pw", "qu=ery-pw"},
		{"postgres://u:p%40th-pw@h/d", "p@th-pw"},
	} {
		Remember(c.dsn)
		msg := RedactErr(errors.New("failed for " + c.dsn + " with " + c.pw))
		if strings.Contains(msg, c.pw) {
			t.Errorf("%q: password left in %q", c.dsn, msg)
		}
	}
	if got := Redact("connect postgres://x:other@h/d"); strings.Contains(got, "other") {
		t.Errorf("a postgres:// URL's password in a message is masked even when never remembered: %q", got)
	}
}
