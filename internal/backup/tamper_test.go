package backup_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

func databaseExists(t *testing.T, db string) bool {
	t.Helper()
	var ok bool
	if err := connect(t, "postgres").QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func smallDatabase(t *testing.T) string {
	t.Helper()
	db := dbName(t, acctest.NewDatabase(t))
	execSQL(t, connect(t, db), "CREATE TABLE items (id int PRIMARY KEY, note text)",
		"INSERT INTO items SELECT i, md5(i::text) FROM generate_series(1, 20000) i")
	return db
}

func TestAccBackup_flippedByteFailsRestoreBeforeAnyWrite(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	cfg := storeConfig(t)
	e := newEngine(t, cfg, keyFile(t))
	db := smallDatabase(t)
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{"header", "middle", "last"} {
		t.Run(at, func(t *testing.T) {
			obj := m.Objects[0]
			c := rawS3(cfg)
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(obj.Key)})
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := io.ReadAll(out.Body)
			out.Body.Close()
			b := bytes.Clone(orig)
			i := map[string]int{"header": 5, "middle": len(b) / 2, "last": len(b) - 1}[at]
			b[i] ^= 0x01
			put := func(body []byte) {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(obj.Key), Body: bytes.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
			}
			put(b)
			defer put(orig)
			target := db + "_tampered"
			err = e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Target: target})
			if !errors.Is(err, backup.ErrIntegrity) {
				t.Fatalf("restore of a tampered object: %v, want an integrity error", err)
			}
			if databaseExists(t, target) {
				t.Fatal("the target database was created before the integrity check failed")
			}
		})
	}
	// The untouched object restores (the sub-tests put it back).
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Target: db + "_ok"}); err != nil {
		t.Fatalf("restore of the intact object: %v", err)
	}
}

func TestAccBackup_wrongKeyFailsWithClearMessage(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	cfg := storeConfig(t)
	db := smallDatabase(t)
	m, err := newEngine(t, cfg, keyFile(t)).Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	other := newEngine(t, cfg, keyFile(t))
	target := db + "_wrongkey"
	err = other.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Target: target})
	if !errors.Is(err, backup.ErrWrongKey) || !strings.Contains(err.Error(), "cannot be decrypted with this key") {
		t.Fatalf("restore with another key: %v, want the wrong-key message", err)
	}
	if databaseExists(t, target) {
		t.Fatal("the target database was created with the wrong key")
	}
}
