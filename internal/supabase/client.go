// Package supabase manages Supabase projects' read replicas (alfred_supabase_read_replica) and network
// security (alfred_supabase_network_security) through the Supabase Management API.
package supabase

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Database statuses the provider acts on (the documented enum of a project's databases).
const (
	StatusActiveHealthy         = "ACTIVE_HEALTHY"
	StatusInitReadReplica       = "INIT_READ_REPLICA"
	StatusInitReadReplicaFailed = "INIT_READ_REPLICA_FAILED"
	StatusGoingDown             = "GOING_DOWN"
	StatusRemoved               = "REMOVED"
)

// Client is a small typed client of the Management API: bearer authentication, a User-Agent, and retries
// of reads (and of idempotent writes) on 408, 429 and 5xx with capped exponential backoff that waits at
// least what Retry-After or X-RateLimit-Reset ask. A replica setup or removal is never repeated blindly:
// after a lost reply the client looks at the listing to learn whether it took effect.
type Client struct {
	BaseURL   string
	token     string
	UserAgent string
	HTTP      *http.Client
	// Initial and Max bound the backoff between attempts; Attempts caps a retried call (0: until ctx ends).
	Initial, Max time.Duration
	Attempts     int
	// MaxWait caps one server-requested wait (Retry-After / X-RateLimit-Reset).
	MaxWait time.Duration
	// Settle is how long, after a setup whose reply was lost, the listing is watched for the new replica
	// before the setup is judged not to have happened and is sent again.
	Settle time.Duration
	// Poll is the interval between listings while waiting for a replica.
	Poll time.Duration
	// OrgSlug is the provider's organization_slug: used when a project does not say its organization.
	OrgSlug string

	mu      sync.Mutex
	orgs    map[string]string      // project ref -> organization slug
	setupMu map[string]*sync.Mutex // one replica setup at a time per project, so a new one is told apart
}

// NewClient builds a client of the Management API at baseURL.
func NewClient(baseURL, token, version string) *Client {
	return &Client{
		BaseURL:   strings.TrimRight(baseURL, "/"),
		token:     token,
		UserAgent: "terraform-provider-alfred/" + version,
		HTTP:      &http.Client{Timeout: 60 * time.Second},
		Initial:   250 * time.Millisecond,
		Max:       10 * time.Second,
		Attempts:  10,
		MaxWait:   90 * time.Second,
		Settle:    15 * time.Second,
		Poll:      time.Second,
		orgs:      map[string]string{},
		setupMu:   map[string]*sync.Mutex{},
	}
}

// APIError is an answer of the API other than 2xx, or no answer at all (Status 0).
type APIError struct {
	Method, Path string
	Status       int
	Message      string
	Wait         time.Duration // what Retry-After / X-RateLimit-Reset asked
	Err          error         // transport error when Status is 0
}

func (e *APIError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: no reply from the Supabase Management API: %v", e.Method, e.Path, e.Err)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = " The access token was refused: set the provider's supabase.access_token (or SUPABASE_ACCESS_TOKEN) to a valid personal access token."
	case http.StatusForbidden:
		hint = " The access token has no access to this project or action."
	case http.StatusTooManyRequests:
		hint = " The Management API's rate limit was reached and did not clear while retrying; try again later."
	}
	return fmt.Sprintf("%s %s: %d %s: %s.%s", e.Method, e.Path, e.Status, http.StatusText(e.Status), strings.TrimSuffix(msg, "."), hint)
}

// StatusOf returns the HTTP status of an *APIError (0 for none).
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// transient: no reply, 408, 429 or 5xx.
func transient(err error) bool {
	s := StatusOf(err)
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return s == 0 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500
}

// refusedBefore: the API refused the request before acting on it (rate limit, concurrent change), so a
// write can be sent again without checking.
func refusedBefore(err error) bool {
	s := StatusOf(err)
	return s == http.StatusTooManyRequests || s == http.StatusConflict
}

