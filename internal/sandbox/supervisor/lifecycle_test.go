package supervisor_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

// A start that fails after PostgreSQL and versitygw could have been launched leaves neither running.
func TestFailedStartLeavesNothingRunning(t *testing.T) {
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: dir, VersityGWPath: vgw})
	if err != nil {
		t.Fatal(err)
	}
	sb.Stop()
	// An emulator whose state cannot be read fails the start.
	if err := os.WriteFile(filepath.Join(dir, "qdrant", "qdrant.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := supervisor.Start(context.Background(), supervisor.Config{Dir: dir, VersityGWPath: vgw}); err == nil {
		t.Fatal("a start over an unreadable state file must fail")
	}
	time.Sleep(2 * time.Second) // a start still going on in the background would have its server up by now
	if pids := acctest.ProcessesUnder(t, dir); len(pids) != 0 {
		t.Errorf("a failed start left processes running: %v", pids)
	}
}

// A start interrupted (SIGTERM to `alfredctl sandbox serve` cancels the context) returns an error, writes
// no sandbox.env, and stops what it had started.
func TestInterruptedStartStopsWhatItStarted(t *testing.T) {
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel) // during initdb of the fresh cluster
	sb, err := supervisor.Start(ctx, supervisor.Config{Dir: dir, VersityGWPath: vgw})
	if err == nil {
		sb.Stop()
		t.Fatal("an interrupted start must fail")
	}
	if !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("the error must say the start was interrupted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, supervisor.EnvFile)); !os.IsNotExist(err) {
		t.Errorf("an interrupted start must not write %s: %v", supervisor.EnvFile, err)
	}
	if pids := acctest.ProcessesUnder(t, dir); len(pids) != 0 {
		t.Errorf("an interrupted start left processes running: %v", pids)
	}
}
