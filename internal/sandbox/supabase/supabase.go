// Package supabase emulates the part of Supabase's Management API (https://api.supabase.com/v1) that the
// provider uses: projects, organizations' project listings, read replicas and the Supavisor (pooler)
// configuration that carries each database's host and port. See FIDELITY.md for what follows which
// document and what is left out.
package supabase

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Defaults of the sandbox's seeded account.
const (
	DefaultAccessToken = "sbp_alfredsandbox0000000000000000000000000"
	DefaultOrgSlug     = "alfred-sandbox"
	DefaultProjectRef  = "alfredsandboxproject" // 20 lowercase letters, as the API requires
	DefaultRegion      = "us-east-1"
)

// Statuses of a database (OrganizationProjectsResponse.projects[].databases[].status).
const (
	StatusInitReadReplica       = "INIT_READ_REPLICA"
	StatusInitReadReplicaFailed = "INIT_READ_REPLICA_FAILED"
	StatusActiveHealthy         = "ACTIVE_HEALTHY"
)

// Regions accepted by POST /v1/projects/{ref}/read-replicas/setup (enum of
// SetUpReadReplicaBody.read_replica_region in the Management API's OpenAPI document).
var Regions = []string{
	"ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

var refPattern = regexp.MustCompile(`^[a-z]{20}$`)

// Options configure the emulator.
type Options struct {
	Dir string   // state directory; "" keeps state in memory only
	Kit *kit.Kit // shared faults and call counts; nil: a private kit without faults

	AccessToken string // the one valid personal access token (default DefaultAccessToken)
	OrgSlug     string // the seeded organization (default DefaultOrgSlug)
	ProjectRef  string // the seeded project, 20 lowercase letters (default DefaultProjectRef)

	// ReplicaReadyAfter is how long a new replica stays INIT_READ_REPLICA (default 2s).
	ReplicaReadyAfter time.Duration
	// MaxReplicas per project (default 2: Supabase allows two on compute smaller than XL, five from XL).
	MaxReplicas int
	// RateLimit is the number of requests a token may make per minute and per scope (project or
	// organization); default 120 as documented.
	RateLimit int
	// FailRegions: replicas set up in these regions end in INIT_READ_REPLICA_FAILED instead of
	// ACTIVE_HEALTHY (a sandbox convention: the real API gives no way to ask for a failure).
	FailRegions []string
	// DBHost and DBPort, when set, are reported as every database's host and port (so that the sandbox
	// can point at its local PostgreSQL); otherwise db.<identifier>.supabase.co:5432.
	DBHost string
	DBPort int

	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Server is the emulator.
type Server struct {
	opts  Options
	kit   *kit.Kit
	store *kit.Store

	mu     sync.Mutex
	st     state
	limits map[string]*window
}

type state struct {
	Organizations []organization `json:"organizations"`
	Projects      []*project     `json:"projects"`
}

type organization struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

type project struct {
	Ref       string     `json:"ref"`
	Name      string     `json:"name"`
	OrgSlug   string     `json:"org_slug"`
	Region    string     `json:"region"`
	CreatedAt time.Time  `json:"created_at"`
	Replicas  []*replica `json:"replicas"`
}

type replica struct {
	Identifier string    `json:"identifier"`
	Region     string    `json:"region"`
	CreatedAt  time.Time `json:"created_at"`
	Fails      bool      `json:"fails"`
}

type window struct {
	start time.Time
	count int
}

// New starts the emulator, loading any saved state and seeding the organization and project.
func New(opts Options) (*Server, error) {
	if opts.AccessToken == "" {
		opts.AccessToken = DefaultAccessToken
	}
	if opts.OrgSlug == "" {
		opts.OrgSlug = DefaultOrgSlug
	}
	if opts.ProjectRef == "" {
		opts.ProjectRef = DefaultProjectRef
	}
	if !refPattern.MatchString(opts.ProjectRef) {
		return nil, fmt.Errorf("supabase sandbox: project ref %q must be 20 lowercase letters", opts.ProjectRef)
	}
	if opts.ReplicaReadyAfter <= 0 {
		opts.ReplicaReadyAfter = 2 * time.Second
	}
	if opts.MaxReplicas <= 0 {
		opts.MaxReplicas = 2
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 120
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, r := range opts.FailRegions {
		if !slices.Contains(Regions, r) {
			return nil, fmt.Errorf("supabase sandbox: fail region %q is not a Supabase region", r)
		}
	}
	if opts.Kit == nil {
		opts.Kit = kit.New(0, 0, 1)
	}
	s := &Server{opts: opts, kit: opts.Kit, store: kit.NewStore(opts.Dir, "supabase.json"), limits: map[string]*window{}}
	if err := s.store.Load(&s.st); err != nil {
		return nil, fmt.Errorf("supabase sandbox: load state: %w", err)
	}
	if s.org(opts.OrgSlug) == nil {
		s.st.Organizations = append(s.st.Organizations, organization{Slug: opts.OrgSlug, Name: "Alfred sandbox"})
	}
	if s.project(opts.ProjectRef) == nil {
		s.st.Projects = append(s.st.Projects, &project{
			Ref: opts.ProjectRef, Name: "alfred-sandbox", OrgSlug: opts.OrgSlug, Region: DefaultRegion,
			CreatedAt: opts.Now().UTC().Truncate(time.Second),
		})
	}
	if err := s.store.Save(&s.st); err != nil {
		return nil, fmt.Errorf("supabase sandbox: save state: %w", err)
	}
	return s, nil
}

// Close flushes the state.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.Save(&s.st)
}

// SetFailRegions replaces Options.FailRegions for replicas set up from now on.
func (s *Server) SetFailRegions(regions []string) error {
	for _, r := range regions {
		if !slices.Contains(Regions, r) {
			return fmt.Errorf("%q is not a Supabase region", r)
		}
	}
	s.mu.Lock()
	s.opts.FailRegions = slices.Clone(regions)
	s.mu.Unlock()
	return nil
}

func (s *Server) org(slug string) *organization {
	for i := range s.st.Organizations {
		if s.st.Organizations[i].Slug == slug {
			return &s.st.Organizations[i]
		}
	}
	return nil
}

func (s *Server) project(ref string) *project {
	for _, p := range s.st.Projects {
		if p.Ref == ref {
			return p
		}
	}
	return nil
}

// Handler serves the Management API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.route(mux, "GET /v1/projects", "", s.listProjects)
	s.route(mux, "GET /v1/projects/{ref}", "ref", s.getProject)
	s.route(mux, "GET /v1/organizations", "", s.listOrganizations)
	s.route(mux, "GET /v1/organizations/{slug}/projects", "slug", s.listOrgProjects)
	s.route(mux, "POST /v1/projects/{ref}/read-replicas/setup", "ref", s.setupReplica)
	s.route(mux, "POST /v1/projects/{ref}/read-replicas/remove", "ref", s.removeReplica)
	s.route(mux, "GET /v1/projects/{ref}/config/database/pooler", "ref", s.poolerConfig)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
	})
	return s.kit.WrapMux(mux)
}

