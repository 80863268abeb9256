package qdrant

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A snapshot is a tar archive (as Qdrant's are) holding collection.json: the collection's config,
// payload schema and points, serialised with protojson.
const snapshotEntry = "collection.json"

type snapshotsAPI struct {
	pb.UnimplementedSnapshotsServer
	s *Server
}

type snapshotContent struct {
	Format     string              `json:"format"`
	Collection string              `json:"collection"`
	Data       persistedCollection `json:"data"`
}

// collectionSnapDir is where the answering peer keeps the collection's snapshots: each node has its own
// snapshots directory in Qdrant (snapshots are listed and downloaded per node). The first peer keeps the
// sandbox's original layout, <snapDir>/<collection>; the others <snapDir>/.peers/<peer id>/<collection>.
func (s *Server) collectionSnapDir(ctx context.Context, name string) string {
	if self := s.self(ctx); self != s.peers[0].ID {
		return filepath.Join(s.snapDir, ".peers", strconv.FormatUint(self, 10), name)
	}
	return filepath.Join(s.snapDir, name)
}

// validSnapshotName refuses path separators, so a name never leaves the collection's directory.
func validSnapshotName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, `/\`) && strings.HasSuffix(n, ".snapshot")
}

func describe(path string) (*pb.SnapshotDescription, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return &pb.SnapshotDescription{Name: filepath.Base(path), CreationTime: timestamppb.New(st.ModTime()),
		Size: st.Size(), Checksum: &sum}, nil
}

// createSnapshot writes <collection>-<peer>-<YYYY-MM-DD-HH-MM-SS>.snapshot. Called under s.mu.
func (s *Server) createSnapshot(ctx context.Context, c *collection) (*pb.SnapshotDescription, error) {
	dir := s.collectionSnapDir(ctx, c.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pc := c.persist()
	pc.Shards, pc.Transfers = nil, nil
	pc.Points = s.localPoints(ctx, c)
	body, err := json.Marshal(snapshotContent{Format: "alfred-sandbox-qdrant/1", Collection: c.name, Data: pc})
	if err != nil {
		return nil, err
	}
	return writeArchive(dir, fmt.Sprintf("%s-%d", c.name, s.self(ctx)), snapshotEntry, body, s.opts.Now().UTC())
}

// writeArchive writes a tar holding entry into dir as <prefix>-<YYYY-MM-DD-HH-MM-SS>.snapshot (a second
// later while the name is taken: names have one-second resolution), atomically, and describes it.
func writeArchive(dir, prefix, entry string, body []byte, now time.Time) (*pb.SnapshotDescription, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: entry, Mode: 0o644, Size: int64(len(body)), ModTime: now}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var path string
	for t := now; ; t = t.Add(time.Second) {
		path = filepath.Join(dir, prefix+"-"+t.Format("2006-01-02-15-04-05")+".snapshot")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return describe(path)
}

func (s *Server) listSnapshots(ctx context.Context, name string) ([]*pb.SnapshotDescription, error) {
	entries, err := os.ReadDir(s.collectionSnapDir(ctx, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*pb.SnapshotDescription
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".snapshot") {
			continue
		}
		d, err := describe(filepath.Join(s.collectionSnapDir(ctx, name), e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readSnapshot parses a snapshot archive.
func readSnapshot(r io.Reader) (*snapshotContent, error) {
	er, err := archiveEntry(r, snapshotEntry)
	if err != nil {
		return nil, err
	}
	var sc snapshotContent
	if err := json.NewDecoder(er).Decode(&sc); err != nil {
		return nil, fmt.Errorf("snapshot %s is malformed: %w", snapshotEntry, err)
	}
	return &sc, nil
}

// archiveEntry finds entry in a snapshot's tar archive and returns its content (at most 1 GiB).
func archiveEntry(r io.Reader, entry string) (io.Reader, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errors.New("snapshot archive has no " + entry + " (not a snapshot of this sandbox?)")
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot is not a tar archive: %w", err)
		}
		if h.Name == entry {
			return io.LimitReader(tr, 1<<30), nil
		}
	}
}

// recoverFrom replaces (or creates) collection name with the snapshot's config, payload schema and
// points. Called under s.mu.
func (s *Server) recoverFrom(name string, sc *snapshotContent) error {
	restored, err := restore(name, sc.Data)
	if err != nil {
		return fmt.Errorf("snapshot is malformed: %w", err)
	}
	if restored.config.GetParams() == nil {
		return errors.New("snapshot is malformed: no collection params")
	}
	if old, ok := s.cols[name]; ok && uint32(len(old.shards)) == restored.config.GetParams().GetShardNumber() {
		restored.shards, restored.transfers = old.shards, old.transfers
	} else {
		if ok {
			delete(s.cols, name) // placement is computed without the replaced collection
		}
		restored.shards = s.place(restored.config.GetParams().GetShardNumber(), restored.config.GetParams().GetReplicationFactor())
	}
	s.cols[name] = restored
	return s.save()
}

func (a *snapshotsAPI) Create(ctx context.Context, req *pb.CreateSnapshotRequest) (*pb.CreateSnapshotResponse, error) {
	start := time.Now()
	s := a.s
	c, err := s.lockCollection(ctx, req.GetCollectionName(), false)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	d, err := s.createSnapshot(ctx, c)
	if err != nil {
		return nil, status.Error(codes.Internal, "Service internal error: "+err.Error())
	}
	return &pb.CreateSnapshotResponse{SnapshotDescription: d, Time: elapsed(start)}, nil
}

func (a *snapshotsAPI) List(ctx context.Context, req *pb.ListSnapshotsRequest) (*pb.ListSnapshotsResponse, error) {
	start := time.Now()
	s := a.s
	if _, err := s.lockCollection(ctx, req.GetCollectionName(), false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	list, err := s.listSnapshots(ctx, req.GetCollectionName())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pb.ListSnapshotsResponse{SnapshotDescriptions: list, Time: elapsed(start)}, nil
}

func (a *snapshotsAPI) Delete(ctx context.Context, req *pb.DeleteSnapshotRequest) (*pb.DeleteSnapshotResponse, error) {
	start := time.Now()
	s := a.s
	if _, err := s.lockCollection(ctx, req.GetCollectionName(), false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if err := s.deleteSnapshot(ctx, req.GetCollectionName(), req.GetSnapshotName()); err != nil {
		return nil, err
	}
	return &pb.DeleteSnapshotResponse{Time: elapsed(start)}, nil
}

func (s *Server) deleteSnapshot(ctx context.Context, col, snap string) error {
	if !validSnapshotName(snap) {
		return status.Errorf(codes.NotFound, "Not found: Snapshot %s not found", snap)
	}
	err := os.Remove(filepath.Join(s.collectionSnapDir(ctx, col), snap))
	if errors.Is(err, os.ErrNotExist) {
		return status.Errorf(codes.NotFound, "Not found: Snapshot %s not found", snap)
	}
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}
