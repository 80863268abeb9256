package supabase_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

const (
	token = "sbp_test_token_0123456789"
	ref   = "abcdefghijklmnopqrst"
	org   = "acme"
)

type env struct {
	t   *testing.T
	url string
	srv *supabase.Server
}

func start(t *testing.T, opts supabase.Options) *env {
	t.Helper()
	if opts.AccessToken == "" {
		opts.AccessToken = token
	}
	if opts.ProjectRef == "" {
		opts.ProjectRef = ref
	}
	if opts.OrgSlug == "" {
		opts.OrgSlug = org
	}
	// Tests of other behaviours see a replica at once and see it gone at once; the delays have their own tests.
	if opts.ListDelay == 0 {
		opts.ListDelay = -1
	}
	if opts.RemoveAfter == 0 {
		opts.RemoveAfter = -1
	}
	s, err := supabase.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); _ = s.Close() })
	return &env{t: t, url: hs.URL, srv: s}
}

// do sends a request with the token (when auth is true) and returns the status, headers and body.
func (e *env) do(method, path string, body any, auth bool) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

type database struct {
	Identifier    string `json:"identifier"`
	Type          string `json:"type"`
	Region        string `json:"region"`
	Status        string `json:"status"`
	CloudProvider string `json:"cloud_provider"`
}

type orgProjects struct {
	Projects []struct {
		Ref           string     `json:"ref"`
		Name          string     `json:"name"`
		CloudProvider string     `json:"cloud_provider"`
		Region        string     `json:"region"`
		IsBranch      *bool      `json:"is_branch"`
		Status        string     `json:"status"`
		InsertedAt    string     `json:"inserted_at"`
		Databases     []database `json:"databases"`
	} `json:"projects"`
	Pagination *struct {
		Count  int `json:"count"`
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	} `json:"pagination"`
}

func (e *env) replicas() []database {
	e.t.Helper()
	code, _, b := e.do("GET", "/v1/organizations/"+org+"/projects", nil, true)
	if code != 200 {
		e.t.Fatalf("list org projects: %d %s", code, b)
	}
	var out orgProjects
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatal(err)
	}
	var rs []database
	for _, p := range out.Projects {
		if p.Ref != ref {
			continue
		}
		for _, d := range p.Databases {
			if d.Type == "READ_REPLICA" {
				rs = append(rs, d)
			}
		}
	}
	return rs
}

func (e *env) setup(region string) (int, []byte) {
	e.t.Helper()
	code, _, b := e.do("POST", "/v1/projects/"+ref+"/read-replicas/setup", map[string]string{"read_replica_region": region}, true)
	return code, b
}

func message(t *testing.T, b []byte) string {
	t.Helper()
	var m struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Message == "" {
		t.Fatalf("body %q is not a JSON {\"message\": ...}", b)
	}
	return m.Message
}

func TestBearerAuthRequired(t *testing.T) {
	e := start(t, supabase.Options{})
	code, _, b := e.do("GET", "/v1/projects", nil, false)
	if code != http.StatusUnauthorized {
		t.Fatalf("no token: got %d, want 401", code)
	}
	message(t, b)

	req, _ := http.NewRequest("GET", e.url+"/v1/projects/"+ref, nil)
	req.Header.Set("Authorization", "Bearer sbp_wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: got %d, want 401", resp.StatusCode)
	}
	message(t, wb)

	code, _, _ = e.do("GET", "/v1/projects", nil, true)
	if code != 200 {
		t.Fatalf("right token: got %d", code)
	}
}

