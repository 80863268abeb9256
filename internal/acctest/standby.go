package acctest

import (
	"os"
	"sync"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// StandbyName is the standby's application_name in the primary's pg_stat_replication, and StandbySlot
// the physical replication slot it streams from.
const (
	StandbyName = "alfred_acc_standby"
	StandbySlot = "alfred_acc_standby"
)

var (
	standbyOnce    sync.Once
	standbyCluster *localproc.PostgresCluster
	standbyErr     error
)

// Standby returns a streaming standby of the run's PostgreSQL cluster (Postgres), started on first use
// (pg_basebackup -R, then a second server on a free port) and shared by the package's tests; Main stops
// it after them. Packages that never call it never pay for it.
func Standby(t testing.TB) *localproc.PostgresCluster {
	t.Helper()
	primary := Postgres(t)
	standbyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "alfred-pg-standby-")
		if err != nil {
			standbyErr = err
			return
		}
		standbyCluster, standbyErr = primary.StartStandby(dir, StandbySlot, StandbyName)
		if standbyErr != nil {
			_ = os.RemoveAll(dir)
			return
		}
		// Registered after the primary's cleanup, so it runs first: the standby stops before its primary.
		addCleanup(func() { _ = standbyCluster.Stop(); _ = os.RemoveAll(dir) })
	})
	if standbyErr != nil {
		t.Fatalf("starting a streaming standby: %v", standbyErr)
	}
	return standbyCluster
}
