package pgdata

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// Errors about the database never carry the DSN's password: neither for a DSN that does not parse nor for
// a server that cannot be reached.
func TestErrorsNeverCarryThePassword(t *testing.T) {
	const pw = "Sup3r-s3cret!pw"
	_, err := poolFor("postgres://app:" + pw + "@127.0.0.1:notaport/app")
	if err == nil {
		t.Fatal("a DSN with port `notaport` was accepted")
	}
	if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "Sup3r") {
		t.Errorf("parse error carries the password: %v", err)
	}

	port, err := localproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, dsn := range []string{
		fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/app?connect_timeout=2", pw, port),
		fmt.Sprintf("host=127.0.0.1 port=%d user=app password = '%s' dbname=app connect_timeout=2", port, pw),
	} {
		p, err := poolFor(dsn)
		if err != nil {
			t.Fatalf("poolFor: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = readReplication(ctx, p)
		cancel()
		if err == nil {
			t.Fatal("reading from a port where nothing listens succeeded")
		}
		if msg := redactErr(err); strings.Contains(msg, pw) {
			t.Errorf("error carries the password: %s", msg)
		}
		if msg := redact("dial postgres://app:" + pw + "@127.0.0.1/app failed, password " + pw); strings.Contains(msg, pw) {
			t.Errorf("redact left the password in: %s", msg)
		}
	}
}
