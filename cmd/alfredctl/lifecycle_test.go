package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// SIGTERM to the supervisor while it starts (`down` during `up`, or `up` giving up) stops it without
// ever reporting ready, and leaves no PostgreSQL or versitygw behind.
func TestSandboxServeStopsCleanlyOnSIGTERMDuringStart(t *testing.T) {
	bin, dir, _ := alfredctl(t)
	vgwDir := filepath.Dir(mustInstalledVersityGW(t))
	cmd := exec.Command(bin, "sandbox", "serve", "--dir", dir)
	cmd.Env = append(os.Environ(), "PATH="+vgwDir+":"+os.Getenv("PATH"))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The pid file is written before the start (a fresh cluster's initdb takes seconds).
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(filepath.Join(dir, "sandbox.pid")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the supervisor did not exit within 60s of SIGTERM:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ready")); !os.IsNotExist(err) {
		t.Errorf("a supervisor stopped during start must not leave the ready file: %v", err)
	}
	if pids := acctest.ProcessesUnder(t, dir); len(pids) != 0 {
		t.Errorf("processes left behind: %v\n%s", pids, log.String())
	}
}

// A pid file naming an unrelated live process (the pid was reused after a reboot or a killed
// supervisor) is not the sandbox: `down` must not signal that process, and `up` starts the sandbox.
func TestStalePIDFileNamingAnotherProcess(t *testing.T) {
	_, dir, run := alfredctl(t)
	other := exec.Command("sleep", "120")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sandbox.pid"), []byte(strconv.Itoa(other.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run("sandbox", "down"); !strings.Contains(out, "not running") {
		t.Errorf("down with a stale pid file: %s", out)
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("down signalled the unrelated process %d: %v", other.Process.Pid, err)
	}
	if out := run("sandbox", "up"); !strings.Contains(out, "sandbox ready in") {
		t.Errorf("up with a stale pid file must start the sandbox: %s", out)
	}
	run("sandbox", "env")
	run("sandbox", "down")
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the unrelated process %d was signalled: %v", other.Process.Pid, err)
	}
}

// The supervisor's log is rotated by `up` once it is past localproc.MaxLogBytes.
func TestSandboxUpRotatesABigLog(t *testing.T) {
	_, dir, run := alfredctl(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("old line\n", (10<<20)/9+1)
	if err := os.WriteFile(filepath.Join(dir, "sandbox.log"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	run("sandbox", "up")
	defer run("sandbox", "down")
	if fi, err := os.Stat(filepath.Join(dir, "sandbox.log")); err != nil || fi.Size() >= int64(len(big)) {
		t.Errorf("sandbox.log after up: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sandbox.log.1")); err != nil || fi.Size() != int64(len(big)) {
		t.Errorf("sandbox.log.1 must hold the old log: %v %v", fi, err)
	}
}

func mustInstalledVersityGW(t *testing.T) string {
	t.Helper()
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	return vgw
}
