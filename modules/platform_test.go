package modules_test

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mon "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/jackc/pgx/v5"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest/inventory"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/modulesdoc"
)

// copyTF copies the .tf files under the repository's dirs (relative paths) into a temporary root with
// the same layout, so that relative module sources resolve and no .terraform lands in the checkout.
func copyTF(t testing.TB, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		src := filepath.Join(acctest.RepoRoot(), d)
		err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() && e.Name() == ".terraform" {
				return filepath.SkipDir
			}
			if e.IsDir() || !strings.HasSuffix(p, ".tf") {
				return nil
			}
			rel, _ := filepath.Rel(acctest.RepoRoot(), p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, rel), b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// configDirs are every module and example directory: what must be formatted and valid.
func configDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, pattern := range []string{"modules/*/*.tf", "examples/modules/*/*.tf", "examples/platform/*.tf"} {
		files, err := filepath.Glob(filepath.Join(acctest.RepoRoot(), pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel(acctest.RepoRoot(), filepath.Dir(f))
			if !slices.Contains(dirs, rel) {
				dirs = append(dirs, rel)
			}
		}
	}
	if len(dirs) < 11 {
		t.Fatalf("expected the five modules, their five examples and examples/platform, found %v", dirs)
	}
	return dirs
}

// Every README of a module holds the inputs and outputs generated from the module (make generate).
func TestModuleReadmesMatchTheirModules(t *testing.T) {
	for _, dir := range configDirs(t) {
		if !strings.HasPrefix(dir, "modules/") {
			continue
		}
		want, have, err := modulesdoc.Want(filepath.Join(acctest.RepoRoot(), dir))
		if err != nil {
			t.Fatal(err)
		}
		if want != have {
			t.Errorf("%s/README.md has drifted from the module: run `make generate` and commit it", dir)
		}
	}
}

// tofu is the OpenTofu binary: TF_ACC_TOFU_PATH, else bin/tofu (make tools builds it).
func tofu(t *testing.T) string {
	t.Helper()
	path := os.Getenv("TF_ACC_TOFU_PATH")
	if path == "" {
		path = filepath.Join(acctest.BinDir(), "tofu")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("OpenTofu is not at %s: run `make tools` (builds bin/tofu) or set TF_ACC_TOFU_PATH: %v", path, err)
	}
	return path
}

func checkFormattedAndValid(t *testing.T, cli *acctest.CLI) {
	dirs := configDirs(t)
	root := copyTF(t, "modules", "examples/modules", "examples/platform")
	for _, d := range []string{"modules", "examples"} {
		// fmt -check reads the checkout itself: what is committed must be formatted.
		if _, out := cli.Run(t, acctest.RepoRoot(), []int{0, 3}, "fmt", "-check", "-recursive", "-diff", "-no-color", d); strings.TrimSpace(out) != "" {
			t.Errorf("%s fmt -check: not formatted (run `make fmt`):\n%s", filepath.Base(cli.Terraform), out)
		}
	}
	for _, d := range dirs {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, d)
			cli.Init(t, dir)
			if _, out := cli.Run(t, dir, []int{0}, "validate", "-no-color"); !strings.Contains(out, "Success!") {
				t.Errorf("validate:\n%s", out)
			}
		})
	}
}

func TestModulesAndExamplesAreFormattedAndValid(t *testing.T) {
	checkFormattedAndValid(t, acctest.NewCLI(t))
}

func TestOpenTofu_ModulesAndExamplesAreFormattedAndValid(t *testing.T) {
	checkFormattedAndValid(t, acctest.NewCLIFor(t, tofu(t), acctest.OpenTofuAddress))
}

func TestExamplePlatformAppliesPlansEmptyAndDestroysEverything(t *testing.T) {
	platformLifecycle(t, acctest.NewCLI(t), nil)
}

// The same with OpenTofu, once: apply, an empty plan, destroy.
func TestOpenTofu_ExamplePlatformAppliesPlansEmptyAndDestroysEverything(t *testing.T) {
	platformLifecycle(t, acctest.NewCLIFor(t, tofu(t), acctest.OpenTofuAddress), nil)
}

// How long each step of examples/platform takes with Terraform 1.5.7 against a fresh sandbox (what make
// demo runs, without its shell steps): reported as s/sandbox, s/init, s/apply, s/plan, s/destroy.
func BenchmarkExamplePlatformLifecycle(b *testing.B) {
	for i := 0; i < b.N; i++ {
		platformLifecycle(b, acctest.NewCLI(b), func(step string, d time.Duration) { b.ReportMetric(d.Seconds(), "s/"+step) })
	}
}

