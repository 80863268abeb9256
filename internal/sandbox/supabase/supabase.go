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
	"net/netip"
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
	StatusActiveUnhealthy       = "ACTIVE_UNHEALTHY"
	StatusComingUp              = "COMING_UP"
	StatusGoingDown             = "GOING_DOWN"
	StatusInitFailed            = "INIT_FAILED"
	StatusRemoved               = "REMOVED"
	StatusRestoring             = "RESTORING"
	StatusUnknown               = "UNKNOWN"
	StatusRestarting            = "RESTARTING"
	StatusResizing              = "RESIZING"
)

// Statuses is the documented enum of a database's status (OrganizationProjectsResponse
// .projects[].databases[].status in the Management API's OpenAPI document).
var Statuses = []string{
	StatusActiveHealthy, StatusActiveUnhealthy, StatusComingUp, StatusGoingDown, StatusInitFailed, StatusRemoved,
	StatusRestoring, StatusUnknown, StatusInitReadReplica, StatusInitReadReplicaFailed, StatusRestarting, StatusResizing,
}

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
	// ListDelay is how long a new replica stays out of the listings after its setup was accepted
	// (default 300ms; negative: listed at once).
	ListDelay time.Duration
	// RemoveAfter is how long a removed replica stays listed as GOING_DOWN before it is gone (default 1s;
	// negative: gone at once).
	RemoveAfter time.Duration
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
	// Plan is the organization's plan ("pro" when empty); read replicas need Pro or above.
	Plan string `json:"plan,omitempty"`
	// SSLEnforced is the database's SSL enforcement (off for a new project).
	SSLEnforced bool `json:"ssl_enforced"`
	// AllowedCIDRs and AllowedCIDRsV6 are the network restrictions (nil: the defaults, which allow all).
	AllowedCIDRs    []string  `json:"allowed_cidrs,omitempty"`
	AllowedCIDRsV6  []string  `json:"allowed_cidrs_v6,omitempty"`
	RestrictionsSet bool      `json:"restrictions_set"`
	RestrictionsAt  time.Time `json:"restrictions_at"`
}

