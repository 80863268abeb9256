package supervisor

import (
	"path/filepath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

// startEmulators starts each control-plane emulator on its own loopback port and records its variables.
func (s *Sandbox) startEmulators() error {
	return s.startSupabase()
}

func (s *Sandbox) startSupabase() error {
	srv, err := supabase.New(supabase.Options{
		Dir: filepath.Join(s.cfg.Dir, "supabase"), Kit: s.Kit,
		AccessToken: s.id.SupabaseToken, OrgSlug: s.id.SupabaseOrg, ProjectRef: s.id.SupabaseProject,
		DBHost: "127.0.0.1", DBPort: s.id.Ports["postgres"],
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, srv.Close)
	l, err := listen(s.id, "supabase")
	if err != nil {
		return err
	}
	s.serveHTTP(l, srv.Handler())
	s.Env["ALFRED_SUPABASE_API_URL"] = "http://" + l.Addr().String()
	s.Env["SUPABASE_ACCESS_TOKEN"] = s.id.SupabaseToken
	s.Env["ALFRED_SUPABASE_ORG_SLUG"] = s.id.SupabaseOrg
	s.Env["ALFRED_SUPABASE_PROJECT_REF"] = s.id.SupabaseProject
	return nil
}