// route registers h behind bearer authentication and the per-user, per-scope rate limit. scopeParam
// names the path value (project ref or organization slug) that is the rate-limit scope.
func (s *Server) route(mux *http.ServeMux, pattern, scopeParam string, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || token != s.opts.AccessToken {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		// "per user, per project or organization, per endpoint": the user scope for routes without a
		// project or organization, and every endpoint (route pattern) has its own count.
		scope := "user"
		if scopeParam != "" {
			scope = scopeParam + ":" + r.PathValue(scopeParam)
		}
		if !s.allow(w, token+"|"+scope+"|"+pattern) {
			writeMessage(w, http.StatusTooManyRequests, "Too many requests: the Management API allows "+
				strconv.Itoa(s.opts.RateLimit)+" requests per minute per user, scope and endpoint; retry after X-RateLimit-Reset seconds")
			return
		}
		h(w, r)
	})
}

// allow counts one request in key's fixed one-minute window and sets the X-RateLimit-* headers
// (Reset: seconds remaining until the window ends).
func (s *Server) allow(w http.ResponseWriter, key string) bool {
	now := s.opts.Now()
	s.mu.Lock()
	win := s.limits[key]
	if win == nil || now.Sub(win.start) >= time.Minute {
		win = &window{start: now}
		s.limits[key] = win
	}
	win.count++
	count, start, limit := win.count, win.start, s.opts.RateLimit
	s.mu.Unlock()

	remaining := max(limit-count, 0)
	reset := int((start.Add(time.Minute).Sub(now) + time.Second - 1) / time.Second)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(reset))
	if count > limit {
		h.Set("Retry-After", strconv.Itoa(reset))
		return false
	}
	return true
}

func writeMessage(w http.ResponseWriter, code int, msg string) {
	kit.WriteJSON(w, code, map[string]string{"message": msg})
}

// status is the replica's status at now: INIT_READ_REPLICA until ReplicaReadyAfter has passed, then
// ACTIVE_HEALTHY (or INIT_READ_REPLICA_FAILED for a failing region). Computing it from the creation time
// keeps the progression right across restarts.
func (s *Server) status(rp *replica, now time.Time) string {
	if now.Sub(rp.CreatedAt) < s.opts.ReplicaReadyAfter {
		return StatusInitReadReplica
	}
	if rp.Fails {
		return StatusInitReadReplicaFailed
	}
	return StatusActiveHealthy
}

