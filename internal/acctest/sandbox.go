package acctest

import (
	"context"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

// PrivateSandbox starts a whole sandbox of t's own (PostgreSQL, versitygw and every emulator) in-process,
// exports its environment (sandbox.env) into the test's, and returns it. It stops when t ends. Tests that
// can share one use Sandbox, the package's.
func PrivateSandbox(t *testing.T) map[string]string {
	t.Helper()
	vgw, err := InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: t.TempDir(), VersityGWPath: vgw, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Stop)
	for k, v := range sb.Env {
		t.Setenv(k, v)
	}
	return sb.Env
}