// once sends one request and decodes a JSON answer into out (when not nil).
func (c *Client) once(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	tflog.Debug(ctx, "Supabase Management API request", map[string]any{"method": method, "path": path})
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &APIError{Method: method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &APIError{Method: method, Path: path, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &APIError{Method: method, Path: path, Status: resp.StatusCode, Wait: serverWait(resp.Header)}
		var m struct {
			Message any `json:"message"`
		}
		if json.Unmarshal(data, &m) == nil && m.Message != nil {
			ae.Message = fmt.Sprint(m.Message)
		} else {
			ae.Message = strings.TrimSpace(string(data))
		}
		return ae
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: cannot read the answer: %w", method, path, err)
		}
	}
	return nil
}

// serverWait is the longer of Retry-After (seconds or an HTTP date) and X-RateLimit-Reset (seconds until
// the window resets, as the Management API documents it; a value that looks like a Unix time in seconds or
// milliseconds is read as one).
func serverWait(h http.Header) time.Duration {
	var d time.Duration
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			d = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = time.Until(t)
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			var r time.Duration
			switch {
			case n > 1e12: // Unix milliseconds
				r = time.Until(time.UnixMilli(n))
			case n > 1e9: // Unix seconds
				r = time.Until(time.Unix(n, 0))
			default:
				r = time.Duration(n) * time.Second
			}
			d = max(d, r)
		}
	}
	return max(d, 0)
}

// retry calls fn until it succeeds, fails with an error that retryable rejects, the attempts run out or
// ctx ends, waiting with jittered exponential backoff and at least what the server asked.
func (c *Client) retry(ctx context.Context, retryable func(error) bool, fn func() error) error {
	delay := c.Initial
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || (c.Attempts > 0 && attempt >= c.Attempts) {
			return err
		}
		sleep := time.Duration(rand.Int64N(int64(delay) + 1))
		var ae *APIError
		if errors.As(err, &ae) && ae.Wait > 0 {
			sleep = max(sleep, min(ae.Wait, c.MaxWait))
		}
		tflog.Debug(ctx, "Supabase Management API: retrying", map[string]any{"error": err.Error(), "wait": sleep.String()})
		if serr := sleepCtx(ctx, sleep); serr != nil {
			return errors.Join(err, serr)
		}
		delay = min(delay*2, c.Max)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// get is a read, retried on transient failures.
func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.retry(ctx, transient, func() error { return c.once(ctx, http.MethodGet, path, nil, out) })
}

// idempotent is a write whose repetition does no harm (it sets the whole value), retried like a read and
// also after a concurrent change (409): the value written last is the one configured.
func (c *Client) idempotent(ctx context.Context, method, path string, body, out any) error {
	again := func(err error) bool { return transient(err) || refusedBefore(err) }
	return c.retry(ctx, again, func() error { return c.once(ctx, method, path, body, out) })
}

// Project is the part of V1ProjectWithDatabaseResponse the provider reads.
type Project struct {
	Ref              string `json:"ref"`
	Region           string `json:"region"`
	OrganizationID   string `json:"organization_id"`
	OrganizationSlug string `json:"organization_slug"`
}

