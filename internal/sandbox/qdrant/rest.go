package qdrant

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

const maxSnapshotBytes = 4 << 30

// RESTHandler serves Qdrant's REST endpoints that the provider and the backup engine use.
func (s *Server) RESTHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { text(w, "healthz check passed") })
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { text(w, "livez check passed") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { text(w, "all shards are ready") })
	// "/" is on Qdrant's api-key whitelist with /healthz, /readyz and /livez (src/actix/mod.rs).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { s.restRoot(&restCtx{w: w, r: r, start: time.Now()}) })
	s.rest(mux, "GET /cluster", s.restCluster)
	s.rest(mux, "GET /collections", s.restCollections)
	s.rest(mux, "GET /collections/{name}/snapshots", s.restListSnapshots)
	s.rest(mux, "POST /collections/{name}/snapshots", s.restCreateSnapshot)
	s.rest(mux, "GET /collections/{name}/snapshots/{snapshot}", s.restDownload)
	s.rest(mux, "DELETE /collections/{name}/snapshots/{snapshot}", s.restDeleteSnapshot)
	s.rest(mux, "POST /collections/{name}/snapshots/upload", s.restUpload)
	s.rest(mux, "PUT /collections/{name}/snapshots/recover", s.restRecover)
	s.rest(mux, "GET /collections/{name}/shards/{shard}/snapshots", s.restListShardSnapshots)
	s.rest(mux, "POST /collections/{name}/shards/{shard}/snapshots", s.restCreateShardSnapshot)
	s.rest(mux, "GET /collections/{name}/shards/{shard}/snapshots/{snapshot}", s.restDownloadShardSnapshot)
	s.rest(mux, "DELETE /collections/{name}/shards/{shard}/snapshots/{snapshot}", s.restDeleteShardSnapshot)
	s.rest(mux, "POST /collections/{name}/shards/{shard}/snapshots/upload", s.restUploadShardSnapshot)
	s.rest(mux, "PUT /collections/{name}/shards/{shard}/snapshots/recover", s.restRecoverShardSnapshot)
	return s.kit.WrapQdrantREST(mux)
}

func text(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, msg)
}

type restCtx struct {
	w     http.ResponseWriter
	r     *http.Request
	start time.Time
}

// ok writes Qdrant's envelope {"result": ..., "status": "ok", "time": seconds}.
func (c *restCtx) ok(result any) {
	kit.WriteJSON(c.w, http.StatusOK, map[string]any{"result": result, "status": "ok", "time": time.Since(c.start).Seconds()})
}

// fail writes Qdrant's error envelope {"status": {"error": ...}, "time": seconds}.
func (c *restCtx) fail(code int, msg string) {
	kit.WriteJSON(c.w, code, map[string]any{"status": map[string]string{"error": msg}, "time": time.Since(c.start).Seconds()})
}

// rest registers h behind the api-key check (header `api-key` or `Authorization: Bearer`).
func (s *Server) rest(mux *http.ServeMux, pattern string, h func(*restCtx)) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if s.opts.APIKey != "" {
			key := r.Header.Get("api-key")
			if key == "" {
				key, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			}
			if key == "" {
				http.Error(w, "Must provide an API key or an Authorization bearer token", http.StatusUnauthorized)
				return
			}
			if subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey)) != 1 {
				http.Error(w, "Invalid API key or JWT", http.StatusUnauthorized)
				return
			}
		}
		h(&restCtx{w: w, r: r, start: time.Now()})
	})
}

func (s *Server) restRoot(c *restCtx) {
	kit.WriteJSON(c.w, http.StatusOK, map[string]string{"title": "qdrant - vector search engine", "version": Version})
}

func peerURI(id uint64, i int) string {
	return fmt.Sprintf("http://qdrant-peer-%d:6335/", i+1)
}