// platformLifecycle applies examples/platform against a fresh sandbox, checks that a second plan is empty
// and that each object exists once, then destroys it and checks that nothing is left in any emulator or in
// the database (the application's tables and their partitions stay: they are the application's).
func platformLifecycle(t testing.TB, cli *acctest.CLI, timed func(step string, d time.Duration)) {
	start := time.Now()
	step := func(name string) {
		if timed != nil {
			timed(name, time.Since(start))
		}
		start = time.Now()
	}
	env := sandboxEnv(t)
	step("sandbox")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	// The application's tables, as its migrations (and make demo) create them.
	if _, err := db.Exec(ctx, `create table public.task_results (id bigserial primary key, owner_id uuid not null, result jsonb not null default '{}');
		create table public.events (id bigserial, created_at timestamptz not null default now(), kind text not null) partition by range (created_at)`); err != nil {
		t.Fatal(err)
	}
	take := func() *inventory.Inventory {
		inv, err := inventory.Take(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	// Backups on: a bucket and a keyset, as make demo makes them. The key and the DSN reach Terraform as
	// environment variables, not on the command line.
	acctest.CreateBucket(t, env, "platform-backups")
	keyset, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	cli.Env = append(cli.Env, "TF_VAR_backup_encryption_key="+string(keyset), "TF_VAR_backup_postgres_dsn="+env["ALFRED_POSTGRES_DSN"])
	before := take()

	dir := filepath.Join(copyTF(t, "modules", "examples/platform"), "examples", "platform")
	start = time.Now()
	cli.Init(t, dir)
	step("init")
	// The example keeps the agents' deletion protection on; this test destroys them.
	vars := []string{"-input=false", "-no-color", "-var", "deletion_protection=false", "-var", "backup_bucket=platform-backups"}
	cli.Run(t, dir, []int{0}, append([]string{"apply", "-auto-approve"}, vars...)...)
	step("apply")
	if code, out := cli.Run(t, dir, []int{0, 2}, append([]string{"plan", "-detailed-exitcode"}, vars...)...); code != 0 {
		t.Fatalf("the second plan must be empty:\n%s", out)
	}
	step("plan")

	applied := take()
	if d := applied.Duplicates(); len(d) > 0 {
		t.Errorf("apply made objects twice: %v", d)
	}
	count := map[string]int{}
	for _, it := range applied.Minus(before) {
		count[it.Kind]++
	}
	want := map[string]int{
		inventory.RunService: 2, inventory.PubSubTopic: 4, inventory.PubSubSubscription: 4,
		inventory.AlertPolicy: 2, inventory.NotificationChannel: 1, inventory.LogMetric: 1,
		inventory.QdrantCollection: 2, inventory.QdrantAlias: 1, inventory.SupabaseReplica: 1,
		inventory.RBACRole: 3, inventory.RBACAssignment: 2, inventory.RBACTablePolicy: 1,
		inventory.RowPolicy: 8,  // a restrictive and a permissive policy per command
		inventory.Partition: 39, // 30 days back, today, 7 ahead, the default
		// The backup policy's Cloud Run job and schedule; the pre-migration backup its job took at apply:
		// a dump of the database, one object per shard of agent-memory, and the manifest.
		inventory.RunJob: 1, inventory.SchedulerJob: 1, inventory.S3Object: 5,
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if count[k] != want[k] {
			t.Errorf("after apply: %d new %s, want %d", count[k], k, want[k])
		}
	}
	for k := range count {
		if _, ok := want[k]; !ok {
			t.Errorf("after apply: %d unexpected new %s", count[k], k)
		}
	}

	// The failed_logins preset of each agent's policy reads the log-based counter the example defines.
	for _, p := range alertPolicies(ctx, t, env) {
		var fromLogs bool
		for _, c := range p.GetConditions() {
			fromLogs = fromLogs || strings.Contains(c.GetConditionPrometheusQueryLanguage().GetQuery(), "logging_googleapis_com:user_auth_failed_logins")
		}
		if !fromLogs || len(p.GetConditions()) != 6 || len(p.GetNotificationChannels()) != 1 {
			t.Errorf("policy %s: want 6 conditions, failed_logins read from the log metric, one channel: %v", p.GetDisplayName(), p.GetConditions())
		}
	}
	for out, want := range map[string]string{
		"grafana_dashboard": "alfred_tasks_processed_total",
		"prometheus_rules":  "AlfredFailedLogins",
		"read_replica":      "ACTIVE_HEALTHY",
	} {
		if _, got := cli.Run(t, dir, []int{0}, "output", "-no-color", "-json", out); !strings.Contains(got, want) {
			t.Errorf("output %s lacks %q: %.400s", out, want, got)
		}
	}

	start = time.Now()
	cli.Run(t, dir, []int{0}, append([]string{"destroy", "-auto-approve"}, vars...)...)
	step("destroy")
	var left []inventory.Item
	kept := 0
	for _, it := range take().Minus(before) {
		switch {
		case it.Kind == inventory.Partition: // the partitions and their rows are the application's
		case it.Kind == inventory.S3Object && strings.HasPrefix(it.Name, "platform-backups/alfred-pinned/"):
			kept++ // the pre-migration backup: retain_on_destroy defaults to true
		default:
			left = append(left, it)
		}
	}
	if len(left) > 0 {
		t.Errorf("destroy left:\n%s", inventory.Format(left))
	}
	if kept != 5 {
		t.Errorf("destroy must keep the pre-migration backup's 5 objects (retain_on_destroy), kept %d", kept)
	}
	var sets int
	if err := db.QueryRow(ctx, `select count(*) from alfred_pgdata.partition_sets`).Scan(&sets); err != nil || sets != 0 {
		t.Errorf("destroy must stop the partitions' maintenance: %d partition sets left (%v)", sets, err)
	}
}

func alertPolicies(ctx context.Context, t testing.TB, env map[string]string) []*monitoringpb.AlertPolicy {
	t.Helper()
	c, err := mon.NewAlertPolicyClient(ctx, option.WithEndpoint(env["ALFRED_GCP_MONITORING_ENDPOINT"]), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*monitoringpb.AlertPolicy
	it := c.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{Name: "projects/" + env["ALFRED_GCP_PROJECT"]})
	for {
		p, err := it.Next()
		if err == iterator.Done {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
}