func TestProjectsListAndGet(t *testing.T) {
	e := start(t, supabase.Options{})
	code, _, b := e.do("GET", "/v1/projects", nil, true)
	if code != 200 {
		t.Fatalf("list: %d %s", code, b)
	}
	var list []struct {
		Ref              string `json:"ref"`
		OrganizationSlug string `json:"organization_slug"`
		Status           string `json:"status"`
		Database         struct {
			Host string `json:"host"`
		} `json:"database"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Ref != ref || list[0].OrganizationSlug != org || list[0].Status != "ACTIVE_HEALTHY" || list[0].Database.Host == "" {
		t.Fatalf("projects = %+v", list)
	}
	code, _, b = e.do("GET", "/v1/projects/"+ref, nil, true)
	if code != 200 || !strings.Contains(string(b), `"ref":"`+ref+`"`) {
		t.Fatalf("get: %d %s", code, b)
	}
}

func TestUnknownProjectIs404(t *testing.T) {
	e := start(t, supabase.Options{})
	other := "zzzzzzzzzzzzzzzzzzzz"
	code, _, b := e.do("GET", "/v1/projects/"+other, nil, true)
	if code != http.StatusNotFound {
		t.Fatalf("get: %d", code)
	}
	message(t, b)
	code, _, _ = e.do("POST", "/v1/projects/"+other+"/read-replicas/setup", map[string]string{"read_replica_region": "us-east-1"}, true)
	if code != http.StatusNotFound {
		t.Fatalf("setup on unknown project: %d", code)
	}
	code, _, _ = e.do("POST", "/v1/projects/"+other+"/read-replicas/remove", map[string]string{"database_identifier": "x"}, true)
	if code != http.StatusNotFound {
		t.Fatalf("remove on unknown project: %d", code)
	}
	code, _, _ = e.do("GET", "/v1/organizations/nope/projects", nil, true)
	if code != http.StatusNotFound {
		t.Fatalf("unknown organization: %d", code)
	}
}

func TestSetupReturns201WithEmptyBody(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Hour})
	code, b := e.setup("eu-west-2")
	if code != http.StatusCreated {
		t.Fatalf("setup: %d %s", code, b)
	}
	if len(b) != 0 {
		t.Fatalf("setup body = %q, want empty", b)
	}
	rs := e.replicas()
	if len(rs) != 1 || rs[0].Region != "eu-west-2" || rs[0].Status != "INIT_READ_REPLICA" {
		t.Fatalf("replicas = %+v", rs)
	}
}

func TestReplicaStatusMovesToActiveHealthy(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: 400 * time.Millisecond})
	if code, b := e.setup("us-west-1"); code != 201 {
		t.Fatalf("setup: %d %s", code, b)
	}
	if rs := e.replicas(); len(rs) != 1 || rs[0].Status != "INIT_READ_REPLICA" {
		t.Fatalf("right after setup: %+v", rs)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rs := e.replicas()
		if rs[0].Status == "ACTIVE_HEALTHY" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica still %s", rs[0].Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestFailRegionEndsInInitReadReplicaFailed(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: 200 * time.Millisecond, FailRegions: []string{"sa-east-1"}})
	if code, b := e.setup("sa-east-1"); code != 201 {
		t.Fatalf("setup: %d %s", code, b)
	}
	if rs := e.replicas(); rs[0].Status != "INIT_READ_REPLICA" {
		t.Fatalf("before the delay: %s", rs[0].Status)
	}
	time.Sleep(300 * time.Millisecond)
	if rs := e.replicas(); rs[0].Status != "INIT_READ_REPLICA_FAILED" {
		t.Fatalf("after the delay: %s, want INIT_READ_REPLICA_FAILED", rs[0].Status)
	}
}

func TestOrganizationProjectsListingShape(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Hour})
	if code, b := e.setup("ap-south-1"); code != 201 {
		t.Fatalf("setup: %d %s", code, b)
	}
	code, _, b := e.do("GET", "/v1/organizations/"+org+"/projects", nil, true)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	var out orgProjects
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Pagination == nil || out.Pagination.Count != 1 || out.Pagination.Offset != 0 || out.Pagination.Limit < 1 {
		t.Fatalf("pagination = %+v", out.Pagination)
	}
	p := out.Projects[0]
	if p.Ref != ref || p.Name == "" || p.CloudProvider == "" || p.Region == "" || p.IsBranch == nil || p.Status == "" || p.InsertedAt == "" {
		t.Fatalf("project = %+v", p)
	}
	if len(p.Databases) != 2 {
		t.Fatalf("databases = %+v", p.Databases)
	}
	prim, rr := p.Databases[0], p.Databases[1]
	if prim.Type != "PRIMARY" || prim.Identifier != ref || prim.Status != "ACTIVE_HEALTHY" {
		t.Fatalf("primary = %+v", prim)
	}
	if rr.Type != "READ_REPLICA" || rr.Region != "ap-south-1" || rr.CloudProvider == "" || !strings.HasPrefix(rr.Identifier, ref+"-rr-ap-south-1-") {
		t.Fatalf("replica = %+v", rr)
	}
	// The pooler configuration carries each database's host and port.
	code, _, b = e.do("GET", "/v1/projects/"+ref+"/config/database/pooler", nil, true)
	if code != 200 {
		t.Fatalf("pooler: %d %s", code, b)
	}
	var pool []struct {
		Identifier   string `json:"identifier"`
		DatabaseType string `json:"database_type"`
		DBHost       string `json:"db_host"`
		DBPort       int    `json:"db_port"`
	}
	if err := json.Unmarshal(b, &pool); err != nil {
		t.Fatal(err)
	}
	if len(pool) != 2 || pool[1].Identifier != rr.Identifier || pool[1].DatabaseType != "READ_REPLICA" || pool[1].DBHost == "" || pool[1].DBPort != 5432 {
		t.Fatalf("pooler = %+v", pool)
	}
	// limit is validated (1..100).
	if code, _, _ := e.do("GET", "/v1/organizations/"+org+"/projects?limit=0", nil, true); code != 400 {
		t.Fatalf("limit=0: %d", code)
	}
}

func TestReplicaLimit(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Hour})
	for _, r := range []string{"us-east-1", "eu-central-1"} {
		if code, b := e.setup(r); code != 201 {
			t.Fatalf("setup %s: %d %s", r, code, b)
		}
	}
	code, b := e.setup("us-east-2")
	if code < 400 || code > 499 {
		t.Fatalf("third replica: %d, want 4xx", code)
	}
	if msg := message(t, b); !strings.Contains(msg, "2") {
		t.Fatalf("message %q does not say the limit", msg)
	}
	if n := len(e.replicas()); n != 2 {
		t.Fatalf("%d replicas after refused setup", n)
	}
}

func TestRemoveReplica(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Hour})
	e.setup("us-east-1")
	e.setup("eu-west-1")
	rs := e.replicas()
	code, _, b := e.do("POST", "/v1/projects/"+ref+"/read-replicas/remove", map[string]string{"database_identifier": rs[0].Identifier}, true)
	if code != http.StatusCreated || len(b) != 0 {
		t.Fatalf("remove: %d %q", code, b)
	}
	left := e.replicas()
	if len(left) != 1 || left[0].Identifier != rs[1].Identifier {
		t.Fatalf("after remove: %+v", left)
	}
	code, _, b = e.do("POST", "/v1/projects/"+ref+"/read-replicas/remove", map[string]string{"database_identifier": rs[0].Identifier}, true)
	if code != http.StatusNotFound {
		t.Fatalf("remove again: %d", code)
	}
	message(t, b)
	// A freed slot can be used again.
	if code, b := e.setup("us-west-2"); code != 201 {
		t.Fatalf("setup after remove: %d %s", code, b)
	}
}

func TestRegionValidated(t *testing.T) {
	e := start(t, supabase.Options{})
	for _, bad := range []string{"mars-north-1", "", "US-EAST-1", "europe-west1"} {
		code, b := e.setup(bad)
		if code != http.StatusBadRequest {
			t.Fatalf("region %q: %d", bad, code)
		}
		if msg := message(t, b); !strings.Contains(msg, "us-east-1") {
			t.Fatalf("message %q does not list the allowed regions", msg)
		}
	}
	code, _, _ := e.do("POST", "/v1/projects/"+ref+"/read-replicas/setup", map[string]string{"region": "us-east-1"}, true)
	if code != http.StatusBadRequest {
		t.Fatalf("missing read_replica_region: %d", code)
	}
	if len(e.replicas()) != 0 {
		t.Fatal("a refused setup created a replica")
	}
}

func TestRateLimit429WithHeaders(t *testing.T) {
	e := start(t, supabase.Options{}) // documented default: 120 per minute per user and scope
	var h http.Header
	for i := 1; i <= 120; i++ {
		var code int
		code, h, _ = e.do("GET", "/v1/projects/"+ref, nil, true)
		if code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
		if got := h.Get("X-RateLimit-Remaining"); got != strconv.Itoa(120-i) {
			t.Fatalf("request %d: X-RateLimit-Remaining = %q", i, got)
		}
	}
	if h.Get("X-RateLimit-Limit") != "120" {
		t.Fatalf("X-RateLimit-Limit = %q", h.Get("X-RateLimit-Limit"))
	}
	code, h, b := e.do("GET", "/v1/projects/"+ref, nil, true)
	if code != http.StatusTooManyRequests {
		t.Fatalf("request 121: %d", code)
	}
	message(t, b)
	reset, err := strconv.Atoi(h.Get("X-RateLimit-Reset"))
	if err != nil || reset < 1 || reset > 60 {
		t.Fatalf("X-RateLimit-Reset = %q, want seconds until the window ends", h.Get("X-RateLimit-Reset"))
	}
	if h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Limit") != "120" {
		t.Fatalf("429 headers: %v", h)
	}
	// "Per user, per project or organization, per endpoint": another endpoint of the same project has its
	// own count, and so has another scope (the organization).
	if code, b := e.setup("us-east-1"); code != http.StatusCreated {
		t.Fatalf("other endpoint, same project: %d %s", code, b)
	}
	if code, _, _ := e.do("GET", "/v1/organizations/"+org+"/projects", nil, true); code != 200 {
		t.Fatalf("organization scope: %d", code)
	}
}

func TestRateLimitWindowResets(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := start(t, supabase.Options{RateLimit: 3, Now: clock})
	for i := 0; i < 3; i++ {
		if code, _, _ := e.do("GET", "/v1/projects", nil, true); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	now = now.Add(20 * time.Second)
	code, h, _ := e.do("GET", "/v1/projects", nil, true)
	if code != 429 || h.Get("X-RateLimit-Reset") != "40" {
		t.Fatalf("4th: %d reset=%q", code, h.Get("X-RateLimit-Reset"))
	}
	now = now.Add(41 * time.Second)
	if code, _, _ := e.do("GET", "/v1/projects", nil, true); code != 200 {
		t.Fatalf("after the window: %d", code)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := start(t, supabase.Options{Dir: dir, ReplicaReadyAfter: 300 * time.Millisecond})
	e.setup("eu-north-1")
	before := e.replicas()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := start(t, supabase.Options{Dir: dir, ReplicaReadyAfter: 300 * time.Millisecond})
	after := e2.replicas()
	if len(after) != 1 || after[0].Identifier != before[0].Identifier || after[0].Region != "eu-north-1" {
		t.Fatalf("after restart: %+v (before %+v)", after, before)
	}
	time.Sleep(400 * time.Millisecond)
	if st := e2.replicas()[0].Status; st != "ACTIVE_HEALTHY" {
		t.Fatalf("status after restart and delay: %s", st)
	}
}

// Requests without a project or organization count against the user, per endpoint: exhausting
// GET /v1/projects leaves GET /v1/organizations untouched.
func TestRateLimitPerEndpointInUserScope(t *testing.T) {
	e := start(t, supabase.Options{RateLimit: 2})
	for i := 0; i < 2; i++ {
		if code, _, _ := e.do("GET", "/v1/projects", nil, true); code != 200 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	if code, _, _ := e.do("GET", "/v1/projects", nil, true); code != http.StatusTooManyRequests {
		t.Fatalf("3rd GET /v1/projects: %d", code)
	}
	if code, _, _ := e.do("GET", "/v1/organizations", nil, true); code != 200 {
		t.Fatalf("GET /v1/organizations has its own limit: %d", code)
	}
}

// The organization listing's search, statuses and sort parameters.
func TestOrganizationProjectsSearchStatusesSort(t *testing.T) {
	e := start(t, supabase.Options{})
	count := func(query string) int {
		t.Helper()
		code, _, b := e.do("GET", "/v1/organizations/"+org+"/projects"+query, nil, true)
		if code != 200 {
			t.Fatalf("%s: %d %s", query, code, b)
		}
		var out orgProjects
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if out.Pagination.Count != len(out.Projects) {
			t.Fatalf("%s: count %d for %d projects", query, out.Pagination.Count, len(out.Projects))
		}
		return len(out.Projects)
	}
	if n := count("?search=SANDBOX"); n != 1 {
		t.Fatalf("search by name (any case): %d", n)
	}
	if n := count("?search=nothing-like-it"); n != 0 {
		t.Fatalf("search without a match: %d", n)
	}
	if n := count("?statuses=INACTIVE"); n != 0 {
		t.Fatalf("statuses=INACTIVE: %d", n)
	}
	if n := count("?statuses=ACTIVE_HEALTHY,INACTIVE&sort=created_desc"); n != 1 {
		t.Fatalf("statuses=ACTIVE_HEALTHY,INACTIVE: %d", n)
	}
	if code, _, _ := e.do("GET", "/v1/organizations/"+org+"/projects?sort=sideways", nil, true); code != 400 {
		t.Fatalf("unknown sort: %d", code)
	}
}

func TestNewReplicaIsListedOnlyAfterADelay(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Hour, ListDelay: 300 * time.Millisecond})
	if code, b := e.setup("eu-west-1"); code != 201 {
		t.Fatalf("setup: %d %s", code, b)
	}
	if rs := e.replicas(); len(rs) != 0 {
		t.Fatalf("listed right after setup: %+v", rs)
	}
	time.Sleep(400 * time.Millisecond)
	if rs := e.replicas(); len(rs) != 1 || rs[0].Status != "INIT_READ_REPLICA" {
		t.Fatalf("after the delay: %+v", rs)
	}
}

func TestRemovalPassesThroughGoingDown(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Millisecond, RemoveAfter: 300 * time.Millisecond})
	e.setup("us-east-1")
	id := e.replicas()[0].Identifier
	code, _, b := e.do("POST", "/v1/projects/"+ref+"/read-replicas/remove", map[string]string{"database_identifier": id}, true)
	if code != 201 {
		t.Fatalf("remove: %d %s", code, b)
	}
	if rs := e.replicas(); len(rs) != 1 || rs[0].Status != "GOING_DOWN" {
		t.Fatalf("right after remove: %+v", rs)
	}
	// Removing it again while it goes down is refused; it still counts against the limit.
	code, _, b = e.do("POST", "/v1/projects/"+ref+"/read-replicas/remove", map[string]string{"database_identifier": id}, true)
	if code != 400 || !strings.Contains(message(t, b), "already being removed") {
		t.Fatalf("second remove: %d %s", code, b)
	}
	time.Sleep(400 * time.Millisecond)
	if rs := e.replicas(); len(rs) != 0 {
		t.Fatalf("after going down: %+v", rs)
	}
}

func TestSetReplicaStatusShowsEveryDocumentedStatus(t *testing.T) {
	e := start(t, supabase.Options{ReplicaReadyAfter: time.Millisecond})
	e.setup("us-east-1")
	time.Sleep(5 * time.Millisecond)
	id := e.replicas()[0].Identifier
	for _, st := range []string{"ACTIVE_UNHEALTHY", "RESTARTING", "RESIZING", "COMING_UP", "UNKNOWN"} {
		if err := e.srv.SetReplicaStatus(id, st); err != nil {
			t.Fatal(err)
		}
		if got := e.replicas()[0].Status; got != st {
			t.Fatalf("status = %s, want %s", got, st)
		}
	}
	if err := e.srv.SetReplicaStatus(id, "BROKEN"); err == nil {
		t.Fatal("an undocumented status was accepted")
	}
}

func TestSetupRefusedWhenPrerequisitesAreNotMet(t *testing.T) {
	e := start(t, supabase.Options{})
	const free = "freeplanprojectxxxxx"
	if err := e.srv.AddProject(free, "hobby", "free"); err != nil {
		t.Fatal(err)
	}
	code, _, b := e.do("POST", "/v1/projects/"+free+"/read-replicas/setup", map[string]string{"read_replica_region": "us-east-1"}, true)
	if code != 400 || !strings.Contains(message(t, b), "Pro plan") {
		t.Fatalf("setup on a free project: %d %s", code, b)
	}
}

func TestSSLEnforcement(t *testing.T) {
	e := start(t, supabase.Options{})
	code, _, b := e.do("GET", "/v1/projects/"+ref+"/ssl-enforcement", nil, true)
	if code != 200 || !strings.Contains(string(b), `"database":false`) {
		t.Fatalf("get: %d %s", code, b)
	}
	code, _, b = e.do("PUT", "/v1/projects/"+ref+"/ssl-enforcement", map[string]any{"requestedConfig": map[string]bool{"database": true}}, true)
	if code != 200 || !strings.Contains(string(b), `"database":true`) || !strings.Contains(string(b), `"appliedSuccessfully":true`) {
		t.Fatalf("put: %d %s", code, b)
	}
	code, _, b = e.do("GET", "/v1/projects/"+ref+"/ssl-enforcement", nil, true)
	if code != 200 || !strings.Contains(string(b), `"database":true`) {
		t.Fatalf("get after put: %d %s", code, b)
	}
	code, _, _ = e.do("PUT", "/v1/projects/"+ref+"/ssl-enforcement", map[string]any{"requestedConfig": map[string]string{}}, true)
	if code != 400 {
		t.Fatalf("put without database: %d", code)
	}
}

func TestNetworkRestrictionsApply(t *testing.T) {
	e := start(t, supabase.Options{})
	type resp struct {
		Entitlement string `json:"entitlement"`
		Status      string `json:"status"`
		Config      struct {
			V4 []string `json:"dbAllowedCidrs"`
			V6 []string `json:"dbAllowedCidrsV6"`
		} `json:"config"`
	}
	get := func() resp {
		code, _, b := e.do("GET", "/v1/projects/"+ref+"/network-restrictions", nil, true)
		if code != 200 {
			t.Fatalf("get: %d %s", code, b)
		}
		var r resp
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := get(); r.Entitlement != "allowed" || strings.Join(r.Config.V4, ",") != "0.0.0.0/0" || strings.Join(r.Config.V6, ",") != "::/0" {
		t.Fatalf("defaults: %+v", r)
	}
	code, _, b := e.do("POST", "/v1/projects/"+ref+"/network-restrictions/apply",
		map[string]any{"dbAllowedCidrs": []string{"10.0.0.0/8", "192.0.2.1/32"}, "dbAllowedCidrsV6": []string{}}, true)
	if code != 201 {
		t.Fatalf("apply: %d %s", code, b)
	}
	if r := get(); strings.Join(r.Config.V4, ",") != "10.0.0.0/8,192.0.2.1/32" || len(r.Config.V6) != 0 || r.Status != "applied" {
		t.Fatalf("after apply: %+v", r)
	}
	for _, bad := range []map[string]any{
		{"dbAllowedCidrs": []string{"10.0.0.0/33"}},
		{"dbAllowedCidrs": []string{"2001:db8::/32"}},
		{"dbAllowedCidrsV6": []string{"10.0.0.0/8"}},
		{"dbAllowedCidrs": []string{"not-a-cidr"}},
	} {
		code, _, b := e.do("POST", "/v1/projects/"+ref+"/network-restrictions/apply", bad, true)
		if code != 400 {
			t.Fatalf("apply %v: %d %s", bad, code, b)
		}
		message(t, b)
	}
	if r := get(); strings.Join(r.Config.V4, ",") != "10.0.0.0/8,192.0.2.1/32" {
		t.Fatalf("a refused apply changed the config: %+v", r)
	}
}
