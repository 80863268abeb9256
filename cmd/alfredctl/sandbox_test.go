package main

import (
	"encoding/json"
	"net/http"
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

func TestMain(m *testing.M) { acctest.Main(m) }

// alfredctl builds the binary and returns it, a sandbox directory, and a runner of `alfredctl ARGS --dir
// DIR` that fails the test on a non-zero exit. Cleanup stops the sandbox and kills anything left.
func alfredctl(t *testing.T) (bin, dir string, run func(args ...string) string) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "alfredctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "sandbox")
	run = func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--dir", dir)...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(vgw)+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("alfredctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		_ = exec.Command(bin, "sandbox", "down", "--dir", dir).Run()
		for _, pid := range acctest.ProcessesUnder(t, dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return bin, dir, run
}

func TestSandboxUpEnvDownLeavesNoProcessBehind(t *testing.T) {
	bin, dir, run := alfredctl(t)

	// An unknown fault kind is refused before anything starts.
	if out, err := exec.Command(bin, "sandbox", "up", "--dir", dir, "--fault-kinds", "timeout").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "--fault-kinds") || !strings.Contains(string(out), `unknown fault kind "timeout"`) {
		t.Errorf("--fault-kinds timeout must be refused naming the flag: %v %s", err, out)
	}
	if out := run("sandbox", "up", "--latency", "40ms", "--fault-rate", "0.25", "--seed", "9", "--fault-kinds", "lost_reply,conflict"); !strings.Contains(out, "sandbox ready in") {
		t.Fatalf("up: %s", out)
	}
	if len(acctest.ProcessesUnder(t, dir)) < 3 {
		t.Errorf("up must leave the supervisor, PostgreSQL and versitygw running, found pids %v", acctest.ProcessesUnder(t, dir))
	}
	if out := run("sandbox", "up"); !strings.Contains(out, "already running") {
		t.Errorf("a second up must find the running sandbox: %s", out)
	}
	env := run("sandbox", "env")
	file, err := os.ReadFile(filepath.Join(dir, "sandbox.env"))
	if err != nil || env != string(file) || !strings.Contains(env, "ALFRED_POSTGRES_DSN=") {
		t.Errorf("env must print sandbox.env; got %q, file %q (%v)", env, file, err)
	}
	// The flags reach every emulator through the shared kit; its debug API reports them.
	var debugURL string
	for _, line := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(line, "ALFRED_SANDBOX_DEBUG_URL="); ok {
			debugURL = strings.Trim(v, "'")
		}
	}
	resp, err := http.Get(debugURL + "/faults")
	if err != nil {
		t.Fatal(err)
	}
	var faults struct {
		Rate      float64  `json:"rate"`
		LatencyMS int64    `json:"latency_ms"`
		Kinds     []string `json:"kinds"`
	}
	err = json.NewDecoder(resp.Body).Decode(&faults)
	resp.Body.Close()
	if err != nil || faults.Rate != 0.25 || faults.LatencyMS != 40 || strings.Join(faults.Kinds, ",") != "lost_reply,conflict" {
		t.Errorf("--fault-rate 0.25 --latency 40ms --fault-kinds lost_reply,conflict must be in force, debug API says %+v (%v)", faults, err)
	}
	run("sandbox", "down")
	if pids := acctest.ProcessesUnder(t, dir); len(pids) != 0 {
		t.Errorf("down left processes behind: %v", pids)
	}
	cmd := exec.Command(bin, "sandbox", "env", "--dir", dir)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not running") {
		t.Errorf("env of a stopped sandbox must fail clearly, got %v: %s", err, out)
	}
}

// A supervisor killed outright (SIGKILL: no chance to stop anything) leaves PostgreSQL running; `down`
// still stops it, and `up` starts cleanly on the same directory.
func TestSandboxDownAfterTheSupervisorWasKilled(t *testing.T) {
	_, dir, run := alfredctl(t)
	run("sandbox", "up")
	b, err := os.ReadFile(filepath.Join(dir, "sandbox.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if out := run("sandbox", "down"); !strings.Contains(out, "stopped the PostgreSQL server it left behind") {
		t.Errorf("down after a killed supervisor: %s", out)
	}
	// versitygw dies with its parent (Pdeathsig); give it a moment.
	for i := 0; i < 100 && len(acctest.ProcessesUnder(t, dir)) > 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if pids := acctest.ProcessesUnder(t, dir); len(pids) != 0 {
		t.Errorf("processes left behind: %v", pids)
	}
	if out := run("sandbox", "up"); !strings.Contains(out, "sandbox ready in") {
		t.Errorf("up after the recovery: %s", out)
	}
	run("sandbox", "down")
}
