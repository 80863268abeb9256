package supabase_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

func TestMain(m *testing.M) { acctest.Main(m) }

const (
	token = "sbp_test_0123456789abcdef0123456789abcdef"
	ref   = "abcdefghijklmnopqrst"
)

// sandbox is one Supabase Management API emulator on loopback; its methods act "outside Terraform"
// through the HTTP API, as a person with the dashboard or the CLI would.
type sandbox struct {
	t   testing.TB
	URL string
	Srv *sbx.Server
	Kit *kit.Kit
}

func newSandbox(t testing.TB, opts sbx.Options) *sandbox {
	t.Helper()
	k := kit.New(0, 0, 1)
	opts.Kit = k
	opts.AccessToken = token
	opts.ProjectRef = ref
	if opts.ReplicaReadyAfter == 0 {
		opts.ReplicaReadyAfter = 1500 * time.Millisecond
	}
	srv, err := sbx.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); _ = srv.Close() })
	return &sandbox{t: t, URL: hs.URL, Srv: srv, Kit: k}
}

func (s *sandbox) providerWithToken(tok string) string {
	return fmt.Sprintf("provider \"alfred\" {\n  supabase {\n    api_url      = %q\n    access_token = %q\n  }\n}\n", s.URL, tok)
}

func (s *sandbox) provider() string { return s.providerWithToken(token) }

func (s *sandbox) do(method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type db struct {
	Identifier string `json:"identifier"`
	Type       string `json:"type"`
	Region     string `json:"region"`
	Status     string `json:"status"`
}

// replicas lists the project's read replicas as the API lists them (GOING_DOWN ones included).
func (s *sandbox) replicas() ([]db, error) {
	code, b := s.do("GET", "/v1/organizations/"+sbx.DefaultOrgSlug+"/projects", nil)
	if code != 200 {
		return nil, fmt.Errorf("list: %d %s", code, b)
	}
	var out struct {
		Projects []struct {
			Ref       string `json:"ref"`
			Databases []db   `json:"databases"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	var rs []db
	for _, p := range out.Projects {
		for _, d := range p.Databases {
			if p.Ref == ref && d.Type == "READ_REPLICA" {
				rs = append(rs, d)
			}
		}
	}
	return rs, nil
}

func (s *sandbox) mustReplicas() []db {
	s.t.Helper()
	rs, err := s.replicas()
	if err != nil {
		s.t.Fatal(err)
	}
	return rs
}

// removeOutside removes a replica through the API and waits until it is no longer listed.
func (s *sandbox) removeOutside(id string) {
	s.t.Helper()
	if code, b := s.do("POST", "/v1/projects/"+ref+"/read-replicas/remove", map[string]string{"database_identifier": id}); code != 201 {
		s.t.Fatalf("remove %s: %d %s", id, code, b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(s.mustReplicas()) != 0 {
		if time.Now().After(deadline) {
			s.t.Fatal("replica still listed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkNoReplicas is a CheckDestroy: right after destroy, the API lists no replica at all, not even one
// GOING_DOWN (destroy waits until it is gone).
func (s *sandbox) checkNoReplicas(*terraform.State) error {
	rs, err := s.replicas()
	if err != nil {
		return err
	}
	if len(rs) != 0 {
		return fmt.Errorf("replicas still listed after destroy: %+v", rs)
	}
	return nil
}

func capture(dst *string) func(string) error {
	return func(v string) error { *dst = v; return nil }
}

// words matches the phrase however Terraform wraps it.
func words(phrase string) *regexp.Regexp {
	f := strings.Fields(phrase)
	for i := range f {
		f[i] = regexp.QuoteMeta(f[i])
	}
	return regexp.MustCompile(strings.Join(f, `\s+`))
}
