package backup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

type helperArgs struct {
	Store    backup.StoreConfig
	Key      string
	DSN      string
	BinDir   string
	DBs      []string
	KeepLast int
	KillAt   string // a backup.Checkpoint* point at which the helper SIGKILLs itself; empty: killed from outside
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
	if a.KillAt != "" {
		e.Checkpoint = func(point string) {
			if point == a.KillAt {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way: go no further
			}
		}
	}
	_, err = e.Run(context.Background(), backup.RunOptions{Databases: a.DBs, Retention: backup.Retention{KeepLast: a.KeepLast}})
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
	cmd := helperCmd(t, helperArgs{Store: cfg, Key: key, DSN: pg.DSN("postgres"), BinDir: pg.BinDir, DBs: []string{db}})
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

// helperCmd runs TestHelperBackupRun in a child test binary, in its own process group.
func helperCmd(t *testing.T, a helperArgs) *exec.Cmd {
	t.Helper()
	args, _ := json.Marshal(a)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBackupRun$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ALFRED_BACKUP_HELPER="+string(args), "TF_ACC=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// pendingUploads asks versitygw itself (not the engine) for the unfinished multipart uploads in the bucket.
func pendingUploads(t *testing.T, cfg backup.StoreConfig) []string {
	t.Helper()
	out, err := rawS3(cfg).ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(cfg.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// goodSetsAreWhole fails unless every object named by every good set's manifest reads back intact.
func goodSetsAreWhole(t *testing.T, e *backup.Engine, sets []backup.SetInfo) {
	t.Helper()
	for _, s := range sets {
		if s.Manifest == nil {
			continue
		}
		for _, o := range s.Manifest.Objects {
			if err := e.CheckObject(context.Background(), s.ID, o); err != nil {
				t.Fatalf("good set %s: %v", s.ID, err)
			}
		}
	}
}

// A run killed (SIGKILL, by itself at a named checkpoint, so each point is really reached) before the first
// upload, between objects, before the manifest, halfway through sending the manifest, or while pruning
// leaves no set of its own listed as good and no good set missing an object; the next run leaves only good
// sets and no unfinished multipart upload.
func TestAccBackup_runKilledAtEachPoint(t *testing.T) {
	needAcc(t)
	pg := acctest.Postgres(t)
	for _, tc := range []struct {
		point string
		// the killed run's own set is complete (the kill came after its manifest)
		ownSetGood bool
		// what the killed run leaves for the next run to remove: an incomplete set
		leavesIncomplete bool
	}{
		{point: backup.CheckpointBeforeFirstUpload},
		{point: backup.CheckpointBetweenObjects, leavesIncomplete: true},
		{point: backup.CheckpointBeforeManifest, leavesIncomplete: true},
		{point: backup.CheckpointManifestHalfSent, leavesIncomplete: true},
		{point: backup.CheckpointPruneManifestGone, ownSetGood: true, leavesIncomplete: true},
	} {
		t.Run(tc.point, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := storeConfig(t)
			key := keyFile(t)
			e := newEngine(t, cfg, key)
			first, second := smallDatabase(t), smallDatabase(t)
			// 150 tables: a manifest of ~15 KiB, so half of it is past the transport's 4 KiB buffer and the
			// server has received part of the PUT when the helper dies.
			var ddl []string
			for i := range 150 {
				ddl = append(ddl, fmt.Sprintf("CREATE TABLE t%03d (id int PRIMARY KEY, v text); INSERT INTO t%03d VALUES (1, 'x')", i, i))
			}
			execSQL(t, connect(t, second), ddl...)
			prior, err := e.Run(ctx, backup.RunOptions{Databases: []string{first}})
			if err != nil {
				t.Fatal(err)
			}

			cmd := helperCmd(t, helperArgs{Store: cfg, Key: key, DSN: pg.DSN("postgres"), BinDir: pg.BinDir,
				DBs: []string{first, second}, KeepLast: 1, KillAt: tc.point})
			out, _ := cmd.CombinedOutput()
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the helper was not killed at %s (%s):\n%s", tc.point, cmd.ProcessState, out)
			}

			sets, err := e.Store.Sets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var own []backup.SetInfo
			incomplete := 0
			for _, s := range sets {
				if s.ID != prior.ID {
					own = append(own, s)
				}
				if s.Manifest == nil {
					incomplete++
				}
			}
			switch {
			case tc.ownSetGood && (len(own) != 1 || own[0].Manifest == nil):
				t.Fatalf("killed while pruning, after its manifest: its set should be good; the store holds %+v", sets)
			case !tc.ownSetGood:
				for _, s := range own {
					if s.Manifest != nil {
						t.Fatalf("set %s of the run killed at %s is listed as good", s.ID, tc.point)
					}
				}
			}
			if tc.leavesIncomplete != (incomplete > 0) {
				t.Fatalf("killed at %s: %d incomplete set(s), want some: %t (%+v)", tc.point, incomplete, tc.leavesIncomplete, sets)
			}
			goodSetsAreWhole(t, e, sets)

			next, err := e.Run(ctx, backup.RunOptions{Databases: []string{first}, Retention: backup.Retention{KeepLast: 1}})
			if err != nil {
				t.Fatalf("the next run: %v", err)
			}
			if keys := pendingUploads(t, cfg); len(keys) != 0 {
				t.Fatalf("unfinished multipart uploads after the next run: %v", keys)
			}
			sets, err = e.Store.Sets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != 1 || sets[0].ID != next.ID || sets[0].Manifest == nil {
				t.Fatalf("after the next run (keep_last 1) the store holds %+v; want only set %s", sets, next.ID)
			}
			goodSetsAreWhole(t, e, sets)
		})
	}
}