// GetProject reads a project.
func (c *Client) GetProject(ctx context.Context, ref string) (*Project, error) {
	var p Project
	if err := c.get(ctx, "/v1/projects/"+url.PathEscape(ref), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Database is one of a project's databases in the organization's project listing.
type Database struct {
	Identifier string `json:"identifier"`
	Type       string `json:"type"`
	Region     string `json:"region"`
	Status     string `json:"status"`
}

// orgOf returns the organization that lists the project's databases.
func (c *Client) orgOf(ctx context.Context, ref string) (string, error) {
	c.mu.Lock()
	slug, ok := c.orgs[ref]
	c.mu.Unlock()
	if ok {
		return slug, nil
	}
	p, err := c.GetProject(ctx, ref)
	if err != nil {
		return "", err
	}
	slug = p.OrganizationSlug
	if slug == "" {
		slug = c.OrgSlug
	}
	if slug == "" {
		slug = p.OrganizationID // older answers carry only the id, which the listing route also takes
	}
	if slug == "" {
		return "", fmt.Errorf("project %s does not name its organization; set the provider's supabase.organization_slug (ALFRED_SUPABASE_ORG_SLUG)", ref)
	}
	c.mu.Lock()
	c.orgs[ref] = slug
	c.mu.Unlock()
	return slug, nil
}

// eachOrgProject pages through GET /v1/organizations/{slug}/projects (the documented listing that carries
// each database's identifier and status), calling visit for each project until it returns true.
func (c *Client) eachOrgProject(ctx context.Context, slug string, visit func(ref string, dbs []Database) bool) error {
	for offset := 0; ; {
		var page struct {
			Projects []struct {
				Ref       string     `json:"ref"`
				Databases []Database `json:"databases"`
			} `json:"projects"`
			Pagination struct {
				Count int `json:"count"`
			} `json:"pagination"`
		}
		q := url.Values{"limit": {"100"}, "offset": {strconv.Itoa(offset)}}
		if err := c.get(ctx, "/v1/organizations/"+url.PathEscape(slug)+"/projects?"+q.Encode(), &page); err != nil {
			return err
		}
		for _, p := range page.Projects {
			if visit(p.Ref, p.Databases) {
				return nil
			}
		}
		offset += len(page.Projects)
		if len(page.Projects) == 0 || offset >= page.Pagination.Count {
			return nil
		}
	}
}

func readReplicas(dbs []Database) []Database {
	var out []Database
	for _, d := range dbs {
		if d.Type == "READ_REPLICA" {
			out = append(out, d)
		}
	}
	return out
}

// Replicas lists the project's read replicas.
func (c *Client) Replicas(ctx context.Context, ref string) ([]Database, error) {
	slug, err := c.orgOf(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []Database
	found := false
	err = c.eachOrgProject(ctx, slug, func(r string, dbs []Database) bool {
		if r == ref {
			found, out = true, readReplicas(dbs)
		}
		return found
	})
	if err == nil && !found {
		err = &APIError{Method: http.MethodGet, Path: "/v1/organizations/" + slug + "/projects", Status: http.StatusNotFound,
			Message: "project " + ref + " is not listed in organization " + slug}
	}
	return out, err
}

// FindReplica returns the ref of the project that has the read replica identifier, or "" when no project
// the token can see has it: the organizations of every project the token sees are listed.
func (c *Client) FindReplica(ctx context.Context, identifier string) (string, error) {
	var projects []Project
	if err := c.get(ctx, "/v1/projects", &projects); err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for _, p := range projects {
		slug := p.OrganizationSlug
		if slug == "" {
			slug = p.OrganizationID
		}
		if slug == "" || seen[slug] {
			continue
		}
		seen[slug] = true
		ref := ""
		err := c.eachOrgProject(ctx, slug, func(r string, dbs []Database) bool {
			for _, d := range readReplicas(dbs) {
				if d.Identifier == identifier {
					ref = r
				}
			}
			return ref != ""
		})
		if err != nil || ref != "" {
			return ref, err
		}
	}
	return "", nil
}

// Replica returns the replica with identifier, or nil when the listing does not have it.
func (c *Client) Replica(ctx context.Context, ref, identifier string) (*Database, error) {
	rs, err := c.Replicas(ctx, ref)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if rs[i].Identifier == identifier {
			return &rs[i], nil
		}
	}
	return nil, nil
}

// Endpoint is a database's host and port (SupavisorConfigResponse).
type Endpoint struct {
	Identifier string `json:"identifier"`
	Type       string `json:"database_type"`
	Host       string `json:"db_host"`
	Port       int64  `json:"db_port"`
}

// Endpoint returns the host and port of the database with identifier, or nil.
func (c *Client) Endpoint(ctx context.Context, ref, identifier string) (*Endpoint, error) {
	var all []Endpoint
	if err := c.get(ctx, "/v1/projects/"+url.PathEscape(ref)+"/config/database/pooler", &all); err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Identifier == identifier {
			return &all[i], nil
		}
	}
	return nil, nil
}

func (c *Client) projectLock(ref string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.setupMu[ref]
	if m == nil {
		m = &sync.Mutex{}
		c.setupMu[ref] = m
	}
	return m
}

// ReplicaInRegionError is SetupReplica's refusal to set up a replica in a region where the project
// already has one (Identifier) and the caller did not allow another.
type ReplicaInRegionError struct {
	Ref, Region, Identifier string
}

func (e *ReplicaInRegionError) Error() string {
	return fmt.Sprintf("project %s already has the read replica %s in %s", e.Ref, e.Identifier, e.Region)
}

// SetupReplica asks for a read replica in region and returns its identifier once the listing shows it.
// The setup's answer is empty, so the new replica is the one in region that the listing did not have
// before; setups of one project are serialised so that two are never confused. A setup whose reply was
// lost is looked for in the listing for Settle, and only sent again when it did not show up.
//
// Unless allowOthers, a replica already listed in region (and not on its way out) is a
// *ReplicaInRegionError and nothing is sent: Supabase names replicas itself and carries no label, so a
// replica set up by an apply that was killed before it recorded it cannot be told from another one, and
// setting up a second would duplicate it.
func (c *Client) SetupReplica(ctx context.Context, ref, region string, allowOthers bool) (string, error) {
	lock := c.projectLock(ref)
	lock.Lock()
	defer lock.Unlock()

	before, err := c.Replicas(ctx, ref)
	if err != nil {
		return "", err
	}
	known := map[string]bool{}
	for _, d := range before {
		known[d.Identifier] = true
		if !allowOthers && d.Region == region && d.Status != StatusGoingDown && d.Status != StatusRemoved {
			return "", &ReplicaInRegionError{Ref: ref, Region: region, Identifier: d.Identifier}
		}
	}
	path := "/v1/projects/" + url.PathEscape(ref) + "/read-replicas/setup"
	body := map[string]string{"read_replica_region": region}
	delay := c.Initial
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, http.MethodPost, path, body, nil)
		if err == nil {
			return c.awaitNew(ctx, ref, region, known, 0)
		}
		if ctx.Err() != nil {
			return "", err
		}
		if c.Attempts > 0 && attempt >= c.Attempts {
			return "", err
		}
		switch {
		case refusedBefore(err):
			// Refused before it was acted on: wait as asked and send it again.
		case transient(err):
			// Maybe applied: look for it before sending it again.
			id, lerr := c.awaitNew(ctx, ref, region, known, c.Settle)
			if lerr == nil && id != "" {
				tflog.Info(ctx, "Supabase read replica setup: the reply was lost but the replica was set up", map[string]any{"identifier": id})
				return id, nil
			}
			if lerr != nil && !errors.Is(lerr, errNotYet) {
				return "", errors.Join(err, lerr)
			}
		default:
			return "", err
		}
		sleep := time.Duration(rand.Int64N(int64(delay) + 1))
		var ae *APIError
		if errors.As(err, &ae) && ae.Wait > 0 {
			sleep = max(sleep, min(ae.Wait, c.MaxWait))
		}
		if serr := sleepCtx(ctx, sleep); serr != nil {
			return "", errors.Join(err, serr)
		}
		delay = min(delay*2, c.Max)
	}
}

