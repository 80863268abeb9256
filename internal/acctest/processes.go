package acctest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ProcessesUnder lists the pids, other than this test's, whose command line mentions dir: a sandbox's own
// processes (the supervisor, PostgreSQL and versitygw name their data directories on theirs). Tests use
// it to check that a stop, a failed start or an interrupted one leaves nothing running.
func ProcessesUnder(t testing.TB, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}
