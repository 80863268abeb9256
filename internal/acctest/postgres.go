package acctest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

var (
	pgMu      sync.Mutex
	pgCluster *localproc.PostgresCluster
	pgErr     error
)

// Postgres returns the test run's cluster, starting it on first use; Main stops it after the tests.
func Postgres(t testing.TB) *localproc.PostgresCluster {
	t.Helper()
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgCluster == nil && pgErr == nil {
		dir, err := os.MkdirTemp("", "alfred-pg-")
		if err == nil {
			pgCluster, pgErr = localproc.StartPostgres(dir, 0)
			if pgErr == nil {
				addCleanup(func() { _ = pgCluster.Stop(); _ = os.RemoveAll(dir) })
			} else {
				_ = os.RemoveAll(dir)
			}
		} else {
			pgErr = err
		}
	}
	if pgErr != nil {
		t.Fatalf("starting PostgreSQL: %v", pgErr)
	}
	return pgCluster
}

// NewDatabase creates a fresh database in the run's cluster and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(t.Name()))
	if len(prefix) > 30 {
		prefix = prefix[len(prefix)-30:]
	}
	dsn, err := Postgres(t).CreateDatabase(ctx, "t_"+prefix)
	if err != nil {
		t.Fatalf("creating a test database: %v", err)
	}
	return dsn
}
