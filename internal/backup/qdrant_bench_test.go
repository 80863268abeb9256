package backup_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// BenchmarkQdrantBackupRestore times, against the 3-peer sandbox Qdrant and versitygw, the backup of a
// collection of ALFRED_BENCH_QDRANT_POINTS points (default 20000; 3 shards x 2 replicas, named vectors
// of 384 and 128 floats, JSON-like payloads), its restore under another name and its verify, each an
// `alfredctl backup` subprocess (wall time, peak RSS, TMPDIR left empty). The sandbox is in-process, so the
// figures are the engine's path end to end on loopback, not a real Qdrant's.
func BenchmarkQdrantBackupRestore(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1 (make bench does): needs versitygw")
	}
	n := envInt("ALFRED_BENCH_QDRANT_POINTS", 20000)
	ctx := context.Background()
	q := newQdrant(b, 3)
	if err := q.client.CreateCollection(ctx, &pb.CreateCollection{CollectionName: "bench",
		VectorsConfig: pb.NewVectorsConfigMap(map[string]*pb.VectorParams{
			"text": {Size: 384, Distance: pb.Distance_Cosine}, "image": {Size: 128, Distance: pb.Distance_Dot}}),
		ShardNumber: proto.Uint32(3), ReplicationFactor: proto.Uint32(2)}); err != nil {
		b.Fatal(err)
	}
	// Embeddings are pseudo-random (seeded), so they compress as real ones do: hardly.
	rnd := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 500 {
		var pts []*pb.PointStruct
		for i := start; i < min(start+500, n); i++ {
			text, image := make([]float32, 384), make([]float32, 128) // pb.NewVector keeps the slice
			for j := range text {
				text[j] = rnd.Float32()*2 - 1
			}
			for j := range image {
				image[j] = rnd.Float32()
			}
			pts = append(pts, &pb.PointStruct{Id: pb.NewIDNum(uint64(i + 1)),
				Vectors: pb.NewVectorsMap(map[string]*pb.Vector{"text": pb.NewVector(text...), "image": pb.NewVector(image...)}),
				Payload: pb.NewValueMap(map[string]any{"agent": "alfred-bot", "task": fmt.Sprintf("task-%d", i), "tokens": i % 4000,
					"meta": map[string]any{"model": "alfred-" + strconv.Itoa(i%5), "tags": []any{"a", "b"}}})})
		}
		if _, err := q.client.Upsert(ctx, &pb.UpsertPoints{CollectionName: "bench", Points: pts, Wait: proto.Bool(true)}); err != nil {
			b.Fatal(err)
		}
	}
	cfg := storeConfig(b)
	work := b.TempDir()
	bin := filepath.Join(work, "alfredctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/alfredctl").CombinedOutput(); err != nil {
		b.Fatalf("building alfredctl: %v\n%s", err, out)
	}
	key := keyFile(b)
	tmp := filepath.Join(work, "tmp")
	_ = os.Mkdir(tmp, 0o755)
	var peers []string
	for _, p := range q.Peers {
		peers = append(peers, fmt.Sprintf("%d=%s", p.ID, p.RESTURL))
	}
	// alfredctl runs as a subprocess, for its own peak RSS; TMPDIR must stay empty.
	alfred := func(args ...string) (string, time.Duration, float64) {
		cmd := exec.Command(bin, append(args, "--bucket", cfg.Bucket, "--s3-endpoint", cfg.Endpoint, "--keyset-file", key)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+cfg.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+cfg.SecretAccessKey,
			"AWS_REGION="+cfg.Region, "TMPDIR="+tmp, "ALFRED_QDRANT_URL="+q.Addr, "ALFRED_QDRANT_REST_URL="+q.RESTURL,
			"QDRANT_API_KEY="+q.APIKey, "ALFRED_QDRANT_PEER_REST_URLS="+strings.Join(peers, ","), "ALFRED_SANDBOX_DEBUG_URL=")
		return peakRSS(b, cmd)
	}
	b.ResetTimer()
	for range b.N {
		out, backupTime, backupRSS := alfred("backup", "run", "--qdrant-collection", "bench")
		set := regexp.MustCompile(`set (\S+) complete`).FindStringSubmatch(out)
		if set == nil {
			b.Fatalf("run printed:\n%s", out)
		}
		st, err := backup.NewStore(cfg)
		if err != nil {
			b.Fatal(err)
		}
		m, err := st.Manifest(ctx, set[1])
		if err != nil {
			b.Fatal(err)
		}
		var plain, stored int64
		for _, o := range m.Objects {
			plain, stored = plain+o.PlainBytes, stored+o.Size
		}
		_, restoreTime, restoreRSS := alfred("backup", "restore", set[1], "--qdrant-collection", "bench", "--target", "bench_restored")
		// --force over the live collection: into a scratch collection, checked, then the live one replaced.
		_, forceTime, forceRSS := alfred("backup", "restore", set[1], "--qdrant-collection", "bench", "--force")
		_, verifyTime, _ := alfred("backup", "verify", set[1])
		_ = q.client.DeleteCollection(ctx, "bench_restored")
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			b.Fatalf("alfredctl left %d temporary files", len(entries))
		}
		b.ReportMetric(backupTime.Seconds(), "backup_s")
		b.ReportMetric(backupRSS, "backup_peak_rss_MiB")
		b.ReportMetric(restoreTime.Seconds(), "restore_s")
		b.ReportMetric(restoreRSS, "restore_peak_rss_MiB")
		b.ReportMetric(forceTime.Seconds(), "force_restore_s")
		b.ReportMetric(forceRSS, "force_restore_peak_rss_MiB")
		b.ReportMetric(verifyTime.Seconds(), "verify_s")
		b.ReportMetric(float64(plain)/(1<<20), "snapshot_MiB")
		b.ReportMetric(float64(stored)/(1<<20), "stored_MiB")
		b.Logf("%d points: backup %s (peak RSS %.1f MiB), restore %s (peak RSS %.1f MiB), restore --force over the live collection %s (peak RSS %.1f MiB), verify %s; snapshots %.1f MiB, stored %.1f MiB",
			n, backupTime.Round(time.Millisecond), backupRSS, restoreTime.Round(time.Millisecond), restoreRSS,
			forceTime.Round(time.Millisecond), forceRSS, verifyTime.Round(time.Millisecond),
			float64(plain)/(1<<20), float64(stored)/(1<<20))
	}
}

// peakRSS runs cmd and returns its output, wall time and peak RSS in MiB (-1 without GNU time).
//
// The rusage of a child started by os/exec is no measure: Go starts it with vfork, and at exec Linux
// records the parent's peak RSS as the child's (exec_mmap: setmax_mm_hiwater_rss(&signal->maxrss,
// old_mm)), so `true` started from a 300 MiB process reports 300 MiB. GNU time forks (a copy of its own
// small address space) before exec, so its %M is the command's own peak.
func peakRSS(b *testing.B, cmd *exec.Cmd) (string, time.Duration, float64) {
	b.Helper()
	rss := -1.0
	timeBin, err := exec.LookPath("time") // GNU time, /usr/bin/time on Debian
	var rssFile string
	if err == nil {
		rssFile = filepath.Join(b.TempDir(), "rss")
		cmd.Args = append([]string{timeBin, "-f", "%M", "-o", rssFile}, cmd.Args...)
		cmd.Path = timeBin
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	took := time.Since(start)
	if rssFile != "" {
		if raw, err := os.ReadFile(rssFile); err == nil {
			if kib, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
				rss = float64(kib) / 1024
			}
		}
	}
	return string(out), took, rss
}
