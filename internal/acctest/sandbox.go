package acctest

import (
	"context"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

// StartSandbox starts the whole sandbox in-process (supervisor.Start) with versitygw from ./bin, state in
// cfg.Dir (a fresh temporary directory when empty) and the test's log, and stops it when tb ends.
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
	sb, err := supervisor.Start(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sb.Stop)
	return sb
}
