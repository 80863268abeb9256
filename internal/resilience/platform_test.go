package resilience_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest/inventory"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// platform is a copy of examples/platform (and the modules it calls) applied to a sandbox of its own.
type platform struct {
	env map[string]string
	cli *acctest.CLI
	dir string // the copy of examples/platform, Terraform's working directory
}

// newPlatform starts a sandbox, creates the application's tables that examples/platform governs (as
// scripts/demo.sh does) and copies examples/platform and modules/ into a temporary directory, so that the
// run sees one snapshot of them whatever changes in the checkout meanwhile. ALFRED_RESILIENCE_SRC names
// another tree to take them from (e.g. `git archive BRANCH examples modules | tar -x -C DIR`).
func newPlatform(tb testing.TB) *platform {
	tb.Helper()
	acctest.PreCheck(tb)
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		tb.Fatal(err)
	}
	sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: tb.TempDir(), VersityGWPath: vgw, Logf: func(string, ...any) {}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sb.Stop)
	p := &platform{env: sb.Env, cli: acctest.NewCLI(tb)}
	for k, v := range sb.Env {
		p.cli.Env = append(p.cli.Env, k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, p.env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = db.Close(ctx) }()
	if _, err := db.Exec(ctx, `
create table public.task_results (id bigserial primary key, owner_id uuid not null, result jsonb not null default '{}');
create table public.events (id bigserial, created_at timestamptz not null default now(), kind text not null,
  payload jsonb not null default '{}') partition by range (created_at);`); err != nil {
		tb.Fatal(err)
	}

	root, src := tb.TempDir(), os.Getenv("ALFRED_RESILIENCE_SRC")
	if src == "" {
		src = acctest.RepoRoot()
	}
	for _, sub := range []string{"examples/platform", "modules"} {
		copyTree(tb, filepath.Join(src, sub), filepath.Join(root, sub))
	}
	p.dir = filepath.Join(root, "examples/platform")
	// The agents' deletion_protection (true by default) would refuse the destroys.
	if b, err := os.ReadFile(filepath.Join(p.dir, "main.tf")); err == nil && strings.Contains(string(b), `module "platform"`) {
		if err := os.WriteFile(filepath.Join(p.dir, "resilience_override.tf"),
			[]byte("module \"platform\" {\n  deletion_protection = false\n}\n"), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	p.cli.Init(tb, p.dir)
	return p
}

// copyTree copies the regular files under src to dst, leaving out Terraform's working files.
func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.Contains(d.Name(), ".tfstate") || d.Name() == ".terraform.lock.hcl" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// terraform runs a command to its end and returns its exit code and output; okCodes as acctest.CLI.Run.
func (p *platform) terraform(tb testing.TB, okCodes []int, args ...string) (int, string) {
	tb.Helper()
	return p.cli.Run(tb, p.dir, okCodes, withFlags(args)...)
}

// withFlags puts -input=false -no-color after the subcommand (args[0]), before its arguments.
func withFlags(args []string) []string {
	return append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
}

// apply applies and fails tb unless it succeeds.
func (p *platform) apply(tb testing.TB) { p.terraform(tb, []int{0}, "apply", "-auto-approve") }

// destroy destroys and fails tb unless it succeeds.
func (p *platform) destroy(tb testing.TB) { p.terraform(tb, []int{0}, "destroy", "-auto-approve") }

// planEmpty fails tb unless a plan shows no change.
func (p *platform) planEmpty(tb testing.TB, when string) {
	tb.Helper()
	if code, out := p.terraform(tb, []int{0, 2}, "plan", "-detailed-exitcode"); code != 0 {
		tb.Fatalf("%s, the plan must be empty:\n%s", when, out)
	}
}

// stateCount is how many resource instances the local state holds (0 without a state file).
func (p *platform) stateCount(tb testing.TB) int {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, "terraform.tfstate"))
	if os.IsNotExist(err) || len(b) == 0 {
		return 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Mode      string            `json:"mode"`
			Instances []json.RawMessage `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		tb.Fatalf("terraform.tfstate is not JSON: %v", err)
	}
	n := 0
	for _, r := range st.Resources {
		if r.Mode == "managed" {
			n += len(r.Instances)
		}
	}
	return n
}

// debug calls the sandbox's debug API (ALFRED_SANDBOX_DEBUG_URL), as a user of `alfredctl sandbox` would.
func (p *platform) debug(tb testing.TB, method, path string, body, out any) {
	tb.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.env["ALFRED_SANDBOX_DEBUG_URL"]+path, in)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("%s %s: %s %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// faults sets the sandbox's fault rate with every kind mixed, and zeroes its call and fault counts.
func (p *platform) faults(tb testing.TB, rate float64, seed uint64) {
	tb.Helper()
	p.debug(tb, http.MethodPost, "/faults", map[string]any{"rate": rate, "seed": seed,
		"kinds": []string{"unavailable", "lost_reply", "conflict", "rate_limit"}}, nil)
	p.debug(tb, http.MethodPost, "/calls/reset", nil, nil)
}

// counts returns the calls the emulators served and the faults they injected, by kind, since faults.
func (p *platform) counts(tb testing.TB) (calls int64, injected map[string]int64) {
	tb.Helper()
	var byMethod map[string]int64
	p.debug(tb, http.MethodGet, "/calls", nil, &byMethod)
	for _, n := range byMethod {
		calls += n
	}
	p.debug(tb, http.MethodGet, "/faults/injected", nil, &injected)
	return calls, injected
}

// inventory lists everything in the sandbox: its emulators, PostgreSQL and the bucket.
func (p *platform) inventory(tb testing.TB) *inventory.Inventory {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	inv, err := inventory.Take(ctx, p.env)
	if err != nil {
		tb.Fatalf("inventory: %v", err)
	}
	if len(inv.Skipped) != 0 {
		tb.Fatalf("inventory skipped %v: the sandbox's environment covers every area", inv.Skipped)
	}
	return inv
}

// shape is what a user would call the same platform: each object by kind and by what makes it itself
// (its name, or for APIs that name objects themselves, its display name or region). Time partitions are
// counted, not named: their names follow the date, and a run may cross midnight.
func shape(inv *inventory.Inventory) []string {
	var out []string
	parts := 0
	for _, it := range inv.Items {
		if it.Kind == inventory.Partition {
			parts++
			continue
		}
		out = append(out, it.Kind+" "+it.Key)
	}
	out = append(out, inventory.Partition+" ×"+strconv.Itoa(parts))
	sort.Strings(out)
	return out
}

// sameShape fails tb when got differs from want as a user would see it: an object more (a duplicate or
// an orphan) or an object less. It also fails on duplicates within got.
func sameShape(tb testing.TB, when string, got, want *inventory.Inventory) {
	tb.Helper()
	if d := got.Duplicates(); len(d) != 0 {
		tb.Errorf("%s: duplicates: %v", when, d)
	}
	g, w := shape(got), shape(want)
	if slices.Equal(g, w) {
		return
	}
	tb.Errorf("%s: the sandbox holds\n  more: %v\n  less: %v", when, minus(g, w), minus(w, g))
}

// minus is a multiset difference.
func minus(a, b []string) []string {
	left := map[string]int{}
	for _, s := range b {
		left[s]++
	}
	var out []string
	for _, s := range a {
		if left[s] > 0 {
			left[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

// seeds is how many seeds a run takes: the short form's n, or the environment variable's value.
func seeds(tb testing.TB, envVar string, short int) int {
	tb.Helper()
	v := os.Getenv(envVar)
	if v == "" {
		return short
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a number of seeds >= 1", envVar, v)
	}
	return n
}

func describeInjected(injected map[string]int64) string {
	var total int64
	for _, n := range injected {
		total += n
	}
	return fmt.Sprintf("%d faults injected (unavailable %d, lost_reply %d, conflict %d, rate_limit %d)", total,
		injected["unavailable"], injected["lost_reply"], injected["conflict"], injected["rate_limit"])
}

// cleanRun is what an uninterrupted apply and destroy without faults do: the references of the runs.
type cleanRun struct {
	applied, destroyed         *inventory.Inventory // the sandbox after the apply, after the destroy
	applyOutput, destroyOutput string
	calls                      int64 // calls the apply made
	resources                  int   // resource instances in state after the apply
}

// clean applies and destroys the platform without faults. The destroy must leave what the sandbox held
// before, and the time partitions: destroying alfred_postgres_partitions keeps them, with their rows,
// because they are the application's data.
func (p *platform) clean(tb testing.TB) cleanRun {
	tb.Helper()
	before := p.inventory(tb)
	p.faults(tb, 0, 0)
	var r cleanRun
	_, r.applyOutput = p.terraform(tb, []int{0}, "apply", "-auto-approve")
	r.calls, _ = p.counts(tb)
	r.resources = p.stateCount(tb)
	r.applied = p.inventory(tb)
	_, r.destroyOutput = p.terraform(tb, []int{0}, "destroy", "-auto-approve")
	r.destroyed = p.inventory(tb)
	more, less := minus(shape(r.destroyed), shape(before)), minus(shape(before), shape(r.destroyed))
	if len(more) != 1 || len(less) != 1 || !strings.HasPrefix(more[0], inventory.Partition) {
		tb.Fatalf("a destroy leaves what was there before, and the time partitions, but the sandbox holds\n  more: %v\n  less: %v", more, less)
	}
	return r
}
