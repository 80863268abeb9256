package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

func TestAccBackup_verifyRestoresIntoScratchAndComparesEveryTable(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	cfg := storeConfig(t)
	e := newEngine(t, cfg, keyFile(t))
	db := smallDatabase(t)
	fixture(t, db)
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	checks, err := e.Verify(ctx, m.ID)
	if err != nil {
		t.Fatalf("verify of a good set: %v", err)
	}
	if len(checks) != 3 {
		t.Fatalf("verify compared %d tables, want 3 (items, documents, alfred_rbac.assignments): %+v", len(checks), checks)
	}
	for _, c := range checks {
		if !c.OK() || c.GotRows <= 0 {
			t.Fatalf("table %s: %+v", c.Table, c)
		}
	}
	var scratch int
	if err := connect(t, "postgres").QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname LIKE 'alfred_verify_%'").Scan(&scratch); err != nil || scratch != 0 {
		t.Fatalf("%d scratch databases left behind (%v)", scratch, err)
	}

	// A manifest whose checksum for one table disagrees with the data: verify names that table.
	m.Objects[0].Tables[0].Checksum = "1"
	b, _ := json.Marshal(m)
	if _, err := rawS3(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket),
		Key: aws.String(cfg.Prefix + m.ID + "/manifest.json"), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
	checks, err = e.Verify(ctx, m.ID)
	if !errors.Is(err, backup.ErrIntegrity) || !strings.Contains(err.Error(), "1 table(s)") {
		t.Fatalf("verify with a mismatching table: %v", err)
	}
	bad := 0
	for _, c := range checks {
		if !c.OK() {
			bad++
			if c.Table != m.Objects[0].Tables[0].Table {
				t.Fatalf("verify flagged %s", c.Table)
			}
		}
	}
	if bad != 1 {
		t.Fatalf("%d tables flagged, want 1", bad)
	}
}

func TestAccBackup_pruneKeepsLastAndNeverTheNewestGood(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	cfg := storeConfig(t)
	e := newEngine(t, cfg, keyFile(t))
	db := smallDatabase(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 4 {
		now := base.Add(time.Duration(i) * 24 * time.Hour)
		e.Now = func() time.Time { return now }
		m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	goodIDs := func() []string {
		sets, err := e.Store.Sets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range sets {
			if s.Manifest != nil {
				out = append(out, s.ID)
			}
		}
		return out
	}
	e.Now = func() time.Time { return base.Add(4 * 24 * time.Hour) }
	res, err := e.Prune(ctx, backup.Retention{KeepLast: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := goodIDs(); len(res.Deleted) != 2 || strings.Join(got, ",") != strings.Join(ids[2:], ",") {
		t.Fatalf("keep_last 2 kept %v (deleted %v), want %v", got, res.Deleted, ids[2:])
	}
	// Everything is older than max_age: the newest good set stays all the same.
	e.Now = func() time.Time { return base.Add(365 * 24 * time.Hour) }
	if _, err := e.Prune(ctx, backup.Retention{MaxAge: 24 * time.Hour}, ""); err != nil {
		t.Fatal(err)
	}
	if got := goodIDs(); len(got) != 1 || got[0] != ids[3] {
		t.Fatalf("max_age kept %v, want only the newest %s", got, ids[3])
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: ids[3], Database: db, Target: db + "_kept"}); err != nil {
		t.Fatalf("the kept set does not restore: %v", err)
	}
}

func TestAccBackup_setWithoutTableChecksumsRestoresButCannotBeVerified(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	e := newEngine(t, storeConfig(t), keyFile(t))
	db := smallDatabase(t)
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}, NoTableStats: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Objects[0].Tables) != 0 || !m.Objects[0].NoTableStats {
		t.Fatalf("manifest: %+v", m.Objects[0])
	}
	if _, err := e.Verify(ctx, m.ID); err == nil || !strings.Contains(err.Error(), "without table checksums") {
		t.Fatalf("verify: %v", err)
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Target: db + "_nostats"}); err != nil {
		t.Fatalf("restore: %v", err)
	}
}

// Two runs started in the same second: set IDs carry the second and then a random suffix, so here the
// suffixes are chosen to sort opposite to the start times. Prune must order by each manifest's StartedAt:
// under every retention setting the set that started last survives.
func TestAccBackup_pruneKeepsTheNewestOfTwoSetsStartedInOneSecond(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	second := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	id := second.Format("20060102T150405Z")
	// newer sorts first by ID, older sorts last.
	newer, older := id+"-000000", id+"-ffffff"
	for _, r := range []backup.Retention{{KeepLast: 1}, {MaxAge: time.Hour}, {KeepLast: 1, MaxAge: time.Hour}} {
		cfg := storeConfig(t)
		e := storeEngine(t, cfg, keyFile(t))
		for setID, started := range map[string]time.Time{older: second.Add(100 * time.Millisecond), newer: second.Add(900 * time.Millisecond)} {
			m := backup.Manifest{ID: setID, StartedAt: started, FinishedAt: started.Add(50 * time.Millisecond), Format: "alfred-backup/1"}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rawS3(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket),
				Key: aws.String(cfg.Prefix + setID + "/manifest.json"), Body: bytes.NewReader(b)}); err != nil {
				t.Fatal(err)
			}
		}
		e.Now = func() time.Time { return second.Add(48 * time.Hour) }
		res, err := e.Prune(ctx, r, "")
		if err != nil {
			t.Fatal(err)
		}
		sets, err := e.Store.Sets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(sets) != 1 || sets[0].ID != newer || len(res.Deleted) != 1 || res.Deleted[0] != older {
			t.Fatalf("retention %+v kept %+v and deleted %v; want only %s (started last) kept", r, sets, res.Deleted, newer)
		}
	}
}
