package backup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/zstd"
)

// plainReader opens obj and returns its decrypted, decompressed stream; finish must be called after the
// stream is read to its end: it checks size and sha256 against the manifest.
func (e *Engine) plainReader(ctx context.Context, setID string, obj Object) (r io.Reader, finish func() error, closeFn func(), err error) {
	body, err := e.Store.open(ctx, obj.Key)
	if err != nil {
		return nil, nil, nil, err
	}
	hr := &hashingReader{r: body, h: sha256.New()}
	check := func() error {
		// Hash whatever the decoder left unread, then compare with the manifest.
		if _, err := io.Copy(io.Discard, hr); err != nil {
			return fmt.Errorf("reading %s: %w", obj.Key, err)
		}
		if hr.n != obj.Size || hex.EncodeToString(hr.h.Sum(nil)) != obj.SHA256 {
			return fmt.Errorf("%w: object %s does not match its manifest (size %d, want %d; sha256 differs: %t)",
				ErrIntegrity, obj.Key, hr.n, obj.Size, hex.EncodeToString(hr.h.Sum(nil)) != obj.SHA256)
		}
		return nil
	}
	dec, err := e.Key.NewDecryptingReader(hr, aad(setID, obj.Kind, obj.Name))
	if err != nil {
		// An intact object that this keyset cannot open was made with another key.
		if cerr := check(); cerr != nil {
			body.Close()
			return nil, nil, nil, cerr
		}
		body.Close()
		return nil, nil, nil, fmt.Errorf("object %s: %w", obj.Key, ErrWrongKey)
	}
	zr, err := zstd.NewReader(dec, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		body.Close()
		return nil, nil, nil, err
	}
	return zr, check, func() { zr.Close(); body.Close() }, nil
}

// CheckObject reads obj end to end (ciphertext hash, authentication of every segment, zstd frame) and
// writes nothing anywhere.
func (e *Engine) CheckObject(ctx context.Context, setID string, obj Object) error {
	r, finish, closeFn, err := e.plainReader(ctx, setID, obj)
	if err != nil {
		return err
	}
	defer closeFn()
	prog := e.progress()
	prog.Start("check "+obj.Name, obj.PlainBytes)
	defer prog.Done()
	cw := &countingWriter{w: io.Discard, p: prog}
	_, copyErr := io.Copy(cw, r)
	if err := finish(); err != nil {
		return err
	}
	if copyErr != nil && cw.n == 0 {
		// The stored bytes match the manifest but not one segment opens: another key made them.
		return fmt.Errorf("object %s: %w", obj.Key, ErrWrongKey)
	}
	if copyErr != nil {
		return fmt.Errorf("%w: object %s fails authentication or decompression: %v", ErrIntegrity, obj.Key, copyErr)
	}
	return nil
}

// RestoreOptions names what to restore where.
type RestoreOptions struct {
	SetID    string
	Database string // the database inside the set
	Target   string // the database to create; empty: Database (needs Force)
	Force    bool   // allow replacing an existing target
	// QdrantCollection, instead of Database, names a Qdrant collection of the set; Target then names the
	// collection to create on the Engine's Qdrant cluster.
	QdrantCollection string
}

// Restore proves the object intact, then creates the target database and streams the dump into pg_restore.
func (e *Engine) Restore(ctx context.Context, o RestoreOptions) error {
	if o.QdrantCollection != "" {
		return e.restoreQdrant(ctx, o)
	}
	m, err := e.Store.Manifest(ctx, o.SetID)
	if err != nil {
		return err
	}
	obj, err := findObject(m, "postgres", o.Database)
	if err != nil {
		return err
	}
	target, err := o.targetOf("database", o.Database)
	if err != nil {
		return err
	}
	exists, err := e.databaseExists(ctx, target)
	if err != nil {
		return err
	}
	if exists && !o.Force {
		return fmt.Errorf("database %q already exists: pass --force to replace it, or name another --target", target)
	}
	// Integrity first: nothing is written to the target before the whole object checks out.
	if err := e.CheckObject(ctx, o.SetID, *obj); err != nil {
		return err
	}
	return e.restoreInto(ctx, o.SetID, *obj, target, exists)
}