// GET /cluster: Qdrant's ClusterStatus (enabled, this peer, every known peer, raft info, failures).
func (s *Server) restCluster(c *restCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	peers := map[string]any{}
	failures := map[string]any{}
	for i, p := range s.peers {
		uri := peerURI(p.ID, i)
		peers[strconv.FormatUint(p.ID, 10)] = map[string]string{"uri": uri}
		if p.Down || p.Partitioned {
			failures[uri] = map[string]any{"count": 1, "latest_error": "peer is unreachable (sandbox: marked down)",
				"latest_error_timestamp": s.opts.Now().UTC().Format(time.RFC3339Nano)}
		}
	}
	leader := s.leader()
	role := "Follower"
	self := s.self(c.r.Context())
	if leader == self {
		role = "Leader"
	}
	var leaderV any = leader
	if leader == 0 {
		leaderV, role = nil, "Candidate"
	}
	c.ok(map[string]any{
		"status":  "enabled",
		"peer_id": self,
		"peers":   peers,
		"raft_info": map[string]any{"term": 1 + countDown(s.peers), "commit": s.opID + uint64(len(s.cols)),
			"pending_operations": 0, "leader": leaderV, "role": role, "is_voter": true},
		"consensus_thread_status": map[string]any{"consensus_thread_status": "working",
			"last_update": s.opts.Now().UTC().Format(time.RFC3339Nano)},
		"message_send_failures": failures,
	})
}

func countDown(ps []*peer) int {
	n := 0
	for _, p := range ps {
		if p.Down {
			n++
		}
	}
	return n
}

func (s *Server) restCollections(c *restCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]string{}
	for _, n := range sortedKeys(s.cols) {
		list = append(list, map[string]string{"name": n})
	}
	c.ok(map[string]any{"collections": list})
}

func (s *Server) snapshotJSON(col string, c *restCtx) ([]map[string]any, bool) {
	list, err := s.listSnapshots(c.r.Context(), col)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Service internal error: "+err.Error())
		return nil, false
	}
	out := []map[string]any{}
	for _, d := range list {
		out = append(out, snapshotJSONOf(d))
	}
	return out, true
}