var errNotYet = errors.New("the new read replica is not listed yet")

// awaitNew polls the listing until a replica in region that is not in known shows up: until ctx ends
// when within is 0, else for at most within (then errNotYet).
func (c *Client) awaitNew(ctx context.Context, ref, region string, known map[string]bool, within time.Duration) (string, error) {
	var deadline time.Time
	wait := c.poll()
	if within > 0 {
		deadline = time.Now().Add(within)
	}
	for {
		rs, err := c.Replicas(ctx, ref)
		if err != nil {
			return "", err
		}
		for _, d := range rs {
			if !known[d.Identifier] && d.Region == region {
				return d.Identifier, nil
			}
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return "", errNotYet
		}
		wait = c.slower(wait)
		if err := sleepCtx(ctx, wait); err != nil {
			return "", fmt.Errorf("the setup of a read replica in %s was accepted, but no new replica was listed before the timeout: %w", region, err)
		}
	}
}

// slower lengthens a polling interval by half, up to ten times Poll: real replicas take minutes, and the
// listing's rate limit (per user, organization and endpoint) is shared by every replica being waited for.
func (c *Client) slower(d time.Duration) time.Duration {
	return min(d+d/2, 10*c.poll())
}

func (c *Client) poll() time.Duration {
	if c.Poll <= 0 {
		return time.Second
	}
	return c.Poll
}