func (s *Server) host(identifier string) (string, int) {
	host, port := s.opts.DBHost, s.opts.DBPort
	if host == "" {
		host = "db." + identifier + ".supabase.co"
	}
	if port == 0 {
		port = 5432
	}
	return host, port
}

// V1ProjectWithDatabaseResponse.
func (s *Server) projectJSON(p *project) map[string]any {
	host, _ := s.host(p.Ref)
	return map[string]any{
		"id":                p.Ref,
		"ref":               p.Ref,
		"organization_id":   p.OrgSlug,
		"organization_slug": p.OrgSlug,
		"name":              p.Name,
		"region":            p.Region,
		"created_at":        p.CreatedAt.Format(time.RFC3339),
		"status":            StatusActiveHealthy,
		"database": map[string]any{
			"host":            host,
			"version":         "15.8.1.085",
			"postgres_engine": "15",
			"release_channel": "ga",
		},
	}
}

func (s *Server) listProjects(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, p := range s.st.Projects {
		out = append(out, s.projectJSON(p))
	}
	kit.WriteJSON(w, http.StatusOK, out)
}

// lookup finds the project named by the path, or answers 400/404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *project {
	ref := r.PathValue("ref")
	if !refPattern.MatchString(ref) {
		writeMessage(w, http.StatusBadRequest, "Invalid project ref "+strconv.Quote(ref)+": a project ref is 20 lowercase letters")
		return nil
	}
	p := s.project(ref)
	if p == nil {
		writeMessage(w, http.StatusNotFound, "Project not found: "+ref)
	}
	return p
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.lookup(w, r); p != nil {
		kit.WriteJSON(w, http.StatusOK, s.projectJSON(p))
	}
}

func (s *Server) listOrganizations(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, o := range s.st.Organizations {
		out = append(out, map[string]any{"id": o.Slug, "slug": o.Slug, "name": o.Name})
	}
	kit.WriteJSON(w, http.StatusOK, out)
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer between %d and %d", name, lo, hi)
	}
	return n, nil
}

// GET /v1/organizations/{slug}/projects: OrganizationProjectsResponse, with each project's databases
// (the primary and its read replicas).
func (s *Server) listOrgProjects(w http.ResponseWriter, r *http.Request) {
	offset, err := queryInt(r, "offset", 0, 0, 1<<31-1)
	if err == nil {
		var limit int
		limit, err = queryInt(r, "limit", 100, 1, 100)
		if err == nil {
			sortBy := r.URL.Query().Get("sort")
			if sortBy == "" {
				sortBy = "name_asc" // the documented default
			}
			if !slices.Contains([]string{"name_asc", "name_desc", "created_asc", "created_desc"}, sortBy) {
				writeMessage(w, http.StatusBadRequest, "sort must be one of the following values: name_asc, name_desc, created_asc, created_desc")
				return
			}
			s.writeOrgProjects(w, r, offset, limit, sortBy)
			return
		}
	}
	writeMessage(w, http.StatusBadRequest, err.Error())
}

// orgProjectMatches applies the listing's `search` ("Search projects by name"; the sandbox matches a
// case-insensitive substring) and `statuses` (comma-separated; ACTIVE_HEALTHY and INACTIVE are the
// documented values; sandbox projects are always ACTIVE_HEALTHY) parameters.
func orgProjectMatches(r *http.Request, p *project) bool {
	q := r.URL.Query()
	if search := q.Get("search"); search != "" && !strings.Contains(strings.ToLower(p.Name), strings.ToLower(search)) {
		return false
	}
	if statuses := q.Get("statuses"); statuses != "" {
		return slices.Contains(strings.Split(statuses, ","), StatusActiveHealthy)
	}
	return true
}

