package acctest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

var (
	sbMu        sync.Mutex
	sb          *supervisor.Sandbox
	sbErr       error
	sbAlfredctl string
)

// SandboxAlfredctl is the alfredctl binary the sandbox's Cloud Run jobs run (built by Sandbox).
func SandboxAlfredctl(t testing.TB) string {
	t.Helper()
	Sandbox(t)
	return sbAlfredctl
}

// Sandbox returns the package's whole sandbox (PostgreSQL, versitygw and every emulator, wired as
// `alfredctl sandbox up` wires them), started on first use with an alfredctl freshly built from this
// repository for Cloud Run job executions; Main stops it after the tests. Its Env is the sandbox.env map.
func Sandbox(t testing.TB) *supervisor.Sandbox {
	t.Helper()
	sbMu.Lock()
	defer sbMu.Unlock()
	if sb == nil && sbErr == nil {
		sbErr = startSandbox()
	}
	if sbErr != nil {
		t.Fatalf("starting the sandbox: %v", sbErr)
	}
	return sb
}

func startSandbox() error {
	bin, err := buildAlfredctl()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "alfred-sandbox-")
	if err != nil {
		return err
	}
	vgw, err := InstallVersityGW()
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	s, err := supervisor.Start(context.Background(), supervisor.Config{Dir: filepath.Join(dir, "state"), VersityGWPath: vgw, AlfredctlPath: bin})
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	sb, sbAlfredctl = s, bin
	addCleanup(func() { s.Stop(); _ = os.RemoveAll(dir) })
	return nil
}

var (
	alfredctlOnce sync.Once
	alfredctlPath string
	alfredctlErr  error
)

// buildAlfredctl builds cmd/alfredctl from this repository once per test binary: the binary the sandbox's
// Cloud Run jobs run, as `alfredctl sandbox up` runs itself.
func buildAlfredctl() (string, error) {
	alfredctlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "alfredctl-")
		if err != nil {
			alfredctlErr = err
			return
		}
		bin := filepath.Join(dir, "alfredctl")
		build := exec.Command("go", "build", "-o", bin, "./cmd/alfredctl")
		build.Dir = RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			alfredctlErr = &buildError{out: string(out), err: err}
			return
		}
		alfredctlPath = bin
		addCleanup(func() { _ = os.RemoveAll(dir) })
	})
	return alfredctlPath, alfredctlErr
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string {
	return "go build ./cmd/alfredctl: " + e.err.Error() + "\n" + e.out
}
