package acctest

import (
	"os"
	"sync"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

var (
	s3Mu     sync.Mutex
	s3Server *localproc.S3Server
	s3Err    error
)

// S3 returns the test run's versitygw, starting it on first use; Main stops it after the tests.
func S3(t testing.TB) *localproc.S3Server {
	t.Helper()
	s3Mu.Lock()
	defer s3Mu.Unlock()
	if s3Server == nil && s3Err == nil {
		dir, err := os.MkdirTemp("", "alfred-s3-")
		if err != nil {
			s3Err = err
		} else if bin, err := InstallVersityGW(); err != nil {
			s3Err = err
		} else if s3Server, s3Err = localproc.StartS3(bin, dir, 0, "", ""); s3Err == nil {
			addCleanup(func() { s3Server.Stop(); _ = os.RemoveAll(dir) })
		}
	}
	if s3Err != nil {
		t.Fatalf("starting versitygw: %v", s3Err)
	}
	return s3Server
}
