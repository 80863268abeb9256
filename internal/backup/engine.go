// Package backup is the backup engine behind `alfredctl backup`: it streams `pg_dump -Fc` through zstd and
// Tink streaming AES-256-GCM into S3 multipart uploads, writes a manifest (sizes, sha256, tool versions,
// per-table row counts and checksums) last, restores only after an object's integrity is proven, verifies
// by restoring into a scratch database, and prunes by keep_last / max_age.
package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// ErrIntegrity is returned when a stored object does not match its manifest or fails authentication.
var ErrIntegrity = errors.New("integrity check failed")

// Progress receives byte counts per object; nil reports nothing.
type Progress interface {
	Start(label string, total int64)
	Add(n int64)
	Done()
}

type nopProgress struct{}

func (nopProgress) Start(string, int64) {}
func (nopProgress) Add(int64)           {}
func (nopProgress) Done()               {}

// Engine runs backups, restores, verifications and pruning.
type Engine struct {
	Store    *Store
	Key      tink.StreamingAEAD
	PG       Postgres
	Progress Progress
	Version  string      // alfredctl's version, recorded in manifests
	Metrics  *MetricSink // optional: records the last success as a Cloud Monitoring time series
	Qdrant   *Qdrant     // the Qdrant cluster of RunOptions.QdrantCollections, restores and verifies
	Now      func() time.Time
	// Checkpoint, when set, is called at each named point of a run (the Checkpoint* constants); the
	// interruption tests kill the process there.
	Checkpoint func(point string)
}

// The points of a run at which Engine.Checkpoint is called.
const (
	CheckpointBeforeFirstUpload = "before-first-upload"    // preflight done, nothing uploaded
	CheckpointBetweenObjects    = "between-objects"        // an object uploaded, the next not started
	CheckpointBeforeManifest    = "before-manifest"        // every object uploaded, no manifest
	CheckpointManifestHalfSent  = "manifest-half-sent"     // half of the manifest's PUT body sent
	CheckpointPruneManifestGone = "prune-manifest-deleted" // pruning: a set's manifest deleted, its objects not yet
)

func (e *Engine) checkpoint(point string) {
	if e.Checkpoint != nil {
		e.Checkpoint(point)
	}
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) progress() Progress {
	if e.Progress == nil {
		return nopProgress{}
	}
	return e.Progress
}

// RunOptions selects what a run backs up and how long sets are kept.
type RunOptions struct {
	Databases []string
	// QdrantCollections are backed up shard by shard, each shard from a peer holding an Active replica.
	QdrantCollections []string
	Retention         Retention
	// NoTableStats skips the per-table row counts and checksums (a second scan of every table, in the
	// dump's snapshot); verify then has nothing to compare and refuses the set.
	NoTableStats bool
}

func newSetID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func aad(setID, kind, name string) []byte {
	return []byte(formatV1 + "|" + setID + "|" + kind + "|" + name)
}

// Preflight checks everything a run needs before any data moves: the key, the bucket, the tools and
// every database.
func (e *Engine) Preflight(ctx context.Context, dbs []string) error {
	if e.Key == nil {
		return errors.New("no backup key loaded")
	}
	if err := e.Store.Check(ctx); err != nil {
		return err
	}
	for _, t := range []string{"pg_dump", "pg_restore"} {
		if len(dbs) == 0 {
			break // a run of Qdrant collections only needs no PostgreSQL tools
		}
		if _, err := e.PG.toolVersion(t); err != nil {
			return err
		}
	}
	for _, db := range dbs {
		conn, err := e.PG.connect(ctx, db)
		if err != nil {
			return err
		}
		_ = conn.Close(ctx)
	}
	return nil
}

// Run backs up the databases into a new set, writes its manifest last, then prunes. It returns the
// manifest of the new set.
func (e *Engine) Run(ctx context.Context, opt RunOptions) (*Manifest, error) {
	if len(opt.Databases) == 0 && len(opt.QdrantCollections) == 0 {
		return nil, errors.New("nothing to back up: name at least one --database or --qdrant-collection")
	}
	if err := e.Preflight(ctx, opt.Databases); err != nil {
		return nil, err
	}
	qc, plans, err := e.preflightQdrant(ctx, opt.QdrantCollections)
	if err != nil {
		return nil, err
	}
	if qc != nil {
		defer qc.close()
	}
	started := e.now()
	m := &Manifest{
		ID: newSetID(started), StartedAt: started, Format: formatV1,
		Encryption: "tink AES256_GCM_HKDF_1MB streaming AEAD", Compression: "zstd",
		ToolVersions: map[string]string{"alfredctl": e.Version, "zstd": "github.com/klauspost/compress " + modVersion("github.com/klauspost/compress")},
	}
	if len(opt.Databases) > 0 {
		m.ToolVersions["pg_dump"], _ = e.PG.toolVersion("pg_dump")
	}
	m.ToolVersions["tink"] = "github.com/tink-crypto/tink-go/v2 " + modVersion("github.com/tink-crypto/tink-go/v2")
	// A run killed earlier left its multipart uploads open: abort them (sets are made one at a time).
	if _, err := e.Store.abortStaleUploads(ctx, m.ID); err != nil {
		return nil, err
	}
	for i, db := range opt.Databases {
		if i == 0 {
			e.checkpoint(CheckpointBeforeFirstUpload)
		} else {
			e.checkpoint(CheckpointBetweenObjects)
		}
		obj, err := e.dumpDatabase(ctx, m.ID, db, !opt.NoTableStats)
		if err != nil {
			return nil, fmt.Errorf("backing up database %q: %w", db, err)
		}
		m.Objects = append(m.Objects, *obj)
	}
	if err := e.backupQdrant(ctx, qc, plans, m); err != nil {
		return nil, err
	}
	m.FinishedAt = e.now()
	e.checkpoint(CheckpointBeforeManifest)
	var halfSent func()
	if e.Checkpoint != nil {
		halfSent = func() { e.checkpoint(CheckpointManifestHalfSent) }
	}
	if err := e.Store.putManifest(ctx, m, halfSent); err != nil {
		return nil, fmt.Errorf("writing the manifest of set %s: %w", m.ID, err)
	}
	if _, err := e.Prune(ctx, opt.Retention, m.ID); err != nil {
		return m, fmt.Errorf("set %s is complete, but pruning failed: %w", m.ID, err)
	}
	if e.Metrics != nil {
		if err := e.Metrics.record(ctx, m.FinishedAt); err != nil {
			return m, fmt.Errorf("set %s is complete, but %w", m.ID, err)
		}
	}
	return m, nil
}

func modVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

type countingWriter struct {
	w io.Writer
	n int64
	p Progress
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.p.Add(int64(n))
	return n, err
}

type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.h.Write(b[:n])
	h.n += int64(n)
	return n, err
}

// dumpDatabase streams pg_dump -Fc -> zstd -> AEAD -> multipart upload, and records the table stats taken in
// the dump's own snapshot.
func (e *Engine) dumpDatabase(ctx context.Context, setID, db string, withStats bool) (*Object, error) {
	conn, err := e.PG.connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var snapshot string
	var locale DatabaseLocale
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot(), pg_encoding_to_char(encoding), datcollate, datctype
		FROM pg_database WHERE datname = current_database()`).Scan(&snapshot, &locale.Encoding, &locale.Collate, &locale.Ctype); err != nil {
		return nil, err
	}
	pgDump, err := e.PG.tool("pg_dump")
	if err != nil {
		return nil, err
	}
	env, err := e.PG.env(db)
	if err != nil {
		return nil, err
	}
	// -Z0: zstd compresses better and faster than pg_dump's gzip; compressing twice wastes CPU.
	cmd := exec.CommandContext(ctx, pgDump, "-Fc", "-Z0", "--snapshot="+snapshot)
	cmd.Env = append(env, "PGTZ=UTC") // timestamptz in COPY text as checksumCopy reads it back
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dumpOut, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if f, ok := dumpOut.(*os.File); ok {
		growPipe(f)
	}
	obj := &Object{Kind: "postgres", Name: db, Key: e.Store.setPrefix(setID) + "postgres/" + db + ".dump.zst.tink", Locale: &locale}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	dump := &exitReader{r: dumpOut, cmd: cmd, stderr: &stderr}
	defer dump.stop()
	// The table stats come from the archive as it passes (archiveTableStats): no second scan of the tables.
	src, streamStats := io.Reader(dump), func(error) (map[string]TableStat, error) { return nil, nil }
	if withStats {
		src, streamStats = teeArchiveStats(dump)
	}
	upErr := e.sealAndUpload(ctx, setID, obj, src, "backup "+db)
	streamed, streamErr := streamStats(upErr)
	if upErr != nil {
		return nil, upErr
	}
	var tables []TableStat
	if withStats {
		// Every table in the dump's snapshot: from the stream where its data passed, otherwise (an archive
		// the stream reader refuses, a table whose data pg_dump does not dump) by a scan in that snapshot.
		if streamErr != nil && !errors.Is(streamErr, errArchiveUnsupported) {
			return nil, fmt.Errorf("reading the dump's table data: %w", streamErr)
		}
		if tables, err = tableStats(ctx, tx, nil, streamed); err != nil {
			return nil, fmt.Errorf("taking table checksums: %w", err)
		}
	}
	obj.Tables, obj.NoTableStats = tables, !withStats
	return obj, nil
}

// exitReader reads a command's stdout and, at its end, waits for the command: a failed exit is the
// stream's error (with its stderr), so that a dump cut short never uploads as a whole one.
type exitReader struct {
	r      io.Reader
	cmd    *exec.Cmd
	stderr *strings.Builder
	waited bool
}

func (x *exitReader) Read(b []byte) (int, error) {
	n, err := x.r.Read(b)
	if err == io.EOF {
		x.waited = true
		if werr := x.cmd.Wait(); werr != nil {
			return n, fmt.Errorf("pg_dump: %v: %s", werr, strings.TrimSpace(x.stderr.String()))
		}
	}
	return n, err
}

// stop kills the command if its stream was not read to the end (the upload failed) and reaps it.
func (x *exitReader) stop() {
	if !x.waited {
		x.waited = true
		_ = x.cmd.Process.Kill()
		_ = x.cmd.Wait()
	}
}
