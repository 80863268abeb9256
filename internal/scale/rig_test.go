package scale_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/provider"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// rig is one sandbox and the CLI configuration that installs both the alfred provider and the floor
// provider through dev_overrides, as a user's Terraform runs them: a fresh plugin process per command.
// While a command runs, a sampler reads the plugin processes' resident high-water mark (VmHWM) in /proc.
type rig struct {
	sb        *supervisor.Sandbox
	cli       *acctest.CLI
	alfredBin string
	floorBin  string

	mu   sync.Mutex
	peak map[string]int64 // binary path -> highest VmHWM seen, bytes
}

func newRig(tb testing.TB, m mix) *rig {
	tb.Helper()
	sb := acctest.StartSandbox(tb, supervisor.Config{})
	createTables(tb, sb.Env["ALFRED_POSTGRES_DSN"], m.TablePolicies)

	cli := acctest.NewCLI(tb)
	floorDir := tb.TempDir()
	r := &rig{sb: sb, cli: cli, alfredBin: filepath.Join(cli.PluginDir, "terraform-provider-alfred"),
		floorBin: filepath.Join(floorDir, "terraform-provider-floor"), peak: map[string]int64{}}
	build := exec.Command("go", "build", "-o", r.floorBin, "./internal/scale/floor")
	build.Dir = acctest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building the floor provider: %v\n%s", err, out)
	}
	rc := fmt.Sprintf(`provider_installation {
  dev_overrides {
    %q = %q
    %q = %q
  }
  direct {}
}
`, provider.Address, cli.PluginDir, floorAddress, floorDir)
	if err := os.WriteFile(cli.ConfigFile, []byte(rc), 0o644); err != nil {
		tb.Fatal(err)
	}
	for k, v := range sb.Env {
		cli.Env = append(cli.Env, k+"="+v)
	}
	return r
}

// floorAddress is floor.Address (a main package cannot be imported).
const floorAddress = "registry.terraform.io/alfred-bench/floor"

// pgXacts is the number of transactions PostgreSQL has counted in the sandbox's database (where RBAC
// lives), once the backends of plugin processes that just ended have exited and flushed their counts.
// The sandbox's call counts do not see SQL; this is how the RBAC resources' reads are counted. The
// connection that reads the count adds one transaction of its own to the next reading.
func (r *rig) pgXacts(tb testing.TB) int64 {
	tb.Helper()
	time.Sleep(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := pgx.Connect(ctx, r.sb.Env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close(ctx)
	var n int64
	if err := db.QueryRow(ctx, `select xact_commit + xact_rollback from pg_stat_database where datname = current_database()`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// createTables creates the application's tables that the table policies protect.
func createTables(tb testing.TB, dsn string, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close(ctx)
	for i := 0; i < n; i++ {
		if _, err := db.Exec(ctx, fmt.Sprintf(`create table public.%s (id bigint primary key, owner_id uuid not null)`, tableName(i))); err != nil {
			tb.Fatal(err)
		}
	}
}

// sample records, until stop is closed, the VmHWM of every process running one of the two provider
// binaries. VmHWM only grows, so the last sample of a plugin process is its peak up to 50 ms before it
// ended; a provider's memory peaks while it holds the most requests, not in its last milliseconds.
func (r *rig) sample(stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil || (exe != r.alfredBin && exe != r.floorBin) {
				continue
			}
			if hwm := vmHWM(pid); hwm > 0 {
				r.mu.Lock()
				r.peak[exe] = max(r.peak[exe], hwm)
				r.mu.Unlock()
			}
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// vmHWM is a process's resident set high-water mark in bytes, 0 when it cannot be read (it ended).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func (r *rig) peakRSS(bin string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak[bin]
}

// debug calls the sandbox's debug API.
func (r *rig) debug(tb testing.TB, method, path string, body any, out any) {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.sb.Env["ALFRED_SANDBOX_DEBUG_URL"]+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatal(err)
		}
	}
}

func (r *rig) setLatency(tb testing.TB, d time.Duration) {
	tb.Helper()
	r.debug(tb, http.MethodPost, "/faults", map[string]any{"rate": 0, "latency_ms": d.Milliseconds()}, nil)
}

func (r *rig) resetCalls(tb testing.TB) {
	tb.Helper()
	r.debug(tb, http.MethodPost, "/calls/reset", nil, nil)
}

func (r *rig) calls(tb testing.TB) map[string]int64 {
	tb.Helper()
	c := map[string]int64{}
	r.debug(tb, http.MethodGet, "/calls", nil, &c)
	return c
}

// workDir writes main.tf into a fresh directory.
func workDir(tb testing.TB, hcl string) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// timings are the wall times of one configuration's cycle.
type timings struct{ apply, noopPlan, noopApply, destroy time.Duration }

// cycle applies the configuration in dir, checks that a second plan is empty and that a second apply
// changes nothing, then destroys it. between runs after the apply, before the no-op plan (to reset the
// call counts); afterPlan runs right after the no-op plan (to read them).
func (r *rig) cycle(tb testing.TB, dir string, between, afterPlan func()) timings {
	tb.Helper()
	var t timings
	args := []string{"-input=false", "-no-color", "-parallelism=10"}
	run := func(d *time.Duration, okCodes []int, cmd ...string) string {
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() { r.sample(stop); close(sampled) }()
		defer func() { close(stop); <-sampled }() // also when Run fails the test
		start := time.Now()
		_, out := r.cli.Run(tb, dir, okCodes, append(cmd, args...)...)
		*d = time.Since(start)
		return out
	}
	run(&t.apply, []int{0}, "apply", "-auto-approve")
	if between != nil {
		between()
	}
	if out := run(&t.noopPlan, []int{0, 2}, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes.") {
		tb.Fatalf("the second plan must be empty:\n%s", tail(out))
	}
	if afterPlan != nil {
		afterPlan()
	}
	if out := run(&t.noopApply, []int{0}, "apply", "-auto-approve"); !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		tb.Fatalf("a second apply must change nothing:\n%s", tail(out))
	}
	run(&t.destroy, []int{0}, "destroy", "-auto-approve")
	return t
}

func tail(s string) string {
	if len(s) > 8000 {
		return "...\n" + s[len(s)-8000:]
	}
	return s
}
