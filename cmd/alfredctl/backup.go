package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

type backupFlags struct {
	bucket, prefix, endpoint, region string
	keysetFile, dsn, pgBin           string
	databases                        []string
	keepLast                         int
	maxAge                           time.Duration
	target                           string
	force                            bool
	out                              string
	recordMetric                     bool
	tableChecksums                   bool
	metricProject, metricEndpoint    string
	metricLocation                   string
	metricService                    string
	sse, kmsKeyID                    string
	qdrant                           qdrantFlags
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newBackupCmd() *cobra.Command {
	f := &backupFlags{}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Streaming, encrypted, verified backups of PostgreSQL databases and Qdrant collections into S3",
		Long: `Backups stream pg_dump -Fc through zstd and Tink streaming AES-256-GCM into S3 multipart uploads; a set's
manifest (sizes, sha256, tool versions, per-table row counts and checksums) is written last, so a set
without one is not a backup. The S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the
key from --keyset-file or ` + backup.KeyEnv + `. The PostgreSQL role needs to read every row (superuser or
BYPASSRLS) for the dump and the table checksums to be complete. A Qdrant collection is backed up shard by
shard, each from a peer holding an Active replica of it (Qdrant's snapshots are per node), through the
same path; the connection comes from ALFRED_QDRANT_URL, ALFRED_QDRANT_REST_URL and QDRANT_API_KEY.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.bucket, "bucket", os.Getenv("ALFRED_BACKUP_BUCKET"), "S3 bucket holding the backup sets (env ALFRED_BACKUP_BUCKET)")
	pf.StringVar(&f.prefix, "prefix", envOr("ALFRED_BACKUP_PREFIX", "alfred/"), "key prefix of the backup sets")
	pf.StringVar(&f.endpoint, "s3-endpoint", os.Getenv("ALFRED_S3_ENDPOINT"), "S3 endpoint URL (env ALFRED_S3_ENDPOINT; empty: AWS)")
	pf.StringVar(&f.region, "region", envOr("AWS_REGION", "us-east-1"), "S3 region (env AWS_REGION)")
	pf.StringVar(&f.keysetFile, "keyset-file", os.Getenv("ALFRED_BACKUP_KEYSET_FILE"), "Tink keyset (JSON) file; empty: the keyset in "+backup.KeyEnv)
	pf.StringVar(&f.dsn, "postgres-dsn", os.Getenv("ALFRED_POSTGRES_DSN"), "DSN of the PostgreSQL cluster (env ALFRED_POSTGRES_DSN); the database name is replaced per database")
	pf.StringVar(&f.sse, "sse", "", "server-side encryption of the stored objects, on top of the client-side encryption: AES256 or aws:kms (empty: the bucket's default)")
	pf.StringVar(&f.kmsKeyID, "sse-kms-key-id", "", "KMS key of --sse aws:kms (empty: the account's default key)")
	pf.StringVar(&f.pgBin, "pg-bin", "", "directory of pg_dump / pg_restore (default: the newest installed)")
	f.qdrant.register(pf)

	run := &cobra.Command{
		Use: "run", Short: "Back up databases and Qdrant collections into a new set, then prune", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, ctx, done, err := f.streaming(cmd)
			if err != nil {
				return err
			}
			defer done()
			if f.recordMetric {
				if e.Metrics, err = f.metricSink(ctx); err != nil {
					return err
				}
				defer func() { _ = e.Metrics.Client.Close() }()
			}
			m, err := e.Run(ctx, backup.RunOptions{Databases: f.databases, QdrantCollections: f.qdrant.collections, Retention: backup.Retention{KeepLast: f.keepLast, MaxAge: f.maxAge}, NoTableStats: !f.tableChecksums})
			if m != nil {
				printManifest(cmd.OutOrStdout(), m)
			}
			return err
		},
	}
	run.Flags().StringSliceVar(&f.databases, "database", nil, "database to back up (repeatable)")
	run.Flags().StringSliceVar(&f.qdrant.collections, "qdrant-collection", nil, "Qdrant collection to back up (repeatable)")
	run.Flags().BoolVar(&f.tableChecksums, "table-checksums", true, "record every table's row count and checksum (read from the dump stream; a scan in the snapshot where it cannot serve) so that verify can compare; false makes the set unverifiable")
	run.Flags().BoolVar(&f.recordMetric, "record-metric", false, "after a successful run, write "+backup.LastSuccessMetric+" (resource generic_task) to Cloud Monitoring")
	run.Flags().StringVar(&f.metricProject, "metric-project", os.Getenv("ALFRED_GCP_PROJECT"), "Cloud Monitoring project (env ALFRED_GCP_PROJECT)")
	run.Flags().StringVar(&f.metricEndpoint, "metric-endpoint", os.Getenv("ALFRED_GCP_MONITORING_ENDPOINT"), "Cloud Monitoring endpoint host:port (env ALFRED_GCP_MONITORING_ENDPOINT; empty: Google's)")
	run.Flags().StringVar(&f.metricService, "metric-service", "", "value of the metric's `service` label (the backup_staleness alert groups by it); alfred_backup_policy sets its name")
	run.Flags().StringVar(&f.metricLocation, "metric-location", envOr("ALFRED_GCP_REGION", "global"), "location label of the generic_task resource (env ALFRED_GCP_REGION)")
	prune := &cobra.Command{
		Use: "prune", Short: "Apply retention and remove incomplete sets and unfinished uploads", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := f.catalogue(cmd)
			if err != nil {
				return err
			}
			res, err := e.Prune(cmd.Context(), backup.Retention{KeepLast: f.keepLast, MaxAge: f.maxAge}, "")
			if res != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %d set(s) by retention %v, %d incomplete set(s) %v, aborted %d unfinished upload(s)\n",
					len(res.Deleted), res.Deleted, len(res.Incomplete), res.Incomplete, res.Aborted)
			}
			return err
		},
	}
	for _, c := range []*cobra.Command{run, prune} {
		c.Flags().IntVar(&f.keepLast, "keep-last", 7, "keep this many newest good sets (0: no limit)")
		c.Flags().DurationVar(&f.maxAge, "max-age", 0, "delete good sets older than this, e.g. 720h (0: no limit); the newest good set is always kept")
	}

	list := &cobra.Command{
		Use: "list", Short: "List backup sets; only those with a manifest are good", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := f.catalogue(cmd)
			if err != nil {
				return err
			}
			sets, err := e.Store.Sets(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SET\tSTATUS\tFINISHED\tOBJECTS\tSTORED BYTES")
			for _, s := range sets {
				if s.Manifest == nil {
					fmt.Fprintf(tw, "%s\tincomplete\t-\t%d\t-\n", s.ID, len(s.Keys))
					continue
				}
				var size int64
				for _, o := range s.Manifest.Objects {
					size += o.Size
				}
				fmt.Fprintf(tw, "%s\tgood\t%s\t%d\t%d\n", s.ID, s.Manifest.FinishedAt.Format(time.RFC3339), len(s.Manifest.Objects), size)
			}
			return tw.Flush()
		},
	}

	restore := &cobra.Command{
		Use: "restore SET", Short: "Check a set's integrity, then restore a database or a Qdrant collection from it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, ctx, done, err := f.streaming(cmd)
			if err != nil {
				return err
			}
			defer done()
			if len(f.databases)+len(f.qdrant.collections) != 1 {
				return errors.New("name the database (--database) or the Qdrant collection (--qdrant-collection) inside the set to restore: one")
			}
			start := time.Now()
			o := backup.RestoreOptions{SetID: args[0], Target: f.target, Force: f.force}
			kind, name := "DATABASE", ""
			if len(f.databases) == 1 {
				o.Database, name = f.databases[0], f.databases[0]
			} else {
				o.QdrantCollection, name, kind = f.qdrant.collections[0], f.qdrant.collections[0], "COLLECTION"
			}
			if err := e.Restore(ctx, o); err != nil {
				return err
			}
			target := f.target
			if target == "" {
				target = name
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "SET\t%s\tRESTORED AS\tTIME\n", kind)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", args[0], name, target, time.Since(start).Round(time.Millisecond))
			return tw.Flush()
		},
	}
	restore.Flags().StringSliceVar(&f.databases, "database", nil, "database inside the set to restore")
	restore.Flags().StringSliceVar(&f.qdrant.collections, "qdrant-collection", nil, "Qdrant collection inside the set to restore (instead of --database), onto the cluster of ALFRED_QDRANT_URL")
	restore.Flags().StringVar(&f.target, "target", "", "database or collection to restore into (default: the original name, which needs --force)")
	restore.Flags().BoolVar(&f.force, "force", false, "replace the target database or collection if it exists (a collection is restored into a scratch collection and checked first)")

	verify := &cobra.Command{
		Use: "verify SET", Short: "Restore a set into scratch databases and compare every table", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, ctx, done, err := f.streaming(cmd)
			if err != nil {
				return err
			}
			defer done()
			checks, err := e.Verify(ctx, args[0])
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DATABASE\tTABLE\tROWS (BACKUP)\tROWS (RESTORED)\tCHECKSUM") // Qdrant: "qdrant", the collection, its points
			for _, c := range checks {
				state := "match"
				if !c.OK() {
					state = "DIFFERS"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", c.Database, c.Table, c.WantRows, c.GotRows, state)
			}
			_ = tw.Flush()
			return err
		},
	}

	keygen := &cobra.Command{
		Use: "keygen", Short: "Write a new Tink keyset (AES256_GCM_HKDF_1MB) to --out, mode 0600", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.out == "" {
				return errors.New("name the keyset file with --out")
			}
			ks, err := backup.NewKeyset()
			if err != nil {
				return err
			}
			fd, err := os.OpenFile(f.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("writing the keyset: %w (an existing file is never overwritten)", err)
			}
			if _, err := fd.Write(ks); err != nil {
				fd.Close()
				return err
			}
			if err := fd.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote a new keyset to %s: keep a copy apart from the backups; without it they cannot be read\n", f.out)
			return nil
		},
	}
	keygen.Flags().StringVar(&f.out, "out", "", "file to create")

	cmd.AddCommand(run, list, restore, verify, prune, keygen)
	return cmd
}

// backupMemoryLimit is the Go heap's soft limit during run, restore and verify, unless GOMEMLIMIT is set:
// their live heap is bounded (8 MiB parts x 3, zstd's window, 1 MiB segments and buffers: about 42 MiB measured), and
// the limit makes the garbage collector hold peak RSS under the 128 MiB target instead of letting the heap
// double between collections.
const backupMemoryLimit = 64 << 20

// capMemory sets the limit and returns the function that puts back the previous one.
func capMemory() func() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(backupMemoryLimit)
	return func() { debug.SetMemoryLimit(prev) }
}

func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// streaming starts run, restore and verify: the engine with its key, a context that ends on SIGINT or
// SIGTERM, and the heap's soft limit; done undoes both.
func (f *backupFlags) streaming(cmd *cobra.Command) (e *backup.Engine, ctx context.Context, done func(), err error) {
	if e, err = f.engine(cmd, true); err != nil {
		return nil, nil, nil, err
	}
	ctx, stop := signalContext(cmd.Context())
	release := capMemory()
	return e, ctx, func() { release(); stop() }, nil
}

// catalogue starts list and prune: the engine without a key, its bucket checked.
func (f *backupFlags) catalogue(cmd *cobra.Command) (*backup.Engine, error) {
	e, err := f.engine(cmd, false)
	if err != nil {
		return nil, err
	}
	return e, e.Store.Check(cmd.Context())
}

func (f *backupFlags) engine(cmd *cobra.Command, needKey bool) (*backup.Engine, error) {
	switch {
	case f.sse != "" && f.sse != "AES256" && f.sse != "aws:kms":
		return nil, fmt.Errorf("--sse %q: use AES256 or aws:kms", f.sse)
	case f.kmsKeyID != "" && f.sse != "aws:kms":
		return nil, errors.New("--sse-kms-key-id needs --sse aws:kms")
	}
	st, err := backup.NewStore(backup.StoreConfig{
		Bucket: f.bucket, Prefix: f.prefix, Endpoint: f.endpoint, Region: f.region,
		AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SSE: f.sse, KMSKeyID: f.kmsKeyID,
	})
	if err != nil {
		return nil, err
	}
	e := &backup.Engine{Store: st, PG: backup.Postgres{DSN: f.dsn, BinDir: f.pgBin}, Version: version,
		Progress: newProgress(cmd.ErrOrStderr())}
	if e.Qdrant, err = f.qdrant.config(cmd.Context()); err != nil {
		return nil, err
	}
	if needKey {
		if f.dsn == "" && len(f.databases) > 0 {
			return nil, errors.New("no PostgreSQL DSN: pass --postgres-dsn or set ALFRED_POSTGRES_DSN")
		}
		if e.Key, err = backup.LoadKey(f.keysetFile); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func printManifest(w io.Writer, m *backup.Manifest) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "set %s complete in %s\n", m.ID, m.FinishedAt.Sub(m.StartedAt).Round(time.Millisecond))
	fmt.Fprintln(tw, "KIND\tNAME\tDUMP BYTES\tSTORED BYTES\tTABLES\tSHA256")
	for _, o := range m.Objects {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", o.Kind, o.Name, o.PlainBytes, o.Size, len(o.Tables), o.SHA256)
	}
	_ = tw.Flush()
}

// newProgress draws a bar on a terminal and prints plain lines (every 64 MiB and at the end) otherwise.
func newProgress(w io.Writer) backup.Progress {
	if fd, ok := w.(*os.File); ok && isatty.IsTerminal(fd.Fd()) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

type barProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	total int64
}

func (p *barProgress) Start(label string, total int64) {
	p.total = total
	// A bar is drawn at once (blank state) and stays on its line when done, however short the step.
	p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionShowCount(), progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
}
func (p *barProgress) Add(n int64) { _ = p.bar.Add64(n) }
func (p *barProgress) Done() {
	switch {
	case p.bar.IsFinished():
	case p.total < 0:
		_ = p.bar.Finish() // unknown length: what was counted is the size
	default:
		_ = p.bar.Exit() // stopped short (an error): the bar stays where it stopped
	}
}

type lineProgress struct {
	w     io.Writer
	label string
	n     int64
	next  int64
	start time.Time
}

const lineEvery = 64 << 20

func (p *lineProgress) Start(label string, _ int64) {
	p.label, p.n, p.next, p.start = label, 0, lineEvery, time.Now()
	fmt.Fprintf(p.w, "%s: started\n", label)
}
func (p *lineProgress) Add(n int64) {
	p.n += n
	if p.n >= p.next {
		fmt.Fprintf(p.w, "%s: %d MiB\n", p.label, p.n>>20)
		p.next += lineEvery
	}
}
func (p *lineProgress) Done() {
	fmt.Fprintf(p.w, "%s: done, %d bytes in %s\n", p.label, p.n, time.Since(p.start).Round(time.Millisecond))
}

func (f *backupFlags) metricSink(ctx context.Context) (*backup.MetricSink, error) {
	if f.metricProject == "" {
		return nil, errors.New("--record-metric needs --metric-project or ALFRED_GCP_PROJECT")
	}
	var opts []option.ClientOption
	if f.metricEndpoint != "" {
		opts = append(opts, option.WithEndpoint(f.metricEndpoint))
	}
	if os.Getenv("ALFRED_GCP_INSECURE") == "true" {
		opts = append(opts, option.WithoutAuthentication(), option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	c, err := monitoring.NewMetricClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to Cloud Monitoring: %w", err)
	}
	host, _ := os.Hostname()
	var labels map[string]string
	if f.metricService != "" {
		labels = map[string]string{"service": f.metricService}
	}
	return &backup.MetricSink{Client: c, Project: f.metricProject, Resource: &monitoredres.MonitoredResource{
		Type: "generic_task", Labels: map[string]string{"project_id": f.metricProject, "location": f.metricLocation,
			"namespace": "alfred", "job": "alfredctl-backup", "task_id": host}}, Labels: labels}, nil
}