func findObject(m *Manifest, kind, name string) (*Object, error) {
	var names []string
	for i := range m.Objects {
		if m.Objects[i].Kind == kind && m.Objects[i].Name == name {
			return &m.Objects[i], nil
		}
		names = append(names, m.Objects[i].Name)
	}
	return nil, fmt.Errorf("set %s holds no %s object %q (it holds: %s)", m.ID, kind, name, strings.Join(names, ", "))
}

func (e *Engine) databaseExists(ctx context.Context, db string) (bool, error) {
	conn, err := e.PG.connect(ctx, "postgres")
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var ok bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&ok)
	return ok, err
}

func (e *Engine) restoreInto(ctx context.Context, setID string, obj Object, target string, replace bool) error {
	if !replace {
		return e.restoreFresh(ctx, setID, obj, target)
	}
	// Replacing: restore beside the target, and swap only once pg_restore succeeded, so a failed restore
	// leaves the original database as it was.
	var b [4]byte
	_, _ = rand.Read(b[:])
	staging := "alfred_restore_" + hex.EncodeToString(b[:])
	if err := e.restoreFresh(ctx, setID, obj, staging); err != nil {
		e.dropDatabase(ctx, staging)
		return err
	}
	conn, err := e.PG.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{target}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %q to replace it (the restored copy is in %q): %w", target, staging, err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{staging}.Sanitize()+" RENAME TO "+pgx.Identifier{target}.Sanitize()); err != nil {
		return fmt.Errorf("renaming the restored copy %q to %q: %w", staging, target, err)
	}
	return nil
}

func (e *Engine) restoreFresh(ctx context.Context, setID string, obj Object, target string) error {
	conn, err := e.PG.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	// The source database's encoding and locale (sets since they were recorded): text compares, sorts and
	// hashes as it did there, so verify's checksums match and the application sees the same order.
	create := "CREATE DATABASE " + pgx.Identifier{target}.Sanitize() + " TEMPLATE template0"
	if l := obj.Locale; l != nil {
		create += " ENCODING " + quoteLiteral(l.Encoding) + " LC_COLLATE " + quoteLiteral(l.Collate) + " LC_CTYPE " + quoteLiteral(l.Ctype)
	}
	_, err = conn.Exec(ctx, create)
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("creating database %q: %w", target, err)
	}
	r, finish, closeFn, err := e.plainReader(ctx, setID, obj)
	if err != nil {
		return err
	}
	defer closeFn()
	pgRestore, err := e.PG.tool("pg_restore")
	if err != nil {
		return err
	}
	env, err := e.PG.env(target)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, pgRestore, "--exit-on-error", "--no-password", "-d", target)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	prog := e.progress()
	prog.Start("restore "+obj.Name+" -> "+target, obj.PlainBytes)
	defer prog.Done()
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	_, copyErr := io.Copy(in, io.TeeReader(r, &countingWriter{w: io.Discard, p: prog}))
	_ = in.Close()
	waitErr := cmd.Wait()
	if ferr := finish(); ferr != nil {
		return ferr
	}
	if copyErr != nil && !errors.Is(copyErr, io.ErrClosedPipe) {
		return fmt.Errorf("streaming into pg_restore: %w", copyErr)
	}
	if waitErr != nil {
		return fmt.Errorf("pg_restore into %q: %v: %s", target, waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// targetOf is where a restore of the original (a database or a collection: kind) goes: o.Target, else the
// original itself, which needs o.Force.
func (o RestoreOptions) targetOf(kind, original string) (string, error) {
	target := o.Target
	if target == "" {
		target = original
	}
	if target == original && !o.Force {
		return "", fmt.Errorf("restoring over the original %s %q needs --force; or name another with --target", kind, target)
	}
	return target, nil
}
