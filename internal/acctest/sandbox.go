package acctest

import (
	"context"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

// StartSandbox starts the whole sandbox in-process (supervisor.Start) with versitygw from ./bin, state in
// cfg.Dir (a fresh temporary directory when empty), the test's log and, for Cloud Run job executions, an
// alfredctl built from this repository (unless cfg.AlfredctlPath names one), and stops it when tb ends.
func StartSandbox(tb testing.TB, cfg supervisor.Config) *supervisor.Sandbox {
	tb.Helper()
	vgw, err := InstallVersityGW()
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.Dir == "" {
		cfg.Dir = tb.TempDir()
	}
	if cfg.VersityGWPath == "" {
		cfg.VersityGWPath = vgw
	}
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	if cfg.AlfredctlPath == "" {
		if cfg.AlfredctlPath, err = buildAlfredctl(); err != nil {
			tb.Fatal(err)
		}
	}
	sb, err := supervisor.Start(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sb.Stop)
	return sb
}

// PrivateSandbox starts a whole sandbox of t's own (PostgreSQL, versitygw and every emulator) in-process,
// exports its environment (sandbox.env) into the test's, and returns it. It stops when t ends. Tests that
// can share one use Sandbox, the package's.
func PrivateSandbox(t testing.TB) map[string]string {
	t.Helper()
	sb := StartSandbox(t, supervisor.Config{})
	for k, v := range sb.Env {
		t.Setenv(k, v)
	}
	return sb.Env
}