// RemoveReplica asks for the replica's removal; it does not wait. A replica that is not there (404), or
// that is already going down, counts as removed. After a lost reply the listing says whether to send it
// again.
func (c *Client) RemoveReplica(ctx context.Context, ref, identifier string) error {
	path := "/v1/projects/" + url.PathEscape(ref) + "/read-replicas/remove"
	body := map[string]string{"database_identifier": identifier}
	delay := c.Initial
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, http.MethodPost, path, body, nil)
		if err == nil || StatusOf(err) == http.StatusNotFound {
			return nil
		}
		if ctx.Err() != nil || (c.Attempts > 0 && attempt >= c.Attempts) {
			return err
		}
		if !refusedBefore(err) {
			// A lost reply, or a refusal: the listing tells whether it is on its way out.
			d, lerr := c.Replica(ctx, ref, identifier)
			if lerr == nil && (d == nil || d.Status == StatusGoingDown || d.Status == StatusRemoved) {
				return nil
			}
			if !transient(err) {
				return err
			}
		}
		sleep := time.Duration(rand.Int64N(int64(delay) + 1))
		var ae *APIError
		if errors.As(err, &ae) && ae.Wait > 0 {
			sleep = max(sleep, min(ae.Wait, c.MaxWait))
		}
		if serr := sleepCtx(ctx, sleep); serr != nil {
			return errors.Join(err, serr)
		}
		delay = min(delay*2, c.Max)
	}
}

// WaitReplica polls until done says the replica (nil when not listed) is where it should be, or ctx ends;
// the error then names the last status seen.
func (c *Client) WaitReplica(ctx context.Context, ref, identifier string, done func(*Database) (bool, error)) (*Database, error) {
	wait := c.poll()
	for {
		d, err := c.Replica(ctx, ref, identifier)
		if err != nil {
			return nil, err
		}
		ok, err := done(d)
		if err != nil || ok {
			return d, err
		}
		wait = c.slower(wait)
		if err := sleepCtx(ctx, wait); err != nil {
			last := "not listed"
			if d != nil {
				last = d.Status
			}
			return d, fmt.Errorf("timed out waiting for read replica %s of project %s (last status: %s): %w", identifier, ref, last, err)
		}
	}
}

// SSLEnforcement reads whether the database enforces SSL.
func (c *Client) SSLEnforcement(ctx context.Context, ref string) (bool, error) {
	var out struct {
		CurrentConfig struct {
			Database bool `json:"database"`
		} `json:"currentConfig"`
	}
	err := c.get(ctx, "/v1/projects/"+url.PathEscape(ref)+"/ssl-enforcement", &out)
	return out.CurrentConfig.Database, err
}

// SetSSLEnforcement sets it (PUT: repeating it is harmless).
func (c *Client) SetSSLEnforcement(ctx context.Context, ref string, on bool) error {
	var out struct {
		AppliedSuccessfully bool `json:"appliedSuccessfully"`
	}
	body := map[string]any{"requestedConfig": map[string]bool{"database": on}}
	if err := c.idempotent(ctx, http.MethodPut, "/v1/projects/"+url.PathEscape(ref)+"/ssl-enforcement", body, &out); err != nil {
		return err
	}
	if !out.AppliedSuccessfully {
		return fmt.Errorf("the Management API stored the SSL enforcement of project %s but says it was not applied successfully", ref)
	}
	return nil
}

// Restrictions are a project's network restrictions.
type Restrictions struct {
	Entitlement string
	V4, V6      []string
}

// NetworkRestrictions reads them.
func (c *Client) NetworkRestrictions(ctx context.Context, ref string) (*Restrictions, error) {
	var out struct {
		Entitlement string `json:"entitlement"`
		Config      struct {
			V4 []string `json:"dbAllowedCidrs"`
			V6 []string `json:"dbAllowedCidrsV6"`
		} `json:"config"`
	}
	if err := c.get(ctx, "/v1/projects/"+url.PathEscape(ref)+"/network-restrictions", &out); err != nil {
		return nil, err
	}
	return &Restrictions{Entitlement: out.Entitlement, V4: out.Config.V4, V6: out.Config.V6}, nil
}

// ApplyNetworkRestrictions replaces both lists (the apply replaces what it is given, so repeating it is
// harmless).
func (c *Client) ApplyNetworkRestrictions(ctx context.Context, ref string, v4, v6 []string) error {
	body := map[string][]string{"dbAllowedCidrs": nonNil(v4), "dbAllowedCidrsV6": nonNil(v6)}
	return c.idempotent(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(ref)+"/network-restrictions/apply", body, nil)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