func (s *Server) writeOrgProjects(w http.ResponseWriter, r *http.Request, offset, limit int, sortBy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slug := r.PathValue("slug")
	if s.org(slug) == nil {
		writeMessage(w, http.StatusNotFound, "Organization not found: "+slug)
		return
	}
	now := s.opts.Now()
	var projects []*project
	for _, p := range s.st.Projects {
		if p.OrgSlug == slug && orgProjectMatches(r, p) {
			projects = append(projects, p)
		}
	}
	slices.SortStableFunc(projects, func(a, b *project) int {
		switch sortBy {
		case "name_desc":
			return strings.Compare(b.Name, a.Name)
		case "created_asc":
			return a.CreatedAt.Compare(b.CreatedAt)
		case "created_desc":
			return b.CreatedAt.Compare(a.CreatedAt)
		}
		return strings.Compare(a.Name, b.Name)
	})
	var all []map[string]any
	for _, p := range projects {
		dbs := []map[string]any{database(p.Ref, "PRIMARY", p.Region, StatusActiveHealthy)}
		for _, rp := range p.Replicas {
			dbs = append(dbs, database(rp.Identifier, "READ_REPLICA", rp.Region, s.status(rp, now)))
		}
		all = append(all, map[string]any{
			"ref":            p.Ref,
			"name":           p.Name,
			"cloud_provider": "AWS",
			"region":         p.Region,
			"is_branch":      false,
			"status":         StatusActiveHealthy,
			"inserted_at":    p.CreatedAt.Format(time.RFC3339),
			"databases":      dbs,
		})
	}
	page := []map[string]any{}
	if offset < len(all) {
		page = all[offset:min(offset+limit, len(all))]
	}
	kit.WriteJSON(w, http.StatusOK, map[string]any{
		"projects":   page,
		"pagination": map[string]int{"count": len(all), "limit": limit, "offset": offset},
	})
}

func database(identifier, typ, region, status string) map[string]any {
	return map[string]any{
		"identifier":          identifier,
		"type":                typ,
		"region":              region,
		"status":              status,
		"cloud_provider":      "AWS",
		"infra_compute_size":  "small",
		"disk_volume_size_gb": 8,
		"disk_type":           "gp3",
	}
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return errors.New("request body must be a JSON object: " + err.Error())
	}
	return nil
}

func (s *Server) setupReplica(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Region *string `json:"read_replica_region"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	if body.Region == nil {
		writeMessage(w, http.StatusBadRequest, "read_replica_region is required; one of: "+strings.Join(Regions, ", "))
		return
	}
	region := *body.Region
	if !slices.Contains(Regions, region) {
		writeMessage(w, http.StatusBadRequest, "read_replica_region must be one of the following values: "+strings.Join(Regions, ", "))
		return
	}
	if len(p.Replicas) >= s.opts.MaxReplicas {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf(
			"Project %s already has %d read replicas, the most its compute size allows (%d); remove one or upgrade the compute add-on (XL or larger allows 5)",
			p.Ref, len(p.Replicas), s.opts.MaxReplicas))
		return
	}
	p.Replicas = append(p.Replicas, &replica{
		Identifier: p.Ref + "-rr-" + region + "-" + randomSuffix(5),
		Region:     region,
		CreatedAt:  s.opts.Now(),
		Fails:      slices.Contains(s.opts.FailRegions, region),
	})
	if err := s.store.Save(&s.st); err != nil {
		p.Replicas = p.Replicas[:len(p.Replicas)-1]
		writeMessage(w, http.StatusInternalServerError, "sandbox: cannot save state: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) removeReplica(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Identifier string `json:"database_identifier"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	if body.Identifier == "" {
		writeMessage(w, http.StatusBadRequest, "database_identifier is required")
		return
	}
	i := slices.IndexFunc(p.Replicas, func(rp *replica) bool { return rp.Identifier == body.Identifier })
	if i < 0 {
		if body.Identifier == p.Ref {
			writeMessage(w, http.StatusBadRequest, "Cannot remove the primary database of project "+p.Ref)
			return
		}
		writeMessage(w, http.StatusNotFound, "Read replica not found: "+body.Identifier)
		return
	}
	removed := p.Replicas[i]
	p.Replicas = slices.Delete(p.Replicas, i, i+1)
	if err := s.store.Save(&s.st); err != nil {
		p.Replicas = slices.Insert(p.Replicas, i, removed)
		writeMessage(w, http.StatusInternalServerError, "sandbox: cannot save state: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// GET /v1/projects/{ref}/config/database/pooler: one SupavisorConfigResponse per database, which is
// where the Management API exposes each database's (including each replica's) host and port.
func (s *Server) poolerConfig(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	out := []map[string]any{s.pooler(p.Ref, "PRIMARY")}
	for _, rp := range p.Replicas {
		out = append(out, s.pooler(rp.Identifier, "READ_REPLICA"))
	}
	kit.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) pooler(identifier, typ string) map[string]any {
	host, port := s.host(identifier)
	user := "postgres." + identifier
	conn := fmt.Sprintf("postgresql://%s:[YOUR-PASSWORD]@%s:%d/postgres", user, host, port)
	return map[string]any{
		"identifier":          identifier,
		"database_type":       typ,
		"is_using_scram_auth": true,
		"db_user":             user,
		"db_host":             host,
		"db_port":             port,
		"db_name":             "postgres",
		"connection_string":   conn,
		"connectionString":    conn,
		"default_pool_size":   15,
		"max_client_conn":     200,
		"pool_mode":           "transaction",
	}
}

func randomSuffix(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
