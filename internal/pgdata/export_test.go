package pgdata

import "time"

// SetClock makes the provider plan partition windows at t until the returned function is called.
func SetClock(t time.Time) (restore func()) {
	t = t.UTC()
	clockOverride.Store(&t)
	return func() { clockOverride.Store(nil) }
}

// Window exposes window() to the tests: the names kept, added and retired at now.
func Window(existing [][3]string, table, unit string, premake int, retention time.Duration, now time.Time) (keep, add, retire []string) {
	var ps []partition
	for _, e := range existing {
		from, _ := time.Parse(time.RFC3339, e[1])
		to, _ := time.Parse(time.RFC3339, e[2])
		ps = append(ps, partition{Name: e[0], From: from, To: to})
	}
	k, a, r := window(ps, table, unit, premake, retention, now)
	return names(k), names(a), names(r)
}

// ParseRetention exposes parseRetention.
func ParseRetention(s string) (time.Duration, error) { return parseRetention(s) }

// InstallSQL runs the installation of alfred_pgdata on a connection of the caller's.
var InstallSQL = installSQL
