package backup_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

type helperArgs struct {
	Store  backup.StoreConfig
	Key    string
	DSN    string
	BinDir string
	DB     string
}

// TestHelperBackupRun is not a test: the interruption test runs the test binary with this test selected
// and ALFRED_BACKUP_HELPER set, and kills it mid-run.
func TestHelperBackupRun(t *testing.T) {
	raw := os.Getenv("ALFRED_BACKUP_HELPER")
	if raw == "" {
		t.Skip("helper process only")
	}
	var a helperArgs
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	st, _ := backup.NewStore(a.Store)
	key, err := backup.LoadKey(a.Key)
	if err != nil {
		t.Fatal(err)
	}
	e := &backup.Engine{Store: st, Key: key, PG: backup.Postgres{DSN: a.DSN, BinDir: a.BinDir}}
	_, err = e.Run(context.Background(), backup.RunOptions{Databases: []string{a.DB}})
	t.Logf("helper run ended: %v", err)
}

func TestAccBackup_killedRunLeavesNoGoodSetAndNextRunCleansUp(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	cfg := storeConfig(t)
	key := keyFile(t)
	db := dbName(t, acctest.NewDatabase(t))
	// Incompressible rows, so the stream spans several 8 MiB parts.
	execSQL(t, connect(t, db), "CREATE EXTENSION pgcrypto", "CREATE TABLE blobs (id int PRIMARY KEY, b bytea)",
		"INSERT INTO blobs SELECT i, gen_random_bytes(1024) FROM generate_series(1, 60000) i")
	pg := acctest.Postgres(t)
	args, _ := json.Marshal(helperArgs{Store: cfg, Key: key, DSN: pg.DSN("postgres"), BinDir: pg.BinDir, DB: db})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBackupRun$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ALFRED_BACKUP_HELPER="+string(args), "TF_ACC=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, _ := backup.NewStore(cfg)
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := st.PendingUploads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatal("the helper run never started a multipart upload")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Kill the whole group: the helper and its pg_dump.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()

	sets, err := st.Sets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.Manifest != nil {
			t.Fatalf("set %s is listed as good after its run was killed", s.ID)
		}
	}
	if n, _ := st.PendingUploads(ctx); n == 0 {
		t.Fatal("precondition: the killed run left no multipart upload; the test proves nothing")
	}

	e := newEngine(t, cfg, key)
	small := smallDatabase(t)
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{small}})
	if err != nil {
		t.Fatalf("the next run: %v", err)
	}
	if n, err := st.PendingUploads(ctx); err != nil || n != 0 {
		t.Fatalf("%d multipart uploads left after the next run (%v)", n, err)
	}
	sets, err = st.Sets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || sets[0].ID != m.ID || sets[0].Manifest == nil {
		t.Fatalf("after the next run the store holds %+v; want only set %s", sets, m.ID)
	}
}
