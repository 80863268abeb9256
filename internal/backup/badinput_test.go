package backup_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

func objectCount(t *testing.T, cfg backup.StoreConfig) int {
	t.Helper()
	out, err := rawS3(cfg).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	ups, err := rawS3(cfg).ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(cfg.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents) + len(ups.Uploads)
}

func TestAccBackup_badInputFailsBeforeAnyDataMoves(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	db := smallDatabase(t)
	good := storeConfig(t)
	key := keyFile(t)
	cases := []struct {
		name, want string
		mutate     func(*backup.StoreConfig, *[]string)
	}{
		{"unreachable bucket", "unreachable", func(c *backup.StoreConfig, _ *[]string) { c.Endpoint = "http://127.0.0.1:1" }},
		{"missing bucket", "does not exist", func(c *backup.StoreConfig, _ *[]string) { c.Bucket = "no-such-bucket-here" }},
		{"wrong credentials", "refused the credentials", func(c *backup.StoreConfig, _ *[]string) { c.SecretAccessKey = "wrong" }},
		{"unknown database", `database "no_such_db" does not exist`, func(_ *backup.StoreConfig, dbs *[]string) { *dbs = append(*dbs, "no_such_db") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dbs := good, []string{db}
			tc.mutate(&cfg, &dbs)
			e := newEngine(t, cfg, key)
			_, err := e.Run(ctx, backup.RunOptions{Databases: dbs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run: %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), good.SecretAccessKey) {
				t.Fatal("the error shows the secret key")
			}
			if n := objectCount(t, good); n != 0 {
				t.Fatalf("%d objects or uploads in the bucket after a refused run", n)
			}
		})
	}
	t.Run("missing key", func(t *testing.T) {
		t.Setenv(backup.KeyEnv, "")
		_, err := backup.LoadKey("")
		if err == nil || !strings.Contains(err.Error(), backup.KeyEnv) {
			t.Fatalf("no key: %v", err)
		}
		_, err = backup.LoadKey(t.TempDir() + "/absent.json")
		if err == nil || !strings.Contains(err.Error(), "keyset file") {
			t.Fatalf("absent keyset file: %v", err)
		}
	})
}
