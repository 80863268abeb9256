package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// TableCheck compares one table of a restored copy with the manifest.
type TableCheck struct {
	Database, Table           string
	WantRows, GotRows         int64
	WantChecksum, GotChecksum string
}

// OK reports whether the table matches.
func (c TableCheck) OK() bool { return c.WantRows == c.GotRows && c.WantChecksum == c.GotChecksum }

// Verify restores every PostgreSQL object of set id into a scratch database, compares every table's row
// count and checksum with those taken at backup time, and drops the scratch database; likewise every
// Qdrant collection into a scratch collection (point count and content checksum; see verifyQdrant).
func (e *Engine) Verify(ctx context.Context, id string) ([]TableCheck, error) {
	m, err := e.Store.Manifest(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []TableCheck
	failed := 0
	for _, obj := range m.Objects {
		if obj.Kind != "postgres" {
			continue
		}
		if obj.NoTableStats {
			return out, fmt.Errorf("set %s was made without table checksums (--table-checksums=false): database %q cannot be verified", id, obj.Name)
		}
		if err := e.CheckObject(ctx, id, obj); err != nil {
			return out, err
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		scratch := "alfred_verify_" + hex.EncodeToString(b[:])
		if err := e.restoreInto(ctx, id, obj, scratch, false); err != nil {
			e.dropDatabase(ctx, scratch)
			return out, err
		}
		methods := map[string]string{}
		for _, w := range obj.Tables {
			methods[w.Table] = w.Method
		}
		got, err := e.statsOf(ctx, scratch, methods)
		e.dropDatabase(ctx, scratch)
		if err != nil {
			return out, err
		}
		gotBy := map[string]TableStat{}
		for _, g := range got {
			gotBy[g.Table] = g
		}
		for _, w := range obj.Tables {
			g, ok := gotBy[w.Table]
			c := TableCheck{Database: obj.Name, Table: w.Table, WantRows: w.Rows, WantChecksum: w.Checksum, GotRows: -1}
			if ok {
				c.GotRows, c.GotChecksum = g.Rows, g.Checksum
			}
			if !c.OK() {
				failed++
			}
			out = append(out, c)
			delete(gotBy, w.Table)
		}
		for _, g := range gotBy {
			out = append(out, TableCheck{Database: obj.Name, Table: g.Table, WantRows: -1, GotRows: g.Rows, GotChecksum: g.Checksum})
			failed++
		}
	}
	qchecks, err := e.verifyQdrant(ctx, m)
	for _, c := range qchecks {
		if !c.OK() {
			failed++
		}
	}
	out = append(out, qchecks...)
	if err != nil {
		return out, err
	}
	if failed > 0 {
		return out, fmt.Errorf("%w: %d table(s) or Qdrant collection(s) of set %s differ after restore", ErrIntegrity, failed, id)
	}
	return out, nil
}

func (e *Engine) statsOf(ctx context.Context, db string, methods map[string]string) ([]TableStat, error) {
	conn, err := e.PG.connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	return tableStats(ctx, conn, methods, nil)
}

func (e *Engine) dropDatabase(ctx context.Context, db string) {
	conn, err := e.PG.connect(context.WithoutCancel(ctx), "postgres")
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
}