func (s *Server) restListSnapshots(c *restCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	col := c.r.PathValue("name")
	if _, ok := s.cols[col]; !ok {
		c.fail(http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", col))
		return
	}
	if out, ok := s.snapshotJSON(col, c); ok {
		c.ok(out)
	}
}

func (s *Server) restCreateSnapshot(c *restCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	col, ok := s.cols[c.r.PathValue("name")]
	if !ok {
		c.fail(http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", c.r.PathValue("name")))
		return
	}
	d, err := s.createSnapshot(c.r.Context(), col)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Service internal error: "+err.Error())
		return
	}
	c.ok(snapshotJSONOf(d))
}

// GET /collections/{name}/snapshots/{snapshot}: the snapshot file.
func (s *Server) restDownload(c *restCtx) {
	col, snap := c.r.PathValue("name"), c.r.PathValue("snapshot")
	if !validSnapshotName(snap) {
		c.fail(http.StatusNotFound, "Not found: Snapshot "+snap+" not found")
		return
	}
	serveFile(c, filepath.Join(s.collectionSnapDir(c.r.Context(), col), snap))
}

// serveFile answers with a snapshot file (Range supported), or 404.
func serveFile(c *restCtx, path string) {
	snap := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		c.fail(http.StatusNotFound, "Not found: Snapshot "+snap+" not found")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	c.w.Header().Set("Content-Type", "application/octet-stream")
	c.w.Header().Set("Content-Disposition", `attachment; filename="`+snap+`"`)
	http.ServeContent(c.w, c.r, snap, st.ModTime(), f)
}

func (s *Server) restDeleteSnapshot(c *restCtx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	col := c.r.PathValue("name")
	if _, ok := s.cols[col]; !ok {
		c.fail(http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", col))
		return
	}
	if err := s.deleteSnapshot(c.r.Context(), col, c.r.PathValue("snapshot")); err != nil {
		c.fail(http.StatusNotFound, "Not found: Snapshot "+c.r.PathValue("snapshot")+" not found")
		return
	}
	c.ok(true)
}

func validPriority(p string) bool {
	return p == "" || p == "replica" || p == "snapshot" || p == "no_sync"
}

// restore reads a snapshot body (checking the optional sha256 checksum) and recovers collection col.
func (s *Server) restoreBody(c *restCtx, col string, body []byte, checksum string) {
	if checksum != "" {
		sum := sha256.Sum256(body)
		if !strings.EqualFold(hex.EncodeToString(sum[:]), checksum) {
			// Qdrant's StorageError::ChecksumMismatch (HTTP 400), built as checksum_mismatch(file's hash,
			// requested checksum): "Checksum mismatch: expected {file's}, actual {requested}".
			c.fail(http.StatusBadRequest, "Checksum mismatch: expected "+hex.EncodeToString(sum[:])+", actual "+checksum)
			return
		}
	}
	sc, err := readSnapshot(bytes.NewReader(body))
	if err != nil {
		c.fail(http.StatusBadRequest, "Wrong input: "+err.Error())
		return
	}
	if !namePattern.MatchString(col) {
		c.fail(http.StatusBadRequest, "Wrong input: invalid collection name "+strconv.Quote(col))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if err := s.recoverFrom(col, sc); err != nil {
		c.fail(http.StatusBadRequest, "Wrong input: "+err.Error())
		return
	}
	c.ok(true)
}

// POST /collections/{name}/snapshots/upload?priority=...&checksum=...: multipart field `snapshot`.
func (s *Server) restUpload(c *restCtx) {
	q := c.r.URL.Query()
	if !validPriority(q.Get("priority")) {
		c.fail(http.StatusBadRequest, "Wrong input: priority must be one of replica, snapshot, no_sync")
		return
	}
	if body, ok := multipartSnapshot(c); ok {
		s.restoreBody(c, c.r.PathValue("name"), body, q.Get("checksum"))
	}
}

type recoverBody struct {
	Location string `json:"location"`
	Priority string `json:"priority"`
	Checksum string `json:"checksum"`
}

// recoverRequest reads a recover body {"location", "priority", "checksum"}, answering the request when it
// is malformed; locations says what a location may be.
func recoverRequest(c *restCtx, locations string) (recoverBody, bool) {
	var req recoverBody
	if err := json.NewDecoder(io.LimitReader(c.r.Body, 1<<20)).Decode(&req); err != nil || req.Location == "" {
		c.fail(http.StatusBadRequest, "Wrong input: body must be {\"location\": "+locations+"}")
		return req, false
	}
	if !validPriority(req.Priority) {
		c.fail(http.StatusBadRequest, "Wrong input: priority must be one of replica, snapshot, no_sync")
		return req, false
	}
	return req, true
}

// PUT /collections/{name}/snapshots/recover {"location": "file:///..." | "http(s)://...", "priority", "checksum"}.
// file:// locations must lie in the snapshots directory, as Qdrant requires.
func (s *Server) restRecover(c *restCtx) {
	req, ok := recoverRequest(c, `"file:///..." or "http://..."`)
	if !ok {
		return
	}
	u, err := url.Parse(req.Location)
	if err != nil {
		c.fail(http.StatusBadRequest, "Wrong input: location is not a URL: "+err.Error())
		return
	}
	var body []byte
	switch u.Scheme {
	case "file":
		p := filepath.Clean(u.Path)
		root, _ := filepath.Abs(s.snapDir)
		if rel, err := filepath.Rel(root, p); err != nil || rel == ".." || strings.HasPrefix(rel, "../") || !filepath.IsAbs(p) {
			c.fail(http.StatusBadRequest, "Wrong input: Snapshot file "+p+" must be inside the snapshots directory "+root)
			return
		}
		body, err = os.ReadFile(p)
		if err != nil {
			c.fail(http.StatusNotFound, "Not found: Snapshot file "+p+" does not exist")
			return
		}
	case "http", "https":
		if body, err = download(req.Location); err != nil {
			c.fail(http.StatusBadRequest, "Wrong input: "+err.Error())
			return
		}
	default:
		c.fail(http.StatusBadRequest, "Wrong input: location scheme must be file, http or https")
		return
	}
	s.restoreBody(c, c.r.PathValue("name"), body, req.Checksum)
}
