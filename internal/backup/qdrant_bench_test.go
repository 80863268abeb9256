package backup_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// BenchmarkQdrantBackupRestore times, against the 3-peer sandbox Qdrant and versitygw, the backup of a
// collection of ALFRED_BENCH_QDRANT_POINTS points (default 20000; 3 shards x 2 replicas, named vectors
// of 384 and 128 floats, JSON-like payloads), its restore under another name and its verify. The sandbox
// is in-process, so the figures are the engine's path end to end on loopback, not a real Qdrant's.
func BenchmarkQdrantBackupRestore(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1 (make bench does): needs versitygw")
	}
	n := 20000
	if v := os.Getenv("ALFRED_BENCH_QDRANT_POINTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
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
	e := qdrantEngine(b, storeConfig(b), keyFile(b), q)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		m, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"bench"}})
		if err != nil {
			b.Fatal(err)
		}
		backupTime := time.Since(start)
		var plain, stored int64
		for _, o := range m.Objects {
			plain, stored = plain+o.PlainBytes, stored+o.Size
		}
		start = time.Now()
		if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "bench", Target: "bench_restored"}); err != nil {
			b.Fatal(err)
		}
		restoreTime := time.Since(start)
		start = time.Now()
		if _, err := e.Verify(ctx, m.ID); err != nil {
			b.Fatal(err)
		}
		verifyTime := time.Since(start)
		_ = q.client.DeleteCollection(ctx, "bench_restored")
		b.ReportMetric(backupTime.Seconds(), "backup_s")
		b.ReportMetric(restoreTime.Seconds(), "restore_s")
		b.ReportMetric(verifyTime.Seconds(), "verify_s")
		b.ReportMetric(float64(plain)/(1<<20), "snapshot_MiB")
		b.ReportMetric(float64(stored)/(1<<20), "stored_MiB")
		b.Logf("%d points: backup %s, restore %s, verify %s; snapshots %d MiB, stored %d MiB", n, backupTime.Round(time.Millisecond),
			restoreTime.Round(time.Millisecond), verifyTime.Round(time.Millisecond), plain>>20, stored>>20)
	}
}