type replica struct {
	Identifier string    `json:"identifier"`
	Region     string    `json:"region"`
	CreatedAt  time.Time `json:"created_at"`
	Fails      bool      `json:"fails"`
	// RemovedAt is when its removal was accepted (zero: not removed).
	RemovedAt time.Time `json:"removed_at"`
	// Override is a status set through SetReplicaStatus (sandbox convention), shown while the replica is
	// up (not INIT, not going down).
	Override string `json:"override,omitempty"`
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
	if opts.ListDelay == 0 {
		opts.ListDelay = 300 * time.Millisecond
	}
	opts.ListDelay = max(opts.ListDelay, 0)
	if opts.RemoveAfter == 0 {
		opts.RemoveAfter = time.Second
	}
	opts.RemoveAfter = max(opts.RemoveAfter, 0)
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

// SetReplicaStatus makes a replica report status (one of Statuses) once it is up, as a real database can
// go ACTIVE_UNHEALTHY, RESTARTING or RESIZING (a sandbox convention; "" returns to the normal progression).
func (s *Server) SetReplicaStatus(identifier, status string) error {
	if status != "" && !slices.Contains(Statuses, status) {
		return fmt.Errorf("%q is not a database status; one of %s", status, strings.Join(Statuses, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.Projects {
		for _, rp := range p.Replicas {
			if rp.Identifier == identifier {
				rp.Override = status
				return s.store.Save(&s.st)
			}
		}
	}
	return fmt.Errorf("no replica %q", identifier)
}

// AddProject seeds another project in the seeded organization; plan "free" has none of the read replica
// prerequisites (a sandbox convention, for tests of refused setups).
func (s *Server) AddProject(ref, name, plan string) error {
	if !refPattern.MatchString(ref) {
		return fmt.Errorf("project ref %q must be 20 lowercase letters", ref)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.project(ref) != nil {
		return fmt.Errorf("project %q exists", ref)
	}
	s.st.Projects = append(s.st.Projects, &project{Ref: ref, Name: name, OrgSlug: s.opts.OrgSlug, Region: DefaultRegion,
		CreatedAt: s.opts.Now().UTC().Truncate(time.Second), Plan: plan})
	return s.store.Save(&s.st)
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
	s.route(mux, "GET /v1/projects/{ref}/ssl-enforcement", "ref", s.getSSL)
	s.route(mux, "PUT /v1/projects/{ref}/ssl-enforcement", "ref", s.putSSL)
	s.route(mux, "GET /v1/projects/{ref}/network-restrictions", "ref", s.getRestrictions)
	s.route(mux, "POST /v1/projects/{ref}/network-restrictions/apply", "ref", s.applyRestrictions)
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
	if !rp.RemovedAt.IsZero() {
		if now.Sub(rp.RemovedAt) < s.opts.RemoveAfter {
			return StatusGoingDown
		}
		return StatusRemoved
	}
	if now.Sub(rp.CreatedAt) < s.opts.ReplicaReadyAfter {
		return StatusInitReadReplica
	}
	if rp.Fails {
		return StatusInitReadReplicaFailed
	}
	if rp.Override != "" {
		return rp.Override
	}
	return StatusActiveHealthy
}

// listed reports whether rp shows in listings at now: not before ListDelay has passed since its setup,
// and no longer once its removal has finished.
func (s *Server) listed(rp *replica, now time.Time) bool {
	return now.Sub(rp.CreatedAt) >= s.opts.ListDelay && s.status(rp, now) != StatusRemoved
}

// live is the project's replicas that count against its limit: every one not yet removed for good.
func (s *Server) live(p *project, now time.Time) []*replica {
	var out []*replica
	for _, rp := range p.Replicas {
		if s.status(rp, now) != StatusRemoved {
			out = append(out, rp)
		}
	}
	return out
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

// lockBody decodes the request's JSON body into body (400 if it is not one), then takes s.mu and finds
// the project named by the path (400/404 as lookup). On success s.mu is held and the caller unlocks it;
// on failure the answer is written and s.mu is not held.
func (s *Server) lockBody(w http.ResponseWriter, r *http.Request, body any) *project {
	if err := decodeBody(r, body); err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return nil
	}
	s.mu.Lock()
	p := s.lookup(w, r)
	if p == nil {
		s.mu.Unlock()
	}
	return p
}

// saved writes the state (under s.mu); when it cannot, it answers 500 and returns false.
func (s *Server) saved(w http.ResponseWriter) bool {
	if err := s.store.Save(&s.st); err != nil {
		writeMessage(w, http.StatusInternalServerError, "sandbox: cannot save state: "+err.Error())
		return false
	}
	return true
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
			if s.listed(rp, now) {
				dbs = append(dbs, database(rp.Identifier, "READ_REPLICA", rp.Region, s.status(rp, now)))
			}
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
	p := s.lockBody(w, r, &body)
	if p == nil {
		return
	}
	defer s.mu.Unlock()
	if body.Region == nil {
		writeMessage(w, http.StatusBadRequest, "read_replica_region is required; one of: "+strings.Join(Regions, ", "))
		return
	}
	region := *body.Region
	if !slices.Contains(Regions, region) {
		writeMessage(w, http.StatusBadRequest, "read_replica_region must be one of the following values: "+strings.Join(Regions, ", "))
		return
	}
	if p.Plan == "free" {
		writeMessage(w, http.StatusBadRequest, "Read replicas are only available to projects on the Pro plan and above, "+
			"on a Small compute add-on or larger, running Postgres 15 or later with physical backups enabled")
		return
	}
	now := s.opts.Now()
	if n := len(s.live(p, now)); n >= s.opts.MaxReplicas {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf(
			"Project %s already has %d read replicas, the most its compute size allows (%d); remove one or upgrade the compute add-on (XL or larger allows 5)",
			p.Ref, n, s.opts.MaxReplicas))
		return
	}
	p.Replicas = append(p.Replicas, &replica{
		Identifier: p.Ref + "-rr-" + region + "-" + randomSuffix(5),
		Region:     region,
		CreatedAt:  now,
		Fails:      slices.Contains(s.opts.FailRegions, region),
	})
	if !s.saved(w) {
		p.Replicas = p.Replicas[:len(p.Replicas)-1]
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) removeReplica(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Identifier string `json:"database_identifier"`
	}
	p := s.lockBody(w, r, &body)
	if p == nil {
		return
	}
	defer s.mu.Unlock()
	if body.Identifier == "" {
		writeMessage(w, http.StatusBadRequest, "database_identifier is required")
		return
	}
	now := s.opts.Now()
	i := slices.IndexFunc(p.Replicas, func(rp *replica) bool {
		return rp.Identifier == body.Identifier && s.status(rp, now) != StatusRemoved
	})
	if i < 0 {
		if body.Identifier == p.Ref {
			writeMessage(w, http.StatusBadRequest, "Cannot remove the primary database of project "+p.Ref)
			return
		}
		writeMessage(w, http.StatusNotFound, "Read replica not found: "+body.Identifier)
		return
	}
	rp := p.Replicas[i]
	if !rp.RemovedAt.IsZero() {
		writeMessage(w, http.StatusBadRequest, "Read replica "+rp.Identifier+" is already being removed")
		return
	}
	rp.RemovedAt = now
	// Replicas whose removal has finished are forgotten.
	p.Replicas = slices.DeleteFunc(p.Replicas, func(x *replica) bool { return s.status(x, now) == StatusRemoved })
	if !s.saved(w) {
		rp.RemovedAt = time.Time{}
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
	now := s.opts.Now()
	for _, rp := range p.Replicas {
		if s.listed(rp, now) {
			out = append(out, s.pooler(rp.Identifier, "READ_REPLICA"))
		}
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

// SslEnforcementResponse.
func sslJSON(p *project) map[string]any {
	return map[string]any{"currentConfig": map[string]bool{"database": p.SSLEnforced}, "appliedSuccessfully": true}
}

func (s *Server) getSSL(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.lookup(w, r); p != nil {
		kit.WriteJSON(w, http.StatusOK, sslJSON(p))
	}
}

// PUT /v1/projects/{ref}/ssl-enforcement with SslEnforcementRequest {"requestedConfig": {"database": bool}}.
func (s *Server) putSSL(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Requested *struct {
			Database *bool `json:"database"`
		} `json:"requestedConfig"`
	}
	p := s.lockBody(w, r, &body)
	if p == nil {
		return
	}
	defer s.mu.Unlock()
	if body.Requested == nil || body.Requested.Database == nil {
		writeMessage(w, http.StatusBadRequest, "requestedConfig.database must be a boolean value")
		return
	}
	p.SSLEnforced = *body.Requested.Database
	if !s.saved(w) {
		return
	}
	kit.WriteJSON(w, http.StatusOK, sslJSON(p))
}

// Defaults of a project's network restrictions: every address allowed.
var (
	DefaultAllowedCIDRs   = []string{"0.0.0.0/0"}
	DefaultAllowedCIDRsV6 = []string{"::/0"}
)

// NetworkRestrictionsResponse.
func restrictionsJSON(p *project) map[string]any {
	v4, v6 := DefaultAllowedCIDRs, DefaultAllowedCIDRsV6
	if p.RestrictionsSet {
		v4, v6 = p.AllowedCIDRs, p.AllowedCIDRsV6
	}
	out := map[string]any{
		"entitlement": "allowed",
		"config":      map[string][]string{"dbAllowedCidrs": nonNil(v4), "dbAllowedCidrsV6": nonNil(v6)},
		"status":      "applied",
	}
	if p.RestrictionsSet {
		out["updated_at"] = p.RestrictionsAt.UTC().Format(time.RFC3339)
		out["applied_at"] = p.RestrictionsAt.UTC().Format(time.RFC3339)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) getRestrictions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.lookup(w, r); p != nil {
		kit.WriteJSON(w, http.StatusOK, restrictionsJSON(p))
	}
}

// checkCIDRs refuses anything that is not a CIDR of the list's address family.
func checkCIDRs(field string, cidrs []string, v6 bool) error {
	for _, c := range cidrs {
		pfx, err := netip.ParsePrefix(c)
		if err != nil || pfx.Addr().Is4() == v6 || pfx.Addr().Is4In6() {
			family := "IPv4"
			if v6 {
				family = "IPv6"
			}
			return fmt.Errorf("%s: %q is not a valid %s CIDR", field, c, family)
		}
	}
	return nil
}

// POST /v1/projects/{ref}/network-restrictions/apply with NetworkRestrictionsRequest: the lists replace the
// stored ones (a list left out is kept as it was).
func (s *Server) applyRestrictions(w http.ResponseWriter, r *http.Request) {
	var body struct {
		V4 *[]string `json:"dbAllowedCidrs"`
		V6 *[]string `json:"dbAllowedCidrsV6"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.V4 != nil {
		if err := checkCIDRs("dbAllowedCidrs", *body.V4, false); err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if body.V6 != nil {
		if err := checkCIDRs("dbAllowedCidrsV6", *body.V6, true); err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	if !p.RestrictionsSet {
		p.AllowedCIDRs, p.AllowedCIDRsV6 = slices.Clone(DefaultAllowedCIDRs), slices.Clone(DefaultAllowedCIDRsV6)
	}
	if body.V4 != nil {
		p.AllowedCIDRs = slices.Clone(*body.V4)
	}
	if body.V6 != nil {
		p.AllowedCIDRsV6 = slices.Clone(*body.V6)
	}
	p.RestrictionsSet = true
	p.RestrictionsAt = s.opts.Now()
	if !s.saved(w) {
		return
	}
	kit.WriteJSON(w, http.StatusCreated, restrictionsJSON(p))
}
