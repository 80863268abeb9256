package backup_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// The REST route a shard snapshot is recovered through (as the sandbox's kit counts it).
const shardUploadRoute = "POST /collections/{name}/shards/{shard}/snapshots/upload"

// onRestoreOf is a Progress that calls fn once, when the first shard object starts streaming into
// collection target.
type onRestoreOf struct {
	target string
	fn     func()
}

func (o *onRestoreOf) Start(label string, _ int64) {
	if o.fn != nil && strings.HasPrefix(label, "restore qdrant ") && strings.Contains(label, " -> "+o.target+" (peer ") {
		o.fn()
		o.fn = nil
	}
}
func (o *onRestoreOf) Add(int64) {}
func (o *onRestoreOf) Done()     {}

// liveCollectionChanged adds a point to "docs" after the backup, so that its live content differs from
// the backup's, and returns the live points.
func liveCollectionChanged(t *testing.T, q *qdrantCluster) map[string]string {
	t.Helper()
	if _, err := q.client.Upsert(qctx(t), &pb.UpsertPoints{CollectionName: "docs", Wait: proto.Bool(true), Points: []*pb.PointStruct{{
		Id: pb.NewIDNum(9999), Vectors: pb.NewVectorsMap(map[string]*pb.Vector{"text": pb.NewVector(1, 2, 3, 4), "image": pb.NewVector(1, 2, 3)}),
		Payload: pb.NewValueMap(map[string]any{"agent": "live-only"})}}}); err != nil {
		t.Fatal(err)
	}
	return q.points(t, "docs")
}

func collections(t *testing.T, q *qdrantCluster) []string {
	t.Helper()
	names, err := q.client.ListCollections(qctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// restore --force over a live collection whose recovery fails (a peer refuses the shard upload): the
// backup goes into a scratch collection first, so the live collection is untouched, no scratch collection
// is left, and the error says so. (Restoring by deleting the live collection first lost it here.)
func TestAccBackupQdrant_forceRestoreFailingLeavesOriginalUntouched(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	_, q, e, m := backedUp(t)
	live := liveCollectionChanged(t, q)
	q.Kit.FailNext(shardUploadRoute, kit.FaultUnavailable)
	err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Force: true})
	if err == nil || !regexp.MustCompile(`scratch collection "alfred_restore_[0-9a-f]{8}" failed, so Qdrant collection "docs" was not touched`).MatchString(err.Error()) {
		t.Fatalf("restore --force with a failing shard upload: %v", err)
	}
	samePoints(t, live, q.points(t, "docs"))
	if names := collections(t, q); len(names) != 1 || names[0] != "docs" {
		t.Fatalf("collections after the failed restore: %v, want only docs", names)
	}
	// The fault spent, the same restore replaces the live collection with the backup, and cleans up.
	want := map[string]string{}
	for id, p := range live {
		if id != pb.NewIDNum(9999).String() {
			want[id] = p
		}
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Force: true}); err != nil {
		t.Fatal(err)
	}
	samePoints(t, want, q.points(t, "docs"))
	if names := collections(t, q); len(names) != 1 {
		t.Fatalf("collections after the restore: %v, want only docs", names)
	}
}

// The replace phase cannot proceed: the checked scratch copy exists, the live collection was deleted, and
// its recovery is refused. The error names the scratch collection, which holds every point of the backup.
func TestAccBackupQdrant_forceRestoreReplaceFailingKeepsCheckedScratch(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	_, q, e, m := backedUp(t)
	want := q.points(t, "docs")
	liveCollectionChanged(t, q)
	e.Progress = &onRestoreOf{target: "docs", fn: func() { q.Kit.FailNext(shardUploadRoute, kit.FaultUnavailable) }}
	err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Force: true})
	re := regexp.MustCompile(`Qdrant collection "docs" was deleted to be replaced, and restoring it failed: .*HTTP 503.*The backup's data, checked \(150 points\), is in the collection "(alfred_restore_[0-9a-f]{8})"`)
	sub := re.FindStringSubmatch(fmt.Sprint(err))
	if sub == nil {
		t.Fatalf("restore --force whose replace phase fails: %v", err)
	}
	samePoints(t, want, q.points(t, sub[1]))
}
